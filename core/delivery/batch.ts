import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import type { BatchDelivery, PlatformItemOptions } from '../platform';
import type { ItemResult } from '../results';
import {
	ExecutionCancelledError,
	PlatformRequestError,
	type PlatformTransport,
} from '../transport';

/** One validated item, serialized once, with where it came from. */
export interface PreparedItem {
	/** Position of the input item or row (0-based). */
	index: number;
	serialized: string;
	key?: string;
	/** What the validator accepted with a remark (a field left out, a value taken on trust). */
	warnings?: string[];
}

export interface Batch {
	number: number;
	items: PreparedItem[];
}

export interface BatchSendOptions {
	concurrency: number;
	/** Stop starting batches after one fails for good (the rest end as notSent). */
	stopOnFailure: boolean;
	credentials: ICredentialDataDecryptedObject;
	itemOptions: PlatformItemOptions;
}

/** Groups prepared items into batches of at most `size`, lazily. */
export function* toBatches(items: Iterable<PreparedItem>, size: number): Generator<Batch> {
	let current: PreparedItem[] = [];
	let number = 0;
	for (const item of items) {
		current.push(item);
		if (current.length >= size) {
			yield { number: ++number, items: current };
			current = [];
		}
	}
	if (current.length > 0) yield { number: ++number, items: current };
}

/** Async flavour of toBatches, for streamed sources. */
export async function* toBatchesAsync(
	items: AsyncIterable<PreparedItem>,
	size: number,
): AsyncGenerator<Batch> {
	let current: PreparedItem[] = [];
	let number = 0;
	for await (const item of items) {
		current.push(item);
		if (current.length >= size) {
			yield { number: ++number, items: current };
			current = [];
		}
	}
	if (current.length > 0) yield { number: ++number, items: current };
}

/** Batches from arrays of prepared items (a streamed source read a chunk at a time). */
export async function* toBatchesFromChunks(
	chunks: AsyncIterable<PreparedItem[]>,
	size: number,
): AsyncGenerator<Batch> {
	let current: PreparedItem[] = [];
	let number = 0;
	for await (const chunk of chunks) {
		for (const item of chunk) {
			current.push(item);
			if (current.length >= size) {
				yield { number: ++number, items: current };
				current = [];
			}
		}
	}
	if (current.length > 0) yield { number: ++number, items: current };
}

export function effectiveBatchSize(delivery: BatchDelivery, requested: number | undefined): number {
	const size = Math.max(1, Math.floor(requested ?? delivery.defaultBatchSize));
	return delivery.maxBatchSize ? Math.min(size, delivery.maxBatchSize) : size;
}

/** Each item of a batch that failed for good, with why. */
function reportFailedBatch(
	batch: Batch,
	error: PlatformRequestError,
	report: (item: PreparedItem, result: ItemResult) => void,
): void {
	for (const item of batch.items) {
		report(item, {
			status: 'failed',
			message: error.message,
			httpCode: error.status,
			batch: batch.number,
			retries: error.retries,
			possiblyDelivered: error.possiblyDelivered,
			key: item.key,
		});
	}
}

/** What the platform's answer says of every item of a batch it accepted. */
export interface AcceptedBatch {
	retries: number;
	possiblyDuplicated: boolean;
}

/** Each item of a batch the platform accepted, with its own result. */
function reportAcceptedItems(
	batch: Batch,
	accepted: AcceptedBatch,
	resendIsSafe: boolean,
	report: (item: PreparedItem, result: ItemResult) => void,
): void {
	// Two literals rather than a spread in one: the same keys in the same order, without a
	// spread (a runtime copy) for every item of every batch.
	const { number, items } = batch;
	const { retries } = accepted;
	for (const item of items) {
		const safeToResend = resendIsSafe || item.key !== undefined;
		report(
			item,
			accepted.possiblyDuplicated
				? {
						status: 'accepted',
						batch: number,
						retries,
						possiblyDuplicated: true,
						safeToResend,
						key: item.key,
					}
				: { status: 'accepted', batch: number, retries, safeToResend, key: item.key },
		);
	}
}

/**
 * Sends batches with bounded concurrency. Workers pull the next batch only when free, so a
 * streamed source is read no faster than the platform takes it (back-pressure).
 * Calls `report` once per item of every batch it pulls, or `reportAccepted` once per accepted
 * batch when given (a caller that only counts needs no result object per item); returns the
 * first fatal failure, if any.
 */
export async function sendBatches(
	transport: PlatformTransport,
	delivery: BatchDelivery,
	batches: Iterable<Batch> | AsyncIterable<Batch>,
	options: BatchSendOptions,
	report: (item: PreparedItem, result: ItemResult) => void,
	reportAccepted?: (batch: Batch, accepted: AcceptedBatch) => void,
): Promise<PlatformRequestError | undefined> {
	const iterator =
		Symbol.asyncIterator in batches
			? (batches as AsyncIterable<Batch>)[Symbol.asyncIterator]()
			: (batches as Iterable<Batch>)[Symbol.iterator]();
	let fatal: PlatformRequestError | undefined;
	let cancelled: Error | undefined;
	const resendIsSafe = delivery.dedupesIdenticalItems === true;
	const url = `${transport.endpoints.data}${delivery.path}`;

	const sendOne = async (batch: Batch) => {
		if (fatal && options.stopOnFailure) {
			for (const item of batch.items) {
				report(item, {
					status: 'notSent',
					message: `Not sent: an earlier batch failed (${fatal.message})`,
					key: item.key,
				});
			}
			return;
		}
		// As bytes: given a string with a JSON content type, axios parses the whole body once more
		// to check it (JSON.parse in its request transform); a Buffer it sends as it is.
		const body = Buffer.from(
			delivery.buildBody(
				batch.items.map((item) => item.serialized),
				options.credentials,
				options.itemOptions,
			),
		);
		let failure: unknown;
		try {
			const response = await transport.request(
				{ method: 'POST', url, body, headers: { 'Content-Type': 'application/json' } },
				`batch ${batch.number}`,
			);
			const unexpected = delivery.checkAnswer(response.body);
			if (unexpected) {
				throw new PlatformRequestError(unexpected, {
					status: response.status,
					retries: response.retries,
					possiblyDelivered: true,
				});
			}
			const accepted = {
				retries: response.retries,
				possiblyDuplicated: response.possiblyDuplicated === true,
			};
			if (reportAccepted) reportAccepted(batch, accepted);
			else reportAcceptedItems(batch, accepted, resendIsSafe, report);
			return;
		} catch (error) {
			failure = error;
		}
		if (failure instanceof ExecutionCancelledError) {
			cancelled = failure;
			throw failure;
		}
		const error =
			failure instanceof PlatformRequestError
				? failure
				: new PlatformRequestError((failure as Error).message);
		fatal ??= error;
		reportFailedBatch(batch, error, report);
	};

	const worker = async () => {
		for (;;) {
			if (cancelled) return;
			const next = await iterator.next();
			if (next.done) return;
			await sendOne(next.value);
		}
	};
	const workers: Array<Promise<void>> = [];
	for (let i = 0; i < Math.max(1, options.concurrency); i++) workers.push(worker());
	const settled = await Promise.allSettled(workers);
	for (const outcome of settled) {
		if (outcome.status === 'rejected') throw outcome.reason;
	}
	return fatal;
}
