import type { IDataObject } from 'n8n-workflow';

import type { MultipartFile } from '../../lib/multipart';
import {
	pause,
	PlatformRequestError,
	type PlatformResponse,
	type PlatformTransport,
} from '../../lib/transport';
import { isFinalJobStatus } from './index';

/** A Userpilot background job as the API returns it. */
export interface UserpilotJob extends IDataObject {
	job_id: string;
	status: string;
	links?: string;
	filename?: string;
	total_rows?: number;
	completed_rows?: number;
	reason_for_failure?: string[];
}

export interface JobWaitOptions {
	pollMs: number;
	timeoutMs: number;
	signal?: AbortSignal;
	/** Called on each poll, so a node can log progress. */
	onPoll?: (job: UserpilotJob) => void;
}

function asJob(body: unknown): UserpilotJob | undefined {
	const job = (typeof body === 'string' ? safeParse(body) : body) as UserpilotJob | undefined;
	return job &&
		typeof job === 'object' &&
		typeof job.job_id === 'string' &&
		typeof job.status === 'string'
		? job
		: undefined;
}

function safeParse(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

export async function listJobs(transport: PlatformTransport): Promise<UserpilotJob[]> {
	const response = await transport.request(
		{ method: 'GET', url: `${transport.endpoints.api}/v1/background_jobs`, json: true },
		'list jobs',
	);
	const body = typeof response.body === 'string' ? safeParse(response.body) : response.body;
	if (!Array.isArray(body)) {
		throw new PlatformRequestError(
			'Userpilot answered the job list with something that is not a list of jobs',
			response.status,
			response.retries,
			false,
			false,
		);
	}
	return body.filter((job): job is UserpilotJob => asJob(job) !== undefined);
}

/** Follows the job's `links` (the spec's own pointer to its status), or builds it from the ID. */
export async function getJob(
	transport: PlatformTransport,
	job: { job_id: string; links?: string },
): Promise<UserpilotJob> {
	const path =
		typeof job.links === 'string' && job.links.startsWith('/')
			? job.links
			: `/v1/background_jobs/${encodeURIComponent(job.job_id)}`;
	const response = await transport.request(
		{ method: 'GET', url: `${transport.endpoints.api}${path}`, json: true },
		'job status',
	);
	const found = asJob(response.body);
	if (!found) {
		throw new PlatformRequestError(
			`Userpilot answered the status of job ${job.job_id} without a job`,
			response.status,
			response.retries,
			false,
			false,
		);
	}
	return found;
}

export async function waitForJob(
	transport: PlatformTransport,
	job: UserpilotJob,
	options: JobWaitOptions,
): Promise<UserpilotJob> {
	const deadline = Date.now() + options.timeoutMs;
	let current = job;
	while (!isFinalJobStatus(current.status)) {
		if (Date.now() > deadline) {
			throw new PlatformRequestError(
				`Userpilot job ${current.job_id} is still "${current.status}" after ${Math.round(options.timeoutMs / 60000)} min of waiting`,
				undefined,
				0,
				true,
				true,
			);
		}
		await pause(options.pollMs, options.signal);
		current = await getJob(transport, current);
		options.onPoll?.(current);
	}
	return current;
}

/** Waits until no job of this token is in progress (Userpilot runs one at a time). */
export async function waitForNoRunningJob(
	transport: PlatformTransport,
	options: JobWaitOptions,
): Promise<void> {
	const deadline = Date.now() + options.timeoutMs;
	for (;;) {
		const running = (await listJobs(transport)).filter((job) => !isFinalJobStatus(job.status));
		if (running.length === 0) return;
		if (Date.now() > deadline) {
			throw new PlatformRequestError(
				`Userpilot still has a job in progress (${running[0].job_id}, "${running[0].status}") after waiting`,
				409,
				0,
				false,
				true,
			);
		}
		await pause(options.pollMs, options.signal);
	}
}

/** The waiting options as a node's "Options" collection holds them (see userpilotJobOptionProperties). */
export function readJobWaitOptions(
	options: IDataObject,
	signal?: AbortSignal,
): UploadOptions & { waitForCompletion: boolean } {
	return {
		pollMs: Math.max(100, ((options.pollIntervalSeconds as number) ?? 2) * 1000),
		timeoutMs: Math.max(1, (options.waitTimeoutMinutes as number) ?? 60) * 60_000,
		signal,
		whenJobRunning: options.whenJobRunning === 'fail' ? 'fail' : 'wait',
		waitForCompletion: (options.waitForCompletion as boolean | undefined) ?? true,
	};
}

export interface UploadOptions extends JobWaitOptions {
	/** On 409: wait for the running job to end and send again, or fail at once. */
	whenJobRunning: 'wait' | 'fail';
}

export interface CreatedJob {
	job: UserpilotJob;
	retries: number;
	/** The job list already held this file: an earlier attempt of the execution uploaded it. */
	foundUploaded: boolean;
}

/**
 * Uploads one file as an import job. The filename is unique per upload, so when an attempt's
 * answer is lost, the job list tells whether it landed before anything is sent again. With
 * `lookFirst` (a name that is the same when n8n runs the execution again), the list is read
 * before the first upload too, and a file found there is not uploaded again.
 */
export async function createImportJob(
	transport: PlatformTransport,
	file: MultipartFile,
	filename: string,
	options: UploadOptions & { lookFirst?: boolean },
): Promise<CreatedJob> {
	const url = `${transport.endpoints.data}${'/v1/imports'}`;
	const findLanded = async (): Promise<PlatformResponse | undefined> => {
		const landed = (await listJobs(transport)).find((job) => job.filename === filename);
		return landed
			? { status: 200, body: landed, headers: {}, retries: 0, possiblyDuplicated: false }
			: undefined;
	};
	if (options.lookFirst) {
		const earlier = await findLanded();
		if (earlier) return { job: earlier.body as UserpilotJob, retries: 0, foundUploaded: true };
	}
	for (;;) {
		let failure: unknown;
		try {
			const response = await transport.request(
				() => ({
					method: 'POST',
					url,
					body: file.body(),
					// With redirects on, axios sends through follow-redirects, which keeps every
					// chunk of the body to replay it: the whole file would sit in memory.
					disableFollowRedirect: true,
					headers: {
						'Content-Type': file.contentType,
						...(file.length !== undefined ? { 'Content-Length': String(file.length) } : {}),
					},
				}),
				`upload ${filename}`,
				findLanded,
			);
			const job = asJob(response.body);
			if (!job) {
				throw new PlatformRequestError(
					'Userpilot answered the upload without a job (no job_id): the import is not known to have started',
					response.status,
					response.retries,
					true,
					false,
				);
			}
			return { job, retries: response.retries, foundUploaded: false };
		} catch (error) {
			failure = error;
		}
		const conflict = failure instanceof PlatformRequestError && failure.status === 409;
		if (!conflict || options.whenJobRunning !== 'wait') throw failure;
		await waitForNoRunningJob(transport, options);
	}
}
