/**
 * Which transitions of import jobs a polling trigger emits, and the state it keeps between polls
 * so that each one is emitted once and only once. Pure: no I/O, no n8n, the clock is an argument.
 *
 *   const { emissions, nextState } = computeTransitions(previousState, jobsNow, options, Date.now());
 *
 * The state records, per job id, the last status accepted for it. A poll compares what the
 * platform says now with that record:
 * - no valid state (first poll, or another scope: platform, account or watched job changed):
 *   baseline, everything is recorded and nothing is emitted;
 * - a job never seen after the baseline: it is new; it fires `completed`/`failed` when it is
 *   already final (and that event is picked), else `new_job`, else `status_changed`;
 * - a known job whose status moved forward: `completed`/`failed` when it reached that final
 *   status (and the event is picked), else `status_changed`; however many steps it took between
 *   two polls, that is one emission, whose `previousStatus` is the status recorded before;
 * - a final status is never left (a later different answer is a glitch), and a move backwards
 *   in the life cycle (a stale read) is ignored, so nothing can fire twice for one job.
 * Jobs missing from the listing are kept, and forgotten only after several polls and a while
 * (both, so that a clock jumping forward cannot make a listed job look new); the newest start
 * time among forgotten jobs is remembered so that a forgotten final job reappearing stays quiet.
 */

/** The events a user can pick. */
export type JobEvent = 'completed' | 'failed' | 'newJob' | 'statusChanged';

/** What an emission says happened. */
export type JobTransition = 'completed' | 'failed' | 'new_job' | 'status_changed';

/** A job as the platform lists it (any other fields are kept as they are). */
export interface ObservedJob {
	job_id: string;
	status: string;
	start_time?: string | null;
	[key: string]: unknown;
}

/** What is remembered of one job. */
export interface JobRecord {
	/** The last status accepted for the job. */
	status: string;
	/** Watch clock (ms) when the job was last seen. */
	seenAt: number;
	/** Polls in a row the job was missing. */
	missed: number;
	/** The job's start_time as the platform wrote it. */
	startTime?: string;
}

export interface JobWatchState {
	version: 1;
	/** What is watched (platform, account, job filter); another scope starts a new baseline. */
	scope: string;
	/** Watch clock when the baseline was taken. */
	baselineAt: number;
	/** Never goes backwards: the latest `now` seen. */
	clock: number;
	jobs: Record<string, JobRecord>;
	/** Newest start time (ms) of a forgotten job: unknown final jobs that started no later are old. */
	evictedThrough?: number;
}

export interface JobLifecycle {
	/** Non-final statuses, in the order a job goes through them. */
	steps: readonly string[];
	/** Final statuses (a job ends in one of them and stays there). */
	final: readonly string[];
}

/** Userpilot's import jobs (the only platform that has jobs today). */
export const DEFAULT_LIFECYCLE: JobLifecycle = {
	steps: ['queued', 'validating', 'processing', 'pending_refresh'],
	final: ['completed', 'failed'],
};

export interface TransitionOptions {
	/** The events to emit. */
	events: readonly JobEvent[];
	/** Identifies what is watched; see JobWatchState.scope. */
	scope: string;
	/** Watch this job only; every other job is ignored. */
	jobId?: string;
	/** A job missing this long (and for `forgetAfterPolls` polls) is forgotten. Default 7 days. */
	forgetAfterMs?: number;
	/** Default 3. */
	forgetAfterPolls?: number;
	/** At most this many jobs are remembered (final ones are forgotten first). Default 1000. */
	maxJobs?: number;
	lifecycle?: JobLifecycle;
}

export interface JobEmission {
	transition: JobTransition;
	/** The status recorded before (null for a job seen for the first time). */
	previousStatus: string | null;
	job: ObservedJob;
}

export interface TransitionResult {
	emissions: JobEmission[];
	nextState: JobWatchState;
	/** True when this poll took the baseline (nothing is emitted then). */
	baseline: boolean;
}

export const DEFAULT_FORGET_AFTER_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_FORGET_AFTER_POLLS = 3;
export const DEFAULT_MAX_JOBS = 1000;
/** Non-final jobs are kept this many times longer than final ones. */
const NON_FINAL_KEEP_FACTOR = 4;

/** Reads a time the way Userpilot writes it (naive UTC with microseconds) or ISO 8601; ms or undefined. */
export function timeOf(value: unknown): number | undefined {
	if (typeof value !== 'string' || value.trim() === '') return undefined;
	const text = value.trim();
	const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(text);
	const ms = Date.parse(hasZone ? text : `${text.replace(' ', 'T')}Z`);
	return Number.isNaN(ms) ? undefined : ms;
}

export function isValidJobWatchState(state: unknown): state is JobWatchState {
	const s = state as JobWatchState | undefined;
	return (
		typeof s === 'object' &&
		s !== null &&
		s.version === 1 &&
		typeof s.scope === 'string' &&
		typeof s.clock === 'number' &&
		typeof s.jobs === 'object' &&
		s.jobs !== null &&
		!Array.isArray(s.jobs)
	);
}

function isObservedJob(job: unknown): job is ObservedJob {
	const j = job as ObservedJob | undefined;
	return (
		typeof j === 'object' &&
		j !== null &&
		typeof j.job_id === 'string' &&
		j.job_id !== '' &&
		typeof j.status === 'string'
	);
}

class Lifecycle {
	private readonly rankOf = new Map<string, number>();

	private readonly finals: Set<string>;

	constructor(lifecycle: JobLifecycle) {
		lifecycle.steps.forEach((status, index) => this.rankOf.set(status, index));
		this.finals = new Set(lifecycle.final);
		for (const status of lifecycle.final) this.rankOf.set(status, lifecycle.steps.length);
	}

	isFinal(status: string): boolean {
		return this.finals.has(status);
	}

	/** Position in the life cycle; undefined for a status the life cycle does not know. */
	rank(status: string): number | undefined {
		return this.rankOf.get(status);
	}

	/** Whether `a` is further along than `b` (unknown statuses are never further along). */
	isAhead(a: string, b: string): boolean {
		const ra = this.rank(a);
		const rb = this.rank(b);
		return ra !== undefined && (rb === undefined || ra > rb);
	}

	/** A known status earlier than another known one: a stale read, not a transition. */
	isRegress(next: string, previous: string): boolean {
		const rn = this.rank(next);
		const rp = this.rank(previous);
		return rn !== undefined && rp !== undefined && rn < rp;
	}
}

/** One job per id: when a listing has an id twice, the most advanced status wins (then the first). */
function dedupe(
	jobs: readonly unknown[],
	lifecycle: Lifecycle,
	jobId: string | undefined,
): Map<string, ObservedJob> {
	const byId = new Map<string, ObservedJob>();
	for (const job of jobs) {
		if (!isObservedJob(job)) continue;
		if (jobId !== undefined && job.job_id !== jobId) continue;
		const other = byId.get(job.job_id);
		if (!other || lifecycle.isAhead(job.status, other.status)) byId.set(job.job_id, job);
	}
	return byId;
}

function startTimeOf(job: ObservedJob, record?: JobRecord): string | undefined {
	return typeof job.start_time === 'string' && job.start_time !== ''
		? job.start_time
		: record?.startTime;
}

/** Oldest first (by start time, then id), so a workflow sees jobs in the order they began. */
function byStart(a: JobEmission, b: JobEmission): number {
	const ta = timeOf(a.job.start_time) ?? Number.POSITIVE_INFINITY;
	const tb = timeOf(b.job.start_time) ?? Number.POSITIVE_INFINITY;
	if (ta !== tb) return ta < tb ? -1 : 1;
	if (a.job.job_id !== b.job.job_id) return a.job.job_id < b.job.job_id ? -1 : 1;
	return 0;
}

export function computeTransitions(
	previous: unknown,
	currentJobs: readonly unknown[],
	options: TransitionOptions,
	now: number,
): TransitionResult {
	const lifecycle = new Lifecycle(options.lifecycle ?? DEFAULT_LIFECYCLE);
	const maxJobs = Math.max(1, options.maxJobs ?? DEFAULT_MAX_JOBS);
	const current = dedupe(currentJobs, lifecycle, options.jobId);

	const valid = isValidJobWatchState(previous) && previous.scope === options.scope;
	const prev = valid ? previous : undefined;
	const safeNow = Number.isFinite(now) ? now : (prev?.clock ?? 0);
	// The watch clock never goes backwards: a clock set back cannot make records look younger
	// than they are, nor a record seen "in the future" look older.
	const clock = prev ? Math.max(prev.clock, safeNow) : safeNow;

	if (!prev) {
		const nextState = baselineState(current, options.scope, clock);
		return {
			emissions: [],
			nextState: enforceCap(nextState, current, lifecycle, maxJobs),
			baseline: true,
		};
	}

	const jobs: Record<string, JobRecord> = { ...prev.jobs };
	const emissions = observeListed(current, prev, jobs, new Set(options.events), lifecycle, clock);
	const evictedThrough = ageUnlisted(current, prev, jobs, options, lifecycle, clock);
	const nextState: JobWatchState = {
		version: 1,
		scope: options.scope,
		baselineAt: prev.baselineAt,
		clock,
		jobs,
	};
	if (evictedThrough !== undefined) nextState.evictedThrough = evictedThrough;
	emissions.sort(byStart);
	return {
		emissions,
		nextState: enforceCap(nextState, current, lifecycle, maxJobs),
		baseline: false,
	};
}

/** The first poll's state: every listed job recorded as it is. */
function baselineState(
	current: Map<string, ObservedJob>,
	scope: string,
	clock: number,
): JobWatchState {
	const jobs: Record<string, JobRecord> = {};
	for (const [id, job] of current) jobs[id] = record(job.status, clock, startTimeOf(job));
	return { version: 1, scope, baselineAt: clock, clock, jobs };
}

/** Records the listed jobs into `jobs` and returns the emissions their statuses call for. */
function observeListed(
	current: Map<string, ObservedJob>,
	prev: JobWatchState,
	jobs: Record<string, JobRecord>,
	selected: Set<JobEvent>,
	lifecycle: Lifecycle,
	clock: number,
): JobEmission[] {
	const emissions: JobEmission[] = [];
	for (const [id, job] of current) {
		const known = Object.prototype.hasOwnProperty.call(prev.jobs, id) ? prev.jobs[id] : undefined;
		const emission = known
			? observeKnown(id, job, known, jobs, selected, lifecycle, clock)
			: observeNew(id, job, prev.evictedThrough, jobs, selected, lifecycle, clock);
		if (emission) emissions.push(emission);
	}
	return emissions;
}

/** A job the state has no record of: new, unless it is a final job forgotten earlier. */
function observeNew(
	id: string,
	job: ObservedJob,
	evictedThrough: number | undefined,
	jobs: Record<string, JobRecord>,
	selected: Set<JobEvent>,
	lifecycle: Lifecycle,
	clock: number,
): JobEmission | undefined {
	const startTime = startTimeOf(job);
	const started = timeOf(startTime);
	const forgotten =
		lifecycle.isFinal(job.status) &&
		evictedThrough !== undefined &&
		started !== undefined &&
		started <= evictedThrough;
	// A final job that started before a job already forgotten is one that was forgotten too.
	if (forgotten) return undefined;
	jobs[id] = record(job.status, clock, startTime);
	const transition = firstSelected(selected, [
		lifecycle.isFinal(job.status) ? (job.status as JobTransition) : undefined,
		'new_job',
		'status_changed',
	]);
	return transition ? { transition, previousStatus: null, job } : undefined;
}

/** A job seen before: its record is refreshed, and a move forward is a transition. */
function observeKnown(
	id: string,
	job: ObservedJob,
	known: JobRecord,
	jobs: Record<string, JobRecord>,
	selected: Set<JobEvent>,
	lifecycle: Lifecycle,
	clock: number,
): JobEmission | undefined {
	const startTime = startTimeOf(job, known);
	const next: JobRecord = { ...known, seenAt: clock, missed: 0 };
	if (startTime !== undefined) next.startTime = startTime;
	jobs[id] = next;
	if (job.status === known.status) return undefined;
	// A final status is final: a different answer later is a glitch, not a transition.
	if (lifecycle.isFinal(known.status)) return undefined;
	if (lifecycle.isRegress(job.status, known.status)) return undefined;
	next.status = job.status;
	const transition = firstSelected(selected, [
		lifecycle.isFinal(job.status) ? (job.status as JobTransition) : undefined,
		'status_changed',
	]);
	return transition ? { transition, previousStatus: known.status, job } : undefined;
}

/**
 * Counts one more missed poll for each recorded job not listed, and forgets those missing long
 * enough; returns the forgotten jobs' start time watermark.
 */
function ageUnlisted(
	current: Map<string, ObservedJob>,
	prev: JobWatchState,
	jobs: Record<string, JobRecord>,
	options: TransitionOptions,
	lifecycle: Lifecycle,
	clock: number,
): number | undefined {
	const forgetAfterMs = options.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS;
	const forgetAfterPolls = options.forgetAfterPolls ?? DEFAULT_FORGET_AFTER_POLLS;
	let evictedThrough = prev.evictedThrough;
	for (const [id, known] of Object.entries(prev.jobs)) {
		if (current.has(id)) continue;
		const missing: JobRecord = { ...known, missed: known.missed + 1 };
		const keepFor = lifecycle.isFinal(known.status)
			? forgetAfterMs
			: forgetAfterMs * NON_FINAL_KEEP_FACTOR;
		if (missing.missed >= forgetAfterPolls && clock - missing.seenAt >= keepFor) {
			delete jobs[id];
			evictedThrough = later(evictedThrough, timeOf(missing.startTime));
		} else {
			jobs[id] = missing;
		}
	}
	return evictedThrough;
}

function record(status: string, clock: number, startTime: string | undefined): JobRecord {
	const rec: JobRecord = { status, seenAt: clock, missed: 0 };
	if (startTime !== undefined) rec.startTime = startTime;
	return rec;
}

function firstSelected(
	selected: Set<JobEvent>,
	candidates: Array<JobTransition | undefined>,
): JobTransition | undefined {
	const eventOf: Record<JobTransition, JobEvent> = {
		completed: 'completed',
		failed: 'failed',
		new_job: 'newJob',
		status_changed: 'statusChanged',
	};
	return candidates.find(
		(candidate) => candidate !== undefined && selected.has(eventOf[candidate]),
	);
}

function later(a: number | undefined, b: number | undefined): number | undefined {
	if (a === undefined) return b;
	if (b === undefined) return a;
	return Math.max(a, b);
}

/**
 * Keeps at most `maxJobs` records. Final jobs go first: those no longer listed (least recently
 * seen first), then listed ones that have a start time (oldest first; the watermark keeps them
 * quiet when listed again). Jobs still running are never forgotten here.
 */
function enforceCap(
	state: JobWatchState,
	current: Map<string, ObservedJob>,
	lifecycle: Lifecycle,
	maxJobs: number,
): JobWatchState {
	const ids = Object.keys(state.jobs);
	if (ids.length <= maxJobs) return state;
	const unlisted = ids
		.filter((id) => !current.has(id) && lifecycle.isFinal(state.jobs[id].status))
		.sort((a, b) => state.jobs[a].seenAt - state.jobs[b].seenAt || (a < b ? -1 : 1));
	const listed = ids
		.filter(
			(id) =>
				current.has(id) &&
				lifecycle.isFinal(state.jobs[id].status) &&
				timeOf(state.jobs[id].startTime) !== undefined,
		)
		.sort(
			(a, b) =>
				(timeOf(state.jobs[a].startTime) as number) - (timeOf(state.jobs[b].startTime) as number) ||
				(a < b ? -1 : 1),
		);
	const jobs = { ...state.jobs };
	let evictedThrough = state.evictedThrough;
	let count = ids.length;
	for (const id of [...unlisted, ...listed]) {
		if (count <= maxJobs) break;
		evictedThrough = later(evictedThrough, timeOf(jobs[id].startTime));
		delete jobs[id];
		count--;
	}
	const next: JobWatchState = { ...state, jobs };
	if (evictedThrough !== undefined) next.evictedThrough = evictedThrough;
	return next;
}

/** Known jobs that are still running but missing from the listing: worth asking about one by one. */
export function jobsToRefresh(
	state: unknown,
	listedJobs: readonly unknown[],
	limit: number,
	lifecycle = DEFAULT_LIFECYCLE,
): string[] {
	if (!isValidJobWatchState(state)) return [];
	const life = new Lifecycle(lifecycle);
	const listed = new Set(listedJobs.filter(isObservedJob).map((job) => job.job_id));
	return Object.entries(state.jobs)
		.filter(([id, rec]) => !listed.has(id) && !life.isFinal(rec.status))
		.sort(([a, ra], [b, rb]) => ra.missed - rb.missed || rb.seenAt - ra.seenAt || (a < b ? -1 : 1))
		.slice(0, Math.max(0, limit))
		.map(([id]) => id);
}

/** Seconds between start and end, when the platform gave both (Userpilot gives elapsed_time itself once ended). */
function elapsedSeconds(job: ObservedJob): number | null {
	if (typeof job.elapsed_time === 'number') return job.elapsed_time;
	const start = timeOf(job.start_time);
	const end = timeOf(job.end_time);
	return start !== undefined && end !== undefined ? Math.round((end - start) / 1000) : null;
}

/** `total_rows` as a number: a string in Userpilot's OpenAPI, a number in its page's examples. */
function rowCount(value: unknown): number | null {
	const rows = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	return typeof rows === 'number' && Number.isFinite(rows) ? rows : null;
}

/** The output item of one emission: the job's own fields, then what the trigger adds. */
export function emissionJson(emission: JobEmission): Record<string, unknown> {
	const job = emission.job;
	return {
		...job,
		transition: emission.transition,
		previous_status: emission.previousStatus,
		elapsed_time: elapsedSeconds(job),
		total_rows: rowCount(job.total_rows),
		reason_for_failure: Array.isArray(job.reason_for_failure) ? job.reason_for_failure : [],
	};
}

/** The most recent job, shaped like an emission (for a manual test run: shows the data's shape). */
export function sampleEmission(
	jobs: readonly unknown[],
	lifecycle = DEFAULT_LIFECYCLE,
): JobEmission | undefined {
	const life = new Lifecycle(lifecycle);
	let newest: ObservedJob | undefined;
	for (const job of jobs) {
		if (!isObservedJob(job)) continue;
		if (!newest) {
			newest = job;
			continue;
		}
		const t = timeOf(job.start_time);
		const tn = timeOf(newest.start_time);
		if (t !== undefined && (tn === undefined || t > tn)) newest = job;
	}
	if (!newest) return undefined;
	return {
		transition: life.isFinal(newest.status) ? (newest.status as JobTransition) : 'status_changed',
		previousStatus: null,
		job: newest,
	};
}
