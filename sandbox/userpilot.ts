/**
 * Userpilot bulk Import API: POST /v1/imports (multipart, streamed to disk), the job life cycle
 * (queued → validating → processing → pending_refresh → completed | failed, one step every
 * config.jobStepMs) and the job-status endpoints.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, promises as fsp, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import busboy from 'busboy';
import type { Core, Ctx } from './http';
import { hashKey, type JobStatus, type UserpilotJob } from './state';
import { checkFile, detectFormat } from './userpilot-rows';

const MESSAGES: Record<number, [string, string]> = {
	400: ['Bad Request', 'The request was malformed or is missing required parameters.'],
	401: ['Unauthorized', 'Unauthorized - Invalid API key or insufficient permissions'],
	403: ['Forbidden', 'The API key does not have permission to perform this action.'],
	404: ['Not Found', 'The requested resource could not be found.'],
	405: ['Method Not Allowed', 'The request method is not supported for this resource.'],
	409: ['Conflict', 'The request could not be completed due to a conflict with the current state of the target resource.'],
	413: ['Payload Too Large', 'The request entity is larger than limits defined by server.'],
	422: ['Unprocessable Entity', 'The request could not be processed.'],
	429: ['Too Many Requests', 'Too many requests, please retry later.'],
	500: ['Internal Server Error', 'The server encountered an unexpected condition that prevented it from fulfilling the request.'],
	502: ['Bad Gateway', 'The server received an invalid response from an upstream server.'],
	503: ['Service Unavailable', 'The server is temporarily unable to handle the request.'],
};

/** The Userpilot error body. */
export function errorBody(status: number, details: string): { errors: Array<Record<string, string>> } {
	const [error, message] = MESSAGES[status] ?? ['Error', 'The request failed.'];
	return { errors: [{ details, error, error_code: String(status), message }] };
}

export function sendError(ctx: Ctx, status: number, details: string, headers?: Record<string, string | number>): void {
	ctx.json(status, errorBody(status, details), headers);
}

const CONFLICT_DETAILS =
	'There is already an import job in progress, you can only have one import job in progress at a time.';

/** The page's own 409 example: a job the import list does not show. */
const EXPORT_CONFLICT_DETAILS =
	'There is already an export job in progress, you can only have one export job in progress at a time.';

/** Naive UTC timestamp with microseconds, as Userpilot writes them. */
function ts(ms: number): string {
	return `${new Date(ms).toISOString().slice(0, 23)}000`;
}

export function jobView(job: UserpilotJob): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	if (job.completed_rows !== null) out.completed_rows = job.completed_rows;
	if (job.end !== null) out.elapsed_time = Math.round((job.end - job.start) / 1000);
	out.end_time = job.end === null ? null : ts(job.end);
	out.file_size = job.file_size;
	out.filename = job.filename;
	out.job_id = job.job_id;
	out.links = `/v1/background_jobs/${job.job_id}`;
	if (job.reason_for_failure !== null) out.reason_for_failure = job.reason_for_failure;
	out.start_time = ts(job.start);
	out.status = job.status;
	out.total_rows = job.totalRowsAsString ? String(job.total_rows) : job.total_rows;
	return out;
}

/** The name the service gives a job when it chooses names itself, as the page's examples show. */
function serverFileName(now: number, format: 'csv' | 'ndjson' | null): string {
	return `${new Date(now).toISOString().slice(0, 10)}.${format === 'csv' ? 'csv' : 'ndjson'}`;
}

/** Reads the whole body, then answers 401: a client re-sending must make its body anew. */
function refuseAfterBody(ctx: Ctx): void {
	ctx.beginBody();
	ctx.req.on('end', () => sendError(ctx, 401, 'Invalid API key'));
	ctx.req.on('error', () => undefined);
	ctx.req.resume();
}

function isActive(job: UserpilotJob): boolean {
	return job.status !== 'completed' && job.status !== 'failed';
}

function activeJobOf(core: Core, keyHash: string): UserpilotJob | null {
	const up = core.state.userpilot;
	for (const id of up.jobsByKey.get(keyHash) ?? []) {
		const j = up.jobs.get(id);
		if (j && isActive(j)) return j;
	}
	return null;
}

/** Authenticate `Authorization: Token <key>`; null after answering 401. */
function auth(ctx: Ctx): { key: string; readOnly: boolean } | null {
	const h = ctx.req.headers.authorization;
	const m = h === undefined ? null : /^\s*Token\s+(\S+)\s*$/i.exec(h);
	if (m === null) {
		sendError(ctx, 401, h === undefined ? 'Missing Authorization header' : 'Invalid Authorization header, expected `Token <API_KEY>`');
		return null;
	}
	const key = m[1];
	const cfg = ctx.core.config;
	if (cfg.userpilotKeys.includes(key)) return { key, readOnly: false };
	if (cfg.userpilotReadKeys.includes(key)) return { key, readOnly: true };
	sendError(ctx, 401, 'Invalid API key');
	return null;
}

/** Mark an answer given before the request body was read: close rather than drain a big body. */
export function answerEarly(ctx: Ctx): void {
	if (ctx.req.complete) return;
	const cl = ctx.req.headers['content-length'];
	if (cl === undefined || Number(cl) > 64 * 1024) ctx.closeAfter = true;
}

// ---------------------------------------------------------------------------------------------
// Job runtime (timers, validation) — not part of the records
// ---------------------------------------------------------------------------------------------

interface Runtime {
	abort: AbortController;
	cancelled: boolean;
}

const runtimes = new WeakMap<Core, Map<string, Runtime>>();

function runtimeMap(core: Core): Map<string, Runtime> {
	let m = runtimes.get(core);
	if (!m) {
		m = new Map();
		runtimes.set(core, m);
	}
	return m;
}

/** Stop every job's timers and validation and delete its file (reset / close). */
export async function cancelAllJobs(core: Core): Promise<void> {
	const m = runtimeMap(core);
	for (const rt of m.values()) {
		rt.cancelled = true;
		rt.abort.abort();
	}
	m.clear();
	const files: string[] = [];
	for (const j of core.state.userpilot.jobs.values()) {
		if (j.filePath) files.push(j.filePath);
		j.filePath = null;
	}
	await Promise.all(files.map((f) => fsp.rm(f, { force: true }).catch(() => undefined)));
}

function setStatus(job: UserpilotJob, status: JobStatus): void {
	job.status = status;
}

/** Run `fn` after `ms`, unless the job was cancelled; honour config.userpilotHoldAt. */
function after(core: Core, job: UserpilotJob, rt: Runtime, ms: number, fn: () => void): void {
	core.later(ms, () => {
		if (rt.cancelled) return;
		if (core.config.userpilotHoldAt === job.status) {
			after(core, job, rt, Math.min(25, Math.max(1, core.config.jobStepMs)), fn);
			return;
		}
		fn();
	});
}

function finish(core: Core, job: UserpilotJob, rt: Runtime, status: 'completed' | 'failed'): void {
	job.end = Date.now();
	setStatus(job, status);
	rt.cancelled = true;
	runtimeMap(core).delete(job.job_id);
	const f = job.filePath;
	job.filePath = null;
	if (f) fsp.rm(f, { force: true }).catch(() => undefined);
}

function fail(core: Core, job: UserpilotJob, rt: Runtime, reasons: string[]): void {
	job.total_rows = 0;
	job.completed_rows = null;
	job.rows = null;
	job.reason_for_failure = reasons;
	finish(core, job, rt, 'failed');
}

function startLifeCycle(core: Core, job: UserpilotJob): void {
	const rt: Runtime = { abort: new AbortController(), cancelled: false };
	runtimeMap(core).set(job.job_id, rt);
	const step = (): number => core.config.jobStepMs;

	after(core, job, rt, step(), () => {
		setStatus(job, 'validating');
		const began = Date.now();
		const validation =
			job.filePath === null
				? Promise.reject(new Error('file missing'))
				: checkFile(job.filePath, {
						format: job.format ?? 'csv',
						requireSource: core.config.userpilotRequireSource,
						keepRows: job.file_size <= core.config.keepRowsUpTo,
						signal: rt.abort.signal,
					});
		validation.then(
			(res) => {
				if (rt.cancelled) return;
				const wait = Math.max(0, step() - (Date.now() - began));
				after(core, job, rt, wait, () => {
					if (job.forcedFailure !== null) return fail(core, job, rt, [job.forcedFailure]);
					if (res.reasons.length > 0) return fail(core, job, rt, res.reasons);
					job.rowCount = res.rows;
					job.rows = res.kept;
					job.total_rows = res.rows;
					job.completed_rows = null;
					setStatus(job, 'processing');
					after(core, job, rt, step(), () => {
						setStatus(job, 'pending_refresh');
						after(core, job, rt, step(), () => {
							job.completed_rows = job.rowCount;
							core.state.userpilot.rowsImported += job.rowCount;
							finish(core, job, rt, 'completed');
						});
					});
				});
			},
			(err: Error) => {
				if (rt.cancelled) return;
				fail(core, job, rt, [`The file could not be read: ${err.message}`]);
			},
		);
	});
}

/**
 * A job as an upload creates it: `queued`, no rows counted yet. The sandbox adds what it learnt
 * of the file; bench/receiver.ts uses it as it is.
 */
export function createdJob(keyHash: string, filename: string, size: number, now: number): UserpilotJob {
	return {
		job_id: `imports:jobs:NX-${keyHash.slice(0, 8)}:${randomUUID()}`,
		keyHash,
		filename,
		totalRowsAsString: false,
		file_size: size,
		start: now,
		end: null,
		status: 'queued',
		total_rows: 0,
		completed_rows: null,
		reason_for_failure: null,
		format: 'ndjson',
		rows: null,
		rowCount: 0,
		filePath: null,
		forcedFailure: null,
	};
}

// ---------------------------------------------------------------------------------------------
// POST /v1/imports
// ---------------------------------------------------------------------------------------------

export function postImport(ctx: Ctx): void {
	const core = ctx.core;
	const up = core.state.userpilot;
	const who = auth(ctx);
	if (who === null) return answerEarly(ctx);
	if (who.readOnly) {
		answerEarly(ctx);
		return sendError(ctx, 403, 'This API key cannot create import jobs: use a write key');
	}
	const readings = core.config.readings;
	if (readings.userpilot401AfterBody > 0) {
		readings.userpilot401AfterBody--;
		return refuseAfterBody(ctx);
	}
	if (readings.userpilotExportConflicts > 0) {
		readings.userpilotExportConflicts--;
		up.rejected409++;
		answerEarly(ctx);
		return sendError(ctx, 409, EXPORT_CONFLICT_DETAILS);
	}
	const keyHash = hashKey(who.key);
	if (activeJobOf(core, keyHash)) {
		up.rejected409++;
		answerEarly(ctx);
		return sendError(ctx, 409, CONFLICT_DETAILS);
	}
	const ct = ctx.req.headers['content-type'] ?? '';
	if (!/^multipart\/form-data\s*;.*boundary=/i.test(ct)) {
		answerEarly(ctx);
		return sendError(ctx, 400, 'Content-Type must be multipart/form-data with a boundary');
	}
	const max = core.config.userpilotMaxFileBytes;
	const limitText = max >= 1024 ** 3 && max % 1024 ** 3 === 0 ? `${max / 1024 ** 3} GB` : `${max} bytes`;
	const cl = ctx.req.headers['content-length'];
	// The multipart envelope adds a few hundred bytes around the file: allow 16 KiB of it.
	if (cl !== undefined && Number(cl) > max + 16 * 1024) {
		up.rejected413++;
		answerEarly(ctx);
		return sendError(ctx, 413, `The file exceeds the maximum size of ${limitText}`);
	}

	let bb: busboy.Busboy;
	try {
		bb = busboy({ headers: ctx.req.headers, limits: { fieldSize: 1024 * 1024, parts: 100 } });
	} catch {
		answerEarly(ctx);
		return sendError(ctx, 400, 'Malformed multipart/form-data request');
	}

	let gotFile = false;
	let done = false;
	let size = 0;
	let filename = 'upload';
	let firstBytes: Buffer | null = null;
	let filePath: string | null = null;
	let fileStream: WriteStream | null = null;
	let fileWritten: Promise<void> = Promise.resolve();
	let textFileField = false;
	const digest = createHash('sha256');

	const cleanup = (): void => {
		const path = filePath;
		const ws = fileStream;
		filePath = null;
		fileStream = null;
		if (path === null) return;
		const remove = (): void => void fsp.rm(path, { force: true }).catch(() => undefined);
		// Remove the file only once the stream is closed (its open() may still be pending).
		if (ws !== null && !ws.closed) {
			ws.once('close', remove);
			ws.destroy();
		} else remove();
	};
	const abortWith = (status: number, details: string): void => {
		if (done) return;
		done = true;
		ctx.req.unpipe(bb);
		cleanup();
		ctx.closeAfter = true;
		sendError(ctx, status, details);
	};

	bb.on('file', (name, file, info) => {
		if (name !== 'file' || gotFile || done) {
			file.resume();
			return;
		}
		gotFile = true;
		filename = info.filename || 'upload';
		// Uploads are rare: re-create the directory if something removed it meanwhile.
		mkdirSync(core.tmpDir, { recursive: true });
		filePath = join(core.tmpDir, `upload-${randomUUID()}`);
		const ws = createWriteStream(filePath, { highWaterMark: 1024 * 1024 });
		fileStream = ws;
		fileWritten = new Promise((resolve, reject) => {
			ws.on('finish', () => resolve());
			ws.on('error', reject);
		});
		fileWritten.catch(() => undefined);
		ws.on('error', () => abortWith(500, 'The file could not be stored'));
		file.on('data', (chunk: Buffer) => {
			if (done) return;
			if (firstBytes === null) firstBytes = chunk.subarray(0, 64);
			size += chunk.length;
			digest.update(chunk);
			if (size > max) {
				up.rejected413++;
				file.unpipe(ws);
				file.resume();
				abortWith(413, `The file exceeds the maximum size of ${limitText}`);
			}
		});
		file.pipe(ws);
	});
	bb.on('field', (name) => {
		if (name === 'file') textFileField = true;
	});
	bb.on('error', () => abortWith(400, 'Malformed multipart/form-data request'));
	bb.on('close', () => {
		if (done) return;
		if (!gotFile) {
			done = true;
			return sendError(
				ctx,
				400,
				textFileField ? 'The `file` parameter must be a file upload' : 'Required parameter `file` is missing',
			);
		}
		fileWritten.then(
			() => {
				if (done) return;
				done = true;
				if (core.closing) return cleanup();
				if (size === 0) {
					cleanup();
					return sendError(ctx, 400, 'The uploaded file is empty');
				}
				// Another upload of the same key may have created its job meanwhile.
				if (activeJobOf(core, keyHash)) {
					up.rejected409++;
					cleanup();
					return sendError(ctx, 409, CONFLICT_DETAILS);
				}
				const now = Date.now();
				const format = detectFormat(filename, firstBytes ?? Buffer.alloc(0));
				const job: UserpilotJob = {
					...createdJob(
						keyHash,
						readings.userpilotServerFileNames ? serverFileName(now, format) : filename,
						size,
						now,
					),
					totalRowsAsString: readings.userpilotTotalRowsAsString,
					format,
					filePath,
					forcedFailure: up.failNext.length > 0 ? (up.failNext.shift() as string) : null,
					sha256: digest.digest('hex'),
				};
				filePath = null;
				fileStream = null;
				up.jobs.set(job.job_id, job);
				const list = up.jobsByKey.get(keyHash) ?? [];
				list.push(job.job_id);
				up.jobsByKey.set(keyHash, list);
				up.uploads++;
				up.bytes += size;
				startLifeCycle(core, job);
				ctx.json(200, jobView(job));
			},
			() => {
				if (done) return;
				done = true;
				cleanup();
				sendError(ctx, 500, 'The file could not be stored');
			},
		);
	});
	ctx.req.on('close', () => {
		if (!ctx.req.complete && !done) {
			done = true;
			cleanup();
		}
	});
	ctx.beginBody();
	ctx.req.pipe(bb);
}

// ---------------------------------------------------------------------------------------------
// Job status
// ---------------------------------------------------------------------------------------------

export function listJobs(ctx: Ctx): void {
	const who = auth(ctx);
	if (who === null) return;
	const up = ctx.core.state.userpilot;
	const ids = up.jobsByKey.get(hashKey(who.key)) ?? [];
	const out: Record<string, unknown>[] = [];
	for (let i = ids.length - 1; i >= 0; i--) {
		const j = up.jobs.get(ids[i]);
		if (j) out.push(jobView(j));
	}
	ctx.json(200, out);
}

export function getJob(ctx: Ctx, rawId: string): void {
	if (ctx.core.config.readings.userpilotJobPath === 'documented' && ctx.path.startsWith('/v1/')) {
		return ctx.json(404, { message: `Not found: GET ${ctx.path}` });
	}
	const who = auth(ctx);
	if (who === null) return;
	let id: string;
	try {
		id = decodeURIComponent(rawId);
	} catch {
		id = rawId;
	}
	const j = ctx.core.state.userpilot.jobs.get(id);
	if (!j || j.keyHash !== hashKey(who.key)) return sendError(ctx, 404, `Job not found: ${id}`);
	ctx.json(200, jobView(j));
}
