/**
 * bench:worker-split — would a worker thread pay for Bulk File Import (issue #16, item 3)?
 * In one plain Node process (not inside n8n), the 200,000-user CSV of bench:rimdian-csv
 * (BENCH_ROWS) is sent to the receiver (bench/receiver.ts) in Rimdian batches of 100, 4 in flight,
 * on kept-alive connections (core/keepAlive.ts), two ways, alternating (BENCH_REPS each):
 *
 *   in-thread  read, map, validate, serialize (prepareRowChunks) and send on the one thread,
 *              as the node does now
 *   worker     the same preparation in a worker_threads Worker (bench/workers/rimdian-batches.ts)
 *              posting ready batch bodies, at most 16 ahead (a bounded queue); the main thread sends
 *
 * with csv-parse's own read rate of the file between them. Loads dist/: npm run build first.
 *
 *   node --import tsx bench/worker-split.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import type { KeepAliveConnections as Connections } from '../core/keepAlive';
import type { prepareRowChunks as PrepareRowChunks } from '../core/rows/fileRows';
import type { Platform } from '../core/platform';
import { csvPass, envNumber, loadNow, log, median, num, printMachine, rimdianUsersCsv, startReceiverProcess } from './lib';

const REPO_ROOT = path.resolve(__dirname, '..');
const BATCH = 100;
const CONCURRENCY = 4;
const WINDOW = 16;
/** A TypeScript worker script, loaded through tsx's require hook (a worker gets no --import). */
const WORKER_SCRIPT = path.join(__dirname, 'workers', 'rimdian-batches.ts');

const { KeepAliveConnections } = require(path.join(REPO_ROOT, 'dist/core/keepAlive')) as { KeepAliveConnections: typeof Connections };
const { prepareRowChunks } = require(path.join(REPO_ROOT, 'dist/core/rows/fileRows')) as { prepareRowChunks: typeof PrepareRowChunks };
const { rimdian } = require(path.join(REPO_ROOT, 'dist/platforms/rimdian')) as { rimdian: Platform };

interface Arm {
	rows: number;
	ms: number;
	cpuMs: number;
}

/** Sends bodies as they come, CONCURRENCY in flight; `next` resolves undefined at the end. */
async function sendAll(url: URL, next: () => Promise<{ body: string; rows: number } | undefined>, sent: () => void): Promise<number> {
	const connections = new KeepAliveConnections();
	let rows = 0;
	const lane = async () => {
		for (let batch = await next(); batch; batch = await next()) {
			const answer = await connections.send({ url, method: 'POST', headers: { 'Content-Type': 'application/json' }, body: batch.body, timeoutMs: 30_000 });
			if (answer.statusCode !== 200) throw new Error(`receiver answered ${answer.statusCode}`);
			rows += batch.rows;
			sent();
		}
	};
	try {
		await Promise.all(Array.from({ length: CONCURRENCY }, lane));
	} finally {
		connections.close();
	}
	return rows;
}

/** The node's way: preparation and sending share one thread. */
async function inThread(file: string, url: URL): Promise<number> {
	if (rimdian.delivery.mode !== 'batch') throw new Error('batch platform');
	const delivery = rimdian.delivery;
	const source = { fileName: path.basename(file), size: fs.statSync(file).size, open: async () => fs.createReadStream(file) };
	const settings = { format: 'csv' as const, csv: { delimiter: ',', parseJsonCells: true }, platform: rimdian, itemOptions: { rimdianKind: 'user', timezone: 'UTC' } };
	const chunks = prepareRowChunks(source, settings, () => undefined, { headerEndOffset: 0 })[Symbol.asyncIterator]();
	let pending: string[] = [];
	let ended = false;
	const next = async () => {
		while (!ended && pending.length < BATCH) {
			const step = await chunks.next();
			if (step.done) ended = true;
			else for (const row of step.value) pending.push(row.serialized);
		}
		if (pending.length === 0) return undefined;
		const serialized = pending.slice(0, BATCH);
		pending = pending.slice(BATCH);
		return { body: delivery.buildBody(serialized, { workspaceId: 'bench' }, { timezone: 'UTC' }), rows: serialized.length };
	};
	return await sendAll(url, next, () => undefined);
}

/** Preparation in a Worker; the main thread only sends the bodies it posts. */
async function inWorker(file: string, url: URL): Promise<number> {
	const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(WORKER_SCRIPT)});`, {
		eval: true,
		workerData: { file, batchSize: BATCH, window: WINDOW },
	});
	const queue: Array<{ body: string; rows: number }> = [];
	let done = false;
	let failure: Error | undefined;
	// Every lane waiting for a body is woken by each message.
	let waiting: Array<() => void> = [];
	const wake = () => {
		const woken = waiting;
		waiting = [];
		for (const resolve of woken) resolve();
	};
	worker.on('message', (message: { body?: string; rows?: number; done?: boolean }) => {
		if (message.done) done = true;
		else queue.push({ body: message.body as string, rows: message.rows as number });
		wake();
	});
	worker.on('error', (error) => ((failure = error), wake()));
	worker.on('exit', () => ((done = true), wake()));
	const next = async () => {
		while (queue.length === 0 && !done && !failure) await new Promise<void>((resolve) => waiting.push(resolve));
		if (failure) throw failure;
		return queue.shift();
	};
	try {
		return await sendAll(url, next, () => worker.postMessage({ credit: 1 }));
	} finally {
		await worker.terminate();
	}
}

async function timed(run: () => Promise<number>): Promise<Arm> {
	const cpu = process.cpuUsage();
	const started = performance.now();
	const rows = await run();
	const used = process.cpuUsage(cpu);
	return { rows, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

async function main(): Promise<void> {
	const rows = Math.round(envNumber('BENCH_ROWS', 200_000));
	const reps = Math.round(envNumber('BENCH_REPS', 3));
	printMachine(`bench:worker-split — ${num(rows)} user rows into the receiver, in-thread vs a worker thread (plain Node)`);
	const file = await rimdianUsersCsv(rows);
	const receiver = await startReceiverProcess();
	const url = new URL(`${receiver.url}/data`);
	const results: Record<string, Arm[]> = { 'in-thread': [], worker: [] };
	const ceiling: number[] = [];
	try {
		for (let rep = 0; rep < reps; rep++) {
			for (const [name, run] of [['in-thread', () => inThread(file, url)], ['worker', () => inWorker(file, url)]] as const) {
				const arm = await timed(run);
				if (arm.rows !== rows) throw new Error(`${name}: ${arm.rows} of ${rows} rows sent`);
				results[name].push(arm);
				log(`${name}: ${num(arm.ms)} ms, ${num(rows / (arm.ms / 1000))} rows/s, process CPU ${num(arm.cpuMs)} ms; load ${loadNow()}`);
			}
			const pass = await csvPass('csv-parse', file);
			ceiling.push(pass.rows / (pass.ms / 1000));
			log(`csv-parse: ${num(pass.rows / (pass.ms / 1000))} rows/s; load ${loadNow()}`);
		}
	} finally {
		await receiver.stop();
	}
	const top = median(ceiling);
	for (const [name, arms] of Object.entries(results)) {
		const rate = median(arms.map((arm) => rows / (arm.ms / 1000)));
		log(`${name}: median ${num(rate)} rows/s = ${(rate / top).toFixed(2)}x csv-parse (median ${num(top)} rows/s)`);
	}
}

void main().catch((error) => {
	console.error(error);
	process.exit(1);
});
