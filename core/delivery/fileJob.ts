// A file imported by a job platform (Userpilot), as plain outcomes: the file's rows checked, cut
// into parts under the size limit and sent as jobs through job.ts. The node reads the parameters
// and turns the outcome into its output item or error.
import type { IDataObject } from 'n8n-workflow';
import { Readable } from 'node:stream';

import type { AsIsCheck, ImportJob } from '../platform';
import type { FileSettings, RejectedRow } from '../rows/fileRows';
import { LISTED_REJECTIONS, prepareRows } from '../rows/fileRows';
import type { BinarySource, ReadResult } from '../rows/readers';
import { readRows } from '../rows/readers';
import { PlatformRequestError, type PlatformTransport } from '../transport';
import {
	PartsNotSentError,
	sendParts,
	type JobPart,
	type PartOutcome,
	type UploadToken,
} from './job';
import { multipartFile } from './multipart';
import type { SendSettings } from './sendSettings';

export interface UploadOutcome {
	summary: IDataObject;
	/** Why the import failed, when it did (the summary says the rest). */
	failure?: string;
}

/**
 * A name unique to this upload (execution, node, item, input) lets a lost answer, or a part an
 * earlier attempt of the same execution uploaded, be recognised in the job list (no double job).
 */
function nameOf(
	source: BinarySource,
	part: number,
	parts: number,
	token: string,
	extension: string,
): string {
	const dot = source.fileName.lastIndexOf('.');
	const base = dot > 0 ? source.fileName.slice(0, dot) : source.fileName;
	return `${base}.${token}${parts > 1 ? `.part${part}` : ''}${extension}`;
}

/** The counters a progress reporter reads (core/progress.ts), moved on as the file goes. */
export interface JobProgress {
	read: number;
	sent: number;
	accepted: number;
	bytes: number;
	status?: string;
}

/** A byte range of the source file, sent as one import job. */
interface FilePart {
	/** Source bytes [start, end) holding the part's rows (after the CSV header). */
	start: number;
	end: number;
	rows: number;
	/** Bytes the part takes on the wire (raw rows plus header, or the normalized NDJSON). */
	bytes: number;
}

interface ScanResult {
	rows: number;
	rejected: RejectedRow[];
	rejectedCount: number;
	parts: FilePart[];
	header: ReadResult;
}

/**
 * One streamed pass over the file: validates every row (when asked) and finds where to cut parts
 * under the limit, measuring each row as it will be sent: its raw bytes, or its normalized line.
 */
async function scan(
	source: BinarySource,
	file: FileSettings,
	validate: boolean,
	normalized: boolean,
	partLimit: number,
	asIs?: AsIsCheck,
	progress?: JobProgress,
): Promise<ScanResult> {
	const header: ReadResult = { headerEndOffset: 0 };
	const rejected: RejectedRow[] = [];
	let rejectedCount = 0;
	let rows = 0;
	const parts: FilePart[] = [];
	let current: FilePart | undefined;
	let previousEnd = -1;
	const consider = (endOffset: number, sentBytes: number | undefined) => {
		rows++;
		if (progress) progress.read = rows;
		if (previousEnd < 0) previousEnd = header.headerEndOffset;
		const rowBytes = sentBytes ?? endOffset - previousEnd;
		const headerBytes = normalized || file.format !== 'csv' ? 0 : header.headerEndOffset;
		if (headerBytes + rowBytes > partLimit) {
			throw new PlatformRequestError(
				`Row ${rows} alone is larger than the part size limit: it cannot be sent in any part`,
				{ status: 413 },
			);
		}
		if (!current || current.bytes + rowBytes > partLimit) {
			current = { start: previousEnd, end: previousEnd, rows: 0, bytes: headerBytes };
			parts.push(current);
		}
		current.end = endOffset;
		current.rows++;
		current.bytes += rowBytes;
		previousEnd = endOffset;
	};
	if (validate || normalized) {
		const onRejected = (row: RejectedRow) => {
			rejectedCount++;
			if (rejected.length < LISTED_REJECTIONS) rejected.push(row);
		};
		const rowsOfFile = prepareRows(
			source,
			file,
			(r, raw) => {
				onRejected(r);
				consider(raw.endOffset, 0);
			},
			header,
			(skipped) => {
				previousEnd = skipped.endOffset;
			},
		);
		for await (const row of rowsOfFile) {
			asIs?.row(row);
			consider(row.endOffset, normalized ? Buffer.byteLength(row.serialized) + 1 : undefined);
		}
	} else {
		for await (const row of readRows(await source.open(), file.format, file.csv, header)) {
			if (row.row < (file.fromRow ?? 1)) previousEnd = row.endOffset;
			else consider(row.endOffset, undefined);
		}
	}
	return { rows, rejected, rejectedCount, parts, header };
}

/** The validated rows of one part, re-read from the source and serialized as NDJSON lines. */
async function* normalizedLines(
	source: BinarySource,
	file: FileSettings,
	part: FilePart,
	headerEnd: number,
): AsyncGenerator<Buffer> {
	const range: BinarySource = {
		...source,
		size: part.end - part.start + (file.format === 'csv' ? headerEnd : 0),
		open: async () =>
			Readable.from(
				(async function* () {
					if (file.format === 'csv') yield* await source.open(0, headerEnd);
					yield* await source.open(part.start, part.end);
				})(),
			),
	};
	let lines: string[] = [];
	// The part's byte range starts at its first row: no row of it is skipped again.
	for await (const row of prepareRows(range, { ...file, fromRow: undefined }, () => undefined)) {
		lines.push(row.serialized);
		if (lines.length >= 1000) {
			yield Buffer.from(lines.join('\n') + '\n');
			lines = [];
		}
	}
	if (lines.length > 0) yield Buffer.from(lines.join('\n') + '\n');
}

/** Where the file is cut, once checked; or the outcome of a file that stops there. */
type PartPlan =
	| { parts: FilePart[]; headerEnd: number; rows?: number; stop?: undefined }
	| { stop: UploadOutcome };

/** Checks the file (when asked, or when it must be read to cut it) and finds its parts. */
async function planParts(
	source: BinarySource,
	file: FileSettings,
	choices: Pick<UploadChoices, 'validateFirst' | 'normalized' | 'partLimit' | 'split' | 'progress'>,
	base: IDataObject,
	displayName: string,
	asIs?: AsIsCheck,
): Promise<PartPlan> {
	const { validateFirst, normalized, partLimit, split } = choices;
	const whole: PartPlan = {
		parts: [{ start: 0, end: source.size, rows: 0, bytes: source.size }],
		headerEnd: 0,
	};
	const resuming = (file.fromRow ?? 1) > 1;
	const needsSplit = split && source.size > partLimit;
	if (!(validateFirst || needsSplit || normalized || resuming)) return whole;
	const scanned = await scan(
		source,
		asIs?.file ?? file,
		validateFirst || normalized,
		normalized,
		split ? partLimit : Number.MAX_SAFE_INTEGER,
		asIs,
		choices.progress,
	);
	const rows = scanned.rows;
	if (scanned.rejectedCount > 0) return { stop: rejectedOutcome(scanned, base, displayName) };
	const rewritten = asIs?.refused({ ...base, rowsRead: rows });
	if (rewritten) return { stop: rewritten };
	const headerEnd = scanned.header.headerEndOffset;
	const parts = normalized || resuming || scanned.parts.length > 1 ? scanned.parts : whole.parts;
	if (parts.length === 0) {
		return {
			stop: {
				summary: { ...base, status: 'failed', rowsRead: rows },
				failure: `No row to send from row ${file.fromRow} on`,
			},
		};
	}
	return { parts, headerEnd, rows };
}

function rejectedOutcome(
	scanned: ScanResult,
	base: IDataObject,
	displayName: string,
): UploadOutcome {
	return {
		summary: {
			...base,
			status: 'invalid',
			rowsRead: scanned.rows,
			invalid: scanned.rejectedCount,
			rejected: scanned.rejected.map(({ row, line, errors, message }) => ({
				row,
				line,
				errors,
				message,
			})),
		},
		failure:
			`${scanned.rejectedCount} of ${scanned.rows} rows break ${displayName}'s rules; the file was not uploaded. ` +
			scanned.rejected
				.slice(0, 5)
				.map((r) => r.message)
				.join(' | '),
	};
}

/** One part as an upload: its name, and its bytes streamed from the source when it is sent. */
function jobPartOf(
	source: BinarySource,
	file: FileSettings,
	plan: { parts: FilePart[]; headerEnd: number },
	index: number,
	token: string,
	normalized: boolean,
	progress?: JobProgress,
): JobPart {
	const { parts, headerEnd } = plan;
	const part = parts[index];
	const extension = normalized || file.format === 'ndjson' ? '.ndjson' : '.csv';
	const filename = nameOf(source, index + 1, parts.length, token, extension);
	const whole = !normalized && part.start === 0 && part.end === source.size;
	const length = normalized
		? part.bytes
		: (file.format === 'csv' && !whole ? headerEnd : 0) + (part.end - part.start);
	const bytes = () => {
		if (normalized) return normalizedLines(source, file, part, headerEnd);
		if (whole) return openLater(() => source.open());
		return (async function* () {
			if (file.format === 'csv' && headerEnd > 0) yield* await source.open(0, headerEnd);
			yield* await source.open(part.start, part.end);
		})();
	};
	const content = () => Readable.from(progress ? counted(bytes(), progress) : bytes());
	const sentFormat = normalized ? 'ndjson' : file.format;
	const mime = sentFormat === 'csv' ? 'text/csv' : 'application/x-ndjson';
	return { filename, file: () => multipartFile('file', filename, mime, content, length) };
}

/** What the jobs of the parts sent so far say, gathered as they end. */
interface JobsSoFar {
	jobs: ImportJob[];
	foundUploaded: string[];
	retries: number;
	/** The part that failed, and why (in the words the node reports). */
	failed?: { index: number; message: string };
}

function gatherPart(sent: JobsSoFar, index: number, outcome: PartOutcome, parts: number): void {
	if (outcome.created) {
		if (outcome.foundUploaded) sent.foundUploaded.push(outcome.created.job_id);
		sent.retries += outcome.retries;
	}
	if (outcome.job) sent.jobs.push(outcome.job);
	if (!outcome.failure) return;
	const { error, at } = outcome.failure;
	// the job's own failure names its job; a request's failure says which part
	const message =
		at !== 'job' && parts > 1 ? `Part ${index + 1} of ${parts}: ${error.message}` : error.message;
	sent.failed = { index, message };
}

/** Tells the progress where the job stands after each poll (polls counted per job). */
function pollCounter(progress: JobProgress): (job: ImportJob) => void {
	let polls = 0;
	let jobId: string | undefined;
	return (job) => {
		polls = job.job_id === jobId ? polls + 1 : 1;
		jobId = job.job_id;
		progress.status = `job ${job.job_id} ${job.status} (poll ${polls})`;
	};
}

/** A part done: its rows sent, the rows its job imported, and how its job stands. */
function partProgress(
	progress: JobProgress,
	part: FilePart,
	outcome: PartOutcome,
	rowsOf: (job: ImportJob) => number | undefined,
): void {
	progress.sent += part.rows;
	const job = outcome.job ?? outcome.created;
	if (job) {
		progress.accepted += (outcome.failure ? undefined : rowsOf(job)) ?? 0;
		progress.status = `job ${job.job_id} ${job.status}`;
	}
}

/** How the file goes: read from the node's parameters. */
export interface UploadChoices {
	validateFirst: boolean;
	/** The validated rows are sent as NDJSON, not the file as it is. */
	normalized: boolean;
	/** Bytes a part may take; a file is cut only when `split`. */
	partLimit: number;
	split: boolean;
	/** Cancels the waits for the jobs. */
	signal?: AbortSignal;
	/** The token of the parts' names, asked for once the file is found fit to send. */
	nameToken: () => UploadToken;
	/** Counters of the progress lines: rows read, bytes uploaded, the job's status. */
	progress?: JobProgress;
}

/**
 * A job platform: the file goes as it is, streamed from its source into a multipart upload (or as
 * its validated rows in NDJSON). Over the part limit it is cut at row boundaries, the CSV header
 * repeated in each part, and the parts are imported one job after another.
 */
export async function uploadFileAsJobs(
	source: BinarySource,
	file: FileSettings,
	settings: SendSettings,
	transport: PlatformTransport,
	choices: UploadChoices,
): Promise<UploadOutcome> {
	const { options, platform } = settings;
	const { normalized } = choices;
	const delivery = platform.delivery;
	if (delivery.mode !== 'job') throw new Error('uploadFile needs a job platform');
	const started = Date.now();
	const wait = delivery.readJobOptions(options, choices.signal);
	const base: IDataObject = {
		file: source.fileName,
		format: file.format,
		platform: platform.id,
		fileSize: source.size,
	};

	// As it is, the file goes only if its bytes are what is checked (else it is refused, saying why).
	const asIs = normalized ? undefined : await delivery.openAsIsCheck?.(source, file);
	const notAsIs = asIs?.refused(base);
	if (notAsIs) return notAsIs;
	const plan = await planParts(source, file, choices, base, platform.displayName, asIs);
	if (plan.stop) return plan.stop;
	const { parts, rows } = plan;

	const { token, deterministic } = choices.nameToken();
	const { progress } = choices;
	const jobParts = parts.map((_, index) =>
		jobPartOf(source, file, plan, index, token, normalized, progress),
	);
	const sent: JobsSoFar = { jobs: [], foundUploaded: [], retries: 0 };
	let notSent: PartsNotSentError | undefined;
	try {
		await sendParts(
			transport,
			delivery,
			jobParts,
			{ ...wait, lookFirst: deterministic, onPoll: progress && pollCounter(progress) },
			(index, outcome) => {
				gatherPart(sent, index, outcome, parts.length);
				if (progress) partProgress(progress, parts[index], outcome, delivery.rowsOf);
			},
		);
	} catch (error) {
		notSent = new PartsNotSentError(error);
	}
	if (notSent) throw notSent;
	const { jobs, foundUploaded, retries, failed } = sent;
	const found = foundUploaded.length > 0 ? { foundUploaded } : {};
	if (failed) {
		/** 1-based number of the failed part's first row: where a re-run should start. */
		const resumeFromRow = parts
			.slice(0, failed.index)
			.reduce((sum, part) => sum + part.rows, file.fromRow ?? 1);
		return {
			summary: {
				...base,
				status: 'failed',
				parts: parts.length,
				partsImported: failed.index,
				jobs,
				...found,
				retries,
				durationMs: Date.now() - started,
				resumeFromRow,
			},
			failure: failed.message,
		};
	}
	const last = jobs[jobs.length - 1];
	return {
		summary: {
			...base,
			status: wait.waitForCompletion ? landedStatus(jobs) : last.status,
			...(rows !== undefined ? { rowsRead: rows } : {}),
			parts: parts.length,
			totalRows: wait.waitForCompletion
				? jobs.reduce((sum, job) => sum + (delivery.rowsOf(job) ?? 0), 0)
				: undefined,
			job_id: last.job_id,
			jobs,
			...found,
			retries,
			requests: transport.stats.requests,
			durationMs: Date.now() - started,
		},
	};
}

/** 'completed', or 'pending_refresh' while Userpilot still refreshes after the rows landed. */
function landedStatus(jobs: ImportJob[]): string {
	return jobs.every((job) => job.status === 'completed') ? 'completed' : 'pending_refresh';
}

/** Passes the bytes on, adding their count to the progress as the upload reads them. */
async function* counted(chunks: AsyncIterable<Buffer>, progress: JobProgress): AsyncGenerator<Buffer> {
	for await (const chunk of chunks) {
		progress.bytes += chunk.length;
		yield chunk;
	}
}

/** Defers opening a stream until the upload reads it. */
async function* openLater(open: () => Promise<Readable>): AsyncGenerator<Buffer> {
	yield* (await open()) as AsyncIterable<Buffer>;
}
