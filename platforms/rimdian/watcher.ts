import type { IDataObject, INodeProperties } from 'n8n-workflow';

import {
	arrivalOf,
	computeDataLogEmissions,
	dataLogEmissionJson,
	isValidDataLogWatchState,
	type DataLogEntry,
	type DataLogPage,
	type DataLogScan,
} from './dataLog';
import {
	PlatformRequestError,
	type PlatformResponse,
	type PlatformTransport,
} from '../../core/transport';
import type { StatusWatcher } from '../../core/platform';
import { attempt, PAGE_BUDGET, WatchError, type PollOutcome } from '../../core/watch';

/** Key of the Rimdian state in the node's static data. */
export const RIMDIAN_STATE_KEY = 'rimdianDataLog';

/** has_error: 2 = failed for good, 1 = failed, Rimdian may retry. */
const NOT_RETRYABLE = 2;
const RETRYABLE = 1;

export interface RimdianWatch {
	workspaceId: string;
	includeRetryable: boolean;
	/** Only items of this kind (empty: every kind). */
	kind: string;
	scope: string;
}

function headerOf(headers: Record<string, unknown>, name: string): unknown {
	const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
	return key === undefined ? undefined : headers[key];
}

async function readPage(
	transport: PlatformTransport,
	watch: RimdianWatch,
	hasError: number,
	token: string | undefined,
): Promise<{ page: DataLogPage; response: PlatformResponse }> {
	const qs: IDataObject = { workspace_id: watch.workspaceId, has_error: hasError, limit: 100 };
	if (watch.kind) qs.kind = watch.kind;
	if (token !== undefined) qs.next_token = token;
	const response = await transport.request(
		{ method: 'GET', url: `${transport.endpoints.api}/api/dataLog.list`, qs, json: true },
		'data log',
	);
	let body = response.body;
	if (typeof body === 'string') {
		try {
			body = JSON.parse(body);
		} catch {
			body = undefined;
		}
	}
	const list = body as { data_logs?: unknown; next_token?: unknown } | undefined;
	if (!list || typeof list !== 'object' || !Array.isArray(list.data_logs)) {
		throw new PlatformRequestError(
			'Rimdian answered the data log with something that is not a data log list (no "data_logs")',
			{ status: response.status, retries: response.retries },
		);
	}
	const nextToken =
		typeof list.next_token === 'string' && list.next_token !== '' ? list.next_token : undefined;
	return { page: { entries: list.data_logs, nextToken }, response };
}

interface ScanResult {
	scan: DataLogScan;
	/** Rimdian's time when the first page was answered (its Date header), if it said. */
	serverTime?: number;
}

/** Reads one filter of the log from a resume token, within the page budget. */
async function readScan(
	transport: PlatformTransport,
	watch: RimdianWatch,
	hasError: number,
	startToken: string | undefined,
): Promise<ScanResult> {
	let first = await attempt(() => readPage(transport, watch, hasError, startToken));
	let from = startToken;
	// A token Rimdian no longer takes (400): read from the start instead; ids already seen stay quiet.
	if (
		'error' in first &&
		startToken !== undefined &&
		first.error instanceof PlatformRequestError &&
		first.error.status === 400
	) {
		from = undefined;
		first = await attempt(() => readPage(transport, watch, hasError, undefined));
	}
	if ('error' in first) throw first.error;
	const date = Date.parse(String(headerOf(first.value.response.headers, 'date') ?? ''));
	const pages: DataLogPage[] = [first.value.page];
	let truncated = false;
	while (pages[pages.length - 1].nextToken !== undefined) {
		if (pages.length >= PAGE_BUDGET) {
			truncated = true;
			break;
		}
		const { page } = await readPage(transport, watch, hasError, pages[pages.length - 1].nextToken);
		pages.push(page);
	}
	return {
		scan: { hasError, startToken: from, pages, truncated },
		serverTime: Number.isNaN(date) ? undefined : date,
	};
}

function filtersOf(watch: RimdianWatch): number[] {
	return watch.includeRetryable ? [NOT_RETRYABLE, RETRYABLE] : [NOT_RETRYABLE];
}

/** The entry that entered the log last, among those read. */
function newestEntry(scans: DataLogScan[]): DataLogEntry | undefined {
	let newest: DataLogEntry | undefined;
	let newestAt = Number.NEGATIVE_INFINITY;
	for (const scan of scans) {
		for (const page of scan.pages) {
			for (const raw of page.entries) {
				const entry = raw as DataLogEntry;
				if (!entry || typeof entry.id !== 'string') continue;
				const at = arrivalOf(entry) ?? Number.NEGATIVE_INFINITY;
				if (!newest || at >= newestAt) {
					newest = entry;
					newestAt = at;
				}
			}
		}
	}
	return newest;
}

/**
 * One check of Rimdian's data log. Manual: the most recent failed entry, and no state.
 * Otherwise: each failed entry not emitted before, and the state to keep.
 */
export async function pollRimdian(
	transport: PlatformTransport,
	watch: RimdianWatch,
	previous: unknown,
	manual: boolean,
	now: () => number,
): Promise<PollOutcome> {
	const known =
		isValidDataLogWatchState(previous) && previous.scope === watch.scope ? previous : undefined;
	const scans: DataLogScan[] = [];
	let serverTime: number | undefined;
	for (const hasError of filtersOf(watch)) {
		const result = await readScan(
			transport,
			watch,
			hasError,
			known?.unordered ? undefined : known?.cursors[String(hasError)],
		);
		scans.push(result.scan);
		serverTime ??= result.serverTime;
	}
	if (manual) {
		let newest = newestEntry(scans);
		// The resume tokens may lie past the last failure: look from the start of the log.
		if (!newest && known) {
			const fromStart: DataLogScan[] = [];
			for (const hasError of filtersOf(watch))
				fromStart.push((await readScan(transport, watch, hasError, undefined)).scan);
			newest = newestEntry(fromStart);
		}
		return { items: newest ? [dataLogEmissionJson(newest) as IDataObject] : [] };
	}
	const result = computeDataLogEmissions(
		previous,
		scans,
		{ scope: watch.scope },
		serverTime ?? now(),
	);
	return {
		items: result.emissions.map((entry) => dataLogEmissionJson(entry) as IDataObject),
		stateKey: RIMDIAN_STATE_KEY,
		nextState: result.nextState,
		baseline: result.baseline,
	};
}

export function hasRimdianBaseline(previous: unknown, scope: string): boolean {
	return isValidDataLogWatchState(previous) && previous.scope === scope;
}

const RIMDIAN = { platform: ['rimdian'] };

/** The Job Status Trigger's fields for Rimdian. */
const triggerProperties: INodeProperties[] = [
	{
		displayName: 'Include Retryable Failures',
		name: 'includeRetryable',
		type: 'boolean',
		default: false,
		description:
			'Whether to fire also for items Rimdian may still retry (has_error 1), besides those it gave up on (has_error 2). Each data log entry fires once either way.',
		displayOptions: { show: RIMDIAN },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: RIMDIAN },
		options: [
			{
				displayName: 'Item Kind',
				name: 'kind',
				type: 'string',
				default: '',
				placeholder: 'e.g. order',
				description: 'Only items of this kind (user, order, pageview…); empty for every kind',
			},
		],
	},
];

/** The Job Status Trigger on Rimdian: failed items of its data log. */
export const rimdianWatcher: StatusWatcher<RimdianWatch> = {
	subtitle: 'Rimdian failed items',
	description: 'Items the collector accepted ("queued") but could not process, from its data log',
	triggerProperties,
	stateKey: RIMDIAN_STATE_KEY,
	readWatch({ parameter, credentials, endpoints, credentialId }) {
		const workspaceId = String(credentials.workspaceId ?? '').trim();
		if (workspaceId === '') throw new WatchError('The Rimdian credential has no workspace ID');
		const options = parameter('options', {}) as IDataObject;
		const kind = String(options.kind ?? '').trim();
		const includeRetryable = parameter('includeRetryable', false) as boolean;
		const scope = JSON.stringify(['rimdian', endpoints.api, credentialId, workspaceId, kind]);
		return { watch: { workspaceId, includeRetryable, kind, scope }, scope };
	},
	hasBaseline: hasRimdianBaseline,
	poll: pollRimdian,
};
