/**
 * Fault suite: Import Items in a real n8n against the sandbox with every kind of fault on at
 * once, counting what the sandbox holds against what was sent. FAULT_ITEMS sets the size
 * (4,000 in `npm test`; `npm run test:load` runs 100,000).
 *   node --import tsx --test test/e2e/faults.test.ts   (after npm run build)
 *   FAULT_ITEMS=100000 node --import tsx --test test/e2e/faults.test.ts
 *
 * At any size the import runs in a sub-workflow that ends with a summary of Import Items' output
 * (test/load/lib.ts): `n8n execute` prints only that, however many items there are.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { startSandbox, type Sandbox } from '../../sandbox/server';
import {
	assertFaultsInjected,
	executeMeasured,
	FAULTS,
	importItemsNode,
	NO_FAULTS,
	importPair,
	num,
	summaryOf,
	tempDir,
	writeUsersJson,
	SUB_WORKFLOW_ENV,
} from '../load/lib';
import { createN8n, type N8nInstance } from './harness';
import { findSecrets, sandboxCredentials } from './setup';

const ITEMS = Number(process.env.FAULT_ITEMS ?? 4_000);
// Batches in flight. At 100,000 items (1,000 batches, most of the time spent waiting out
// back-offs and Retry-After) 32 shorten the run; the faults per request are the same.
const CONCURRENCY = Number(process.env.FAULT_CONCURRENCY ?? (ITEMS >= 50_000 ? 32 : 4));

let sandbox: Sandbox;
let n8n: N8nInstance;
const dir = tempDir('faults');
const usersFile = path.join(dir, 'users.json');

// 20 retries: with 46% of attempts failing, a batch failing 21 times in a row has a chance of
// about 1 in 10^7. A 2 s time-out, below the 3 s latency spikes: those requests time out.
const workflows = importPair(
	'faultSuite',
	usersFile,
	importItemsNode({ maxRetries: 20, timeoutSeconds: 2, concurrency: CONCURRENCY }),
);

before(async () => {
	writeUsersJson(usersFile, ITEMS, 'fault');
	sandbox = await startSandbox({});
	n8n = await createN8n({ env: SUB_WORKFLOW_ENV });
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflows(workflows);
});

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
	fs.rmSync(dir, { recursive: true, force: true });
});

test(`${num(ITEMS)} items through 5xx, 429, resets, time-outs and lost answers: none lost, duplicates only from lost answers and each one reported`, async () => {
	await sandbox.reset();
	sandbox.configure({ faults: FAULTS });
	const run = await executeMeasured(n8n, 'faultSuite', { timeoutMs: 15 * 60_000 });
	sandbox.configure({ faults: NO_FAULTS });
	await sandbox.settled();
	const summary = summaryOf(run.result);

	const stats = sandbox.stats();
	const records = [...sandbox.state.rimdian.records.values()];
	const duplicated = new Set(
		records
			.filter((record) => record.received > 1)
			.map((record) => JSON.parse(record.raw).user.external_id as string),
	);
	const flagged = new Set(summary.flagged.map((key) => key.replace(/^user:/, '')));
	const expected = new Set(
		Array.from({ length: ITEMS }, (_, i) => `fault-${String(i + 1).padStart(7, '0')}`),
	);
	const storedIds = new Set(
		records.map((record) => JSON.parse(record.raw).user.external_id as string),
	);
	const missing = [...expected].filter((id) => !storedIds.has(id));
	// Every data request met the fault draw: those answered with a fault never reached the handler.
	const requests =
		stats.rimdian.requests + stats.faults.reset + stats.faults['5xx'] + stats.faults['429'];
	const fraction = (n: number) => Math.round((n / requests) * 1000) / 10;

	const figures = {
		sent: ITEMS,
		accepted: summary.counts.accepted ?? 0,
		stored: stats.rimdian.itemsStored,
		lost: missing.length,
		duplicated: duplicated.size,
		flaggedPossiblyDuplicated: flagged.size,
		retries: summary.retries,
		batches: summary.batches,
		concurrency: CONCURRENCY,
		requests,
		injected: stats.faults,
		injectedPercent: {
			reset: fraction(stats.faults.reset),
			'5xx': fraction(stats.faults['5xx']),
			'429': fraction(stats.faults['429']),
			lostAnswer: fraction(stats.faults.lostAnswer),
			latencySpike: fraction(stats.faults.latency),
		},
		wallSeconds: Math.round(run.wallMs / 100) / 10,
		subWorkflowSeconds: Math.round((run.result.executionTime('Run Import') ?? 0) / 100) / 10,
		n8nPeakRssMiB: Math.round(run.peakRss / 1048576),
	};
	process.stdout.write(`fault suite: ${JSON.stringify(figures)}\n`);

	assert.equal(summary.items, ITEMS, 'one result per item');
	assert.deepEqual(summary.notAccepted, []);
	assert.equal(figures.accepted, ITEMS);
	assert.deepEqual(missing.slice(0, 10), [], 'nothing lost');
	assert.equal(stats.rimdian.itemsStored, ITEMS, 'nothing else stored');
	// Over 50,000 items (over 1,500 requests) the fractions mean something.
	assertFaultsInjected(stats.faults, requests, ITEMS >= 50_000, (kind) => `${kind}: ${fraction(stats.faults[kind])}% of ${requests} requests`);
	// Every item the sandbox received twice was reported as possibly duplicated (and is safe to
	// re-send: Rimdian drops byte-identical items, so it is stored once all the same).
	const unreported = [...duplicated].filter((id) => !flagged.has(id));
	assert.deepEqual(
		unreported.slice(0, 10),
		[],
		`${unreported.length} items received twice but not reported`,
	);
	assert.ok(stats.faults.lostAnswer === 0 || duplicated.size > 0, 'lost answers made duplicates');
	assert.equal(summary.unsafe, 0, 'every item safe to re-send');
	// Each failed attempt is one visible retry. 5xx, 429, reset and lost answer exclude one
	// another; a latency spike (past the time-out) may come on top of one of them.
	const exclusive =
		stats.faults['5xx'] + stats.faults['429'] + stats.faults.reset + stats.faults.lostAnswer;
	assert.ok(
		figures.retries >= exclusive && figures.retries <= exclusive + stats.faults.latency,
		`retries ${figures.retries}, faults ${exclusive} + ${stats.faults.latency} spikes`,
	);
	assert.deepEqual(findSecrets(run.result.stdout + run.result.stderr + n8n.logs()), []);
});
