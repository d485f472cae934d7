// A file imported by a batch platform (Rimdian, Ayona), as plain outcomes: every row checked,
// tallied and sent in batches through batch.ts, the rejected rows listed (and kept as a CSV
// file when asked). The node reads the parameters and turns the outcome into its output item.
import type { IDataObject } from 'n8n-workflow';

import { csvLine } from '../rows/csvWriter';
import { RejectedRowsWriter, type RejectedRowsFile } from '../rows/rejectedFile';
import { RowRanges } from '../rows/rowRanges';
import {
	LISTED_REJECTIONS,
	prepareRowChunks,
	type FileSettings,
	type PreparedRow,
	type RejectedRow,
} from '../rows/fileRows';
import { FileFormatError, type BinarySource, type FileRow, type ReadResult } from '../rows/readers';
import type { ItemResult } from '../results';
import type { PlatformTransport } from '../transport';
import {
	effectiveBatchSize,
	sendBatches,
	toBatchesFromChunks,
	type AcceptedBatch,
	type Batch,
	type PreparedItem,
} from './batch';
import type { SendSettings } from './sendSettings';

/** How many ranges of possibly duplicated rows are listed (a range is usually a batch). */
export const LISTED_DUPLICATE_RANGES = 1000;

export interface RowImportOutcome {
	summary: IDataObject;
	/** Every rejected row as CSV in a temporary file, when asked: the caller disposes of it. */
	rejectedFile?: RejectedRowsFile;
	/** The first failure that stopped sending, if any. */
	fatal?: string;
}

/**
 * Collects rejected rows: a short list for the output, and optionally every one as CSV, written
 * to a temporary file as it goes (see rejectedFile.ts), never whole in memory.
 */
export class Rejections {
	readonly listed: RejectedRow[] = [];
	count = 0;
	invalid = 0;
	private readonly writer = new RejectedRowsWriter();
	private header?: string;

	constructor(
		private readonly keepFile: boolean,
		private readonly delimiter: string,
	) {}

	add(
		rejected: RejectedRow,
		cells: unknown[] | undefined,
		columns: string[] | undefined,
		invalid: boolean,
	) {
		this.count++;
		if (invalid) this.invalid++;
		if (this.listed.length < LISTED_REJECTIONS) this.listed.push(rejected);
		if (!this.keepFile) return;
		if (this.header === undefined) {
			this.header = csvLine(
				['_row', '_line', '_reason', ...(columns ?? ['_record'])],
				this.delimiter,
			);
			this.writer.write(this.header);
		}
		this.writer.write(
			csvLine([rejected.row, rejected.line, rejected.message, ...(cells ?? [])], this.delimiter),
		);
	}

	/** The file of every rejected row, when kept and there are any; the caller disposes of it. */
	file(): RejectedRowsFile | undefined {
		return this.writer.close();
	}

	/** The run broke down before its outcome: the file, if any, goes. */
	async discard(): Promise<void> {
		await this.writer.discard();
	}

	/**
	 * Runs the work of one file with its rejections. Work that broke down has no outcome to carry
	 * the file: it goes.
	 */
	static async around<T>(
		keepFile: boolean,
		delimiter: string,
		work: (rejections: Rejections) => Promise<T>,
	): Promise<T> {
		const rejections = new Rejections(keepFile, delimiter);
		let outcome: T | undefined;
		try {
			outcome = await work(rejections);
		} finally {
			if (outcome === undefined) await rejections.discard();
		}
		return outcome;
	}
}

/** Distinct warnings of the rows sent, each with how many rows and the first: a file repeats them. */
export class WarningTally {
	private readonly seen = new Map<string, { rows: number; firstRow: number }>();

	add(warnings: string[] | undefined, row: number): void {
		if (warnings === undefined) return;
		for (const warning of warnings) {
			const entry = this.seen.get(warning);
			if (entry) entry.rows++;
			else if (this.seen.size < LISTED_REJECTIONS)
				this.seen.set(warning, { rows: 1, firstRow: row });
		}
	}

	list(): Array<{ warning: string; rows: number; firstRow: number }> {
		return [...this.seen].map(([warning, entry]) => ({ warning, ...entry }));
	}
}

/** Rejected rows listed as the output shows them. */
export function listed(rejections: Rejections) {
	return rejections.listed.map(({ row, line, errors, message, httpCode }) => ({
		row,
		line,
		errors,
		message,
		httpCode,
	}));
}

/** One streamed pass that checks every row; the outcome when some fail (nothing is then sent). */
async function checkEveryRow(
	source: BinarySource,
	file: FileSettings,
	settings: SendSettings,
	rejections: Rejections,
	reject: (rejected: RejectedRow, row: FileRow, invalid: boolean) => void,
	readResult: ReadResult,
): Promise<RowImportOutcome | undefined> {
	const chunks = prepareRowChunks(
		source,
		file,
		(rejected, raw) => reject(rejected, raw, true),
		readResult,
	);
	for await (const rows of chunks) void rows;
	if (rejections.count === 0) return undefined;
	return {
		summary: {
			file: source.fileName,
			format: file.format,
			platform: settings.platform.id,
			status: 'invalid',
			rowsRead: rejections.count,
			invalid: rejections.invalid,
			accepted: 0,
			rejected: rejections.listed.map(({ row, line, errors, message }) => ({
				row,
				line,
				errors,
				message,
			})),
		},
		rejectedFile: rejections.file(),
		fatal: `${rejections.count} rows are invalid; nothing was sent. First: ${rejections.listed[0].message}`,
	};
}

/** What became of the rows sent, counted as each batch ends. */
class RowTally {
	accepted = 0;
	failed = 0;
	notSent = 0;
	readonly possiblyDuplicated = new RowRanges();
	readonly warnings = new WarningTally();
	/** The first row not known to be in: a re-run with "Start at Row" set to it misses nothing. */
	resumeFromRow?: number;

	constructor(private readonly reject: (rejected: RejectedRow, row: PreparedRow) => void) {}

	/** A batch the platform took: its rows counted, their warnings and possible duplicates noted. */
	acceptedBatch(batch: Batch, accepted: AcceptedBatch): void {
		this.accepted += batch.items.length;
		for (const item of batch.items) {
			if (item.warnings !== undefined) this.warnings.add(item.warnings, item.index + 1);
			if (accepted.possiblyDuplicated) this.possiblyDuplicated.add(item.index + 1);
		}
	}

	report(item: PreparedItem, result: ItemResult): void {
		const row = item as PreparedRow;
		if (result.status === 'accepted') {
			this.accepted++;
			this.warnings.add(item.warnings, row.index + 1);
			if (result.possiblyDuplicated) this.possiblyDuplicated.add(row.index + 1);
			return;
		}
		if (result.status === 'failed') this.failed++;
		else this.notSent++;
		this.resumeFromRow = Math.min(this.resumeFromRow ?? Infinity, row.index + 1);
		const message = 'message' in result ? result.message : result.status;
		this.reject(
			{
				row: row.index + 1,
				line: row.line,
				errors: [{ field: '(item)', reason: message }],
				message: `Row ${row.index + 1} (line ${row.line}): ${message}`,
				httpCode: result.status === 'failed' ? result.httpCode : undefined,
			},
			row,
		);
	}
}

/** The rows of the file as they are read, counted; a file that breaks part-way ends them. */
class RowReading {
	rowsRead = 0;
	lastRowRead: number;
	/** Why the file could not be read to its end (an unbalanced quote at line 152). */
	fileError?: FileFormatError;

	constructor(fromRow: number | undefined) {
		this.lastRowRead = (fromRow ?? 1) - 1;
	}

	async *counted(
		chunks: AsyncIterable<PreparedRow[]>,
		progress: ProgressCounts,
	): AsyncGenerator<PreparedRow[]> {
		let failure: unknown;
		try {
			for await (const rows of chunks) {
				if (rows.length === 0) continue;
				this.rowsRead += rows.length;
				progress.read += rows.length;
				this.lastRowRead = rows[rows.length - 1].index + 1;
				yield rows;
			}
		} catch (error) {
			failure = error;
		}
		if (failure instanceof FileFormatError) this.fileError = failure;
		else if (failure !== undefined) throw failure;
	}
}

/** With nothing sent, the file's own error says it all; else where to resume once it is fixed. */
function fileFailureOf(fileError: FileFormatError, accepted: number, resumeFromRow?: number) {
	if (accepted === 0) return fileError.message;
	const before = accepted === 1 ? '1 row before it was' : `${accepted} rows before it were`;
	return `${fileError.message}. ${before} accepted: fix the file, then run again with "Start at Row" set to ${resumeFromRow}`;
}

/** The sums of a file whose rows were sent. */
function sentSummary(
	tally: RowTally,
	reading: RowReading,
	invalid: number,
	skipped: number,
): IDataObject {
	const { accepted, failed, notSent, possiblyDuplicated, warnings, resumeFromRow } = tally;
	const duplicatedRows = possiblyDuplicated.list(LISTED_DUPLICATE_RANGES);
	return {
		status:
			reading.fileError || failed + notSent > 0
				? 'partial'
				: invalid > 0
					? 'completedWithRejections'
					: 'completed',
		rowsRead: reading.rowsRead,
		accepted,
		invalid,
		failed,
		notSent,
		possiblyDuplicated: possiblyDuplicated.count,
		// Which rows: the platform may hold them twice (see safeToResend in the README).
		...(possiblyDuplicated.count > 0
			? {
					possiblyDuplicatedRows: duplicatedRows.ranges,
					...(duplicatedRows.more > 0
						? { possiblyDuplicatedRangesNotListed: duplicatedRows.more }
						: {}),
				}
			: {}),
		...(skipped > 0 ? { skippedBeforeStartRow: skipped } : {}),
		// What was sent with a remark (a column left out, a value taken on trust), once each.
		...(warnings.list().length > 0 ? { warnings: warnings.list() } : {}),
		...(resumeFromRow !== undefined ? { resumeFromRow } : {}),
	};
}

/** How the rows go: read from the node's parameters. */
export interface RowImportChoices {
	/** Every row is checked before any is sent; one invalid row and none is. */
	stopOnInvalid: boolean;
	/** Every rejected row is kept, as CSV. */
	keepRejectedFile: boolean;
	/** A batch that fails for good does not stop the others. */
	continueOnFail: boolean;
	/** Told the rows read, sent and accepted as they are (its own timer says them). */
	progress?: ProgressCounts;
}

/** The counters a progress reporter reads. */
export interface ProgressCounts {
	read: number;
	sent: number;
	accepted: number;
}

/**
 * Rimdian and Ayona: the file is read as a stream, each row validated and serialized once,
 * and sent in batches with bounded concurrency. Workers pull rows only as fast as the platform
 * takes them, so memory holds the batches in flight, not the file.
 */
export async function importFileRows(
	source: BinarySource,
	file: FileSettings,
	settings: SendSettings,
	transport: PlatformTransport,
	choices: RowImportChoices,
): Promise<RowImportOutcome> {
	return await Rejections.around(choices.keepRejectedFile, file.csv.delimiter, (rejections) =>
		importWithRejections(source, file, settings, transport, choices, rejections),
	);
}

async function importWithRejections(
	source: BinarySource,
	file: FileSettings,
	settings: SendSettings,
	transport: PlatformTransport,
	choices: RowImportChoices,
	rejections: Rejections,
): Promise<RowImportOutcome> {
	const { stopOnInvalid, continueOnFail } = choices;
	const progress = choices.progress ?? { read: 0, sent: 0, accepted: 0 };
	if (settings.platform.delivery.mode !== 'batch')
		throw new Error('importRows needs a batch platform');
	const delivery = settings.platform.delivery;
	const started = Date.now();
	const readResult: ReadResult = { headerEndOffset: 0 };
	const reject = (rejected: RejectedRow, row: FileRow | PreparedRow, invalid: boolean) =>
		rejections.add(rejected, row.cells, readResult.columns, invalid);
	if (stopOnInvalid) {
		const refused = await checkEveryRow(source, file, settings, rejections, reject, readResult);
		if (refused) return refused;
	}

	const reading = new RowReading(file.fromRow);
	const tally = new RowTally((rejected, row) => reject(rejected, row, false));
	let skipped = 0;
	const chunks = prepareRowChunks(
		source,
		file,
		(rejected, raw) => {
			reading.rowsRead++;
			progress.read++;
			reject(rejected, raw, true);
		},
		readResult,
		() => skipped++,
	);
	// A file that breaks part-way must not hide the rows already sent: reading stops there,
	// the batches in flight end, and the outcome says both.
	const fatal = await sendBatches(
		transport,
		delivery,
		toBatchesFromChunks(
			reading.counted(chunks, progress),
			effectiveBatchSize(delivery, settings.batchSize),
		),
		{
			concurrency: settings.concurrency,
			stopOnFailure: !continueOnFail,
			credentials: settings.credentials,
			itemOptions: settings.itemOptions,
		},
		(item, result) => {
			if (result.status !== 'notSent') progress.sent++;
			tally.report(item, result);
		},
		(batch, accepted) => {
			progress.sent += batch.items.length;
			progress.accepted += batch.items.length;
			tally.acceptedBatch(batch, accepted);
		},
	);
	if (reading.fileError) {
		tally.resumeFromRow = Math.min(tally.resumeFromRow ?? Infinity, reading.lastRowRead + 1);
	}
	const { rowsRead } = reading;
	const noneAccepted = rowsRead > 0 && tally.accepted === 0 && !fatal;
	return {
		summary: {
			file: source.fileName,
			format: file.format,
			platform: settings.platform.id,
			...sentSummary(tally, reading, rejections.invalid, skipped),
			requests: transport.stats.requests,
			retries: transport.stats.retries,
			retryReasons: transport.stats.retryReasons,
			durationMs: Date.now() - started,
			rejected: listed(rejections),
		},
		rejectedFile: rejections.file(),
		// A file of which nothing got in is a failed import, not a success with rejections.
		fatal:
			(reading.fileError &&
				fileFailureOf(reading.fileError, tally.accepted, tally.resumeFromRow)) ??
			fatal?.message ??
			(noneAccepted
				? `No row of ${rowsRead} was accepted. First: ${rejections.listed[0]?.message}`
				: undefined),
	};
}
