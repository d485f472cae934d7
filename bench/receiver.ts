/**
 * A receiver that is never the bottleneck: an HTTP server (its own process) that only reads
 * request bodies, counts their items (or parses them as JSON when asked) and answers what the
 * platforms answer on success, so that a benchmark measures the client, not the peer.
 *
 *   node --import tsx bench/receiver.ts --port N [--userpilot-port M] [--parse]
 *
 * Routes on --port (any other method or path answers 404 and is counted as refused):
 *   POST /data                    Rimdian: 200 text/plain `queued` (what its checkAnswer accepts)
 *   POST /api/v1/source/import    Ayona: 200 JSON {"message": …}
 *   GET  /__receiver/stats        counts so far (JSON)
 *   POST /__receiver/reset        counts, kept samples and Userpilot jobs back to zero
 *   POST /__receiver/config       {"parse": true|false}
 *   GET  /__receiver/samples      the first bodies received since the reset (base64), for the
 *                                 maximum-rate driver to replay the very same bytes
 * Userpilot's routes are on --userpilot-port, a plain TCP server that speaks just the HTTP/1.1
 * they need and reads into one reused buffer (Node's http server allocates a buffer per read,
 * which tripled the receiver's CPU per upload byte, and made it slower than curl's sending):
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
 *
 * Userpilot answers (job views, error bodies) are the sandbox's own functions (sandbox/userpilot.ts),
 * so the shapes are the same; the stats' `userpilot` holds uploads and file bytes (as the sandbox's).
 *
 * Items are counted without parsing by their opening bytes (`{"kind":"` for Rimdian, whose items
 * are canonical JSON with `kind` first; `{"date":` for Ayona); with --parse (or config parse) each
 * body goes through JSON.parse and the items array's length is counted instead.
 */
import * as http from 'node:http';
import * as net from 'node:net';

import { hashKey, type UserpilotJob } from '../sandbox/state';
import { createdJob, errorBody, jobView } from '../sandbox/userpilot';

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
/** A request's head must fit in this. */
const REQUEST_HEAD_MAX = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');
/**
 * Every Userpilot connection reads into this one buffer (net's `onread`): Node's usual reads
 * allocate a new 64 KiB buffer each time, which cost the receiver about three times the CPU of
 * the bytes' copy itself (figures in docs/performance.md). Bytes kept past a read
 * (a request head, a part head, the last bytes of a body) are copied out of it.
 */
const READ_BUFFER = Buffer.alloc(1024 * 1024);

interface UserpilotState {
	jobs: UserpilotJob[];
}

/** The job as read after its creation: completed, with no row counts (the receiver parses no row). */
function finishedView(job: UserpilotJob): Record<string, unknown> {
	const view = jobView({ ...job, status: 'completed', end: job.end ?? job.start });
	delete view.total_rows;
	return view;
}

const REASONS: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 411: 'Length Required', 431: 'Request Header Fields Too Large' };

interface RequestHead {
	method: string;
	path: string;
	headers: Record<string, string>;
}

function parseHead(text: string): RequestHead | undefined {
	const lines = text.split('\r\n');
	const [method, path] = lines[0].split(' ');
	if (!method || !path) return undefined;
	const headers: Record<string, string> = {};
	for (const line of lines.slice(1)) {
		const colon = line.indexOf(':');
		if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
	}
	return { method, path, headers };
}

/** The key of `Authorization: Token <key>`, or undefined. */
function userpilotKey(headers: Record<string, string>): string | undefined {
	return /^\s*Token\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
}

/** One upload's body as it streams by: only its first bytes (the part's head) and last ones are kept. */
class UploadBody {
	left: number;
	total = 0;
	private head: Buffer | undefined = Buffer.alloc(0);
	headLength = -1;
	field = '';
	filename = 'upload';
	private tail: Buffer = Buffer.alloc(0);
	private readonly closing: Buffer;

	constructor(length: number, boundary: string) {
		this.left = length;
		this.closing = Buffer.from(`\r\n--${boundary}`);
	}

	/** Takes what belongs to this body from `bytes`; answers how many bytes it took. */
	take(bytes: Buffer): number {
		const taken = Math.min(bytes.length, this.left);
		const chunk = bytes.subarray(0, taken);
		this.left -= taken;
		this.total += taken;
		if (this.head !== undefined) {
			this.head = Buffer.concat([this.head, chunk.subarray(0, PART_HEAD_MAX)]);
			const end = this.head.indexOf(CRLFCRLF);
			if (end !== -1 || this.head.length >= PART_HEAD_MAX) {
				const text = this.head.subarray(0, end === -1 ? 0 : end).toString('latin1');
				this.headLength = end === -1 ? -1 : end + CRLFCRLF.length;
				this.field = /\bname="([^"]*)"/i.exec(text)?.[1] ?? '';
				this.filename = Buffer.from(/\bfilename="([^"]*)"/i.exec(text)?.[1] ?? 'upload', 'latin1').toString('utf8');
				this.head = undefined;
			}
		}
		const keep = this.closing.length + 8; // the closing boundary, `--\r\n` and some slack
		// Copied: the read buffer is written over by the next read.
		this.tail = Buffer.from(chunk.length >= keep ? chunk.subarray(chunk.length - keep) : Buffer.concat([this.tail, chunk]).subarray(-keep));
		return taken;
	}

	/** The file's size: the body less the part's head and the closing boundary; undefined when malformed. */
	fileSize(): number | undefined {
		const at = this.tail.lastIndexOf(this.closing);
		if (this.headLength === -1 || at === -1) return undefined;
		return this.total - this.headLength - (this.tail.length - at);
	}
}

/**
 * The Userpilot routes on a plain TCP server speaking just enough HTTP/1.1 for them: keep-alive,
 * Content-Length bodies (a chunked upload is answered 411), `Expect: 100-continue` (curl -F sends
 * it). Node's http server would read every byte into newly allocated buffers (see READ_BUFFER).
 */
function userpilotServer(stats: () => ReceiverStats, state: () => UserpilotState): net.Server {
	const sockets = new Set<net.Socket>();
	const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
		// Take the accepted socket's handle into a socket reading into READ_BUFFER.
		const handle = (accepted as unknown as { _handle: unknown })._handle;
		(accepted as unknown as { _handle: unknown })._handle = null;
		let pending: Buffer = Buffer.alloc(0);
		let body: UploadBody | undefined;
		let bodyHead: RequestHead | undefined;
		let closeAfter = false;
		const socket: net.Socket = new net.Socket({
			handle,
			onread: { buffer: READ_BUFFER, callback: (size: number, buffer: Uint8Array) => void onBytes(Buffer.from(buffer.buffer, buffer.byteOffset, size)) },
		} as net.SocketConstructorOpts);
		socket.on('error', () => undefined);
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
		stats().connections++;
		let ending = false;

		const send = (status: number, value: unknown, close = closeAfter) => {
			const text = JSON.stringify(value);
			socket.write(
				`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
					`${close ? 'Connection: close\r\n' : 'Connection: keep-alive\r\n'}\r\n${text}`,
			);
			if (close) {
				// Whatever else comes on this connection (the rest of a refused body) is dropped.
				ending = true;
				socket.end();
			}
		};
		const refuse = (status: number, details: string, close = closeAfter) => {
			stats().refused++;
			send(status, errorBody(status, details), close);
		};

		const uploadEnded = (upload: UploadBody, key: string) => {
			const s = stats();
			s.bytes += upload.total;
			const size = upload.fileSize();
			if (size === undefined || upload.field !== 'file') {
				return refuse(400, upload.headLength !== -1 && upload.field !== 'file' ? 'Required parameter `file` is missing' : 'Malformed multipart/form-data request');
			}
			if (size <= 0) return refuse(400, 'The uploaded file is empty');
			s.accepted++;
			const byPath = (s.byPath['/v1/imports'] ??= { requests: 0, items: 0 });
			byPath.requests++;
			s.userpilot.uploads++;
			s.userpilot.bytes += size;
			const job = createdJob(hashKey(key), upload.filename, size, Date.now());
			state().jobs.push(job);
			send(200, jobView(job));
		};

		const answerJobs = (head: RequestHead) => {
			const isList = head.path === '/v1/background_jobs';
			const prefix = USERPILOT_JOB_PREFIXES.find((p) => head.path.startsWith(p) && head.path.length > p.length);
			const key = userpilotKey(head.headers);
			if (key === undefined) return refuse(401, 'Missing Authorization header');
			const mine = state().jobs.filter((job) => job.keyHash === hashKey(key));
			if (isList) return send(200, mine.slice().reverse().map(finishedView));
			let id = head.path.slice((prefix as string).length);
			try {
				id = decodeURIComponent(id);
			} catch {
				// kept as sent
			}
			const job = mine.find((one) => one.job_id === id);
			return job ? send(200, finishedView(job)) : refuse(404, `Job not found: ${id}`);
		};

		/** A request head has arrived: answer it, or begin reading its upload. */
		const onHead = (head: RequestHead) => {
			stats().requests++;
			closeAfter = /close/i.test(head.headers.connection ?? '');
			const length = Number(head.headers['content-length'] ?? 0);
			const isJobs = head.path === '/v1/background_jobs' || USERPILOT_JOB_PREFIXES.some((p) => head.path.startsWith(p) && head.path.length > p.length);
			if (head.method === 'GET' && isJobs && length === 0) return answerJobs(head);
			if (head.method !== 'POST' || head.path !== '/v1/imports') return refuse(404, `The receiver has no Userpilot ${head.method} ${head.path}`, true);
			if (/chunked/i.test(head.headers['transfer-encoding'] ?? '')) return refuse(411, 'The receiver reads uploads with a Content-Length only', true);
			const key = userpilotKey(head.headers);
			if (key === undefined) {
				return refuse(401, head.headers.authorization === undefined ? 'Missing Authorization header' : 'Invalid Authorization header, expected `Token <API_KEY>`', true);
			}
			const boundary = /^multipart\/form-data\b.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(head.headers['content-type'] ?? '');
			if (!boundary) return refuse(400, 'Content-Type must be multipart/form-data with a boundary', true);
			if (/100-continue/i.test(head.headers.expect ?? '')) socket.write('HTTP/1.1 100 Continue\r\n\r\n');
			body = new UploadBody(length, boundary[1] ?? boundary[2]);
			bodyHead = head;
			if (length === 0) finishBody();
		};
		const finishBody = () => {
			const upload = body as UploadBody;
			const key = userpilotKey((bodyHead as RequestHead).headers) as string;
			body = undefined;
			bodyHead = undefined;
			uploadEnded(upload, key);
		};

		const onBytes = (bytes: Buffer) => {
			let at = 0;
			while (at < bytes.length && !ending && !socket.destroyed) {
				if (body) {
					at += body.take(bytes.subarray(at));
					if (body.left === 0) finishBody();
					continue;
				}
				// Copied: the read buffer is written over by the next read.
				pending = Buffer.concat([pending, bytes.subarray(at)]);
				at = bytes.length;
				const end = pending.indexOf(CRLFCRLF);
				if (end === -1) {
					if (pending.length > REQUEST_HEAD_MAX) refuse(431, 'Request head too large', true);
					return;
				}
				const head = parseHead(pending.subarray(0, end).toString('latin1'));
				const rest = pending.subarray(end + CRLFCRLF.length);
				pending = Buffer.alloc(0);
				if (!head) return refuse(400, 'Malformed request', true);
				onHead(head);
				if (rest.length > 0) onBytes(rest);
			}
		};
		socket.resume();
	});
	// Closing the receiver ends its open Userpilot connections too (keep-alive clients keep them).
	const close = server.close.bind(server);
	server.close = (done?: (error?: Error) => void) => {
		for (const socket of sockets) socket.destroy();
		return close(done);
	};
	return server;
}

/** The receiver's HTTP server, with its Userpilot server beside it (on its own port). */
export type Receiver = http.Server & { userpilot: net.Server };

export function startReceiver(port: number, parseAtStart: boolean, userpilotPort = 0): Receiver {
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
	const receiver = Object.assign(server, { userpilot: userpilotServer(() => stats, () => userpilot) });
	const listening = (one: net.Server) => new Promise<number>((resolve) => one.once('listening', () => resolve((one.address() as net.AddressInfo).port)));
	void Promise.all([listening(server), listening(receiver.userpilot)]).then(([httpPort, upPort]) =>
		process.stdout.write(`receiver listening on http://127.0.0.1:${httpPort} (Userpilot on http://127.0.0.1:${upPort})\n`),
	);
	server.listen(port, '127.0.0.1');
	receiver.userpilot.listen(userpilotPort, '127.0.0.1');
	server.once('close', () => receiver.userpilot.close());
	return receiver;
}

if (require.main === module) {
	const portAt = process.argv.indexOf('--port');
	const port = portAt === -1 ? 0 : Number(process.argv[portAt + 1]);
	const upAt = process.argv.indexOf('--userpilot-port');
	const server = startReceiver(port, process.argv.includes('--parse'), upAt === -1 ? 0 : Number(process.argv[upAt + 1]));
	for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => process.exit(0)));
}
