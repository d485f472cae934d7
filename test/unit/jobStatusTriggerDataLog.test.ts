/**
 * The Rimdian side of the Job Status Trigger: which data-log entries fire (platforms/rimdian/dataLog.ts).
 *   npx jest test/unit/jobStatusTriggerDataLog.test.ts
 */
import assert from 'node:assert/strict';

import {
	computeDataLogEmissions,
	dataLogEmissionJson,
	type DataLogEntry,
	type DataLogScan,
	type DataLogWatchState,
} from '../../platforms/rimdian/dataLog';

const T0 = Date.UTC(2025, 0, 10, 12, 0, 0);
const S = 1000;
const scope = 'rimdian|test';

function entry(id: string, atMs: number, hasError = 2, extra: Record<string, unknown> = {}): DataLogEntry {
	return {
		id,
		origin: 1,
		kind: 'order',
		has_error: hasError,
		error: `bad ${id}`,
		item: { kind: 'order', order: { external_id: id } },
		event_at: '2020-01-01T00:00:00.000Z',
		created_at: new Date(atMs).toISOString(),
		...extra,
	};
}

/** A scan of one filter: the entries cut into pages of `pageSize`, tokens naming the last entry. */
function scan(entries: DataLogEntry[], options: { hasError?: number; pageSize?: number; startToken?: string; budget?: number } = {}): DataLogScan {
	const size = options.pageSize ?? 100;
	const pages = [];
	for (let i = 0; i < Math.max(1, entries.length); i += size) {
		const chunk = entries.slice(i, i + size);
		const more = i + size < entries.length;
		pages.push({ entries: chunk, nextToken: more ? `after:${chunk[chunk.length - 1].id}` : undefined });
	}
	const budget = options.budget ?? Number.POSITIVE_INFINITY;
	return { hasError: options.hasError ?? 2, startToken: options.startToken, pages: pages.slice(0, budget), truncated: pages.length > budget };
}

/** The log after a token: what a resumed read would see. */
function after(log: DataLogEntry[], token: string | undefined): DataLogEntry[] {
	if (token === undefined) return log;
	const id = token.slice('after:'.length);
	const index = log.findIndex((e) => e.id === id);
	return index < 0 ? log : log.slice(index + 1);
}

const ids = (entries: DataLogEntry[]) => entries.map((e) => e.id);

describe('baseline and once-only', () => {
	test('the first poll records the log as it is and emits nothing; later entries fire once each', () => {
		const old = [entry('a', T0 - 60 * S), entry('b', T0 - 5 * S)];
		const first = computeDataLogEmissions(undefined, [scan(old)], { scope }, T0);
		assert.equal(first.baseline, true);
		assert.deepEqual(first.emissions, []);
		assert.equal(first.nextState.floor, T0);

		const log = [...old, entry('c', T0 + 10 * S), entry('d', T0 + 11 * S)];
		const second = computeDataLogEmissions(first.nextState, [scan(log)], { scope }, T0 + 60 * S);
		assert.deepEqual(ids(second.emissions), ['c', 'd']);
		const third = computeDataLogEmissions(second.nextState, [scan(log)], { scope }, T0 + 120 * S);
		assert.deepEqual(third.emissions, []);
	});

	test('entries in the baseline second that were read at baseline stay quiet; later ones of that second fire', () => {
		const atBaseline = [entry('x', T0 + 200)];
		const first = computeDataLogEmissions(undefined, [scan(atBaseline)], { scope }, T0);
		assert.deepEqual(first.emissions, []);
		const second = computeDataLogEmissions(first.nextState, [scan([...atBaseline, entry('y', T0 + 700)])], { scope }, T0 + S);
		assert.deepEqual(ids(second.emissions), ['y']);
	});

	test('a state of another scope (workspace, kind, account) starts a new baseline', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const other = computeDataLogEmissions(first.nextState, [scan([entry('a', T0 + S)])], { scope: 'rimdian|other' }, T0 + 2 * S);
		assert.equal(other.baseline, true);
		assert.deepEqual(other.emissions, []);
		for (const junk of [null, 1, { version: 1, scope, floor: 'x', seen: {}, cursors: {} }]) {
			assert.equal(computeDataLogEmissions(junk, [scan([])], { scope }, T0).baseline, true);
		}
	});

	test('an entry listed under both has_error filters (1, then 2 after a retry) fires once', () => {
		const first = computeDataLogEmissions(undefined, [scan([], { hasError: 2 }), scan([], { hasError: 1 })], { scope }, T0);
		const retryable = entry('r', T0 + S, 1);
		const second = computeDataLogEmissions(first.nextState, [scan([], { hasError: 2 }), scan([retryable], { hasError: 1 })], { scope }, T0 + 2 * S);
		assert.deepEqual(ids(second.emissions), ['r']);
		const third = computeDataLogEmissions(second.nextState, [scan([entry('r', T0 + S, 2)], { hasError: 2 }), scan([], { hasError: 1 })], { scope }, T0 + 3 * S);
		assert.deepEqual(third.emissions, []);
	});

	test('the same entry twice in one answer (overlapping pages) fires once', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const e = entry('dup', T0 + S);
		const second = computeDataLogEmissions(first.nextState, [scan([e, e], { pageSize: 1 })], { scope }, T0 + 2 * S);
		assert.deepEqual(ids(second.emissions), ['dup']);
	});

	test('the state survives a JSON round trip (n8n stores it with the workflow)', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const second = computeDataLogEmissions(first.nextState, [scan([entry('a', T0 + S)])], { scope }, T0 + 2 * S);
		const copy = JSON.parse(JSON.stringify(second.nextState));
		const third = computeDataLogEmissions(copy, [scan([entry('a', T0 + S), entry('b', T0 + 3 * S)])], { scope }, T0 + 4 * S);
		assert.deepEqual(ids(third.emissions), ['b']);
	});
});

describe('equal and late timestamps', () => {
	test('entries sharing one timestamp with an entry already emitted still fire, each once', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const t = T0 + 5 * S;
		const second = computeDataLogEmissions(first.nextState, [scan([entry('m', t)])], { scope }, t);
		// Two more entries enter the log in the same millisecond, one sorting before "m".
		const third = computeDataLogEmissions(second.nextState, [scan([entry('a', t), entry('m', t), entry('z', t)])], { scope }, t + S);
		assert.deepEqual(ids(second.emissions), ['m']);
		assert.deepEqual(ids(third.emissions), ['a', 'z']);
	});

	test('an entry entering the log late with a time a little older than the newest one still fires', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const second = computeDataLogEmissions(first.nextState, [scan([entry('new', T0 + 100 * S)])], { scope }, T0 + 100 * S);
		const late = entry('late', T0 + 70 * S);
		const third = computeDataLogEmissions(second.nextState, [scan([late, entry('new', T0 + 100 * S)])], { scope }, T0 + 101 * S);
		assert.deepEqual(ids(third.emissions), ['late']);
	});

	test('entries older than the floor never fire (what the baseline left behind stays behind)', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const second = computeDataLogEmissions(first.nextState, [scan([entry('ancient', T0 - 3600 * S)])], { scope }, T0 + S);
		assert.deepEqual(second.emissions, []);
	});

	test('an entry that does not say when it entered the log fires once, by its id', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const undated = { id: 'u', has_error: 2, error: 'x' };
		const second = computeDataLogEmissions(first.nextState, [scan([undated as DataLogEntry])], { scope }, T0 + S);
		const third = computeDataLogEmissions(second.nextState, [scan([undated as DataLogEntry])], { scope }, T0 + 2 * S);
		assert.deepEqual(ids(second.emissions), ['u']);
		assert.deepEqual(third.emissions, []);
	});

	test('db_created_at or context.received_at stand in for created_at', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const real = { id: 'r', has_error: 2, errors: { user: 'bad' }, db_created_at: new Date(T0 - 3600 * S).toISOString() };
		const second = computeDataLogEmissions(first.nextState, [scan([real as DataLogEntry])], { scope }, T0 + S);
		assert.deepEqual(second.emissions, [], 'entered the log an hour before the baseline');
	});
});

describe('paging and bounds', () => {
	test('the resume token follows the last page wholly below the floor, so a check reads only the recent tail', () => {
		const log: DataLogEntry[] = [];
		// e150…e249 entered the log in the 100 s up to the baseline (the server's Date says T0 + 100 s).
		for (let i = 0; i < 250; i++) log.push(entry(`e${String(i).padStart(3, '0')}`, T0 - 150 * S + i * S));
		const first = computeDataLogEmissions(undefined, [scan(log)], { scope }, T0);
		assert.deepEqual(first.emissions, []);
		assert.equal(first.nextState.cursors['2'], 'after:e099', 'page 1 is old for good; page 2 reaches into the margin');
		log.push(entry('fresh', T0 + 110 * S));
		const resumed = scan(after(log, first.nextState.cursors['2']), { startToken: first.nextState.cursors['2'] });
		const second = computeDataLogEmissions(first.nextState, [resumed], { scope }, T0 + 120 * S);
		assert.deepEqual(ids(second.emissions), ['fresh']);
		assert.equal(second.nextState.cursors['2'], 'after:e199', 'the tail moved on: page 2 is now old for good');
	});

	test('a scan cut short by the page budget resumes after its last page, and loses nothing', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const log: DataLogEntry[] = [];
		for (let i = 0; i < 35; i++) log.push(entry(`n${String(i).padStart(2, '0')}`, T0 + (i + 1) * S));
		let state: DataLogWatchState = first.nextState;
		const emitted: string[] = [];
		for (let poll = 0; poll < 6; poll++) {
			const token = state.cursors['2'];
			const result = computeDataLogEmissions(state, [scan(after(log, token), { pageSize: 10, budget: 2, startToken: token })], { scope }, T0 + 100 * S);
			emitted.push(...ids(result.emissions));
			state = result.nextState;
		}
		assert.deepEqual(emitted, ids(log));
	});

	test('a listing that is not in time order keeps no resume token but still fires each entry once', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const log = [entry('b', T0 + 5 * S), entry('a', T0 + 2 * S), entry('c', T0 + 9 * S)];
		const second = computeDataLogEmissions(first.nextState, [scan(log, { pageSize: 1 })], { scope }, T0 + 10 * S);
		assert.equal(second.nextState.unordered, true);
		assert.deepEqual(second.nextState.cursors, {});
		assert.deepEqual(ids(second.emissions), ['b', 'a', 'c']);
		const third = computeDataLogEmissions(second.nextState, [scan([entry('d', T0 + 11 * S), ...log], { pageSize: 1 })], { scope }, T0 + 12 * S);
		assert.deepEqual(ids(third.emissions), ['d']);
	});

	test('a filter not read this check (retryable turned off) keeps its token', () => {
		const first = computeDataLogEmissions(undefined, [scan([], { hasError: 2 }), scan([], { hasError: 1 })], { scope }, T0);
		const state = { ...first.nextState, cursors: { '1': 'after:x', '2': 'after:y' } };
		const second = computeDataLogEmissions(state, [scan([], { hasError: 2, startToken: 'after:y' })], { scope }, T0 + S);
		assert.equal(second.nextState.cursors['1'], 'after:x');
	});

	test('at most maxIds ids are kept, and never split within one timestamp', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const log: DataLogEntry[] = [];
		for (let i = 0; i < 40; i++) log.push(entry(`i${String(i).padStart(2, '0')}`, T0 + Math.floor(i / 4) * 100));
		const second = computeDataLogEmissions(first.nextState, [scan(log)], { scope, maxIds: 10 }, T0 + S);
		assert.equal(second.emissions.length, 40);
		const kept = Object.keys(second.nextState.seen).length;
		assert.ok(kept <= 10 && kept > 0, `kept ${kept}`);
		assert.equal(kept % 4, 0, 'whole timestamps only');
		// Re-reading the whole log fires nothing: the forgotten ids are below the raised floor.
		const third = computeDataLogEmissions(second.nextState, [scan(log)], { scope, maxIds: 10 }, T0 + 2 * S);
		assert.deepEqual(third.emissions, []);
	});

	test('ids fall out of the state once the floor passes them', () => {
		const first = computeDataLogEmissions(undefined, [scan([])], { scope }, T0);
		const second = computeDataLogEmissions(first.nextState, [scan([entry('a', T0 + S)])], { scope }, T0 + S);
		const third = computeDataLogEmissions(second.nextState, [scan([entry('a', T0 + S), entry('b', T0 + 600 * S)])], { scope }, T0 + 600 * S);
		assert.deepEqual(ids(third.emissions), ['b']);
		assert.deepEqual(Object.keys(third.nextState.seen), ['b']);
	});
});

describe('output', () => {
	test('an emission has the transition, the item (parsed when Rimdian sent text) and the error', () => {
		const json = dataLogEmissionJson(entry('a', T0, 2, { item: '{"kind":"order","order":{"domain_id":"nope"}}', error: 'domain_id nope not found' }));
		assert.equal(json.transition, 'item_failed');
		assert.equal(json.id, 'a');
		assert.equal(json.has_error, 2);
		assert.equal(json.error, 'domain_id nope not found');
		assert.deepEqual(json.item, { kind: 'order', order: { domain_id: 'nope' } });
		const retryable = dataLogEmissionJson({ id: 'b', has_error: 1, errors: { order: 'timeout' } });
		assert.equal(retryable.transition, 'item_failed_retryable');
		assert.deepEqual(retryable.error, { order: 'timeout' });
	});
});
