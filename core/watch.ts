import type { IDataObject } from 'n8n-workflow';

import type { RetryPolicy } from './transport';

/** What one check found: the items to emit and, outside manual runs, the state to keep. */
export interface PollOutcome {
	items: IDataObject[];
	/** Key of the node's static data the state goes to. */
	stateKey?: string;
	nextState?: unknown;
	/** This check took the baseline. */
	baseline?: boolean;
}

/**
 * A check retries little: the next check comes soon and catches up, while a long retry loop would
 * hold up n8n's poller. (Import Items retries more: its data would otherwise be lost.)
 */
export const POLL_RETRY_POLICY: RetryPolicy = {
	maxRetries: 2,
	baseDelayMs: 1000,
	maxDelayMs: 10_000,
	timeoutMs: 30_000,
};

/** Pages of a list read at most per check and filter (100 entries each). */
export const PAGE_BUDGET = 20;

/** Runs `fn`, returning its value or what it threw (so callers decide outside a catch block). */
export async function attempt<T>(fn: () => Promise<T>): Promise<{ value: T } | { error: unknown }> {
	try {
		return { value: await fn() };
	} catch (error) {
		return { error };
	}
}

/** What a user must change for a watcher to work; the trigger shows it as the node's error. */
export class WatchError extends Error {
	constructor(
		message: string,
		readonly description?: string,
	) {
		super(message);
		this.name = 'WatchError';
	}
}
