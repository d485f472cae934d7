/**
 * A receiver that is never the bottleneck: an HTTP server (its own process) that only reads
 * request bodies, counts their items (or parses them as JSON when asked) and answers what the
 * platforms answer on success, so that a benchmark measures the client, not the peer.
 *
 *   node --import tsx bench/receiver.ts --port N [--parse]
 *
 * Routes (any method but POST, or any other path, answers 404 and is counted as refused):
 *   POST /data                    Rimdian: 200 text/plain `queued` (what its checkAnswer accepts)
 *   POST /api/v1/source/import    Ayona: 200 JSON {"message": …}
 *   GET  /__receiver/stats        counts so far (JSON)
 *   POST /__receiver/reset        counts and kept samples back to zero
 *   POST /__receiver/config       {"parse": true|false}
 *   GET  /__receiver/samples      the first bodies received since the reset (base64), for the
 *                                 maximum-rate driver to replay the very same bytes
 *
 * Items are counted without parsing by their opening bytes (`{"kind":"` for Rimdian, whose items
 * are canonical JSON with `kind` first; `{"date":` for Ayona); with --parse (or config parse) each
 * body goes through JSON.parse and the items array's length is counted instead.
 */
import * as http from 'node:http';

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
}

function emptyStats(parse: boolean): ReceiverStats {
	return { parse, requests: 0, accepted: 0, refused: 0, items: 0, bytes: 0, badBodies: 0, connections: 0, byPath: {} };
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

export function startReceiver(port: number, parseAtStart: boolean): http.Server {
	let stats = emptyStats(parseAtStart);
	let samples: Sample[] = [];
	const admin = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
		if (req.url === '/__receiver/stats') return sendJson(res, 200, stats);
		if (req.url === '/__receiver/samples') {
			return sendJson(res, 200, samples.map((sample) => ({ ...sample, body: sample.body.toString('base64') })));
		}
		if (req.url === '/__receiver/reset') {
			stats = { ...emptyStats(stats.parse), connections: stats.connections };
			samples = [];
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
	server.listen(port, '127.0.0.1', () => process.stdout.write(`receiver listening on http://127.0.0.1:${port}\n`));
	return server;
}

if (require.main === module) {
	const portAt = process.argv.indexOf('--port');
	const port = portAt === -1 ? 0 : Number(process.argv[portAt + 1]);
	const server = startReceiver(port, process.argv.includes('--parse'));
	for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => process.exit(0)));
}
