import type { IDataObject } from 'n8n-workflow';

import type { MultipartFile } from '../../core/delivery/multipart';
import {
	pause,
	PlatformRequestError,
	type PlatformResponse,
	type PlatformTransport,
} from '../../core/transport';
import { timeOf } from './transitions';
import { isFinalJobStatus } from './index';

/** A Userpilot background job as the API returns it. */
export interface UserpilotJob extends IDataObject {
	job_id: string;
	status: string;
	links?: string;
	filename?: string;
	/** A string in the OpenAPI, a number in the page's examples: read it with rowsOf. */
	total_rows?: number | string;
	completed_rows?: number;
	file_size?: number | string;
	start_time?: string;
	end_time?: string | null;
	reason_for_failure?: string[];
}

export interface JobWaitOptions {
	pollMs: number;
	timeoutMs: number;
	signal?: AbortSignal;
	/** Called on each poll, so a node can log progress. */
	onPoll?: (job: UserpilotJob) => void;
}

function asJob(body: unknown): UserpilotJob | undefined {
	const job = (typeof body === 'string' ? safeParse(body) : body) as UserpilotJob | undefined;
	return job &&
		typeof job === 'object' &&
		typeof job.job_id === 'string' &&
		typeof job.status === 'string'
		? job
		: undefined;
}

/** Runs `fn`, returning its value or what it threw (so callers decide outside a catch block). */
async function settle<T>(fn: () => Promise<T>): Promise<{ value: T } | { error: unknown }> {
	try {
		return { value: await fn() };
	} catch (error) {
		return { error };
	}
}

function safeParse(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

export async function listJobs(transport: PlatformTransport): Promise<UserpilotJob[]> {
	const response = await transport.request(
		{ method: 'GET', url: `${transport.endpoints.api}/v1/background_jobs`, json: true },
		'list jobs',
	);
	const body = typeof response.body === 'string' ? safeParse(response.body) : response.body;
	if (!Array.isArray(body)) {
		throw new PlatformRequestError(
			'Userpilot answered the job list with something that is not a list of jobs',
			{ status: response.status, retries: response.retries },
		);
	}
	return body.filter((job): job is UserpilotJob => asJob(job) !== undefined);
}

/** Where one job's status is read, in the order tried. */
export type StatusSource = 'links' | 'documented' | 'list';

const STATUS_SOURCES: readonly StatusSource[] = ['links', 'documented', 'list'];

/**
 * Which status source answered last, kept for the rest of a wait: the pages give two paths
 * (the upload's `links`, and section 3's `/api/background_jobs/:job_id`), and a service may
 * serve only one of them.
 */
export interface StatusSourceMemory {
	source?: StatusSource;
}

/** A path or list that has no such job (or does not exist): the next source is worth a try. */
function isMissing(error: unknown): boolean {
	return error instanceof PlatformRequestError && (error.status === 404 || error.status === 405);
}

async function readJobAt(
	transport: PlatformTransport,
	path: string,
	jobId: string,
): Promise<UserpilotJob> {
	const response = await transport.request(
		{ method: 'GET', url: `${transport.endpoints.api}${path}`, json: true },
		'job status',
	);
	const found = asJob(response.body);
	if (!found) {
		throw new PlatformRequestError(`Userpilot answered the status of job ${jobId} without a job`, {
			status: response.status,
			retries: response.retries,
		});
	}
	return found;
}

async function readJobFrom(
	transport: PlatformTransport,
	source: StatusSource,
	job: { job_id: string; links?: string },
): Promise<UserpilotJob | undefined> {
	if (source === 'links') {
		const links =
			typeof job.links === 'string' && job.links.startsWith('/') ? job.links : undefined;
		return readJobAt(
			transport,
			links ?? `/v1/background_jobs/${encodeURIComponent(job.job_id)}`,
			job.job_id,
		);
	}
	if (source === 'documented') {
		return readJobAt(
			transport,
			`/api/background_jobs/${encodeURIComponent(job.job_id)}`,
			job.job_id,
		);
	}
	return (await listJobs(transport)).find((listed) => listed.job_id === job.job_id);
}

/**
 * One job's status: from the source that answered before, else its `links`, then the documented
 * path, then the job list. A source that has no such job passes to the next; any other failure
 * stops at once.
 */
export async function getJob(
	transport: PlatformTransport,
	job: { job_id: string; links?: string },
	memory: StatusSourceMemory = {},
): Promise<UserpilotJob> {
	const order = memory.source ? [memory.source] : STATUS_SOURCES;
	let lastMissing: unknown;
	for (const source of order) {
		const read = await settle(() => readJobFrom(transport, source, job));
		if ('error' in read) {
			if (!isMissing(read.error)) throw read.error;
			lastMissing = read.error;
		} else if (read.value) {
			memory.source = source;
			return read.value;
		}
	}
	throw new PlatformRequestError(
		`Userpilot has no job ${job.job_id}: neither its own link, nor /api/background_jobs/, nor the job list knows it`,
		{ status: 404, retries: lastMissing instanceof PlatformRequestError ? lastMissing.retries : 0 },
	);
}

/** `total_rows` as a number: the OpenAPI types it as a string, the page's examples as a number. */
export function rowsOf(job: { total_rows?: unknown }): number | undefined {
	const value = job.total_rows;
	if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
	if (typeof value !== 'string' || value.trim() === '') return undefined;
	const rows = Number(value);
	return Number.isFinite(rows) ? rows : undefined;
}

/**
 * Waits for the job to end. A job still in pending_refresh when the wait runs out has landed
 * (its rows are in): it is returned, not reported failed, so that nobody imports it again.
 */
export async function waitForJob(
	transport: PlatformTransport,
	job: UserpilotJob,
	options: JobWaitOptions,
): Promise<UserpilotJob> {
	const deadline = Date.now() + options.timeoutMs;
	const memory: StatusSourceMemory = {};
	let current = job;
	while (!isFinalJobStatus(current.status)) {
		if (Date.now() > deadline) {
			if (current.status === 'pending_refresh') return current;
			throw new PlatformRequestError(
				`Userpilot job ${current.job_id} is still "${current.status}" after ${duration(options.timeoutMs)} of waiting`,
				{ possiblyDelivered: true, retryable: true },
			);
		}
		await pause(options.pollMs, options.signal);
		current = await getJob(transport, current, memory);
		options.onPoll?.(current);
	}
	return current;
}

/** A wait as people read it: seconds under two minutes, whole minutes above. */
function duration(ms: number): string {
	return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/** Import jobs of this token still in progress, as the job list shows them. */
async function runningJobs(transport: PlatformTransport): Promise<UserpilotJob[]> {
	return (await listJobs(transport)).filter((job) => !isFinalJobStatus(job.status));
}

/** Waits until no job of this token is in progress (Userpilot runs one at a time). */
export async function waitForNoRunningJob(
	transport: PlatformTransport,
	options: JobWaitOptions,
): Promise<void> {
	const deadline = Date.now() + options.timeoutMs;
	for (;;) {
		const running = await runningJobs(transport);
		if (running.length === 0) return;
		if (Date.now() > deadline) {
			throw new PlatformRequestError(
				`Userpilot still has a job in progress (${running[0].job_id}, "${running[0].status}") after waiting`,
				{ status: 409, retryable: true },
			);
		}
		await pause(options.pollMs, options.signal);
	}
}

/** The longest single wait on a 409 the job list does not explain. */
export const MAX_CONFLICT_WAIT_MS = 5 * 60_000;

/**
 * The waits before each new upload after a 409 the job list does not explain (the page's own
 * example is an export job, which the import list does not show): doubling from the poll
 * interval, each at most MAX_CONFLICT_WAIT_MS, and all together within the wait timeout.
 */
export function conflictWaitSchedule(pollMs: number, timeoutMs: number): number[] {
	const waits: number[] = [];
	let total = 0;
	for (let wait = Math.max(1, pollMs); ; wait *= 2) {
		const next = Math.min(wait, MAX_CONFLICT_WAIT_MS);
		if (total + next > timeoutMs) break;
		waits.push(next);
		total += next;
	}
	return waits;
}

/** The waiting options as a node's "Options" collection holds them (see userpilotJobOptionProperties). */
export function readJobWaitOptions(
	options: IDataObject,
	signal?: AbortSignal,
): UploadOptions & { waitForCompletion: boolean } {
	return {
		pollMs: Math.max(100, ((options.pollIntervalSeconds as number) ?? 2) * 1000),
		// The editor asks for whole minutes; a workflow's JSON may give less (the tests do).
		timeoutMs: Math.max(0.01, (options.waitTimeoutMinutes as number) ?? 60) * 60_000,
		signal,
		whenJobRunning: options.whenJobRunning === 'fail' ? 'fail' : 'wait',
		waitForCompletion: (options.waitForCompletion as boolean | undefined) ?? true,
	};
}

export interface UploadOptions extends JobWaitOptions {
	/** On 409: wait for the running job to end and send again, or fail at once. */
	whenJobRunning: 'wait' | 'fail';
}

export interface CreatedJob {
	job: UserpilotJob;
	retries: number;
	/** The job list already held this file: an earlier attempt of the execution uploaded it. */
	foundUploaded: boolean;
}

/** Server clocks differ: a job may show a start a little before the upload began here. */
export const START_TIME_SLACK_MS = 60_000;

/** What is known of one upload, to find its job in the list when its answer was lost. */
export interface UploadFacts {
	filename: string;
	/** Bytes of the file, when known. */
	fileSize?: number;
	/** When the upload began, by this machine's clock. */
	beganAt: number;
}

/** The job list's answer about one upload: its job, none, or several that could each be it. */
export type LandedLookup =
	| { found: UserpilotJob; by: 'name' | 'size and start time' }
	| { found: undefined; candidates: UserpilotJob[] };

function startedSince(job: UserpilotJob, beganAt: number): boolean {
	const start = timeOf(job.start_time);
	const end = timeOf(job.end_time);
	// a job without a readable start could be this upload's: it stays a candidate
	if (start !== undefined && start < beganAt - START_TIME_SLACK_MS) return false;
	return end === undefined || end >= beganAt;
}

/**
 * Finds the job of an upload in the job list. Our file names are unique, so the name decides when
 * the service kept it; the page's examples show names the service chose (`2024-10-28.ndjson`
 * for `import_data.ndjson`), so a job of the same size started since the upload began is it too,
 * when it is the only one. Several such jobs, or one of unknown size, cannot be told apart.
 */
export function findUpload(jobs: readonly UserpilotJob[], upload: UploadFacts): LandedLookup {
	const byName = jobs.find((job) => job.filename === upload.filename);
	if (byName) return { found: byName, by: 'name' };
	const since = jobs.filter((job) => startedSince(job, upload.beganAt));
	if (upload.fileSize === undefined) return { found: undefined, candidates: since };
	const sameSize = since.filter((job) => Number(job.file_size) === upload.fileSize);
	if (sameSize.length === 1) return { found: sameSize[0], by: 'size and start time' };
	return { found: undefined, candidates: sameSize };
}

/** The error that stops an upload whose fate the job list cannot tell. */
function cannotTell(upload: UploadFacts, candidates: UserpilotJob[]): PlatformRequestError {
	const ids = candidates.map((job) => job.job_id).join(', ');
	return new PlatformRequestError(
		`Userpilot may have created an import job for ${upload.filename} although its answer was lost, ` +
			`and the job list cannot tell: ${candidates.length} job(s) started since the upload began (${ids}) ` +
			`with a name Userpilot chose. The file was not sent again. Check these jobs in Userpilot's job list ` +
			`(GET /v1/background_jobs) before running this import again.`,
		{ possiblyDelivered: true },
	);
}

function asAnswer(job: UserpilotJob): PlatformResponse {
	return { status: 200, body: job, headers: {}, retries: 0, possiblyDuplicated: false };
}

/** Looks the upload up in the job list: its job, undefined when it did not land, or throws. */
async function lookUpUpload(
	transport: PlatformTransport,
	upload: UploadFacts,
): Promise<UserpilotJob | undefined> {
	const lookup = findUpload(await listJobs(transport), upload);
	if (lookup.found) return lookup.found;
	if (lookup.candidates.length > 0) throw cannotTell(upload, lookup.candidates);
	return undefined;
}

function uploadRequest(transport: PlatformTransport, file: MultipartFile) {
	return () => ({
		method: 'POST' as const,
		url: `${transport.endpoints.data}/v1/imports`,
		body: file.body(),
		// With redirects on, axios sends through follow-redirects, which keeps every
		// chunk of the body to replay it: the whole file would sit in memory.
		disableFollowRedirect: true,
		headers: {
			'Content-Type': file.contentType,
			...(file.length !== undefined ? { 'Content-Length': String(file.length) } : {}),
		},
	});
}

/**
 * One upload, with its retries. Before any re-send that follows a possibly delivered attempt
 * (a 5xx, a lost answer, a time-out) the job list is read; and when the retries run out after
 * such an attempt, once more, so that a landed upload is never reported failed.
 */
async function uploadOnce(
	transport: PlatformTransport,
	file: MultipartFile,
	upload: UploadFacts,
): Promise<{ job: UserpilotJob; retries: number }> {
	const findLanded = async () => {
		const landed = await lookUpUpload(transport, upload);
		return landed ? asAnswer(landed) : undefined;
	};
	const sent = await settle(() =>
		transport.request(uploadRequest(transport, file), `upload ${upload.filename}`, findLanded),
	);
	if ('error' in sent) {
		const error = sent.error;
		if (!(error instanceof PlatformRequestError) || !error.possiblyDelivered) throw error;
		const landed = await lookUpUpload(transport, upload);
		if (!landed) throw error;
		return { job: landed, retries: error.retries };
	}
	const response = sent.value;
	const job = asJob(response.body);
	if (!job) {
		throw new PlatformRequestError(
			'Userpilot answered the upload without a job (no job_id): the import is not known to have started',
			{ status: response.status, retries: response.retries, possiblyDelivered: true },
		);
	}
	return { job, retries: response.retries };
}

const isConflict = (error: unknown): error is PlatformRequestError =>
	error instanceof PlatformRequestError && error.status === 409;

/**
 * Uploads one file as an import job. The filename is unique per upload, so when an attempt's
 * answer is lost, the job list tells whether it landed before anything is sent again. With
 * `lookFirst` (a name that is the same when n8n runs the execution again), the list is read
 * before the first upload too, and a file found there is not uploaded again.
 *
 * A 409 while the job list shows a job in progress waits for it; a 409 it does not explain
 * waits by conflictWaitSchedule, each wait counted as a retry, then fails with the 409's message.
 */
export async function createImportJob(
	transport: PlatformTransport,
	file: MultipartFile,
	filename: string,
	options: UploadOptions & { lookFirst?: boolean },
): Promise<CreatedJob> {
	if (options.lookFirst) {
		const earlier = (await listJobs(transport)).find((job) => job.filename === filename);
		if (earlier) return { job: earlier, retries: 0, foundUploaded: true };
	}
	const deadline = Date.now() + options.timeoutMs;
	const waits = conflictWaitSchedule(options.pollMs, options.timeoutMs);
	let retries = 0;
	let unexplained = 0;
	for (;;) {
		const upload = { filename, fileSize: file.fileSize, beganAt: Date.now() };
		const sent = await settle(() => uploadOnce(transport, file, upload));
		if ('value' in sent) {
			return { job: sent.value.job, retries: retries + sent.value.retries, foundUploaded: false };
		}
		const error = sent.error;
		if (!isConflict(error) || options.whenJobRunning !== 'wait') throw error;
		retries += error.retries + 1;
		transport.stats.countRetry('409');
		if ((await runningJobs(transport)).length > 0) {
			await waitForNoRunningJob(transport, {
				...options,
				timeoutMs: Math.max(0, deadline - Date.now()),
			});
			continue;
		}
		const wait = waits[unexplained++];
		if (wait === undefined) throw stillConflicting(error, retries, unexplained - 1);
		await pause(wait, options.signal);
	}
}

function stillConflicting(
	error: PlatformRequestError,
	retries: number,
	waits: number,
): PlatformRequestError {
	return new PlatformRequestError(
		`${error.message} The job list shows no import job in progress (an export job, for instance, is not listed); ` +
			`still refused after ${waits} growing waits.`,
		{ status: 409, retries },
	);
}
