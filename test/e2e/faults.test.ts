/**
 * Fault suite: Import Items in a real n8n against the sandbox with every kind of fault on at
 * once, counting what the sandbox holds against what was sent. FAULT_ITEMS sets the size
 * (4,000 in `npm test`; `npm run test:load` runs 100,000).
 *   node --import tsx --test test/e2e/faults.test.ts   (after npm run build)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, type N8nInstance } from './harness';
import { findSecrets, loadExample, sandboxCredentials, variant } from './setup';

const ITEMS = Number(process.env.FAULT_ITEMS ?? 4_000);

let sandbox: Sandbox;
let n8n: N8nInstance;

const GENERATE = `const items = [];
for (let i = 1; i <= ${ITEMS}; i++) {
  items.push({ json: { external_id: 'fault-' + i, is_authenticated: true, created_at: '2024-03-01T00:00:00Z', email: 'f' + i + '@example.com' } });
}
return items;`;

const workflow = variant(loadExample('rimdian-users.json'), 'faultSuite', {
	'Source Records': { jsCode: GENERATE },
	// A 2 s time-out, below the sandbox's 3 s latency spikes: those requests time out and are retried.
	'Import Items': { options: { maxRetries: 12, timeoutSeconds: 2, concurrency: 4 } },
});

before(async () => {
	sandbox = await startSandbox({});
	n8n = await createN8n();
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflow(workflow);
});

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
});

test(`${ITEMS} items through 5xx, 429, resets, time-outs and lost answers: none lost, duplicates only from lost answers and each one reported`, async () => {
	await sandbox.reset();
	sandbox.configure({
		faults: {
			rate5xx: 0.2,
			rate429: 0.1,
			retryAfterSeconds: 1,
			rateReset: 0.05,
			rateLostAnswer: 0.02,
			latencySpikeRate: 0.02,
			latencySpikeMs: 3000,
			seed: 20261123,
		},
	});
	const started = Date.now();
	const result = await n8n.execute('faultSuite', { timeoutMs: 15 * 60_000 });
	const wallMs = Date.now() - started;
	sandbox.configure({ faults: { rate5xx: 0, rate429: 0, rateReset: 0, rateLostAnswer: 0, latencySpikeRate: 0 } });
	await sandbox.settled();
	assert.equal(result.status, 'success', result.error?.message ?? result.stdout.slice(-2000));

	const output = result.nodeOutput('Import Items');
	const stats = sandbox.stats();
	const records = [...sandbox.state.rimdian.records.values()];
	const duplicated = new Set(records.filter((record) => record.received > 1).map((record) => JSON.parse(record.raw).user.external_id as string));
	const flagged = new Set(output.filter((item) => item.possiblyDuplicated === true).map((item) => String(item.key).replace(/^user:/, '')));
	const batchRetries = new Map<number, number>();
	for (const item of output) batchRetries.set(item.batch as number, item.retries as number);
	const retries = [...batchRetries.values()].reduce((sum, n) => sum + n, 0);

	const figures = {
		items: ITEMS,
		sent: ITEMS,
		accepted: output.filter((item) => item.status === 'accepted').length,
		stored: stats.rimdian.itemsStored,
		lost: ITEMS - stats.rimdian.itemsStored,
		duplicated: duplicated.size,
		flaggedPossiblyDuplicated: flagged.size,
		retries,
		injected: stats.faults,
		wallSeconds: Math.round(wallMs / 100) / 10,
		nodeSeconds: Math.round((result.executionTime('Import Items') ?? 0) / 100) / 10,
	};
	process.stdout.write(`fault suite: ${JSON.stringify(figures)}\n`);

	assert.equal(output.length, ITEMS, 'one result per item');
	assert.equal(figures.accepted, ITEMS);
	assert.equal(figures.lost, 0, 'nothing lost');
	assert.ok(stats.faults.lostAnswer > 0 && stats.faults['5xx'] > 0 && stats.faults['429'] > 0 && stats.faults.reset > 0, 'every fault kind was injected');
	// Every item the sandbox received twice was reported as possibly duplicated (and is safe to
	// re-send: Rimdian drops byte-identical items, so it is stored once all the same).
	for (const id of duplicated) assert.ok(flagged.has(id), `${id} was received twice but not reported`);
	assert.ok(output.every((item) => item.safeToResend === true));
	// Each failed attempt is one visible retry. 5xx, 429, reset and lost answer exclude one
	// another; a latency spike (past the time-out) may come on top of one of them.
	const exclusive = stats.faults['5xx'] + stats.faults['429'] + stats.faults.reset + stats.faults.lostAnswer;
	assert.ok(figures.retries >= exclusive && figures.retries <= exclusive + stats.faults.latency, `retries ${figures.retries}`);
	assert.deepEqual(findSecrets(result.stdout + result.stderr + n8n.logs()), []);
});
