import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { Readable } from 'node:stream';

import type { FileSettings, RejectedRow } from '../../../core/rows/fileRows';
import { prepareRows } from '../../../core/rows/fileRows';
import { multipartFile } from '../../../core/delivery/multipart';
import type { BinarySource, ReadResult } from '../../../core/rows/readers';
import { readRows } from '../../../core/rows/readers';
import type { SendSettings } from '../../shared/settings';
import { PlatformRequestError, type PlatformTransport } from '../../../core/transport';
import { uploadToken } from '../../../core/delivery/uploadName';
import { AsIsCheck } from '../../../platforms/userpilot/asIs';
import {
	createImportJob,
	readJobWaitOptions,
	rowsOf,
	waitForJob,
	type UserpilotJob,
} from '../../../platforms/userpilot/jobs';
import { LISTED_REJECTIONS } from './importRows';

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

/**
 * Userpilot: the file goes as it is, streamed from n8n's binary store into a multipart upload.
 * Over the part limit it is cut at row boundaries, the CSV header repeated in each part, and the
 * parts are imported one job after another (Userpilot runs one job at a time).
 */
export async function uploadFile(
	this: IExecuteFunctions,
	source: BinarySource,
	file: FileSettings,
	settings: SendSettings,
	transport: PlatformTransport,
	validateFirst: boolean,
	normalized: boolean,
	itemIndex: number,
): Promise<UploadOutcome> {
	const { options } = settings;
	const started = Date.now();
	const partLimit = Math.floor(Math.max(0.001, (options.partSizeMb as number) ?? 1000) * 1_000_000);
	const split = (options.splitLargeFiles as boolean | undefined) ?? true;
	const needsSplit = split && source.size > partLimit;
	const wait = readJobWaitOptions(options, this.getExecutionCancelSignal());
	const { waitForCompletion } = wait;
	const base: IDataObject = {
		file: source.fileName,
		format: file.format,
		platform: 'userpilot',
		fileSize: source.size,
	};

	// As it is, the file goes only if its bytes are what is checked (else it is refused, saying why).
	const asIs = normalized ? undefined : await AsIsCheck.open(source, file);
	const notAsIs = asIs?.refused(base);
	if (notAsIs) return notAsIs;

	let parts: FilePart[] = [{ start: 0, end: source.size, rows: 0, bytes: source.size }];
	let headerEnd = 0;
	let rows: number | undefined;
	const resuming = (file.fromRow ?? 1) > 1;
	if (validateFirst || needsSplit || normalized || resuming) {
		const scanned = await scan(
			source,
			asIs?.file ?? file,
			validateFirst || normalized,
			normalized,
			split ? partLimit : Number.MAX_SAFE_INTEGER,
			asIs,
		);
		rows = scanned.rows;
		if (scanned.rejectedCount > 0) {
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
					`${scanned.rejectedCount} of ${scanned.rows} rows break Userpilot's rules; the file was not uploaded. ` +
					scanned.rejected
						.slice(0, 5)
						.map((r) => r.message)
						.join(' | '),
			};
		}
		const rewritten = asIs?.refused({ ...base, rowsRead: rows });
		if (rewritten) return rewritten;
		headerEnd = scanned.header.headerEndOffset;
		if (normalized || resuming || scanned.parts.length > 1) parts = scanned.parts;
		if (parts.length === 0) {
			return {
				summary: { ...base, status: 'failed', rowsRead: rows },
				failure: `No row to send from row ${file.fromRow} on`,
			};
		}
	}

	const { token, deterministic } = uploadToken(
		this,
		itemIndex,
		source.fileName,
		source.size,
		file.fromRow ?? 1,
		normalized ? 'normalized' : 'asIs',
		partLimit,
	);
	const foundUploaded: string[] = [];
	/** 1-based number of the first row of a part: where a re-run should start after it failed. */
	const firstRowOf = (index: number) =>
		parts.slice(0, index).reduce((sum, part) => sum + part.rows, file.fromRow ?? 1);
	const jobs: UserpilotJob[] = [];
	let retries = 0;
	for (let index = 0; index < parts.length; index++) {
		const part = parts[index];
		const filename = nameOf(
			source,
			index + 1,
			parts.length,
			token,
			normalized || file.format === 'ndjson' ? '.ndjson' : '.csv',
		);
		const whole = !normalized && part.start === 0 && part.end === source.size;
		const length = normalized
			? part.bytes
			: (file.format === 'csv' && !whole ? headerEnd : 0) + (part.end - part.start);
		const content = () => {
			if (normalized) return Readable.from(normalizedLines(source, file, part, headerEnd));
			if (whole) return Readable.from(openLater(() => source.open()));
			return Readable.from(
				(async function* () {
					if (file.format === 'csv' && headerEnd > 0) yield* await source.open(0, headerEnd);
					yield* await source.open(part.start, part.end);
				})(),
			);
		};
		const sentFormat = normalized ? 'ndjson' : file.format;
		const mime = sentFormat === 'csv' ? 'text/csv' : 'application/x-ndjson';
		let job: UserpilotJob;
		try {
			const created = await createImportJob(
				transport,
				multipartFile('file', filename, mime, content, length),
				filename,
				{ ...wait, lookFirst: deterministic },
			);
			job = created.job;
			if (created.foundUploaded) foundUploaded.push(job.job_id);
			retries += created.retries;
			if (waitForCompletion) job = await waitForJob(transport, job, wait);
		} catch (error) {
			if (!(error instanceof PlatformRequestError))
				throw new NodeOperationError(this.getNode(), error as Error);
			return {
				summary: {
					...base,
					status: 'failed',
					parts: parts.length,
					partsImported: index,
					jobs,
					...(foundUploaded.length > 0 ? { foundUploaded } : {}),
					retries,
					durationMs: Date.now() - started,
					resumeFromRow: firstRowOf(index),
				},
				failure:
					parts.length > 1
						? `Part ${index + 1} of ${parts.length}: ${error.message}`
						: error.message,
			};
		}
		jobs.push(job);
		if (job.status === 'failed') {
			const reasons = Array.isArray(job.reason_for_failure) ? job.reason_for_failure : [];
			return {
				summary: {
					...base,
					status: 'failed',
					parts: parts.length,
					partsImported: index,
					jobs,
					...(foundUploaded.length > 0 ? { foundUploaded } : {}),
					retries,
					durationMs: Date.now() - started,
					resumeFromRow: firstRowOf(index),
				},
				failure: `Userpilot import job ${job.job_id} failed: ${reasons.join('; ') || 'no reason given'}`,
			};
		}
	}
	const last = jobs[jobs.length - 1];
	return {
		summary: {
			...base,
			status: waitForCompletion ? landedStatus(jobs) : last.status,
			...(rows !== undefined ? { rowsRead: rows } : {}),
			parts: parts.length,
			totalRows: waitForCompletion
				? jobs.reduce((sum, job) => sum + (rowsOf(job) ?? 0), 0)
				: undefined,
			job_id: last.job_id,
			jobs,
			...(foundUploaded.length > 0 ? { foundUploaded } : {}),
			retries,
			requests: transport.stats.requests,
			durationMs: Date.now() - started,
		},
	};
}

/** 'completed', or 'pending_refresh' while Userpilot still refreshes after the rows landed. */
function landedStatus(jobs: UserpilotJob[]): string {
	return jobs.every((job) => job.status === 'completed') ? 'completed' : 'pending_refresh';
}

/** Defers opening a stream until the upload reads it. */
async function* openLater(open: () => Promise<Readable>): AsyncGenerator<Buffer> {
	yield* (await open()) as AsyncIterable<Buffer>;
}
