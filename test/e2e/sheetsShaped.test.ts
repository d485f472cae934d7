/**
 * A Google-Sheets-shaped source (what the Google Sheets node outputs: `row_number` and every
 * column of the sheet, empty cells as "") into each platform through Import Items, with the
 * fields used as they are ("autoMap", the default). Every row must land; the fields a platform
 * does not take are left out and named once in each item's warnings.
 *   npm run build && node --import tsx --test --test-concurrency=1 test/e2e/sheetsShaped.test.ts
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';

import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, type N8nInstance } from './harness';
import { loadExample, sandboxCredentials, sandboxGet, variant } from './setup';

let sandbox: Sandbox;
let n8n: N8nInstance;
/** Stands for a self-hosted Rimdian's API host: notes each path, then forwards to the sandbox. */
let apiHost: Server;
const apiPaths: string[] = [];

async function startApiHost(target: string): Promise<string> {
	apiHost = createServer((req, res) => {
		apiPaths.push((req.url ?? '').split('?')[0]);
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const headers = { ...req.headers } as Record<string, string>;
			delete headers.host;
			delete headers['content-length'];
			fetch(`${target}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined })
				.then(async (answer) => {
					res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
					res.end(Buffer.from(await answer.arrayBuffer()));
				})
				.catch(() => res.writeHead(502).end());
		});
	});
	await new Promise<void>((resolve) => apiHost.listen(0, '127.0.0.1', resolve));
	return `http://127.0.0.1:${(apiHost.address() as AddressInfo).port}`;
}

const AYONA_SHEET = `return [
  { row_number: 2, date: '2024-03-08 00:29:00', name: 'User 1', content: 'Great export', email: 'u1@example.com', rating: 5 },
  { row_number: 3, date: '2024-03-08 09:15:30', name: '', content: 'Anonymous, but useful', email: '', rating: 4 },
  { row_number: 4, date: '2024-03-09T10:00:00Z', name: 'User 3', content: 'Search is slow', email: 'u3@example.com', rating: '' },
].map((json) => ({ json }));`;

const RIMDIAN_SHEET = `return [
  { row_number: 2, external_id: 'sheet-user-1', is_authenticated: true, created_at: '2024-01-01T10:00:00Z', email: 'a@example.com', first_name: 'Ann', language: 'en-US', telephone: '' },
  { row_number: 3, external_id: 'sheet-user-2', is_authenticated: false, created_at: '2024-01-02T10:00:00Z', email: '', first_name: 'Bob', language: 'fr', telephone: '+33612345678' },
  { row_number: 4, external_id: 'none', is_authenticated: true, created_at: '2024-01-03T10:00:00Z', email: '', first_name: '', language: '', telephone: '' },
].map((json) => ({ json }));`;

const USERPILOT_SHEET = `return [
  { row_number: 2, event_type: 'track', user_id: 'u-1', company_id: '', event_name: 'exported_report', inserted_at: '2024-07-28T08:55:35Z', source: '', hostname: '', pathname: '' },
  { row_number: 3, event_type: 'identify_user', user_id: 'u-2', company_id: 'c-1', event_name: '', inserted_at: '2024-07-28T09:00:00Z', source: '', hostname: '', pathname: '' },
  { row_number: 4, event_type: 'identify_company', user_id: 'u-2', company_id: 'c-1', event_name: '', inserted_at: '2024-07-28T09:05:00Z', source: '', hostname: '', pathname: '' },
].map((json) => ({ json }));`;

const workflows = {
	ayona: variant(loadExample('ayona-feedback.json'), 'e2eSheetsAyona', { 'Source Records': { jsCode: AYONA_SHEET } }),
	rimdian: variant(loadExample('rimdian-users.json'), 'e2eSheetsRimdian', { 'Source Records': { jsCode: RIMDIAN_SHEET } }),
	userpilot: variant(loadExample('userpilot-events.json'), 'e2eSheetsUserpilot', { 'Source Records': { jsCode: USERPILOT_SHEET } }),
	// A self-hosted Rimdian: collector and API on two URLs (the sandbox answers both).
	rimdianTwoHosts: variant(loadExample('rimdian-users.json'), 'e2eSheetsRimdianTwoHosts', { 'Source Records': { jsCode: RIMDIAN_SHEET } }, 'rimdianTwoHosts'),
};

before(async () => {
	sandbox = await startSandbox({ jobStepMs: 50 });
	n8n = await createN8n();
	const apiUrl = await startApiHost(sandbox.url);
	const credentials = sandboxCredentials(sandbox);
	const serviceAccount = credentials.find((credential) => credential.id === 'sandboxRimdianService');
	assert.ok(serviceAccount);
	await n8n.importCredentials([
		...credentials,
		{
			...serviceAccount,
			id: 'rimdianTwoHosts',
			name: 'Rimdian, collector and API apart',
			data: { ...serviceAccount.data, rimdianApiBaseUrl: apiUrl },
		},
	]);
	await n8n.importWorkflows(Object.values(workflows));
});

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
	await new Promise((resolve) => (apiHost ? apiHost.close(resolve) : resolve(undefined)));
});

const warningsOf = (json: Record<string, unknown>) => json.warnings as string[] | undefined;

test('Ayona: every sheet row lands (the anonymous one too); row_number and the other columns are left out and named once', async () => {
	await sandbox.reset();
	// The strict reading refuses a request carrying any other key: the run proves none is sent.
	sandbox.configure({ ayonaRejectExtraFields: true });
	try {
		const result = await n8n.execute(workflows.ayona.id as string);
		assert.equal(result.status, 'success', result.error?.message);
		const output = result.nodeOutput('Import Items');
		assert.deepEqual(output.map((json) => json.status), ['accepted', 'accepted', 'accepted']);
		for (const json of output) {
			assert.deepEqual(warningsOf(json), [
				'field "row_number" is not an Ayona field: not sent',
				'field "email" is not an Ayona field: not sent',
				'field "rating" is not an Ayona field: not sent',
			]);
		}
		const stored = await sandboxGet<{ entries: Array<Record<string, unknown>> }>(sandbox, '/__sandbox/records/ayona');
		assert.deepEqual(stored.entries.map((entry) => entry.name), ['User 1', '', 'User 3']);
	} finally {
		sandbox.configure({ ayonaRejectExtraFields: false });
	}
});

/** Runs the Rimdian sheet with a workflow and checks what landed. */
async function rimdianSheet(id: string): Promise<void> {
	await sandbox.reset();
	const result = await n8n.execute(id);
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items');
	assert.deepEqual(output.map((json) => json.status), ['accepted', 'accepted', 'accepted']);
	// The page lets items carry more properties: row_number is sent, not warned about.
	assert.deepEqual(warningsOf(output[0]), ['field "user.language" "en-US" is not a two-letter ISO 639-1 code; "en" is: sent as it is (the pages do not say which codes Rimdian takes)']);
	assert.equal(warningsOf(output[1]), undefined);
	assert.deepEqual(warningsOf(output[2]), ['field "user.external_id" "none" looks like a placeholder, not an id: sent as it is (check the mapping)']);
	await sandbox.settled();
	const log = await sandboxGet<{ items: Array<{ item: { user: Record<string, unknown> }; has_error: number; error: string | null }> }>(sandbox, '/__sandbox/records/rimdian');
	assert.equal(log.items.length, 3);
	for (const record of log.items) {
		assert.equal(record.has_error, 0, record.error ?? '');
		assert.equal(typeof record.item.user.row_number, 'number');
	}
}

test('Rimdian: every sheet row lands; unusual values only warn', async () => {
	await rimdianSheet(workflows.rimdian.id as string);
});

test('Rimdian with collector and API URLs apart: the sign-in goes to the API, the items to the collector', async () => {
	apiPaths.length = 0;
	await rimdianSheet(workflows.rimdianTwoHosts.id as string);
	assert.deepEqual([...new Set(apiPaths)], ['/api/account.login']);
});

test('Userpilot: every sheet row lands in one job; identify_company names the keys it leaves out', async () => {
	await sandbox.reset();
	const result = await n8n.execute(workflows.userpilot.id as string);
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items');
	assert.deepEqual(output.map((json) => json.status), ['accepted', 'accepted', 'accepted']);
	assert.equal(warningsOf(output[0]), undefined);
	assert.equal(warningsOf(output[1]), undefined);
	assert.deepEqual(warningsOf(output[2]), [
		'field "row_number" is not taken by Userpilot for identify_company: not sent',
		'field "user_id" is not taken by Userpilot for identify_company: not sent',
		'field "event_name" is not taken by Userpilot for identify_company: not sent',
		'field "hostname" is not taken by Userpilot for identify_company: not sent',
		'field "pathname" is not taken by Userpilot for identify_company: not sent',
	]);
	const records = await sandboxGet<{ rows: { total: number } }>(sandbox, '/__sandbox/records/userpilot');
	assert.equal(records.rows.total, 3);
});
