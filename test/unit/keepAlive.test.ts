/**
 * The transport's kept-alive connections against real local HTTP(S) servers: what n8n's helper
 * gives (authentication, token renewal, error meanings, cancel, TLS) holds on them too.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import type { ICredentialDataDecryptedObject, IExecuteFunctions, IHttpRequestOptions } from 'n8n-workflow';

import { keepAliveAllowed, parseBody, plainRequestUrl } from '../../core/keepAlive';
import { ExecutionCancelledError, PlatformRequestError, PlatformTransport } from '../../core/transport';
import { DataImportApi } from '../../credentials/DataImportApi.credentials';
import { rimdian } from '../../platforms/rimdian';

const KEY = 'secret-token-4d1f';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

interface Peer {
	url: string;
	/** Connections opened to it so far. */
	connections: number;
	/** Connections open now. */
	open: Set<Socket>;
	requests: Array<{ authorization?: string; body: string; headers: http.IncomingHttpHeaders; connection: number }>;
	close(): Promise<void>;
}

async function startPeer(handler: Handler, tls?: { key: string; cert: string }): Promise<Peer> {
	const ids = new WeakMap<Socket, number>();
	const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const body = Buffer.concat(chunks).toString('utf8');
			peer.requests.push({ authorization: req.headers.authorization, body, headers: req.headers, connection: ids.get(req.socket) ?? -1 });
			handler(req, res, body);
		});
	};
	const server = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
	const peer: Peer = {
		url: '',
		connections: 0,
		open: new Set(),
		requests: [],
		close: () =>
			new Promise((resolve) => {
				for (const socket of peer.open) socket.destroy();
				server.close(() => resolve());
			}),
	};
	server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
		peer.connections++;
		ids.set(socket, peer.connections);
		peer.open.add(socket);
		socket.on('close', () => peer.open.delete(socket));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	peer.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return peer;
}

const queued: Handler = (_req, res) => {
	res.writeHead(200, { 'Content-Type': 'text/plain' });
	res.end('queued');
};

function credentialsFor(baseUrl: string, extra: ICredentialDataDecryptedObject = {}): ICredentialDataDecryptedObject {
	return { platform: 'rimdian', rimdianAuthentication: 'accessToken', rimdianRegion: 'custom', baseUrl, apiKey: KEY, workspaceId: 'ws', ...extra };
}

/** n8n's execute context, enough for the transport; its helper answers 200 unless told otherwise. */
function contextWith(helper?: (options: IHttpRequestOptions) => unknown) {
	const controller = new AbortController();
	const calls: IHttpRequestOptions[] = [];
	const context = {
		getExecutionCancelSignal: () => controller.signal,
		helpers: {
			async httpRequestWithAuthentication(_type: string, options: IHttpRequestOptions) {
				calls.push(options);
				return helper?.(options) ?? { statusCode: 200, body: 'queued', headers: {} };
			},
		},
	} as unknown as IExecuteFunctions;
	return { context, controller, calls };
}

const policy = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 20, timeoutMs: 2000 };

function batch(url: string) {
	// As core/delivery/batch sends it: bytes.
	return { method: 'POST' as const, url: `${url}/data`, body: Buffer.from('{"items":[]}'), headers: { 'Content-Type': 'application/json' } };
}

async function until(check: () => boolean, ms = 2000) {
	const end = Date.now() + ms;
	while (!check() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
}

test('batches share kept-alive connections, authenticated exactly as the credential type authenticates', async () => {
	const peer = await startPeer(queued);
	try {
		const credentials = credentialsFor(peer.url);
		const { context, calls } = contextWith();
		const transport = new PlatformTransport(context, rimdian, credentials, policy);
		for (let i = 0; i < 10; i++) {
			const response = await transport.request(batch(peer.url), `batch ${i}`);
			assert.equal(response.status, 200);
			assert.equal(response.body, 'queued');
		}
		await Promise.all(Array.from({ length: 4 }, (_, i) => transport.request(batch(peer.url), `parallel ${i}`)));
		assert.equal(calls.length, 0, "no request went through n8n's helper");
		assert.equal(peer.requests.length, 14);
		assert.ok(peer.connections <= 4, `14 requests on ${peer.connections} connections`);

		const authenticate = new DataImportApi().authenticate as (
			credentials: ICredentialDataDecryptedObject,
			options: IHttpRequestOptions,
		) => Promise<IHttpRequestOptions>;
		const expected = await authenticate(credentials, { url: `${peer.url}/data`, headers: {} });
		const sent = peer.requests[0].headers;
		assert.equal(sent.authorization, expected.headers?.Authorization);
		assert.equal(sent['content-type'], 'application/json');
		assert.equal(sent['user-agent'], 'n8n');
		assert.equal(peer.requests[0].body, '{"items":[]}');

		assert.ok(transport.openSockets > 0, 'idle sockets are kept between batches');
		transport.close();
		assert.equal(transport.openSockets, 0);
		await until(() => peer.open.size === 0);
		assert.equal(peer.open.size, 0, 'the peer sees every connection closed');
	} finally {
		await peer.close();
	}
});

test('statuses, Retry-After and a reset after sending mean on kept-alive connections what they mean through n8n', async () => {
	const script: Handler[] = [
		(_req, res) => res.writeHead(503).end('busy'),
		(_req, res) => res.writeHead(429, { 'Retry-After': '0' }).end(),
		(req) => req.socket.destroy(),
		queued,
		(_req, res) => res.writeHead(400, { 'Content-Type': 'text/plain' }).end('workspace_id is required'),
	];
	const peer = await startPeer((req, res, body) => script.shift()!(req, res, body));
	try {
		const { context } = contextWith();
		const transport = new PlatformTransport(context, rimdian, credentialsFor(peer.url), policy);
		const response = await transport.request(batch(peer.url), 'batch 1');
		assert.equal(response.status, 200);
		assert.equal(response.retries, 3);
		assert.equal(response.possiblyDuplicated, true, 'a reset after sending may have delivered the batch');
		assert.deepEqual(transport.stats.retryReasons, { '503': 1, '429': 1, ECONNRESET: 1 });
		await assert.rejects(transport.request(batch(peer.url), 'batch 2'), (error: unknown) => {
			assert.ok(error instanceof PlatformRequestError);
			assert.equal(error.status, 400);
			assert.match(error.message, /Rimdian refused the request \(400\): workspace_id is required/);
			return true;
		});
		transport.close();
	} finally {
		await peer.close();
	}
});

test('an attempt that times out is retried and flagged as possibly delivered', async () => {
	let first = true;
	const peer = await startPeer((req, res) => {
		if (first) {
			first = false;
			return; // never answers
		}
		queued(req, res, '');
	});
	try {
		const { context } = contextWith();
		const transport = new PlatformTransport(context, rimdian, credentialsFor(peer.url), { ...policy, timeoutMs: 200 });
		const response = await transport.request(batch(peer.url), 'batch 1');
		assert.equal(response.status, 200);
		assert.equal(response.possiblyDuplicated, true);
		assert.deepEqual(transport.stats.retryReasons, { ECONNABORTED: 1 });
		transport.close();
	} finally {
		await peer.close();
	}
});

test('cancelling the execution ends the request in flight and closes every socket', async () => {
	const peer = await startPeer(() => undefined);
	try {
		const { context, controller } = contextWith();
		const transport = new PlatformTransport(context, rimdian, credentialsFor(peer.url), policy);
		setTimeout(() => controller.abort(), 100);
		await assert.rejects(transport.request(batch(peer.url), 'batch 1'), ExecutionCancelledError);
		assert.equal(transport.openSockets, 0);
		await until(() => peer.open.size === 0);
		assert.equal(peer.open.size, 0);
	} finally {
		await peer.close();
	}
});

test("a token n8n must fetch or renew goes through n8n's helper; later batches carry the new token on kept-alive connections", async () => {
	const peer = await startPeer((req, res, body) => {
		if (req.headers.authorization === 'Bearer token-1') res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"code":401,"message":"this token has expired"}');
		else queued(req, res, body);
	});
	try {
		const credentials = credentialsFor(peer.url, { rimdianAuthentication: 'serviceAccount', email: 'a@b.c', password: 'pw', sessionToken: '' });
		let issued = 0;
		// As n8n does: preAuthentication writes the new token into the credential object it was given.
		const { context, calls } = contextWith(() => {
			credentials.sessionToken = `token-${++issued}`;
			return { statusCode: 200, body: 'queued', headers: {} };
		});
		const transport = new PlatformTransport(context, rimdian, credentials, policy);
		await transport.request(batch(peer.url), 'batch 1');
		assert.equal(calls.length, 1, "the first batch lets n8n fetch the token");
		assert.equal(peer.requests.length, 0);
		await transport.request(batch(peer.url), 'batch 2');
		assert.equal(calls.length, 2, "the 401 is re-sent through n8n's helper, which renews the token");
		assert.equal(calls[1].ignoreHttpStatusErrors, false);
		await transport.request(batch(peer.url), 'batch 3');
		await transport.request(batch(peer.url), 'batch 4');
		assert.equal(calls.length, 2);
		assert.deepEqual(
			peer.requests.map((r) => r.authorization),
			['Bearer token-1', 'Bearer token-2', 'Bearer token-2'],
		);
		assert.equal(peer.requests[1].connection, peer.requests[2].connection, 'on one kept-alive connection');
		transport.close();
	} finally {
		await peer.close();
	}
});

test("with a proxy or n8n's SSRF protection configured, every request goes through n8n's helper", async () => {
	assert.equal(keepAliveAllowed({}), true);
	assert.equal(keepAliveAllowed({ HTTP_PROXY: 'http://proxy:3128' }), false);
	assert.equal(keepAliveAllowed({ https_proxy: 'http://proxy:3128' }), false);
	assert.equal(keepAliveAllowed({ ALL_PROXY: 'http://proxy:3128', NO_PROXY: '*' }), false);
	assert.equal(keepAliveAllowed({ N8N_SSRF_PROTECTION_ENABLED: 'true' }), false);
	assert.equal(keepAliveAllowed({ N8N_SSRF_PROTECTION_ENABLED: 'false' }), true);

	const peer = await startPeer(queued);
	const saved = process.env.HTTP_PROXY;
	process.env.HTTP_PROXY = 'http://127.0.0.1:9';
	try {
		const { context, calls } = contextWith();
		const transport = new PlatformTransport(context, rimdian, credentialsFor(peer.url), policy);
		await transport.request(batch(peer.url), 'batch 1');
		assert.equal(calls.length, 1);
		assert.equal(peer.requests.length, 0);
	} finally {
		if (saved === undefined) delete process.env.HTTP_PROXY;
		else process.env.HTTP_PROXY = saved;
		await peer.close();
	}
});

test("only plain batches go out on kept-alive connections; streams, queries, TLS options and redirects stay with n8n's helper", async () => {
	assert.ok(plainRequestUrl({ method: 'POST', url: 'https://x.test/data', body: '{}', headers: {} }));
	assert.ok(plainRequestUrl({ method: 'POST', url: 'https://x.test/data', body: Buffer.from('{}') }));
	assert.equal(plainRequestUrl({ method: 'GET', url: 'https://x.test/jobs' }), undefined);
	assert.equal(plainRequestUrl({ method: 'POST', url: '/data', body: '{}' }), undefined);
	assert.equal(plainRequestUrl({ method: 'POST', url: 'https://x.test/data', body: '{}', qs: { a: 1 } }), undefined);
	assert.equal(plainRequestUrl({ method: 'POST', url: 'https://x.test/data', body: '{}', skipSslCertificateValidation: true }), undefined);
	assert.equal(plainRequestUrl({ method: 'POST', url: 'ftp://x.test/data', body: '{}' }), undefined);

	const peer = await startPeer((_req, res) => res.writeHead(307, { Location: '/elsewhere' }).end());
	try {
		const { context, calls } = contextWith();
		const transport = new PlatformTransport(context, rimdian, credentialsFor(peer.url), policy);
		const response = await transport.request(batch(peer.url), 'batch 1');
		assert.equal(response.status, 200);
		assert.equal(calls.length, 1, "the redirect is left to n8n's helper, which follows it by n8n's rules");
		transport.close();
	} finally {
		await peer.close();
	}
});

test('plain http to another host is refused before any connection, as the credential refuses it', async () => {
	const { context, calls } = contextWith();
	// The base URL passed its own check; every request's URL is checked again before the key is added.
	const transport = new PlatformTransport(context, rimdian, credentialsFor('http://127.0.0.1:9'), policy);
	await assert.rejects(transport.request(batch('http://192.0.2.10:8080'), 'batch 1'), /Refusing plain http:\/\/ to 192\.0\.2\.10/);
	assert.equal(calls.length, 0);
	assert.equal(transport.openSockets, 0);
});

describe('answer bodies, read as axios reads them', () => {
	test('a text that parses as JSON is JSON; any other text stays text', () => {
		assert.equal(parseBody('queued'), 'queued');
		assert.equal(parseBody(''), '');
		assert.equal(parseBody('Not Found'), 'Not Found');
		assert.deepEqual(parseBody('{"message":"ok"}'), { message: 'ok' });
		assert.deepEqual(parseBody(' \n[1,2]'), [1, 2]);
		assert.equal(parseBody('"quoted"'), 'quoted');
		assert.equal(parseBody('-12.5'), -12.5);
		assert.equal(parseBody('42'), 42);
		assert.equal(parseBody('true'), true);
		assert.equal(parseBody('null'), null);
		// Starts like JSON but is not: kept as text.
		assert.equal(parseBody('{broken'), '{broken');
		assert.equal(parseBody('nope'), 'nope');
	});
});

describe('TLS', () => {
	let folder: string;
	let tls: { key: string; cert: string };

	beforeAll(() => {
		folder = fs.mkdtempSync(path.join(os.tmpdir(), 'keepalive-tls-'));
		execFileSync('openssl', [
			'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
			'-addext', 'subjectAltName=IP:127.0.0.1',
			'-keyout', path.join(folder, 'key.pem'), '-out', path.join(folder, 'cert.pem'),
		], { stdio: 'ignore' });
		tls = { key: fs.readFileSync(path.join(folder, 'key.pem'), 'utf8'), cert: fs.readFileSync(path.join(folder, 'cert.pem'), 'utf8') };
	});

	afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

	test('a certificate Node does not trust is refused without a retry, and the error carries no secret', async () => {
		const peer = await startPeer(queued, tls);
		try {
			const { context, calls } = contextWith();
			const transport = new PlatformTransport(context, rimdian, credentialsFor(peer.url), policy);
			await assert.rejects(transport.request(batch(peer.url), 'batch 1'), (error: unknown) => {
				assert.ok(error instanceof PlatformRequestError);
				assert.match(error.message, /certificate/i);
				assert.equal(error.retries, 0);
				assert.ok(!JSON.stringify({ ...error, message: error.message, stack: error.stack }).includes(KEY));
				return true;
			});
			assert.equal(calls.length, 0);
			assert.equal(peer.requests.length, 0, 'nothing was sent to a peer that could not prove who it is');
			transport.close();
		} finally {
			await peer.close();
		}
	});
});

test('a refused connection is reported by its code, without the key', async () => {
	const peer = await startPeer(queued);
	const url = peer.url;
	await peer.close();
	const { context } = contextWith();
	const transport = new PlatformTransport(context, rimdian, credentialsFor(url), { ...policy, maxRetries: 1 });
	await assert.rejects(transport.request(batch(url), 'batch 1'), (error: unknown) => {
		assert.ok(error instanceof PlatformRequestError);
		assert.match(error.message, /connection failed \(ECONNREFUSED\)/);
		assert.ok(!JSON.stringify({ ...error, message: error.message, stack: error.stack }).includes(KEY));
		return true;
	});
	transport.close();
});
