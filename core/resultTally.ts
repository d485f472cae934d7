// "One Summary Item": every item's result counted as it comes, only the first problems kept.
// A million-item import then holds counts and a short list, not a million result objects.
import type { ItemResult } from './results';

/** How many problems (invalid, failed, not sent) the summary lists, the first by item. */
export const LISTED_PROBLEMS = 20;

export interface ListedProblem {
	/** The input item's position, 1-based as the editor shows it. */
	item: number;
	status: ItemResult['status'];
	/** The field at fault, for an invalid item; "(item)" when the whole item is. */
	field?: string;
	reason: string;
	httpCode?: number;
}

/** Why an item is a problem, one line per field at fault (an invalid item may have several). */
function problemsOf(index: number, result: ItemResult): ListedProblem[] {
	const item = index + 1;
	if (result.status === 'invalid') {
		return result.errors.map(({ field, reason }) => ({ item, status: 'invalid', field, reason }));
	}
	if (result.status === 'failed') {
		return [{ item, status: 'failed', reason: result.message, httpCode: result.httpCode }];
	}
	if (result.status === 'notSent') return [{ item, status: 'notSent', reason: result.message }];
	return [];
}

export class ResultTally {
	readonly counts: Record<ItemResult['status'], number> = {
		accepted: 0,
		queued: 0,
		valid: 0,
		invalid: 0,
		failed: 0,
		notSent: 0,
		skipped: 0,
	};
	items = 0;
	possiblyDuplicated = 0;
	withWarnings = 0;
	/** Items with a problem (each counted once, however many fields it has at fault). */
	problemItems = 0;
	/** The first failed item (0-based), and the first not known to be in: where to resume. */
	firstFailed?: number;
	firstNotIn?: number;
	/** The problems of the lowest items seen so far, in item order, at most LISTED_PROBLEMS. */
	private listed: ListedProblem[] = [];

	/** Counts one item's result; `warned`: it went with remarks (kept apart, not to copy the result). */
	add(index: number, result: ItemResult, warned = false): void {
		this.items++;
		this.counts[result.status]++;
		if (result.status === 'accepted' && result.possiblyDuplicated) this.possiblyDuplicated++;
		if (warned || ('warnings' in result && result.warnings !== undefined)) this.withWarnings++;
		if (result.status === 'failed') this.firstFailed = Math.min(this.firstFailed ?? index, index);
		if (result.status === 'failed' || result.status === 'notSent') {
			this.firstNotIn = Math.min(this.firstNotIn ?? index, index);
		}
		const problems = problemsOf(index, result);
		if (problems.length === 0) return;
		this.problemItems++;
		// Results come in the order batches end, not the items' order: keep the lowest items.
		const last = this.listed[this.listed.length - 1];
		if (this.listed.length >= LISTED_PROBLEMS && last !== undefined && last.item <= index + 1) {
			return;
		}
		this.listed.push(...problems);
		this.listed.sort((a, b) => a.item - b.item);
		this.listed.length = Math.min(this.listed.length, LISTED_PROBLEMS);
	}

	/** The problems listed, and how many problem items are not (nothing silent). */
	problems(): { problems: ListedProblem[]; problemItemsNotListed: number } {
		const listedItems = new Set(this.listed.map((problem) => problem.item)).size;
		return { problems: [...this.listed], problemItemsNotListed: this.problemItems - listedItems };
	}
}

/** The run's sums as the node's error and log give them ("accepted" counts queued jobs too). */
export function tallySums(tally: ResultTally) {
	const { counts } = tally;
	return {
		items: tally.items,
		accepted: counts.accepted + counts.queued,
		invalid: counts.invalid,
		failed: counts.failed,
		notSent: counts.notSent,
		possiblyDuplicated: tally.possiblyDuplicated,
	};
}
