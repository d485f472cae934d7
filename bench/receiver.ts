/**
 * A receiver that is never the bottleneck: an HTTP server (its own process) that only reads
 * request bodies, counts their items (or parses them as JSON when asked) and answers what the
 * platforms answer on success, so that a benchmark measures the client, not the peer.
 *
 *   node --import tsx bench/receiver.ts --port N [--parse]
 *
 * Routes (any other method or path answers 404 and is counted as refused):
 *   POST /data                    Rimdian: 200 text/plain `queued` (what its checkAnswer accepts)
 *   POST /api/v1/source/import    Ayona: 200 JSON {"message": …}
 *   POST /v1/imports              Userpilot's bulk import (multipart, `Authorization: Token …`):
 *                                 the body is read to its end and only counted, never stored nor
 *                                 run through a multipart parser: the file's size is the body's
 *                                 length less the part's head (read from the first bytes) and the
 *                                 closing boundary (found in the last bytes). Answers 200 with
 *                                 the job as the sandbox answers it on creation (status `queued`;
 *                                 bench:upload's workflow does not wait for the job).
 *   GET  /v1/background_jobs      Userpilot's job list (newest first), and one job at
 *   GET  /v1/background_jobs/:id  either path; the receiver runs no job: once created, a job
 *   GET  /api/background_jobs/:id reads `completed` (without row counts: nothing was parsed)
 *   GET  /__receiver/stats        counts so far (JSON)
 *   POST /__receiver/reset        counts and kept samples back to zero
 *   POST /__receiver/config       {"parse": true|false}
 *   GET  /__receiver/samples      the first bodies received since the reset (base64), for the
 *                                 maximum-rate driver to replay the very same bytes
 *
 * Userpilot answers (job views, error bodies) are the sandbox's own functions (sandbox/userpilot.ts),
 * so the shapes are the same; the stats' `userpilot` holds uploads and file bytes (as the sandbox's).
 *
 * Items are counted without parsing by their opening bytes (`{"kind":"` for Rimdian, whose items
 * are canonical JSON with `kind` first; `{"date":` for Ayona); with --parse (or config parse) each
 * body goes through JSON.parse and the items array's length is counted instead.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';

import { hashKey, type UserpilotJob } from '../sandbox/state';
import { errorBody, jobView } from '../sandbox/userpilot';

interface Route {
	marker: Buffer;
	itemsOf: (parsed: Record<string, unknown>) => unknown;
	answer: (res: http.ServerResponse) => void;
}

const ROUTES: Record<string, Route> = {
	'/data': {
		marker: Buffer.from('{"kind":"'),
		itemsOf: (parsed) => parsed.items,
		answer: (res) => {
			res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 6 });
			res.end('queued');
		},
	},
	'/api/v1/source/import': {
		marker: Buffer.from('{"date":'),
		itemsOf: (parsed) => parsed.payload,
		answer: (res) => {
			const body = '{"message":"REST import started successfully"}';
			res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length });
			res.end(body);
		},
	},
};

const SAMPLES_KEPT = 64;

interface Sample {
	path: string;
	contentType: string;
	items: number;
	body: Buffer;
}

export interface ReceiverStats {
	parse: boolean;
	requests: number;
	accepted: number;
	refused: number;
	items: number;
	bytes: number;
	/** Bodies that did not parse (parse mode) or held no item. */
	badBodies: number;
	connections: number;
	byPath: Record<string, { requests: number; items: number }>;
	/** Userpilot uploads accepted and their files' bytes (without the multipart envelope). */
	userpilot: { uploads: number; bytes: number };
}

function emptyStats(parse: boolean): ReceiverStats {
	return { parse, requests: 0, accepted: 0, refused: 0, items: 0, bytes: 0, badBodies: 0, connections: 0, byPath: {}, userpilot: { uploads: 0, bytes: 0 } };
}

function countMarker(body: Buffer, marker: Buffer): number {
	let count = 0;
	for (let at = body.indexOf(marker); at !== -1; at = body.indexOf(marker, at + marker.length)) count++;
	return count;
}

function countItems(body: Buffer, route: Route, parse: boolean): number {
	if (!parse) return countMarker(body, route.marker);
	try {
		const items = route.itemsOf(JSON.parse(body.toString('utf8')) as Record<string, unknown>);
		return Array.isArray(items) ? items.length : 0;
	} catch {
		return 0;
	}
}

function readBody(req: http.IncomingMessage, done: (body: Buffer) => void): void {
	const chunks: Buffer[] = [];
	req.on('data', (chunk: Buffer) => chunks.push(chunk));
	req.on('end', () => done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
	const body = JSON.stringify(value);
	res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
	res.end(body);
}

// ---------------------------------------------------------------------------------------------
// Userpilot: the import upload and the job reads, nothing stored, nothing run
// ---------------------------------------------------------------------------------------------

const USERPILOT_JOB_PREFIXES = ['/v1/background_jobs/', '/api/background_jobs/'];
/** The part's head (boundary line, Content-Disposition, Content-Type) must fit in this. */
const PART_HEAD_MAX = 16 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** The key of `Authorization: Token <key>`, or undefined. */
function userpilotKey(req: http.IncomingMessage): string | undefined {
	const match = /^\s*Token\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
	return match?.[1];
}

function userpilotError(res: http.ServerResponse, status: number, details: string, close = false): void {
	const body = JSON.stringify(errorBody(status, details));
	res.writeHead(status, {
		'Content-Type': 'application/json',
		'Content-Length': Buffer.byteLength(body),
		...(close ? { Connection: 'close' } : {}),
	});
	res.end(body);
}

/** A job as the receiver keeps it: created `queued`, read `completed` afterwards. */
function userpilotJob(keyHash: string, filename: string, size: number, now: number): UserpilotJob {
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

/** The job as read after its creation: completed, with no row counts (the receiver parses no row). */
function finishedView(job: UserpilotJob): Record<string, unknown> {
	const view = jobView({ ...job, status: 'completed', end: job.end ?? job.start });
	delete view.total_rows;
	return view;
}

interface UserpilotState {
	jobs: UserpilotJob[];
}

/**
 * POST /v1/imports: counts the body as it streams by. Only the first bytes (the part's head:
 * its name and file name) and the last ones (the closing boundary) are looked at.
 */
function receiveUpload(
	req: http.IncomingMessage,
	res: http.ServerResponse,
	stats: () => ReceiverStats,
	state: () => UserpilotState,
): void {
	const key = userpilotKey(req);
	const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(String(req.headers['content-type'] ?? ''));
	const refuse = (status: number, details: string) => {
		stats().refused++;
		userpilotError(res, status, details, !req.complete);
		if (!req.complete) req.resume();
	};
	if (key === undefined) return refuse(401, req.headers.authorization === undefined ? 'Missing Authorization header' : 'Invalid Authorization header, expected `Token <API_KEY>`');
	if (!boundary || !/^multipart\/form-data/i.test(String(req.headers['content-type']))) {
		return refuse(400, 'Content-Type must be multipart/form-data with a boundary');
	}
	const closing = Buffer.from(`\r\n--${boundary[1] ?? boundary[2]}`);
	const tailKeep = closing.length + 8; // `--\r\n` and some slack
	let total = 0;
	let head: Buffer | undefined = Buffer.alloc(0);
	let headLength = -1;
	let filename = 'upload';
	let field = '';
	let tail: Buffer = Buffer.alloc(0);
	req.on('data', (chunk: Buffer) => {
		total += chunk.length;
		if (head !== undefined) {
			head = Buffer.concat([head, chunk.subarray(0, PART_HEAD_MAX)]);
			const end = head.indexOf(CRLFCRLF);
			if (end !== -1 || head.length >= PART_HEAD_MAX) {
				const text = head.subarray(0, end === -1 ? 0 : end).toString('latin1');
				headLength = end === -1 ? -1 : end + CRLFCRLF.length;
				field = /\bname="([^"]*)"/i.exec(text)?.[1] ?? '';
				filename = Buffer.from(/\bfilename="([^"]*)"/i.exec(text)?.[1] ?? 'upload', 'latin1').toString('utf8');
				head = undefined;
			}
		}
		tail = chunk.length >= tailKeep ? chunk.subarray(chunk.length - tailKeep) : Buffer.concat([tail, chunk]).subarray(-tailKeep);
	});
	req.on('end', () => {
		const s = stats();
		s.requests++;
		s.bytes += total;
		const at = tail.lastIndexOf(closing);
		if (headLength === -1 || at === -1 || field !== 'file') {
			s.refused++;
			return userpilotError(res, 400, field !== 'file' && headLength !== -1 ? 'Required parameter `file` is missing' : 'Malformed multipart/form-data request');
		}
		const size = total - headLength - (tail.length - at);
		if (size <= 0) {
			s.refused++;
			return userpilotError(res, 400, 'The uploaded file is empty');
		}
		s.accepted++;
		const byPath = (s.byPath['/v1/imports'] ??= { requests: 0, items: 0 });
		byPath.requests++;
		s.userpilot.uploads++;
		s.userpilot.bytes += size;
		const job = userpilotJob(hashKey(key), filename, size, Date.now());
		state().jobs.push(job);
		sendJson(res, 200, jobView(job));
	});
}

/** GET /v1/background_jobs and one job by either path; true when the path was one of them. */
function answerJobs(req: http.IncomingMessage, res: http.ServerResponse, state: UserpilotState): boolean {
	const url = req.url ?? '';
	const isList = url === '/v1/background_jobs';
	const prefix = USERPILOT_JOB_PREFIXES.find((p) => url.startsWith(p) && url.length > p.length);
	if (req.method !== 'GET' || (!isList && prefix === undefined)) return false;
	const key = userpilotKey(req);
	if (key === undefined) {
		userpilotError(res, 401, 'Missing Authorization header');
		return true;
	}
	const mine = state.jobs.filter((job) => job.keyHash === hashKey(key));
	if (isList) {
		sendJson(res, 200, mine.slice().reverse().map(finishedView));
		return true;
	}
	let id = url.slice((prefix as string).length);
	try {
		id = decodeURIComponent(id);
	} catch {
		// kept as sent
	}
	const job = mine.find((one) => one.job_id === id);
	if (job) sendJson(res, 200, finishedView(job));
	else userpilotError(res, 404, `Job not found: ${id}`);
	return true;
}

export function startReceiver(port: number, parseAtStart: boolean): http.Server {
	let stats = emptyStats(parseAtStart);
	let samples: Sample[] = [];
	let userpilot: UserpilotState = { jobs: [] };
	const admin = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
		if (req.url === '/__receiver/stats') return sendJson(res, 200, stats);
		if (req.url === '/__receiver/samples') {
			return sendJson(res, 200, samples.map((sample) => ({ ...sample, body: sample.body.toString('base64') })));
		}
		if (req.url === '/__receiver/reset') {
			stats = { ...emptyStats(stats.parse), connections: stats.connections };
			samples = [];
			userpilot = { jobs: [] };
			return sendJson(res, 200, { ok: true });
		}
		if (req.url === '/__receiver/config') {
			stats.parse = (JSON.parse(body.toString('utf8') || '{}') as { parse?: boolean }).parse === true;
			return sendJson(res, 200, { ok: true, parse: stats.parse });
		}
		sendJson(res, 404, { error: 'no such admin route' });
	};
	const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
		// Userpilot's upload is streamed and counted, never kept whole.
		if (req.method === 'POST' && req.url === '/v1/imports') return receiveUpload(req, res, () => stats, () => userpilot);
		if (answerJobs(req, res, userpilot)) return void req.resume();
		readBody(req, (body) => {
			if (req.url?.startsWith('/__receiver/')) return admin(req, res, body);
			stats.requests++;
			stats.bytes += body.length;
			const route = req.method === 'POST' ? ROUTES[req.url ?? ''] : undefined;
			if (!route) {
				stats.refused++;
				return sendJson(res, 404, { error: `the receiver has no ${req.method} ${req.url}` });
			}
			const items = countItems(body, route, stats.parse);
			if (items === 0) stats.badBodies++;
			stats.accepted++;
			stats.items += items;
			const byPath = (stats.byPath[req.url as string] ??= { requests: 0, items: 0 });
			byPath.requests++;
			byPath.items += items;
			if (samples.length < SAMPLES_KEPT) {
				samples.push({ path: req.url as string, contentType: String(req.headers['content-type'] ?? ''), items, body });
			}
			route.answer(res);
		});
	});
	server.on('connection', () => stats.connections++);
	server.listen(port, '127.0.0.1', () => process.stdout.write(`receiver listening on http://127.0.0.1:${port}\n`));
	return server;
}

if (require.main === module) {
	const portAt = process.argv.indexOf('--port');
	const port = portAt === -1 ? 0 : Number(process.argv[portAt + 1]);
	const server = startReceiver(port, process.argv.includes('--parse'));
	for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => process.exit(0)));
}
