import type { FieldError } from './validation/types';

/** Remarks on a sent (or meant to be sent) item that did not refuse it. */
interface Warned {
	warnings?: string[];
}

/** What became of one input item or row; every input ends with exactly one of these. */
export type ItemResult =
	| ({
			status: 'accepted';
			batch: number;
			retries: number;
			/** An earlier attempt of this batch may have landed too: the item may be there twice. */
			possiblyDuplicated?: boolean;
			/** Whether sending it again is harmless (the platform de-duplicates it, or it has its own key). */
			safeToResend?: boolean;
			key?: string;
			jobId?: string;
	  } & Warned)
	| { status: 'invalid'; errors: FieldError[]; message: string; key?: string }
	| ({
			/** Checked and found sendable by "Validate Only": nothing was sent. */
			status: 'valid';
			key?: string;
			batch?: number;
			/** On the first item of a batch: the body its request would have. */
			requestBody?: unknown;
			/** On the first item, for a job platform: the first lines of the file uploaded. */
			firstLinesOfFile?: unknown[];
	  } & Warned)
	| ({
			status: 'failed';
			message: string;
			httpCode?: number;
			batch?: number;
			retries?: number;
			possiblyDelivered?: boolean;
			key?: string;
			jobId?: string;
	  } & Warned)
	| ({ status: 'queued'; jobId: string; batch: number; retries: number; key?: string } & Warned)
	| ({ status: 'notSent'; message: string; key?: string } & Warned)
	| { status: 'skipped'; message: string };

/**
 * The result with the item's warnings (remarks that did not refuse it, see Validation). A copy:
 * one result object may stand for several items of a batch.
 */
export function withWarnings(result: ItemResult, warnings: string[] | undefined): ItemResult {
	if (warnings === undefined || result.status === 'invalid' || result.status === 'skipped')
		return result;
	return { ...result, warnings };
}

export interface RunSummary {
	items: number;
	accepted: number;
	invalid: number;
	failed: number;
	notSent: number;
	possiblyDuplicated: number;
	requests: number;
	retries: number;
	retryReasons: Record<string, number>;
}

export function summarize(
	results: ItemResult[],
	stats: { requests: number; retries: number; retryReasons: Record<string, number> },
): RunSummary {
	const summary: RunSummary = {
		items: results.length,
		accepted: 0,
		invalid: 0,
		failed: 0,
		notSent: 0,
		possiblyDuplicated: 0,
		requests: stats.requests,
		retries: stats.retries,
		retryReasons: stats.retryReasons,
	};
	for (const result of results) {
		if (result.status === 'accepted' || result.status === 'queued') summary.accepted++;
		else if (result.status === 'invalid') summary.invalid++;
		else if (result.status === 'failed') summary.failed++;
		else if (result.status === 'notSent') summary.notSent++;
		if (result.status === 'accepted' && result.possiblyDuplicated) summary.possiblyDuplicated++;
	}
	return summary;
}
