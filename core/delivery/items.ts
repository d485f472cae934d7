// Items imported one result each, as plain outcomes: each mapped, validated and serialized once,
// then sent as the platform takes them (JSON batches through batch.ts, or NDJSON files as jobs
// through job.ts). The Import Items node reads the parameters and the items' fields, and turns
// the results into its output items or error.
import { compilePreparer } from '../rows/prepare';
import type { ItemResult } from '../results';
import { withWarnings } from '../results';
import type { PlatformRequestError, PlatformTransport } from '../transport';
import { effectiveBatchSize, sendBatches, toBatches, type PreparedItem } from './batch';
import { PartsNotSentError, sendItemsAsJobs, type UploadToken } from './job';
import type { SendSettings } from './sendSettings';

/** How many invalid items the error of a run refused for them lists. */
const LISTED_INVALID = 10;

export interface PreparedInput {
	results: Array<ItemResult | undefined>;
	prepared: PreparedItem[];
	/** Only items with remarks have an entry: most runs have none, and a large run stays small. */
	warnings: Array<string[] | undefined>;
}

/**
 * Each input item mapped, validated and serialized once, or its result when it will not be sent.
 * `recordAt` gives the record of the item at an index; when it throws (an expression that fails),
 * that item is invalid, not the run.
 */
export async function prepareItems(
	count: number,
	recordAt: (index: number) => unknown,
	settings: SendSettings,
	startAt: number,
): Promise<PreparedInput> {
	const prepare = compilePreparer(settings.platform, settings.itemOptions, 'item');
	const input: PreparedInput = { results: new Array(count), prepared: [], warnings: [] };
	for (let index = 0; index < count; index++) {
		// Let the event loop breathe on large inputs: in queue mode a worker that blocks it for
		// seconds cannot renew its Bull lock, and n8n then runs the execution a second time.
		if (index % 5000 === 4999) await new Promise((resolve) => setImmediate(resolve));
		if (index + 1 < startAt) {
			input.results[index] = {
				status: 'skipped',
				message: `Skipped: before "Start at Item" ${startAt}`,
			};
			continue;
		}
		let outcome;
		try {
			outcome = prepare(recordAt(index), index);
		} catch (error) {
			// An expression in "Define Fields Below" that fails is this item's problem, not the run's.
			const reason = (error as Error).message;
			outcome = {
				ok: false as const,
				result: {
					status: 'invalid' as const,
					errors: [{ field: '(fields)', reason }],
					message: `Item ${index + 1}: ${reason}`,
				},
			};
		}
		if (outcome.ok) {
			input.prepared.push(outcome.item);
			if (outcome.item.warnings !== undefined) input.warnings[index] = outcome.item.warnings;
		} else input.results[index] = outcome.result;
	}
	return input;
}

/** Why a run with invalid items sends nothing: the first of them listed, and the first's index. */
export function invalidSummary(results: Array<ItemResult | undefined>): {
	message: string;
	description: string;
	first: number;
} {
	const invalid: Array<{ index: number; message: string }> = [];
	results.forEach((result, index) => {
		if (result?.status === 'invalid') invalid.push({ index, message: result.message });
	});
	const listed = invalid.slice(0, LISTED_INVALID).map((entry) => entry.message);
	const more =
		invalid.length > LISTED_INVALID
			? `\n…and ${invalid.length - LISTED_INVALID} more invalid items.`
			: '';
	return {
		message: `${invalid.length} of ${results.length} items are invalid; nothing was sent`,
		description: `${listed.join('\n')}${more}\nFix them, or set "Invalid Items" to "Skip and Report Them" to send the valid ones.`,
		first: invalid[0]?.index ?? 0,
	};
}

/** How the prepared items go: read from the node's parameters and context. */
export interface ItemDeliveryChoices {
	/** A batch that fails for good stops the others. */
	stopOnFailure: boolean;
	/** Cancels the waits for the jobs. */
	signal?: AbortSignal;
	/** The token of the files' names, the same when n8n runs the execution again. */
	nameToken: (...input: Array<string | number>) => UploadToken;
}

/**
 * Sends the prepared items as the platform takes them: JSON batches, or files as jobs. Returns the
 * failure that stopped sending, if any; a breakdown of the jobs is a PartsNotSentError.
 */
export async function deliverItems(
	transport: PlatformTransport,
	settings: SendSettings,
	prepared: PreparedItem[],
	choices: ItemDeliveryChoices,
	report: (item: PreparedItem, result: ItemResult) => void,
): Promise<PlatformRequestError | undefined> {
	const { delivery } = settings.platform;
	if (delivery.mode === 'batch') {
		return await sendBatches(
			transport,
			delivery,
			toBatches(prepared, effectiveBatchSize(delivery, settings.batchSize)),
			{
				concurrency: settings.concurrency,
				stopOnFailure: choices.stopOnFailure,
				credentials: settings.credentials,
				itemOptions: settings.itemOptions,
			},
			report,
		);
	}
	const options = delivery.readJobOptions(settings.options, choices.signal);
	let notSent: PartsNotSentError | undefined;
	try {
		return await sendItemsAsJobs(choices.nameToken, transport, delivery, prepared, options, report);
	} catch (error) {
		notSent = new PartsNotSentError(error);
	}
	throw notSent;
}

/** One result an item: an item with none was never sent; its remarks added to what it got. */
export function finalResults(
	results: Array<ItemResult | undefined>,
	warnings: Array<string[] | undefined>,
): ItemResult[] {
	return results.map((result, index) =>
		withWarnings(
			result ?? {
				status: 'notSent' as const,
				message: 'Not sent: the import stopped before this item',
			},
			warnings[index],
		),
	);
}
