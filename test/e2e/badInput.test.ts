/**
 * A representative part of the bad-input catalogue (entries marked "e2e" in
 * test/fixtures/bad/catalogue.json) in a real n8n: Bulk File Import fed bad files through Read
 * Files from Disk, and Import Items fed items whose fields have the wrong shape, against the
 * sandbox. The user must get exactly the catalogued error or row reasons, and the platform must
 * hold exactly what the node reports as accepted. One n8n, one import, one execution per case.
 *   node --import tsx --test test/e2e/badInput.test.ts   (after npm run build)
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { startSandbox, type Sandbox } from '../../sandbox/server';
import { BAD_DIR, loadCatalogue, normalizeMessage, type Entry } from '../fixtures/bad/catalogue';
import { createN8n, type ExecutionResult, type N8nInstance } from './harness';
import { findSecrets, loadExample, sandboxCredentials, variant } from './setup';

let sandbox: Sandbox;
let n8n: N8nInstance;
const results: ExecutionResult[] = [];

const catalogue = new Map(loadCatalogue().map((entry) => [entry.id, entry]));
const entry = (id: string): Entry => {
	const found = catalogue.get(id);
	if (!found?.e2e) throw new Error(`${id} is not an e2e entry of the catalogue`);
	return found;
};

const FILE_CASES = ['csv-unbalanced-quote', 'ndjson-json-array', 'csv-duplicate-columns', 'ndjson-broken-line', 'csv-wrong-delimiter-semicolon'];
const rimdianFile = loadExample('rimdian-file.json');
const rimdianItems = loadExample('rimdian-users.json');

const fileWorkflows = FILE_CASES.map((id) =>
	variant(rimdianFile, `bad-${id}`, {
		'Read Export File': { fileSelector: path.join(BAD_DIR, entry(id).input.fixture as string) },
		'Bulk File Import': { onInvalid: 'skip', options: {} },
	}),
);

/** The two shape errors of the catalogue, then 101 valid users: batch size 150 must still send at most 100. */
const SHAPE_CASES = ['item-string-where-object-required', 'item-array-where-object-required'];
const shapeItems = SHAPE_CASES.flatMap((id) => entry(id).input.items ?? []);
const VALID_USERS = 101;
const itemsCode = `const bad = ${JSON.stringify(shapeItems)};
const users = [];
for (let i = 1; i <= ${VALID_USERS}; i++) {
  users.push({ external_id: 'e2e-bad-' + i, is_authenticated: true, created_at: '2024-01-01T10:00:00Z' });
}
return [...bad, ...users].map((json) => ({ json }));`;
const itemsWorkflow = variant(rimdianItems, 'bad-item-shapes', {
	'Source Records': { jsCode: itemsCode },
	'Import Items': { onInvalid: 'skip', options: { batchSize: 150, concurrency: 2 } },
});

before(async () => {
	sandbox = await startSandbox({ jobStepMs: 20 });
	n8n = await createN8n();
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflows([...fileWorkflows, itemsWorkflow]);
});

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
});

async function run(id: string): Promise<ExecutionResult> {
	await sandbox.reset();
	const result = await n8n.execute(id);
	results.push(result);
	return result;
}

for (const id of FILE_CASES) {
	const { what, expect } = entry(id);
	test(`Bulk File Import, ${id}: ${what}`, async () => {
		const result = await run(`bad-${id}`);
		const stats = sandbox.stats();
		if (expect.error !== undefined) {
			assert.equal(result.status, 'error');
			assert.equal(normalizeMessage(result.nodeError('Bulk File Import')?.message ?? ''), expect.error);
		} else {
			assert.equal(result.status, 'success', result.error?.message);
			const [summary] = result.nodeOutput('Bulk File Import');
			assert.equal(summary.accepted, expect.accepted);
			assert.deepEqual(
				(summary.rejected as Array<{ message: string }>).map((rejected) => normalizeMessage(rejected.message)),
				expect.rejected ?? [],
			);
		}
		// What the node says was accepted (or, on a file error, names as sent before it) is what Rimdian holds.
		assert.equal(stats.rimdian.itemsReceived - stats.rimdian.duplicatesReceived, expect.stored ?? expect.accepted);
		assert.equal(stats.rimdian.requests, expect.requests);
	});
}

test('Import Items: an object given as a string or an array is reported per item; 101 valid items go in batches of at most 100', async () => {
	const result = await run('bad-item-shapes');
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items');
	assert.equal(output.length, shapeItems.length + VALID_USERS);
	SHAPE_CASES.forEach((id, index) => {
		assert.equal(output[index].status, 'invalid');
		const expected = (entry(id).expect.rejected ?? [])[0].replace(/^Item 1:/, `Item ${index + 1}:`);
		assert.equal(output[index].message, expected);
	});
	assert.ok(output.slice(SHAPE_CASES.length).every((item) => item.status === 'accepted'));
	const stats = sandbox.stats();
	assert.equal(stats.rimdian.itemsReceived, VALID_USERS);
	assert.equal(stats.rimdian.requests, 2, 'Batch Size 150 is capped at 100: 100 + 1');
	assert.equal(stats.requestsByStatus['400'] ?? 0, 0, 'the sandbox never refused a batch (it refuses more than 100 items)');
});

test('no secret appears in any output or log of these runs', () => {
	assert.equal(results.length, FILE_CASES.length + 1);
	for (const result of results) assert.deepEqual(findSecrets(result.stdout + result.stderr), []);
	assert.deepEqual(findSecrets(n8n.logs()), []);
});
