/**
 * The kept-alive transport in a real n8n: batches share connections, the token renewal and n8n's
 * proxy, SSRF and TLS settings hold as they do through n8n's own request helper.
 *   node --import tsx --test test/e2e/keepAlive.test.ts   (after npm run build)
 *
 * Peers in this process: a recording reverse proxy in front of the sandbox (it counts the
 * connections n8n opens and the token of each request), a forward proxy for HTTP_PROXY, and the
 * recorder again on https with a self-signed certificate.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';

import { RIMDIAN_SERVICE_EMAIL, RIMDIAN_SERVICE_PASSWORD, RIMDIAN_TOKEN, RIMDIAN_WORKSPACE } from '../../sandbox/defaults';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { tempDir } from '../load/lib';
import { createN8n, type ExecutionResult, type N8nInstance } from './harness';
import { findSecrets, loadExample, variant } from './setup';

interface Seen {
	connection: number;
	method: string;
	path: string;
	authorization?: string;
	status?: number;
}

interface Peer {
	url: string;
	seen: Seen[];
	close(): Promise<void>;
}

async function listen(server: http.Server, sockets: Set<Socket>, scheme: string): Promise<string> {
	server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: http.Server, sockets: Set<Socket>, agent: http.Agent) {
	return () =>
		new Promise<void>((resolve) => {
			for (const socket of sockets) socket.destroy();
			agent.destroy();
			server.close(() => resolve());
		});
}

/** Forwards `request` to `target` and records it, with the connection it came on. */
function forward(request: http.IncomingMessage, response: http.ServerResponse, target: URL, agent: http.Agent, seen: Seen) {
	const upstream = http.request(target, { method: request.method, headers: { ...request.headers, host: target.host }, agent }, (answer) => {
		seen.status = answer.statusCode;
		response.writeHead(answer.statusCode ?? 502, answer.headers);
		answer.pipe(response);
	});
	upstream.on('error', () => response.destroy());
	request.pipe(upstream);
}

/** A reverse proxy to `targetUrl` that records every request and its connection (http or https). */
async function startRecorder(targetUrl: string, tls?: { key: string; cert: string }): Promise<Peer> {
	const seen: Seen[] = [];
	const sockets = new Set<Socket>();
	const ids = new WeakMap<Socket, number>();
	const agent = new http.Agent({ keepAlive: true });
	let connections = 0;
	const onRequest = (request: http.IncomingMessage, response: http.ServerResponse) => {
		if (!ids.has(request.socket)) ids.set(request.socket, ++connections);
		const entry: Seen = { connection: ids.get(request.socket)!, method: request.method ?? '', path: request.url ?? '', authorization: request.headers.authorization };
		seen.push(entry);
		forward(request, response, new URL(request.url ?? '/', targetUrl), agent, entry);
	};
	const server = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
	const url = await listen(server, sockets, tls ? 'https' : 'http');
	return { url, seen, close: closer(server, sockets, agent) };
}

/** A forward proxy for http:// targets (what HTTP_PROXY points to): records what passes. */
async function startForwardProxy(): Promise<Peer> {
	const seen: Seen[] = [];
	const sockets = new Set<Socket>();
	const agent = new http.Agent({ keepAlive: true });
	const server = http.createServer((request, response) => {
		const target = new URL(request.url ?? '');
		const entry: Seen = { connection: 0, method: request.method ?? '', path: target.pathname, authorization: request.headers.authorization };
		seen.push(entry);
		forward(request, response, target, agent, entry);
	});
	const url = await listen(server, sockets, 'http');
	return { url, seen, close: closer(server, sockets, agent) };
}

const dir = tempDir('keepalive');
const certFile = path.join(dir, 'cert.pem');
const isN8n2 = (process.env.N8N_BIN ?? '').includes(`${path.sep}n8n2${path.sep}`);

/** Fifty users: ten batches of five, one at a time, 250 ms apart: long enough for a 1 s token to expire twice. */
const FIFTY_USERS = `return Array.from({ length: 50 }, (_, i) => ({
  json: { external_id: 'renewed-' + i, is_authenticated: true, created_at: '2024-01-01T10:00:00Z' },
}));`;

/** 200 users: ten batches of 20, four in flight (the node's default concurrency). */
const USERS = `return Array.from({ length: 200 }, (_, i) => ({
  json: { external_id: 'kept-' + i, is_authenticated: true, created_at: '2024-01-01T10:00:00Z' },
}));`;

const rimdian = loadExample('rimdian-users.json');
type Workflow = ReturnType<typeof loadExample>;

/**
 * One workflow, branches run one after another (n8n's execution order v1): a Code node and an
 * Import Items per branch, each with its own credential. One `n8n execute` instead of one each.
 */
function branches(id: string, list: Array<{ name: string; credential: string; code: string; options: Record<string, unknown> }>): Workflow {
	const [trigger, source, importItems] = rimdian.nodes;
	const nodes: object[] = [trigger];
	const connections: Record<string, { main: Array<Array<{ node: string; type: string; index: number }>> }> = {
		[trigger.name]: { main: [list.map((branch) => ({ node: `Source ${branch.name}`, type: 'main', index: 0 }))] },
	};
	list.forEach((branch, index) => {
		const position = (x: number) => [x, index * 200];
		nodes.push({ ...source, id: randomUUID(), name: `Source ${branch.name}`, position: position(220), parameters: { ...source.parameters, jsCode: branch.code } });
		nodes.push({
			...importItems,
			id: randomUUID(),
			name: `Import ${branch.name}`,
			position: position(440),
			parameters: { ...importItems.parameters, options: branch.options },
			credentials: { dataImportApi: { id: branch.credential, name: branch.credential } },
		});
		connections[`Source ${branch.name}`] = { main: [[{ node: `Import ${branch.name}`, type: 'main', index: 0 }]] };
	});
	return { ...rimdian, id, name: `keep-alive e2e (${id})`, nodes, connections } as Workflow;
}

const TEN_BATCH_OPTIONS = { batchSize: 20, concurrency: 4 };
const workflows = {
	// Plain http through the recorder, the token renewal, and https: one execution.
	kept: branches('kaKept', [
		{ name: 'http', credential: 'kaRecorder', code: USERS, options: TEN_BATCH_OPTIONS },
		{ name: 'renewal', credential: 'kaService', code: FIFTY_USERS, options: { batchSize: 5, concurrency: 1, maxRequestsPerMinute: 240 } },
		{ name: 'https', credential: 'kaTls', code: USERS.replaceAll('kept-', 'tls-'), options: TEN_BATCH_OPTIONS },
	]),
	direct: variant(rimdian, 'kaDirect', { 'Source Records': { jsCode: USERS }, 'Import Items': { options: TEN_BATCH_OPTIONS } }, 'kaDirect'),
};

let sandbox: Sandbox;
let recorder: Peer;
let tlsRecorder: Peer;
let forwardProxy: Peer;
let n8n: N8nInstance;
const outputs: string[] = [];

function credential(id: string, data: Record<string, unknown>) {
	return { id, name: id, type: 'dataImportApi', data: { platform: 'rimdian', rimdianRegion: 'custom', workspaceId: RIMDIAN_WORKSPACE, ...data } };
}

before(async () => {
	execFileSync('openssl', [
		'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
		'-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', certFile,
	], { stdio: 'ignore' });
	sandbox = await startSandbox({});
	recorder = await startRecorder(sandbox.url);
	tlsRecorder = await startRecorder(sandbox.url, { key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: fs.readFileSync(certFile, 'utf8') });
	forwardProxy = await startForwardProxy();
	n8n = await createN8n();
	await n8n.importCredentials([
		credential('kaRecorder', { rimdianAuthentication: 'accessToken', baseUrl: recorder.url, apiKey: RIMDIAN_TOKEN }),
		credential('kaDirect', { rimdianAuthentication: 'accessToken', baseUrl: sandbox.url, apiKey: RIMDIAN_TOKEN }),
		credential('kaService', { rimdianAuthentication: 'serviceAccount', baseUrl: recorder.url, email: RIMDIAN_SERVICE_EMAIL, password: RIMDIAN_SERVICE_PASSWORD }),
		credential('kaTls', { rimdianAuthentication: 'accessToken', baseUrl: tlsRecorder.url, apiKey: RIMDIAN_TOKEN }),
	]);
	await n8n.importWorkflows(Object.values(workflows));
});

after(async () => {
	await n8n?.dispose();
	await Promise.all([recorder?.close(), tlsRecorder?.close(), forwardProxy?.close()]);
	await sandbox?.close();
	fs.rmSync(dir, { recursive: true, force: true });
});

async function run(id: string, env?: Record<string, string>): Promise<ExecutionResult> {
	const result = await n8n.execute(id, { env });
	outputs.push(result.stdout, result.stderr);
	return result;
}

function accepted(result: ExecutionResult, node: string, count: number) {
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput(node);
	assert.equal(output.length, count);
	assert.ok(output.every((item) => item.status === 'accepted'), JSON.stringify(output.find((item) => item.status !== 'accepted')));
}

function assertAllAccepted(result: ExecutionResult, count: number) {
	accepted(result, 'Import Items', count);
	assert.equal(sandbox.stats().rimdian.itemsStored, count);
}

const batchesOf = (peer: Peer) => peer.seen.filter((entry) => entry.path === '/data');

let kept: ExecutionResult | undefined;

/** The three-branch execution, run once for the three tests that read it. */
async function keptRun(): Promise<ExecutionResult> {
	if (kept) return kept;
	await sandbox.reset();
	sandbox.configure({ tokenTtlSeconds: 1 });
	try {
		kept = await run(workflows.kept.id as string, { NODE_EXTRA_CA_CERTS: certFile });
	} finally {
		sandbox.configure({ tokenTtlSeconds: 8 * 3600 });
	}
	assert.equal(kept.status, 'success', kept.error?.message);
	assert.equal(sandbox.stats().rimdian.itemsStored, 450, 'every item of the three branches is stored');
	return kept;
}

test("10 batches share at most 4 connections (the node's concurrency), not one each", async () => {
	const result = await keptRun();
	accepted(result, 'Import http', 200);
	const batches = batchesOf(recorder).filter((entry) => entry.authorization === `Bearer ${RIMDIAN_TOKEN}`);
	assert.equal(batches.length, 10);
	const connections = new Set(batches.map((entry) => entry.connection)).size;
	assert.ok(connections <= 4, `10 batches came on ${connections} connections`);
});

test('a token that expires mid-import is renewed by n8n once per expiry, and the batches after it carry the new token on a kept-alive connection', async () => {
	const result = await keptRun();
	accepted(result, 'Import renewal', 50);
	const batches = batchesOf(recorder).filter((entry) => entry.authorization !== `Bearer ${RIMDIAN_TOKEN}`);
	const refused = batches.filter((entry) => entry.status === 401);
	assert.ok(refused.length >= 1, 'the token expired during the import');
	const logins = recorder.seen.filter((entry) => entry.path === '/api/account.login').length;
	assert.ok(logins >= 2 && logins <= refused.length + 1, `one login to start and one per expiry: ${logins} logins, ${refused.length} refusals`);
	const tokens = [...new Set(batches.map((entry) => entry.authorization))];
	assert.ok(tokens.length >= 2, 'batches carried the renewed token');
	// A renewed token, on two or more batches of one connection: sent on a kept-alive connection.
	const reused = tokens.slice(1).some((token) => {
		const sent = batches.filter((entry) => entry.authorization === token && entry.status !== 401);
		return sent.length >= 2 && new Set(sent.map((entry) => entry.connection)).size < sent.length;
	});
	assert.ok(reused, JSON.stringify(batches.map((entry) => [entry.connection, entry.status, tokens.indexOf(entry.authorization)])));
});

test('a platform on https with a certificate trusted through NODE_EXTRA_CA_CERTS works, on kept-alive connections', async () => {
	const result = await keptRun();
	accepted(result, 'Import https', 200);
	const batches = batchesOf(tlsRecorder);
	assert.equal(batches.length, 10);
	assert.ok(new Set(batches.map((entry) => entry.connection)).size <= 4);
});

test('with HTTP_PROXY set, every batch goes through the proxy as through n8n\'s helper; NO_PROXY bypasses it', async () => {
	await sandbox.reset();
	forwardProxy.seen.length = 0;
	const proxied = await run(workflows.direct.id as string, { HTTP_PROXY: forwardProxy.url });
	assertAllAccepted(proxied, 200);
	assert.equal(batchesOf(forwardProxy).length, 10, 'all 10 batches passed the proxy');

	await sandbox.reset();
	forwardProxy.seen.length = 0;
	const bypassed = await run(workflows.direct.id as string, { HTTP_PROXY: forwardProxy.url, NO_PROXY: '127.0.0.1' });
	assertAllAccepted(bypassed, 200);
	assert.equal(batchesOf(forwardProxy).length, 0, 'NO_PROXY: nothing passed the proxy');
});

test("n8n's SSRF protection (n8n 2.x) applies to the batches: loopback is refused and nothing is sent", async () => {
	await sandbox.reset();
	const result = await run(workflows.direct.id as string, { N8N_SSRF_PROTECTION_ENABLED: 'true' });
	if (!isN8n2) {
		// n8n 1.x has no such setting: the import runs as without it.
		assertAllAccepted(result, 200);
		return;
	}
	assert.equal(sandbox.stats().rimdian.itemsReceived, 0, 'no batch reached the blocked address');
	assert.equal(result.status, 'error');
	const error = result.nodeError('Import Items');
	assert.match(`${error?.message} ${error?.description}`, /SSRF|blocked|not allowed/i, JSON.stringify(error));
});

test('no secret in any output', () => {
	const all = outputs.join('\n') + n8n.logs();
	assert.deepEqual(findSecrets(all), []);
});
