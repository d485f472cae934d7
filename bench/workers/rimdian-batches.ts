/**
 * The worker-thread arm of bench/worker-split.ts: reads a Rimdian users CSV, prepares every row as
 * Bulk File Import does (core/rows/fileRows.ts prepareRowChunks: read, map, validate, serialize)
 * and posts each batch's ready body to the main thread, at most `window` batches ahead of what the
 * main thread has sent (it posts one credit per batch sent: a bounded queue).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

import type { prepareRowChunks as PrepareRowChunks } from '../../core/rows/fileRows';
import type { Platform } from '../../core/platform';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface WorkerInput {
	file: string;
	batchSize: number;
	window: number;
}

async function main(): Promise<void> {
	const { file, batchSize, window } = workerData as WorkerInput;
	const port = parentPort;
	if (!port) throw new Error('not a worker');
	const { prepareRowChunks } = require(path.join(REPO_ROOT, 'dist/core/rows/fileRows')) as {
		prepareRowChunks: typeof PrepareRowChunks;
	};
	const { rimdian } = require(path.join(REPO_ROOT, 'dist/platforms/rimdian')) as { rimdian: Platform };
	if (rimdian.delivery.mode !== 'batch') throw new Error('rimdian is a batch platform');
	const delivery = rimdian.delivery;
	let credit = window;
	let wake: (() => void) | undefined;
	port.on('message', (message: { credit: number }) => {
		credit += message.credit;
		wake?.();
	});
	const source = {
		fileName: path.basename(file),
		size: fs.statSync(file).size,
		open: async () => fs.createReadStream(file),
	};
	const settings = {
		format: 'csv' as const,
		csv: { delimiter: ',', parseJsonCells: true },
		platform: rimdian,
		itemOptions: { rimdianKind: 'user', timezone: 'UTC' },
	};
	let pending: string[] = [];
	let rejected = 0;
	const post = async (serialized: string[]) => {
		while (credit <= 0) await new Promise<void>((resolve) => (wake = resolve));
		credit--;
		port.postMessage({ body: delivery.buildBody(serialized, { workspaceId: 'bench' }, { timezone: 'UTC' }), rows: serialized.length });
	};
	for await (const rows of prepareRowChunks(source, settings, () => rejected++, { headerEndOffset: 0 })) {
		for (const row of rows) {
			pending.push(row.serialized);
			if (pending.length === batchSize) {
				await post(pending);
				pending = [];
			}
		}
	}
	if (pending.length > 0) await post(pending);
	port.postMessage({ done: true, rejected });
	port.close();
}

void main();
