/**
 * Which entries of Rimdian's data log (GET /api/dataLog.list, filtered on has_error) a polling
 * trigger emits, each once and only once, and the state it keeps between polls. Pure: the
 * trigger reads the pages, this decides.
 *
 * An entry is identified by its id and placed in time by when it entered the log (its
 * `created_at`; `db_created_at` or `context.received_at` when that is missing) on Rimdian's clock,
 * never this machine's. The state keeps a floor and the ids seen at or above it:
 * - an entry is new when its id was not seen and it entered the log at or after the floor;
 * - the floor follows the newest entry seen, `marginMs` behind it, so entries that enter the log
 *   late with a slightly older time, or share a timestamp with ones already seen, still count;
 * - the ids below the floor are forgotten (they can never count again), and at most `maxIds`
 *   are kept (the floor is raised to a timestamp boundary, never between two equal times).
 * The first poll (no valid state for this scope) is the baseline: the floor is the server's time
 * then, and whatever is read in that poll is recorded, not emitted.
 *
 * Paging: the log is listed oldest first; each filter (has_error value) keeps a resume token,
 * the next_token of the last page that lies wholly below the floor, so a poll reads only the
 * recent tail. When the listing turns out not to be in time order, no token is kept (every poll
 * reads from the start, within the page budget).
 */

export interface DataLogEntry {
	id: string;
	has_error?: number;
	created_at?: string;
	[key: string]: unknown;
}

export interface DataLogPage {
	entries: readonly unknown[];
	/** The token the answer gave for the page after this one (absent on the last page). */
	nextToken?: string;
}

export interface DataLogScan {
	/** The has_error value this scan filtered on. */
	hasError: number;
	/** The token the scan started from (undefined: from the start of the log). */
	startToken?: string;
	pages: readonly DataLogPage[];
	/** The scan stopped at the page budget although there were more pages. */
	truncated: boolean;
}

export interface DataLogWatchState {
	version: 1;
	scope: string;
	/** Entries that entered the log before this time (ms, Rimdian's clock) are old. */
	floor: number;
	/** Ids seen at or above the floor, with the time they entered the log. */
	seen: Record<string, number>;
	/** Resume token per has_error value. */
	cursors: Record<string, string>;
	/** The listing was found out of time order: no resume tokens are used. */
	unordered?: boolean;
}

export interface DataLogOptions {
	scope: string;
	/** How far behind the newest entry the floor stays. Default 60 s. */
	marginMs?: number;
	/** At most this many ids are remembered. Default 5000. */
	maxIds?: number;
}

export interface DataLogResult {
	emissions: DataLogEntry[];
	nextState: DataLogWatchState;
	baseline: boolean;
}

export const DEFAULT_MARGIN_MS = 60_000;
export const DEFAULT_MAX_IDS = 5000;

function parseTime(value: unknown): number | undefined {
	if (typeof value !== 'string' || value === '') return undefined;
	const ms = Date.parse(value);
	return Number.isNaN(ms) ? undefined : ms;
}

/** When the entry entered the log, on Rimdian's clock (ms); undefined when it does not say. */
export function arrivalOf(entry: DataLogEntry): number | undefined {
	const context = entry.context as { received_at?: unknown } | undefined;
	return (
		parseTime(entry.created_at) ?? parseTime(entry.db_created_at) ?? parseTime(context?.received_at)
	);
}

function isEntry(entry: unknown): entry is DataLogEntry {
	const e = entry as DataLogEntry | undefined;
	return typeof e === 'object' && e !== null && typeof e.id === 'string' && e.id !== '';
}

export function isValidDataLogWatchState(state: unknown): state is DataLogWatchState {
	const s = state as DataLogWatchState | undefined;
	return (
		typeof s === 'object' &&
		s !== null &&
		s.version === 1 &&
		typeof s.scope === 'string' &&
		typeof s.floor === 'number' &&
		Number.isFinite(s.floor) &&
		typeof s.seen === 'object' &&
		s.seen !== null &&
		typeof s.cursors === 'object' &&
		s.cursors !== null
	);
}

/**
 * @param serverNow Rimdian's time at this poll (its Date header), used as the baseline's floor;
 *   this machine's clock only when the answer had no date.
 */
export function computeDataLogEmissions(
	previous: unknown,
	scans: readonly DataLogScan[],
	options: DataLogOptions,
	serverNow: number,
): DataLogResult {
	const marginMs = Math.max(0, options.marginMs ?? DEFAULT_MARGIN_MS);
	const maxIds = Math.max(1, options.maxIds ?? DEFAULT_MAX_IDS);
	const valid = isValidDataLogWatchState(previous) && previous.scope === options.scope;
	const prev = valid ? previous : undefined;
	const baseline = !prev;
	const floor = prev ? prev.floor : serverNow;
	const seen: Record<string, number> = prev ? { ...prev.seen } : {};
	let newest = Math.max(floor, ...Object.values(seen));
	const emissions: DataLogEntry[] = [];
	let ordered = !prev?.unordered;

	for (const scan of scans) {
		let last = Number.NEGATIVE_INFINITY;
		for (const page of scan.pages) {
			for (const entry of page.entries) {
				if (!isEntry(entry)) continue;
				const arrival = arrivalOf(entry);
				if (arrival !== undefined) {
					if (arrival < last) ordered = false;
					last = arrival;
				}
				if (Object.prototype.hasOwnProperty.call(seen, entry.id)) continue;
				if (arrival !== undefined && arrival < floor) continue;
				// An entry that does not say when it entered the log is kept as of the newest time.
				const at = arrival ?? newest;
				seen[entry.id] = at;
				newest = Math.max(newest, at);
				if (!baseline) emissions.push(entry);
			}
		}
	}

	let nextFloor = Math.max(floor, newest - marginMs);
	nextFloor = capFloor(seen, nextFloor, maxIds);
	const kept: Record<string, number> = {};
	for (const [id, at] of Object.entries(seen)) if (at >= nextFloor) kept[id] = at;

	const cursors: Record<string, string> = {};
	if (ordered) {
		for (const scan of scans) {
			const token = resumeToken(scan, nextFloor);
			if (token !== undefined) cursors[String(scan.hasError)] = token;
		}
		// A filter not read this poll keeps its token.
		if (prev) {
			for (const [key, token] of Object.entries(prev.cursors)) {
				if (!scans.some((scan) => String(scan.hasError) === key)) cursors[key] = token;
			}
		}
	}
	const nextState: DataLogWatchState = {
		version: 1,
		scope: options.scope,
		floor: nextFloor,
		seen: kept,
		cursors,
	};
	if (!ordered) nextState.unordered = true;
	return { emissions, nextState, baseline };
}

/** Raises the floor until at most `maxIds` ids are at or above it, never splitting equal times. */
function capFloor(seen: Record<string, number>, floor: number, maxIds: number): number {
	const times = Object.values(seen)
		.filter((at) => at >= floor)
		.sort((a, b) => b - a);
	if (times.length <= maxIds) return floor;
	let best: number | undefined;
	let i = 0;
	while (i < times.length) {
		const value = times[i];
		let j = i;
		while (j < times.length && times[j] === value) j++;
		if (j > maxIds) break;
		best = value;
		i = j;
	}
	// All the kept ids share the newest time: keep them all rather than lose some of them.
	return best === undefined ? times[0] : Math.max(floor, best);
}

/**
 * Where the next poll starts reading: after the last page wholly below the floor (everything up
 * to there is old for good). A scan cut short by the page budget resumes after its last page.
 */
function resumeToken(scan: DataLogScan, floor: number): string | undefined {
	const lastPage = scan.pages[scan.pages.length - 1];
	if (scan.truncated && lastPage?.nextToken) return lastPage.nextToken;
	let token = scan.startToken;
	for (const page of scan.pages) {
		if (!page.nextToken) break;
		const entries = page.entries.filter(isEntry);
		if (entries.length === 0) break;
		const times = entries.map(arrivalOf);
		if (times.some((at) => at === undefined || at >= floor)) break;
		token = page.nextToken;
	}
	return token;
}

/** The output item of one failed entry: what failed, the item, and Rimdian's error. */
export function dataLogEmissionJson(entry: DataLogEntry): Record<string, unknown> {
	let item: unknown = entry.item;
	if (typeof item === 'string') {
		try {
			item = JSON.parse(item);
		} catch {
			// keep Rimdian's text as it is
		}
	}
	const transition = entry.has_error === 1 ? 'item_failed_retryable' : 'item_failed';
	const out: Record<string, unknown> = { transition, ...entry };
	out.transition = transition;
	out.kind = entry.kind ?? null;
	out.has_error = entry.has_error ?? null;
	out.error = entry.error ?? entry.errors ?? null;
	out.item = item;
	return out;
}
