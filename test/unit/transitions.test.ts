/**
 * The pure transition logic of the Job Status Trigger (platforms/userpilot/transitions.ts).
 *   npx jest test/unit/transitions.test.ts
 */
import assert from 'node:assert/strict';

import {
	computeTransitions,
	emissionJson,
	jobsToRefresh,
	sampleEmission,
	timeOf,
	type JobEvent,
	type JobWatchState,
	type ObservedJob,
	type TransitionOptions,
} from '../../platforms/userpilot/transitions';

const ALL: JobEvent[] = ['completed', 'failed', 'newJob', 'statusChanged'];
const FINALS: JobEvent[] = ['completed', 'failed'];
const T0 = Date.UTC(2025, 4, 19, 7, 0, 0);
const MIN = 60_000;
const DAY = 24 * 3600 * 1000;

function job(id: string, status: string, minute = 0, extra: Record<string, unknown> = {}): ObservedJob {
	const start = new Date(T0 + minute * MIN).toISOString().slice(0, 23) + '000';
	return { job_id: id, status, start_time: start, filename: `${id}.ndjson`, total_rows: 0, ...extra };
}

function opts(events: JobEvent[] = FINALS, extra: Partial<TransitionOptions> = {}): TransitionOptions {
	return { events, scope: 'userpilot|test', ...extra };
}

/** Runs polls one after the other, threading the state; returns every poll's emissions. */
function run(polls: ObservedJob[][], options: TransitionOptions, times?: number[], start?: JobWatchState) {
	let state: unknown = start;
	const all: Array<ReturnType<typeof computeTransitions>> = [];
	polls.forEach((jobs, i) => {
		const result = computeTransitions(state, jobs, options, times ? times[i] : T0 + i * MIN);
		all.push(result);
		state = result.nextState;
	});
	return { results: all, state: state as JobWatchState, emitted: all.flatMap((r) => r.emissions) };
}

const summary = (emissions: Array<{ transition: string; previousStatus: string | null; job: ObservedJob }>) =>
	emissions.map((e) => `${e.job.job_id}:${e.previousStatus ?? '-'}>${e.transition}`);

describe('baseline', () => {
	test('the first poll records every job and emits nothing, whatever their status', () => {
		const result = computeTransitions(undefined, [job('a', 'completed'), job('b', 'failed'), job('c', 'processing')], opts(ALL), T0);
		assert.equal(result.baseline, true);
		assert.deepEqual(result.emissions, []);
		assert.deepEqual(Object.keys(result.nextState.jobs).sort(), ['a', 'b', 'c']);
		assert.equal(result.nextState.jobs.c.status, 'processing');
		assert.equal(result.nextState.baselineAt, T0);
	});

	test('an empty first poll is a baseline too: the next job is new', () => {
		const { results, emitted } = run([[], [job('a', 'queued')]], opts(ALL));
		assert.equal(results[0].baseline, true);
		assert.equal(results[1].baseline, false);
		assert.deepEqual(summary(emitted), ['a:->new_job']);
	});

	test('a state of another scope (platform, account, job) or of an unknown shape starts a new baseline', () => {
		const first = computeTransitions(undefined, [job('a', 'queued')], opts(ALL), T0);
		const other = computeTransitions(first.nextState, [job('a', 'completed')], opts(ALL, { scope: 'userpilot|other' }), T0 + MIN);
		assert.equal(other.baseline, true);
		assert.deepEqual(other.emissions, []);
		for (const junk of [null, 42, 'x', { version: 2, jobs: {} }, { version: 1, scope: 'userpilot|test', jobs: [] }]) {
			const result = computeTransitions(junk, [job('a', 'completed')], opts(ALL), T0);
			assert.equal(result.baseline, true, JSON.stringify(junk));
			assert.deepEqual(result.emissions, []);
		}
	});

	test('the state is plain JSON (n8n stores it in the workflow): a round trip changes nothing', () => {
		const { state } = run([[job('a', 'queued')], [job('a', 'processing'), job('b', 'queued')]], opts(ALL));
		const copy = JSON.parse(JSON.stringify(state));
		assert.deepEqual(copy, state);
		const next = computeTransitions(copy, [job('a', 'completed'), job('b', 'queued')], opts(ALL), T0 + 5 * MIN);
		assert.deepEqual(summary(next.emissions), ['a:processing>completed']);
	});
});

describe('transitions between two polls', () => {
	test('queued → completed between two polls: completed once, with previous_status queued', () => {
		const { emitted } = run(
			[[job('a', 'queued')], [job('a', 'completed')], [job('a', 'completed')], [job('a', 'completed')]],
			opts(FINALS),
		);
		assert.deepEqual(summary(emitted), ['a:queued>completed']);
	});

	test('several jobs each going through several statuses between two polls: one emission each', () => {
		const { emitted } = run(
			[
				[job('a', 'queued', 1), job('b', 'validating', 2), job('c', 'processing', 3)],
				[job('a', 'failed', 1), job('b', 'completed', 2), job('c', 'pending_refresh', 3)],
			],
			opts(FINALS),
		);
		assert.deepEqual(summary(emitted), ['a:queued>failed', 'b:validating>completed']);
	});

	test('any status change: every step seen fires once, final ones as status_changed when not picked', () => {
		const { emitted } = run(
			[
				[job('a', 'queued')],
				[job('a', 'validating')],
				[job('a', 'validating')],
				[job('a', 'pending_refresh')],
				[job('a', 'completed')],
			],
			opts(['statusChanged']),
		);
		assert.deepEqual(summary(emitted), [
			'a:queued>status_changed',
			'a:validating>status_changed',
			'a:pending_refresh>status_changed',
		]);
	});

	test('completed and failed are more specific than a status change', () => {
		const { emitted } = run([[job('a', 'queued'), job('b', 'queued', 1)], [job('a', 'processing'), job('b', 'failed', 1)]], opts(ALL));
		assert.deepEqual(summary(emitted), ['a:queued>status_changed', 'b:queued>failed']);
	});

	test('only the picked final status fires', () => {
		const { emitted } = run([[job('a', 'queued'), job('b', 'queued', 1)], [job('a', 'completed'), job('b', 'failed', 1)]], opts(['failed']));
		assert.deepEqual(summary(emitted), ['b:queued>failed']);
	});

	test('emissions come oldest job first, whatever the order of the list', () => {
		const { emitted } = run(
			[
				[job('x', 'queued', 9), job('y', 'queued', 2), job('z', 'queued', 5)],
				[job('y', 'completed', 2), job('x', 'completed', 9), job('z', 'completed', 5)],
			],
			opts(FINALS),
		);
		assert.deepEqual(summary(emitted), ['y:queued>completed', 'z:queued>completed', 'x:queued>completed']);
	});

	test('jobs whose order in the list changes from poll to poll fire nothing by that alone', () => {
		const jobs = [job('a', 'completed', 1), job('b', 'processing', 2), job('c', 'failed', 3)];
		const { emitted } = run([jobs, [...jobs].reverse(), [jobs[1], jobs[2], jobs[0]]], opts(ALL));
		assert.deepEqual(emitted, []);
	});

	test('the emitted job is the one seen now, with all its fields', () => {
		const done = job('a', 'completed', 0, { total_rows: 3, elapsed_time: 6, end_time: '2025-05-19T07:00:06.000000' });
		const { emitted } = run([[job('a', 'queued')], [done]], opts(FINALS));
		assert.equal(emitted[0].job, done);
	});
});

describe('new jobs after the baseline', () => {
	test('a new job already completed at first sight fires completed (previous_status null)', () => {
		const { emitted } = run([[job('old', 'completed')], [job('new', 'completed', 5), job('old', 'completed')]], opts(FINALS));
		assert.deepEqual(summary(emitted), ['new:->completed']);
	});

	test('a new job already failed, with New Job also picked, fires failed (the most specific)', () => {
		const { emitted } = run([[], [job('new', 'failed', 5)]], opts(['failed', 'newJob']));
		assert.deepEqual(summary(emitted), ['new:->failed']);
	});

	test('a new running job fires new_job, or status_changed when only that is picked, or nothing', () => {
		assert.deepEqual(summary(run([[], [job('n', 'queued')]], opts(['newJob'])).emitted), ['n:->new_job']);
		assert.deepEqual(summary(run([[], [job('n', 'queued')]], opts(['statusChanged'])).emitted), ['n:->status_changed']);
		assert.deepEqual(run([[], [job('n', 'queued')]], opts(FINALS)).emitted, []);
	});

	test('new_job fires once, and later transitions of that job still fire', () => {
		const { emitted } = run([[], [job('n', 'queued')], [job('n', 'processing')], [job('n', 'completed')], [job('n', 'completed')]], opts(['newJob', 'completed']));
		assert.deepEqual(summary(emitted), ['n:->new_job', 'n:processing>completed']);
	});
});

describe('glitches', () => {
	test('duplicates in one list: the most advanced status counts, and it fires once', () => {
		const { emitted, state } = run(
			[[job('a', 'queued')], [job('a', 'processing'), job('a', 'completed'), job('a', 'queued'), job('a', 'completed')]],
			opts(ALL),
		);
		assert.deepEqual(summary(emitted), ['a:queued>completed']);
		assert.equal(state.jobs.a.status, 'completed');
	});

	test('duplicates in one list: a less advanced copy after the final one does not hide it', () => {
		const { emitted } = run([[job('a', 'queued')], [job('a', 'completed'), job('a', 'processing')]], opts(FINALS));
		assert.deepEqual(summary(emitted), ['a:queued>completed']);
	});

	test('a duplicated new job fires once', () => {
		const { emitted } = run([[], [job('n', 'failed'), job('n', 'failed')]], opts(FINALS));
		assert.deepEqual(summary(emitted), ['n:->failed']);
	});

	test('a status going backwards (stale read) fires nothing, and the way forward again fires nothing twice', () => {
		const { emitted, state } = run(
			[[job('a', 'queued')], [job('a', 'processing')], [job('a', 'validating')], [job('a', 'processing')], [job('a', 'completed')]],
			opts(['statusChanged', 'completed']),
		);
		assert.deepEqual(summary(emitted), ['a:queued>status_changed', 'a:processing>completed']);
		assert.equal(state.jobs.a.status, 'completed');
	});

	test('a final status is final: completed → processing → completed, or completed → failed, fire nothing more', () => {
		const { emitted } = run(
			[
				[job('a', 'queued'), job('b', 'queued', 1)],
				[job('a', 'completed'), job('b', 'failed', 1)],
				[job('a', 'processing'), job('b', 'completed', 1)],
				[job('a', 'completed'), job('b', 'failed', 1)],
			],
			opts(ALL),
		);
		assert.deepEqual(summary(emitted), ['a:queued>completed', 'b:queued>failed']);
	});

	test('a status the life cycle does not know is a change, and so is the way back from it', () => {
		const { emitted } = run([[job('a', 'queued')], [job('a', 'paused')], [job('a', 'processing')]], opts(['statusChanged']));
		assert.deepEqual(summary(emitted), ['a:queued>status_changed', 'a:paused>status_changed']);
	});

	test('entries without a job_id or a status are ignored', () => {
		const junk = [null, 7, { status: 'completed' }, { job_id: '', status: 'completed' }, { job_id: 'x' }] as unknown as ObservedJob[];
		const { emitted } = run([[], junk], opts(ALL));
		assert.deepEqual(emitted, []);
	});
});

describe('jobs that disappear', () => {
	test('a job missing from the list is kept: when it comes back later, only a real change fires', () => {
		const { emitted, state } = run(
			[[job('a', 'processing'), job('b', 'queued', 1)], [job('b', 'queued', 1)], [job('b', 'queued', 1)], [job('a', 'completed'), job('b', 'queued', 1)]],
			opts(FINALS),
		);
		assert.deepEqual(summary(emitted), ['a:processing>completed']);
		assert.equal(state.jobs.a.missed, 0);
	});

	test('a missing job comes back unchanged: nothing fires', () => {
		const { emitted } = run([[job('a', 'completed')], [], [], [job('a', 'completed')]], opts(ALL));
		assert.deepEqual(emitted, []);
	});

	test('a final job missing for long enough and for enough polls is forgotten', () => {
		const times = [T0, T0 + 1 * DAY, T0 + 2 * DAY, T0 + 9 * DAY];
		const { state } = run([[job('a', 'completed'), job('b', 'completed', 1)], [job('b', 'completed', 1)], [job('b', 'completed', 1)], [job('b', 'completed', 1)]], opts(FINALS), times);
		assert.deepEqual(Object.keys(state.jobs), ['b']);
		assert.equal(state.evictedThrough, timeOf(job('a', 'completed').start_time));
	});

	test('a forgotten final job that is listed again stays quiet', () => {
		const times = [T0, T0 + DAY, T0 + 2 * DAY, T0 + 9 * DAY, T0 + 10 * DAY];
		const { emitted } = run(
			[[job('a', 'completed', 0), job('b', 'completed', 1)], [job('b', 'completed', 1)], [job('b', 'completed', 1)], [job('b', 'completed', 1)], [job('a', 'completed', 0), job('b', 'completed', 1)]],
			opts(ALL),
			times,
		);
		assert.deepEqual(emitted, []);
	});

	test('a running job missing from the list is kept four times longer', () => {
		const times = [T0, T0 + DAY, T0 + 2 * DAY, T0 + 9 * DAY, T0 + 29 * DAY];
		const { results } = run([[job('a', 'processing')], [], [], [], []], opts(FINALS), times);
		assert.ok(results[3].nextState.jobs.a, 'kept after 9 days');
		assert.equal(results[4].nextState.jobs.a, undefined, 'forgotten after 29 days');
	});

	test('jobsToRefresh names the running jobs missing from the list, least missed first', () => {
		const { state } = run([[job('a', 'processing'), job('b', 'queued', 1), job('c', 'completed', 2)], [job('c', 'completed', 2)], [job('c', 'completed', 2), job('a', 'processing')]], opts(FINALS));
		assert.deepEqual(jobsToRefresh(state, [job('c', 'completed', 2)], 10), ['a', 'b']);
		assert.deepEqual(jobsToRefresh(state, [job('c', 'completed', 2)], 1), ['a']);
		assert.deepEqual(jobsToRefresh(undefined, [], 10), []);
	});
});

describe('clock', () => {
	test('a clock set back fires nothing twice and forgets nothing early', () => {
		const times = [T0, T0 + MIN, T0 - 30 * DAY, T0 - 30 * DAY + MIN, T0 + 2 * MIN];
		const { emitted, results } = run(
			[[job('a', 'queued')], [job('a', 'completed')], [job('a', 'completed')], [], [job('a', 'completed'), job('b', 'failed', 3)]],
			opts(FINALS),
			times,
		);
		assert.deepEqual(summary(emitted), ['a:queued>completed', 'b:->failed']);
		assert.equal(results[2].nextState.clock, T0 + MIN, 'the watch clock never goes backwards');
		assert.ok(results[3].nextState.jobs.a);
	});

	test('a clock jumping forward a year does not forget a job that missed one listing', () => {
		const times = [T0, T0 + MIN, T0 + 365 * DAY, T0 + 365 * DAY + MIN];
		const { emitted, results } = run([[job('a', 'completed')], [job('a', 'completed')], [], [job('a', 'completed')]], opts(ALL), times);
		assert.deepEqual(emitted, []);
		assert.ok(results[2].nextState.jobs.a, 'one missed poll is not enough to forget');
	});

	test('a clock jumping forward, then back, keeps working', () => {
		const times = [T0, T0 + 365 * DAY, T0 + 2 * MIN, T0 + 3 * MIN];
		const { emitted } = run([[job('a', 'queued')], [job('a', 'processing')], [job('a', 'completed')], [job('a', 'completed'), job('b', 'completed', 5)]], opts(FINALS), times);
		assert.deepEqual(summary(emitted), ['a:processing>completed', 'b:->completed']);
	});

	test('a clock that is not a number does not break the state', () => {
		const { emitted, state } = run([[job('a', 'queued')], [job('a', 'completed')]], opts(FINALS), [T0, Number.NaN]);
		assert.deepEqual(summary(emitted), ['a:queued>completed']);
		assert.equal(state.clock, T0);
	});
});

describe('one job only', () => {
	test('other jobs are ignored and not remembered', () => {
		const { emitted, state } = run(
			[[job('a', 'queued'), job('b', 'queued', 1)], [job('a', 'completed'), job('b', 'completed', 1), job('c', 'failed', 2)]],
			opts(ALL, { jobId: 'b' }),
		);
		assert.deepEqual(summary(emitted), ['b:queued>completed']);
		assert.deepEqual(Object.keys(state.jobs), ['b']);
	});

	test('a watched job that does not exist yet fires when it appears', () => {
		const { emitted } = run([[], [job('w', 'processing')], [job('w', 'completed')]], opts(FINALS, { jobId: 'w' }));
		assert.deepEqual(summary(emitted), ['w:processing>completed']);
	});
});

describe('bounds', () => {
	test('at most maxJobs are remembered: final unlisted ones go first, running ones never', () => {
		const first = [job('run1', 'processing', 1), job('old1', 'completed', 2), job('old2', 'failed', 3)];
		const second = [job('run1', 'processing', 1), job('n1', 'completed', 4), job('n2', 'completed', 5), job('run2', 'queued', 6)];
		const { state, emitted } = run([first, second], opts(FINALS, { maxJobs: 4 }));
		assert.deepEqual(summary(emitted), ['n1:->completed', 'n2:->completed']);
		assert.deepEqual(Object.keys(state.jobs).sort(), ['n1', 'n2', 'run1', 'run2']);
	});

	test('listed final jobs evicted by the cap stay quiet when seen again', () => {
		const jobs = Array.from({ length: 10 }, (_, i) => job(`j${i}`, 'completed', i));
		const { state, emitted } = run([jobs, jobs, jobs, [...jobs, job('new', 'completed', 20)]], opts(ALL, { maxJobs: 3 }));
		assert.ok(Object.keys(state.jobs).length <= 3);
		assert.deepEqual(summary(emitted), ['new:->completed']);
	});

	test('thousands of jobs over many polls keep the state bounded', () => {
		let state: unknown;
		let emitted = 0;
		for (let poll = 0; poll < 60; poll++) {
			const jobs = Array.from({ length: 100 }, (_, i) => job(`p${poll}-${i}`, 'completed', poll * 100 + i));
			const result = computeTransitions(state, jobs, opts(FINALS, { maxJobs: 500 }), T0 + poll * DAY);
			emitted += result.emissions.length;
			state = result.nextState;
		}
		assert.equal(emitted, 59 * 100);
		assert.ok(Object.keys((state as JobWatchState).jobs).length <= 500);
	});
});

describe('output', () => {
	test('an emission carries the job, previous_status, transition, elapsed_time, total_rows and every reason', () => {
		const reasons = Array.from({ length: 100 }, (_, i) => `Required field \`user_id\` not provided in row ${i}`);
		const json = emissionJson({
			transition: 'failed',
			previousStatus: 'validating',
			job: job('a', 'failed', 0, { reason_for_failure: reasons, total_rows: 0, elapsed_time: 2, links: '/v1/background_jobs/a' }),
		});
		assert.equal(json.job_id, 'a');
		assert.equal(json.status, 'failed');
		assert.equal(json.transition, 'failed');
		assert.equal(json.previous_status, 'validating');
		assert.equal(json.elapsed_time, 2);
		assert.equal(json.total_rows, 0);
		assert.equal(json.links, '/v1/background_jobs/a');
		assert.deepEqual(json.reason_for_failure, reasons);
	});

	test('elapsed_time is worked out from start and end when missing; absent fields are null or []', () => {
		const json = emissionJson({
			transition: 'completed',
			previousStatus: null,
			job: { job_id: 'a', status: 'completed', start_time: '2025-05-19T07:22:54.409499', end_time: '2025-05-19T07:23:00.354452' },
		});
		assert.equal(json.elapsed_time, 6);
		assert.equal(json.total_rows, null);
		assert.deepEqual(json.reason_for_failure, []);
		const running = emissionJson({ transition: 'new_job', previousStatus: null, job: { job_id: 'b', status: 'queued' } });
		assert.equal(running.elapsed_time, null);
	});

	test('the manual sample is the most recent job, shaped like an emission', () => {
		const sample = sampleEmission([job('a', 'completed', 1), job('c', 'processing', 9), job('b', 'failed', 5)]);
		assert.equal(sample?.job.job_id, 'c');
		assert.equal(sample?.transition, 'status_changed');
		assert.equal(sample?.previousStatus, null);
		assert.equal(sampleEmission([job('a', 'failed')])?.transition, 'failed');
		assert.equal(sampleEmission([]), undefined);
	});

	test('timeOf reads Userpilot naive UTC times and ISO times alike', () => {
		assert.equal(timeOf('2025-05-19T07:23:00.354452'), Date.UTC(2025, 4, 19, 7, 23, 0, 354));
		assert.equal(timeOf('2025-05-19 07:23:00'), Date.UTC(2025, 4, 19, 7, 23, 0));
		assert.equal(timeOf('2025-05-19T09:23:00+02:00'), Date.UTC(2025, 4, 19, 7, 23, 0));
		assert.equal(timeOf(''), undefined);
		assert.equal(timeOf('soon'), undefined);
		assert.equal(timeOf(undefined), undefined);
	});
});
