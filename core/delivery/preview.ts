// "Validate Only (Send Nothing)": what a run would send, worked out as the run would, and sent
// nowhere. Items and file rows are prepared by the same code as a real run; only the sending is
// left out, so the preview cannot drift from what goes over the wire.
import type { ItemResult } from '../results';
import { effectiveBatchSize, toBatches, type PreparedItem } from './batch';
import type { PreparedInput } from './items';
import type { SendSettings } from './sendSettings';

/** How many lines of an upload a preview shows: enough to see the shape, small in the output. */
export const PREVIEW_LINES = 5;

/** The first serialized items, parsed back, as they would start the upload or the file sent. */
export function firstLinesAsSent(prepared: PreparedItem[]): unknown[] {
	return prepared.slice(0, PREVIEW_LINES).map((item) => JSON.parse(item.serialized) as unknown);
}

/** The body of each batch a real run would send, in order, with its first item's index. */
export function batchBodies(
	settings: SendSettings,
	prepared: PreparedItem[],
): Array<{ batch: number; firstIndex: number; body: unknown }> {
	const { delivery } = settings.platform;
	if (delivery.mode !== 'batch') return [];
	const size = effectiveBatchSize(delivery, settings.batchSize);
	return [...toBatches(prepared, size)].map((batch) => ({
		batch: batch.number,
		firstIndex: batch.items[0].index,
		body: JSON.parse(
			delivery.buildBody(
				batch.items.map((item) => item.serialized),
				settings.credentials,
				settings.itemOptions,
			),
		) as unknown,
	}));
}

/**
 * Each item's result had the run only checked it: `valid` or as it was (invalid, skipped). The
 * first item of each batch carries the batch's request body; on a job platform, the first item
 * carries the first lines of the file that would be uploaded.
 */
export function validatedResults(settings: SendSettings, input: PreparedInput): ItemResult[] {
	const results = [...input.results];
	const starts = new Map(
		batchBodies(settings, input.prepared).map((entry) => [entry.firstIndex, entry]),
	);
	let batch = 0;
	for (const item of input.prepared) {
		const start = starts.get(item.index);
		if (start) batch = start.batch;
		results[item.index] = {
			status: 'valid',
			...(item.key !== undefined ? { key: item.key } : {}),
			...(input.warnings[item.index] ? { warnings: input.warnings[item.index] } : {}),
			...(start ? { batch, requestBody: start.body } : batch > 0 ? { batch } : {}),
		};
	}
	const first = input.prepared[0];
	if (first && settings.platform.delivery.mode === 'job') {
		results[first.index] = {
			...(results[first.index] as ItemResult & { status: 'valid' }),
			firstLinesOfFile: firstLinesAsSent(input.prepared),
		};
	}
	return results.map(
		(result) => result ?? { status: 'notSent', message: 'Not sent: validate only' },
	);
}
