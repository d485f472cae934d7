import type { ImportJob, JobDelivery, JobOptions } from '../platform';
import type { ItemResult } from '../results';
import { PlatformRequestError, type PlatformTransport } from '../transport';
import type { PreparedItem } from './batch';
import { multipartFile, type MultipartFile } from './multipart';

/** A token for the parts' names: the same when n8n runs the execution again (uploadName.ts). */
export interface UploadToken {
	token: string;
	deterministic: boolean;
}

/**
 * Sending the parts broke down (a cancellation, a bug), not a part that failed: the node reports
 * `reason` as its own error.
 */
export class PartsNotSentError extends Error {
	constructor(readonly reason: unknown) {
		super((reason as Error)?.message ?? String(reason));
		this.name = 'PartsNotSentError';
	}
}

/** One file of a job delivery. */
export interface JobPart {
	filename: string;
	/** Built when the part is sent, so that only the part being sent is in memory. */
	file(): MultipartFile;
	/** Rows sent, when known: a job that reports another count did not import them all. */
	rows?: number;
}

export interface JobSendOptions extends JobOptions {
	/** The names are the same when n8n runs the execution again: look for each upload first. */
	lookFirst: boolean;
}

interface PartFacts {
	/** Retries of the upload. */
	retries: number;
	/** The job list already held the part: an earlier attempt of the execution uploaded it. */
	foundUploaded: boolean;
}

/** A part whose job was created (or found), and ended well or was not waited for. */
interface PartSent extends PartFacts {
	created: ImportJob;
	/** The job as it ended, or as created when not waited for. */
	job: ImportJob;
	failure?: undefined;
}

/** A part that went as far as its first failure. */
interface PartFailed extends PartFacts {
	created?: ImportJob;
	/** The job as it ended, when it ended badly. */
	job?: ImportJob;
	/** A refused upload, a wait that could not tell, or the job's own end. */
	failure: { error: PlatformRequestError; at: 'upload' | 'wait' | 'job' };
}

export type PartOutcome = PartSent | PartFailed;

/** A request's failure, to report; anything else (a cancellation, a bug) is thrown on. */
function requestFailure(error: unknown): PlatformRequestError {
	if (error instanceof PlatformRequestError) return error;
	throw error;
}

/** Uploads one part as a job, waits for it when asked, and judges how it ended (or began). */
export async function sendPart(
	transport: PlatformTransport,
	delivery: JobDelivery,
	part: JobPart,
	options: JobSendOptions,
): Promise<PartOutcome> {
	let uploaded;
	try {
		uploaded = await delivery.upload(transport, part.file(), part.filename, options);
	} catch (error) {
		return {
			retries: 0,
			foundUploaded: false,
			failure: { error: requestFailure(error), at: 'upload' },
		};
	}
	const { job: created, retries, foundUploaded } = uploaded;
	let job = created;
	try {
		if (options.waitForCompletion) job = await delivery.waitForJob(transport, created, options);
	} catch (error) {
		const failure = { error: requestFailure(error), at: 'wait' as const };
		return { created, retries, foundUploaded, failure };
	}
	// a job not waited for has counted no rows yet
	const verdict = delivery.judgeJob(job, options.waitForCompletion ? part.rows : undefined);
	if (verdict === undefined) return { created, job, retries, foundUploaded };
	const error = new PlatformRequestError(verdict.message, {
		retries,
		possiblyDelivered: verdict.partly,
	});
	return { created, job, retries, foundUploaded, failure: { error, at: 'job' } };
}

/**
 * Sends the parts one after another (one job runs at a time), handing each outcome to `onPart`,
 * and stops at the first that fails: its outcome is the last one handed over.
 */
export async function sendParts(
	transport: PlatformTransport,
	delivery: JobDelivery,
	parts: readonly JobPart[],
	options: JobSendOptions,
	onPart: (index: number, outcome: PartOutcome) => void,
): Promise<void> {
	for (let index = 0; index < parts.length; index++) {
		const outcome = await sendPart(transport, delivery, parts[index], options);
		onPart(index, outcome);
		if (outcome.failure) return;
	}
}

/** Splits NDJSON lines into files under the platform's size limit, at line boundaries. */
export function* filesUnder(prepared: PreparedItem[], maxBytes: number): Generator<PreparedItem[]> {
	let part: PreparedItem[] = [];
	let size = 0;
	for (const item of prepared) {
		const bytes = Buffer.byteLength(item.serialized) + 1;
		if (part.length > 0 && size + bytes > maxBytes) {
			yield part;
			part = [];
			size = 0;
		}
		part.push(item);
		size += bytes;
	}
	if (part.length > 0) yield part;
}

/** One item's result, from how its part ended. */
function itemResult(
	item: PreparedItem,
	number: number,
	outcome: PartOutcome,
	waited: boolean,
): ItemResult {
	const jobId = outcome.created?.job_id;
	if (outcome.failure) {
		const { error } = outcome.failure;
		return {
			status: 'failed',
			message: error.message,
			httpCode: error.status,
			batch: number,
			retries: error.retries,
			possiblyDelivered: error.possiblyDelivered,
			jobId,
		};
	}
	if (!waited) {
		return {
			status: 'queued',
			jobId: outcome.created.job_id,
			batch: number,
			retries: outcome.retries,
		};
	}
	return {
		status: 'accepted',
		batch: number,
		retries: outcome.retries,
		jobId: outcome.job.job_id,
		key: item.key,
	};
}

/**
 * Items as NDJSON files, each imported as one job (several past the size limit). Their names are
 * the same when n8n runs this execution again, so that parts uploaded before are found, not
 * imported twice. Returns the failure that stopped the parts, if any.
 */
export async function sendItemsAsJobs(
	nameToken: (...input: Array<string | number>) => UploadToken,
	transport: PlatformTransport,
	delivery: JobDelivery,
	prepared: PreparedItem[],
	options: JobOptions,
	report: (item: PreparedItem, result: ItemResult) => void,
): Promise<PlatformRequestError | undefined> {
	const parts = [...filesUnder(prepared, delivery.maxFileBytes)];
	const { token, deterministic } = nameToken(
		prepared.length,
		parts.length,
		prepared[0]?.serialized ?? '',
	);
	const jobParts = parts.map((part, index): JobPart => {
		const filename = `n8n-${token}-part${index + 1}.ndjson`;
		const content = () => Buffer.from(part.map((item) => item.serialized).join('\n') + '\n');
		return {
			filename,
			file: () => multipartFile('file', filename, 'application/x-ndjson', content()),
			rows: part.length,
		};
	});
	let fatal: PlatformRequestError | undefined;
	const sendOptions = { ...options, lookFirst: deterministic };
	await sendParts(transport, delivery, jobParts, sendOptions, (index, outcome) => {
		for (const item of parts[index]) {
			report(item, itemResult(item, index + 1, outcome, options.waitForCompletion));
		}
		fatal = outcome.failure?.error;
	});
	return fatal;
}
