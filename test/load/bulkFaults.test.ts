/**
 * Bulk File Import under the fault suite's faults (test/load/lib.ts FAULTS), in a real n8n:
 * a 100,000-row users CSV streamed into Rimdian, and a 100,000-row events CSV uploaded to
 * Userpilot whose job fails, then run again. BULK_ROWS sets the size.
 *   node --import tsx --test test/load/bulkFaults.test.ts   (after npm run build)
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, type N8nInstance } from '../e2e/harness';
import { findSecrets, loadExample, sandboxCredentials, variant } from '../e2e/setup';
import { assertFaultsInjected, FAULTS, NO_FAULTS, num, seconds, tempDir, userId } from './lib';

const ROWS = Number(process.env.BULK_ROWS ?? 100_000);

let sandbox: Sandbox;
let n8n: N8nInstance;
const dir = tempDir('bulk-faults');
const outputs: string[] = [];

function writeUsersCsv(file: string): void {
	const lines = ['external_id,is_authenticated,created_at,email'];
	for (let i = 1; i <= ROWS; i++) {
		lines.push(
			`${userId('csv', i)},${i % 2 === 0},2024-02-${String((i % 28) + 1).padStart(2, '0')}T08:00:00Z,${userId('csv', i)}@example.com`,
		);
	}
	fs.writeFileSync(file, lines.join('\n') + '\n');
}

function writeEventsCsv(file: string): void {
	const lines = ['event_type,event_name,source,user_id,inserted_at,metadata'];
	for (let i = 1; i <= ROWS; i++) {
		lines.push(
			`track,exported_report,backend-http,${userId('ev', i)},2024-05-0${(i % 9) + 1} 10:00:00,"{""seats"": ${i % 50}}"`,
		);
	}
	fs.writeFileSync(file, lines.join('\n') + '\n');
}

const usersCsv = path.join(dir, 'users.csv');
const eventsCsv = path.join(dir, 'events.csv');
// A 2 s time-out, below the sandbox's 3 s latency spikes; 32 batches in flight (see faults.test.ts).
const sendOptions = { maxRetries: 20, timeoutSeconds: 2, concurrency: 32 };
const workflows = [
	variant(loadExample('rimdian-file.json'), 'bulkFaultsRimdian', {
		'Read Export File': { fileSelector: usersCsv },
		'Bulk File Import': { onInvalid: 'skip', options: sendOptions },
	}),
	variant(loadExample('userpilot-file.json'), 'bulkFaultsUserpilot', {
		'Read Export File': { fileSelector: eventsCsv },
		// n8n's default time-out (60 s): a 2 s one would cut off every upload of this size (about
		// 12 MB of NDJSON) on a busy machine; the upload meets resets, 5xx, 429 and lost answers.
		'Bulk File Import': {
			options: {
				maxRetries: 20,
				concurrency: 16,
				waitForCompletion: true,
				pollIntervalSeconds: 0.2,
			},
		},
	}),
];

before(async () => {
	writeUsersCsv(usersCsv);
	writeEventsCsv(eventsCsv);
	sandbox = await startSandbox({});
	n8n = await createN8n();
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflows(workflows);
});

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
	fs.rmSync(dir, { recursive: true, force: true });
});

async function run(id: string) {
	const result = await n8n.execute(id, { timeoutMs: 15 * 60_000 });
	outputs.push(result.stdout + result.stderr);
	return result;
}

/** Faults injected, as percentages of the requests that met the fault draw. */
function percentages(requests: number) {
	const f = sandbox.stats().faults;
	const pc = (n: number) => Math.round((n / requests) * 1000) / 10;
	return {
		requests,
		reset: pc(f.reset),
		'5xx': pc(f['5xx']),
		'429': pc(f['429']),
		lostAnswer: pc(f.lostAnswer),
		latencySpike: pc(f.latency),
	};
}

test(`Rimdian: a ${num(ROWS)}-row CSV streamed through every fault: every row in once, each duplicate among those reported`, async () => {
	await sandbox.reset();
	sandbox.configure({ faults: FAULTS });
	const result = await run('bulkFaultsRimdian');
	sandbox.configure({ faults: NO_FAULTS });
	await sandbox.settled();
	assert.equal(result.status, 'success', result.error?.message ?? result.stdout.slice(-2000));
	const [summary] = result.nodeOutput('Bulk File Import');
	const stats = sandbox.stats();
	const records = [...sandbox.state.rimdian.records.values()];
	const stored = new Set(
		records.map((record) => JSON.parse(record.raw).user.external_id as string),
	);
	const missing = Array.from({ length: ROWS }, (_, i) => userId('csv', i + 1)).filter(
		(id) => !stored.has(id),
	);
	const duplicated = records.filter((record) => record.received > 1).length;
	const requests =
		stats.rimdian.requests + stats.faults.reset + stats.faults['5xx'] + stats.faults['429'];
	const figures = {
		rowsRead: summary.rowsRead,
		accepted: summary.accepted,
		stored: stats.rimdian.itemsStored,
		lost: missing.length,
		duplicated,
		reportedPossiblyDuplicated: summary.possiblyDuplicated,
		reportedRanges: (summary.possiblyDuplicatedRows as unknown[] | undefined)?.length,
		retries: summary.retries,
		injected: percentages(requests),
		wallSeconds: seconds(result.wallMs),
		nodeSeconds: seconds(result.executionTime('Bulk File Import') ?? 0),
	};
	process.stdout.write(`bulk file import, Rimdian CSV under faults: ${JSON.stringify(figures)}\n`);

	assert.equal(summary.status, 'completed');
	assert.equal(summary.rowsRead, ROWS);
	assert.equal(summary.accepted, ROWS);
	assert.deepEqual(missing.slice(0, 10), [], 'nothing lost');
	assert.equal(stats.rimdian.itemsStored, ROWS);
	assertFaultsInjected(stats.faults, requests, ROWS >= 50_000, (kind) => `${kind} injected on ${JSON.stringify(figures.injected)}`);
	// A row received twice came from a batch whose answer was lost; those rows are counted in
	// the node's possiblyDuplicated (and Rimdian stored each once: byte-identical).
	assert.ok(duplicated > 0, 'lost answers made duplicates');
	assert.ok(
		duplicated <= (summary.possiblyDuplicated as number),
		`${duplicated} received twice, ${summary.possiblyDuplicated as number} reported`,
	);
	// And by row: each row received twice lies in a listed range of possibly duplicated rows,
	// and the ranges hold exactly the rows counted.
	const ranges = summary.possiblyDuplicatedRows as Array<{ from: number; to: number }>;
	assert.equal(summary.possiblyDuplicatedRangesNotListed, undefined, 'every range listed');
	assert.equal(
		ranges.reduce((rows, range) => rows + range.to - range.from + 1, 0),
		summary.possiblyDuplicated,
	);
	const rowOf = new Map(Array.from({ length: ROWS }, (_, i) => [userId('csv', i + 1), i + 1]));
	const unreported = records
		.filter((record) => record.received > 1)
		.map((record) => rowOf.get(JSON.parse(record.raw).user.external_id as string) as number)
		.filter((row) => !ranges.some((range) => range.from <= row && row <= range.to));
	assert.deepEqual(unreported.slice(0, 10), [], 'rows received twice but not reported');
	const exclusive =
		stats.faults['5xx'] + stats.faults['429'] + stats.faults.reset + stats.faults.lostAnswer;
	assert.ok(
		(summary.retries as number) >= exclusive &&
			(summary.retries as number) <= exclusive + stats.faults.latency,
		`retries ${summary.retries as number}`,
	);
});

test(`Userpilot: a ${num(ROWS)}-row upload whose job fails is reported with the row to resume from; run again, every row in once`, async () => {
	await sandbox.reset();
	sandbox.configure({ faults: FAULTS });
	await fetch(`${sandbox.url}/__sandbox/userpilot/fail-next`, {
		method: 'POST',
		body: JSON.stringify({ reason: 'Required field `user_id` not provided in the row' }),
	});
	const failed = await run('bulkFaultsUserpilot');
	assert.equal(failed.status, 'error');
	const error = failed.nodeError('Bulk File Import');
	assert.match(
		error?.message ?? '',
		/^Userpilot import job \S+ failed: Required field `user_id` not provided in the row$/,
	);
	assert.match(error?.description ?? '', /run again with "Start at Row" set to 1\b/);
	assert.equal(sandbox.stats().userpilot.rowsImported, 0, 'a failed job imports nothing');
	const firstFaults = { ...sandbox.stats().faults };

	const again = await run('bulkFaultsUserpilot');
	sandbox.configure({ faults: NO_FAULTS });
	assert.equal(again.status, 'success', again.error?.message ?? again.stdout.slice(-2000));
	const [summary] = again.nodeOutput('Bulk File Import');
	const stats = sandbox.stats();
	const figures = {
		rows: ROWS,
		failedRun: { error: error?.message, seconds: seconds(failed.wallMs) },
		secondRun: {
			status: summary.status,
			totalRows: summary.totalRows,
			retries: summary.retries,
			seconds: seconds(again.wallMs),
		},
		rowsImported: stats.userpilot.rowsImported,
		jobs: stats.userpilot.jobs,
		uploadsReceived: stats.userpilot.uploads,
		injectedBothRuns: stats.faults,
		injectedFirstRun: firstFaults,
	};
	process.stdout.write(
		`bulk file import, Userpilot job failure under faults: ${JSON.stringify(figures)}\n`,
	);

	assert.equal(summary.status, 'completed');
	assert.equal(summary.totalRows, ROWS);
	assert.equal(stats.userpilot.rowsImported, ROWS, 'every row in once');
	// One job per run: a lost upload answer is looked up in the job list, never sent twice.
	assert.deepEqual(
		{ failed: stats.userpilot.jobs.failed, completed: stats.userpilot.jobs.completed },
		{ failed: 1, completed: 1 },
	);
	assert.ok(
		stats.faults.reset + stats.faults['5xx'] + stats.faults['429'] > 0,
		'faults met the upload and the polling',
	);
	assert.deepEqual(findSecrets(outputs.join('\n') + n8n.logs()), []);
});
