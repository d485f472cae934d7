import type { IDataObject, INodeListSearchResult, INodeProperties } from 'n8n-workflow';

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
import type { StatusWatcher } from '../../core/platform';
import { attempt, WatchError, type PollOutcome } from '../../core/watch';

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

export class JobNotFoundError extends WatchError {
	constructor(readonly jobId: string) {
		super(
			`Userpilot has no job "${jobId}" for this API key`,
			'Check the job ID (a Bulk File Import node puts it out as job_id), and that the credential is the API key that created the job.',
		);
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

const USERPILOT = { platform: ['userpilot'] };

/** The Job Status Trigger's fields for Userpilot. */
const triggerProperties: INodeProperties[] = [
	{
		displayName: 'Trigger On',
		name: 'events',
		type: 'multiOptions',
		required: true,
		options: [
			{
				name: 'Any Status Change',
				value: 'statusChanged',
				description:
					'A job moved on (queued → validating → processing → pending_refresh → completed or failed)',
			},
			{
				name: 'Job Completed',
				value: 'completed',
				description: 'A job ended with every row imported',
			},
			{
				name: 'Job Failed',
				value: 'failed',
				description: 'A job ended in failure (reason_for_failure says why)',
			},
			{ name: 'New Job', value: 'newJob', description: 'A job appeared (an upload from anywhere)' },
		],
		default: ['completed', 'failed'],
		description:
			'Each job fires at most once per check, for the most specific event picked: Job Completed or Job Failed, then New Job, then Any Status Change. A job that went through several statuses between two checks fires once, with the status it had before in "previous_status".',
		displayOptions: { show: USERPILOT },
	},
	{
		displayName: 'Jobs to Watch',
		name: 'jobsToWatch',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'All Jobs', value: 'all', description: 'Every import job of the API key' },
			{ name: 'One Job', value: 'one', description: 'Only the job picked below' },
		],
		default: 'all',
		description: 'Every import job of the API key, or one job',
		displayOptions: { show: USERPILOT },
	},
	{
		displayName: 'Job',
		name: 'jobId',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description: 'The import job to watch (e.g. the job_id a Bulk File Import node put out)',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchJobs', searchable: true },
			},
			{
				displayName: 'ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. imports:jobs:NX-51f4acf7:f681073b-21ac-4276-9af5-c662dc05fb25',
			},
		],
		displayOptions: { show: { ...USERPILOT, jobsToWatch: ['one'] } },
	},
];

/** The jobs of the API key whose id or file name holds `filter`, for the "Job" field's list. */
async function searchJobs(
	transport: PlatformTransport,
	filter?: string,
): Promise<INodeListSearchResult> {
	const jobs = await listJobs(transport);
	const needle = (filter ?? '').trim().toLowerCase();
	const results = jobs
		.filter(
			(job) =>
				needle === '' ||
				job.job_id.toLowerCase().includes(needle) ||
				String(job.filename ?? '')
					.toLowerCase()
					.includes(needle),
		)
		.slice(0, 200)
		.map((job) => ({
			name: `${String(job.filename ?? job.job_id)} · ${job.status}${job.start_time ? ` · ${String(job.start_time).slice(0, 19)}` : ''}`,
			value: job.job_id,
		}));
	return { results };
}

/** The Job Status Trigger on Userpilot: its import jobs. */
export const userpilotWatcher: StatusWatcher<UserpilotWatch> = {
	subtitle: 'Userpilot import jobs',
	description: 'Import jobs: completed, failed, status changes, new jobs',
	triggerProperties,
	listSearch: { searchJobs: { items: 'jobs', search: searchJobs } },
	stateKey: USERPILOT_STATE_KEY,
	readWatch({ parameter, endpoints, credentialId }) {
		const events = parameter('events', []) as JobEvent[];
		if (events.length === 0) throw new WatchError('Pick at least one event in "Trigger On"');
		let jobId: string | undefined;
		if (parameter('jobsToWatch', 'all') === 'one') {
			jobId = String(parameter('jobId', '', { extractValue: true }) ?? '').trim();
			if (jobId === '') throw new WatchError('Pick the job to watch, or watch all jobs');
		}
		const scope = JSON.stringify(['userpilot', endpoints.api, credentialId, jobId ?? '*']);
		return { watch: { events, jobId, scope }, scope };
	},
	hasBaseline: hasUserpilotBaseline,
	poll: pollUserpilot,
};
