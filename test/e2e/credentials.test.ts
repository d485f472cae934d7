/**
 * The credential's "Test" button, as the editor calls it: a real `n8n start` on 127.0.0.1, its
 * REST API, against the sandbox. Success with the right secrets, a clear failure with wrong ones.
 *   node --import tsx --test test/e2e/credentials.test.ts   (after npm run build)
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';

import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, type N8nInstance } from './harness';
import { findSecrets, sandboxCredentials } from './setup';

let sandbox: Sandbox;
let n8n: N8nInstance;
let baseUrl: string;
let cookie = '';
const browserId = randomUUID();
const answers: string[] = [];

async function rest(path: string, body: unknown): Promise<{ status: number; json: any }> {
	const response = await fetch(`${baseUrl}/rest${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'browser-id': browserId, cookie },
		body: JSON.stringify(body),
	});
	const setCookie = response.headers.get('set-cookie');
	if (setCookie) cookie = setCookie.split(';')[0];
	const text = await response.text();
	answers.push(text);
	// Express's own 404 page (a route not mounted yet) is HTML: kept as text for the message.
	let json: any = text;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {
		// not JSON
	}
	return { status: response.status, json };
}

async function testCredential(id: string, change: Record<string, unknown> = {}) {
	const credential = sandboxCredentials(sandbox).find((c) => c.id === id);
	assert.ok(credential);
	const { json } = await rest('/credentials/test', { credentials: { ...credential, data: { ...credential.data, ...change } } });
	return json.data as { status: string; message: string };
}

before(async () => {
	sandbox = await startSandbox({});
	n8n = await createN8n();
	await n8n.importCredentials(sandboxCredentials(sandbox));
	({ baseUrl } = await n8n.start());
	// /healthz answers before every REST route is mounted (seen under load): a 404 means "not yet".
	let setup = await rest('/owner/setup', { email: 'owner@example.com', firstName: 'Test', lastName: 'Owner', password: 'Sandbox-Owner-1' });
	for (let tries = 0; setup.status === 404 && tries < 60; tries++) {
		await new Promise((resolve) => setTimeout(resolve, 1000));
		setup = await rest('/owner/setup', { email: 'owner@example.com', firstName: 'Test', lastName: 'Owner', password: 'Sandbox-Owner-1' });
	}
	assert.equal(setup.status, 200, JSON.stringify(setup.json));
});

after(async () => {
	await n8n?.stop();
	await n8n?.dispose();
	await sandbox?.close();
});

for (const id of ['sandboxRimdian', 'sandboxRimdianService', 'sandboxUserpilot', 'sandboxAyona']) {
	test(`${id}: the test calls the platform and succeeds`, async () => {
		const before = sandbox.stats().requestsByStatus;
		const result = await testCredential(id);
		assert.equal(result.status, 'OK', result.message);
		const after = sandbox.stats().requestsByStatus;
		const calls = Object.values(after).reduce((a, b) => a + b, 0) - Object.values(before).reduce((a, b) => a + b, 0);
		assert.ok(calls >= 1, 'the platform was really called');
	});
}

test('a wrong key fails the test with a clear message', async () => {
	for (const id of ['sandboxRimdian', 'sandboxUserpilot', 'sandboxAyona']) {
		const result = await testCredential(id, { apiKey: 'wrong-key-cred-test' });
		assert.equal(result.status, 'Error', id);
		assert.match(result.message, /^(Rimdian|Userpilot|Ayona) refused the (access token|API key) \(401\)/, id);
		assert.equal(result.message.match(/refused/g)?.length, 1, `"refused" once: ${result.message}`);
	}
});

test('a wrong service-account password fails the test, naming the login', async () => {
	const result = await testCredential('sandboxRimdianService', { password: 'not-the-password', sessionToken: '' });
	assert.equal(result.status, 'Error');
	assert.match(result.message, /login failed/i);
});

test('plain http to another host is refused before any request', async () => {
	const before = sandbox.stats().requestsByStatus;
	const result = await testCredential('sandboxUserpilot', { baseUrl: 'http://analytics.example.com' });
	assert.equal(result.status, 'Error');
	assert.match(result.message, /Refusing plain http:\/\/ to analytics\.example\.com/);
	assert.deepEqual(sandbox.stats().requestsByStatus, before);
});

test('no secret in any answer or log', () => {
	assert.deepEqual(findSecrets(answers.join('\n')), []);
	assert.deepEqual(findSecrets(n8n.logs()), []);
	assert.ok(!answers.join('\n').includes('wrong-key-cred-test'));
	assert.ok(!answers.join('\n').includes('not-the-password'));
});
