import http from 'node:http';
import https from 'node:https';

import type { IHttpRequestOptions } from 'n8n-workflow';

/**
 * Sockets kept per platform host at most. The node's Concurrency option is what limits requests in
 * flight; this bound only keeps a mis-set Concurrency from opening hundreds of connections to
 * the platform (requests beyond it wait for a free socket, within their own time-out).
 */
export const MAX_SOCKETS_PER_HOST = 16;

/** What n8n's helper would apply to the request on its own: with any of them set, it goes there. */
const PROXY_VARIABLES = [
	'HTTP_PROXY',
	'http_proxy',
	'HTTPS_PROXY',
	'https_proxy',
	'ALL_PROXY',
	'all_proxy',
	// Read too by proxy-from-env, which n8n 1.x uses to pick a proxy per URL.
	'npm_config_proxy',
	'npm_config_http_proxy',
	'npm_config_https_proxy',
];

/**
 * Whether the transport may send requests itself. n8n's helper routes requests through the
 * proxies of the environment (with NO_PROXY) and, on n8n 2.x, through its SSRF protection
 * (N8N_SSRF_PROTECTION_ENABLED); with either configured every request stays on n8n's helper,
 * so that n8n's rules hold exactly as they do for its own nodes.
 */
export function keepAliveAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
	if (PROXY_VARIABLES.some((name) => (env[name] ?? '').trim() !== '')) return false;
	const ssrf = (env.N8N_SSRF_PROTECTION_ENABLED ?? '').trim().toLowerCase();
	return ssrf === '' || ssrf === 'false' || ssrf === '0';
}

/** Options of a request the transport can send as n8n's helper would: anything else goes there. */
const PLAIN_OPTIONS = new Set(['method', 'url', 'body', 'headers', 'timeout']);

/**
 * The absolute http(s) URL of a request with a text or bytes body and plain options only (a batch); undefined
 * for anything n8n's helper treats specially (a stream or form body, a query, TLS or proxy
 * options, a relative URL).
 */
export function plainRequestUrl(options: IHttpRequestOptions): URL | undefined {
	if (typeof options.body !== 'string' && !Buffer.isBuffer(options.body)) return undefined;
	for (const [key, value] of Object.entries(options)) {
		if (value !== undefined && !PLAIN_OPTIONS.has(key)) return undefined;
	}
	if (!URL.canParse(options.url)) return undefined;
	const url = new URL(options.url);
	return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}

export interface KeepAliveAnswer {
	statusCode: number;
	body: unknown;
	headers: Record<string, unknown>;
}

export interface KeepAliveRequest {
	url: URL;
	method: string;
	headers: Record<string, string>;
	body: string | Buffer;
	timeoutMs: number;
	signal?: AbortSignal;
}

/**
 * An error of the exchange that carries only a code and a message: Node's own errors can hold the
 * request (and its Authorization header), which must never reach an output or a log.
 */
export class ConnectionError extends Error {
	constructor(
		message: string,
		readonly code: string | undefined,
		name = 'ConnectionError',
	) {
		super(message);
		this.name = name;
	}
}

/**
 * Connections to the platform kept open for one execution (Node's keep-alive agents), made on
 * first use and destroyed by `close`.
 */
export class KeepAliveConnections {
	private agents?: { http: http.Agent; https: https.Agent };

	private closed = false;

	constructor(private readonly maxSockets = MAX_SOCKETS_PER_HOST) {}

	/** Sockets open now, busy or idle (for tests). */
	get openSockets(): number {
		if (!this.agents) return 0;
		let count = 0;
		for (const agent of [this.agents.http, this.agents.https]) {
			for (const list of [...Object.values(agent.sockets), ...Object.values(agent.freeSockets)]) {
				count += list?.length ?? 0;
			}
		}
		return count;
	}

	async send(request: KeepAliveRequest): Promise<KeepAliveAnswer> {
		if (this.closed)
			throw new ConnectionError(
				'The connections of this execution are closed',
				'ERR_CANCELED',
				'AbortError',
			);
		return await exchange(request, this.agentFor(request.url.protocol));
	}

	/** Destroys every socket, idle or busy; requests still running fail as cancelled. */
	close(): void {
		this.closed = true;
		this.agents?.http.destroy();
		this.agents?.https.destroy();
		this.agents = undefined;
	}

	private agentFor(protocol: string): http.Agent {
		const options = {
			keepAlive: true,
			maxSockets: this.maxSockets,
			maxFreeSockets: this.maxSockets,
		};
		this.agents ??= { http: new http.Agent(options), https: new https.Agent(options) };
		return protocol === 'https:' ? this.agents.https : this.agents.http;
	}
}

/** The first characters a JSON text can start with, after white space. */
const JSON_START = /^\s*[[{"\-0-9tfn]/;

/** Axios's default (n8n's helper): a text answer is JSON when it parses as JSON. */
export function parseBody(text: string): unknown {
	// A text that cannot be JSON ("queued") is not handed to JSON.parse: a throw for every
	// answer costs more than the request's own parsing.
	if (!JSON_START.test(text)) return text;
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text;
	}
}

function headersFor(request: KeepAliveRequest): Record<string, string | number> {
	const headers: Record<string, string | number> = { ...request.headers };
	const names = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
	// What n8n's helper adds when the node sets none.
	if (!names.has('accept')) headers.Accept = 'application/json, text/plain, */*';
	if (!names.has('user-agent')) headers['User-Agent'] = 'n8n';
	headers['Content-Length'] = Buffer.byteLength(request.body);
	return headers;
}

/** The error an attempt ended with, stripped of everything but its message and code. */
function connectionError(
	error: Error & { code?: string },
	request: KeepAliveRequest,
	timedOut: boolean,
): ConnectionError {
	if (request.signal?.aborted === true) {
		return new ConnectionError('The request was cancelled', 'ERR_CANCELED', 'AbortError');
	}
	// As n8n's helper (axios) reports a time-out.
	if (timedOut) {
		return new ConnectionError(`timeout of ${request.timeoutMs}ms exceeded`, 'ECONNABORTED');
	}
	return new ConnectionError(error.message, error.code);
}

/** One request on the agent's connections; a time-out counts from the start, queueing included. */
async function exchange(request: KeepAliveRequest, agent: http.Agent): Promise<KeepAliveAnswer> {
	return await new Promise((resolve, reject) => {
		const client = request.url.protocol === 'https:' ? https : http;
		let settled = false;
		let timedOut = false;
		const req = client.request(request.url, {
			method: request.method,
			headers: headersFor(request),
			agent,
			signal: request.signal,
		});
		const timer = setTimeout(() => {
			timedOut = true;
			req.destroy(new Error('timeout'));
		}, request.timeoutMs);
		const fail = (error: Error & { code?: string }) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			reject(connectionError(error, request, timedOut));
		};
		req.on('error', fail);
		req.on('response', (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('error', fail);
			res.on('aborted', () =>
				fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
			);
			res.on('end', () => {
				if (settled) return;
				settled = true;
				clearTimeout(timer);
				resolve({
					statusCode: res.statusCode ?? 0,
					body: parseBody(Buffer.concat(chunks).toString('utf8')),
					headers: res.headers as Record<string, unknown>,
				});
			});
		});
		req.end(request.body);
	});
}
