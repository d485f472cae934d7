import type { IDataObject } from 'n8n-workflow';

import {
	computeTransitions,
	emissionJson,
	isValidJobWatchState,
	jobsToRefresh,
	sampleEmission,
	type JobEvent,
} from './transitions';
import { PlatformRequestError, type PlatformTransport } from '../../core/transport';
import { getJob, listJobs, type UserpilotJob } from './jobs';
import { attempt, type PollOutcome } from '../../core/watch';

/** Key of the Userpilot state in the node's static data. */
export const USERPILOT_STATE_KEY = 'userpilotJobs';

/** Running jobs missing from the list that are asked about one by one, at most, per check. */
const REFRESH_LIMIT = 20;

export interface UserpilotWatch {
	events: JobEvent[];
	/** Only this job (undefined: every job of the key). */
	jobId?: string;
	/** See JobWatchState.scope. */
	scope: string;
}

export class JobNotFoundError extends Error {
	constructor(readonly jobId: string) {
		super(`Userpilot has no job "${jobId}" for this API key`);
		this.name = 'JobNotFoundError';
	}
}

const isNotFound = (error: unknown) =>
	error instanceof PlatformRequestError && error.status === 404;

/** What Userpilot says now: the list (plus running jobs it no longer lists), or the one job. */
async function readJobs(
	transport: PlatformTransport,
	watch: UserpilotWatch,
	previous: unknown,
): Promise<UserpilotJob[]> {
	if (watch.jobId !== undefined) {
		const one = await attempt(() => getJob(transport, { job_id: watch.jobId as string }));
		if ('value' in one) return [one.value];
		if (isNotFound(one.error)) throw new JobNotFoundError(watch.jobId);
		throw one.error;
	}
	const listed = await listJobs(transport);
	const refreshed: UserpilotJob[] = [];
	for (const jobId of jobsToRefresh(previous, listed, REFRESH_LIMIT)) {
		const one = await attempt(() => getJob(transport, { job_id: jobId }));
		if ('value' in one) refreshed.push(one.value);
		// Gone for good: it stays as last seen until it is forgotten.
		else if (!isNotFound(one.error)) throw one.error;
	}
	return [...listed, ...refreshed];
}

/**
 * One check of Userpilot's jobs. Manual: the most recent job, shaped like an emission, and no
 * state. Otherwise: the transitions since the state given, and the state to keep.
 */
export async function pollUserpilot(
	transport: PlatformTransport,
	watch: UserpilotWatch,
	previous: unknown,
	manual: boolean,
	now: () => number,
): Promise<PollOutcome> {
	if (manual) {
		const sample = sampleEmission(await readJobs(transport, watch, undefined));
		return { items: sample ? [emissionJson(sample) as IDataObject] : [] };
	}
	const known = isValidJobWatchState(previous) && previous.scope === watch.scope;
	const read = await attempt(() => readJobs(transport, watch, known ? previous : undefined));
	let jobs: UserpilotJob[];
	if ('value' in read) jobs = read.value;
	// A watched job that is gone (or not there yet) is an error only before the baseline.
	else if (read.error instanceof JobNotFoundError && known) jobs = [];
	else throw read.error;
	const result = computeTransitions(
		previous,
		jobs,
		{ events: watch.events, jobId: watch.jobId, scope: watch.scope },
		now(),
	);
	return {
		items: result.emissions.map((emission) => emissionJson(emission) as IDataObject),
		stateKey: USERPILOT_STATE_KEY,
		nextState: result.nextState,
		baseline: result.baseline,
	};
}

export function hasUserpilotBaseline(previous: unknown, scope: string): boolean {
	return isValidJobWatchState(previous) && previous.scope === scope;
}
