import type { IDataObject } from 'n8n-workflow';
import { Parser, type CsvError, type Options as CsvParseOptions } from 'csv-parse';
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';

import { setPath } from '../../paths';
import { FileFormatError, type CsvOptions, type FileRow, type ReadResult } from './types';

/** Largest field (bytes) csv-parse holds before giving up on a record. */
const MAX_FIELD_BYTES = 16 * 1024 * 1024;
/** Largest record (characters, all cells together). */
const MAX_RECORD_CHARS = 64 * 1024 * 1024;
/** Characters that separate fields in the CSV files people export. */
const DELIMITER_CANDIDATES = [',', ';', '\t', '|'];
const UNSAFE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const NOT_UTF8 =
	'is not valid UTF-8 text: the file seems to be in another encoding (such as Windows-1252 or Latin-1); save it as UTF-8';

function cellValue(cell: string, parseJson: boolean): unknown {
	if (parseJson && cell.length > 1) {
		const first = cell.charCodeAt(0);
		// '{' or '[': only then is JSON worth trying.
		if (first === 123 || first === 91) {
			try {
				return JSON.parse(cell);
			} catch {
				return cell;
			}
		}
	}
	return cell;
}

/** Line breaks in a cell's text: CRLF, LF and CR each count once (as in the file). */
function lineBreaks(text: string): number {
	let count = 0;
	for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
	for (let i = text.indexOf('\r'); i !== -1; i = text.indexOf('\r', i + 1)) {
		if (text.charCodeAt(i + 1) !== 10) count++;
	}
	return count;
}

/** A cell as csv-parse hands it over: bytes (UTF-8 files, checked here) or text (UTF-16 files). */
type RawCell = string | Uint8Array;

/**
 * Decodes a record's cells in place (the record is the parser's new array, ours to keep: no copy
 * per row); false when a cell is not valid UTF-8. `checked` says the bytes are known to be valid
 * UTF-8 already (every chunk of the file so far was), and then no cell is checked again.
 * `suspectText`: the UTF-8 file has bad bytes, so cells should now come as bytes; one that came as
 * text with U+FFFD in it may hide them (a parser that no longer honours the switch to bytes), and
 * is refused rather than imported with the replacement character.
 */
function decodeCells(raw: RawCell[], checked: boolean, suspectText: boolean): boolean {
	let valid = true;
	for (let i = 0; i < raw.length; i++) {
		const cell = raw[i];
		if (typeof cell === 'string') {
			if (suspectText && valid && cell.includes('\uFFFD')) valid = false;
			continue;
		}
		const bytes = Buffer.isBuffer(cell)
			? cell
			: Buffer.from(cell.buffer, cell.byteOffset, cell.byteLength);
		if (!checked && valid && !isUtf8(bytes)) valid = false;
		raw[i] = bytes.toString('utf8');
	}
	return valid;
}

/**
 * Checks a file's bytes for valid UTF-8 chunk by chunk, as they go to the parser (before it
 * sees them): a character cut by a chunk's end is checked with the next chunk. Once a chunk
 * fails, `clean` stays false and the reader checks every cell instead, to name the bad rows.
 */
class Utf8Watch {
	clean = true;
	/** Called once, when the first bytes that are not UTF-8 are seen. */
	onDirty: (() => void) | undefined;

	private carry: Buffer | undefined;

	feed(chunk: Buffer): void {
		if (!this.clean) return;
		const bytes = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
		let cut = bytes.length;
		// A lead byte in the last 3 whose sequence runs past the end: keep it for the next chunk.
		for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 3; i--) {
			const byte = bytes[i];
			if ((byte & 0xc0) === 0x80) continue;
			if (byte >= 0xc0) {
				const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
				if (bytes.length - i < need) cut = i;
			}
			break;
		}
		this.carry = cut < bytes.length ? Buffer.from(bytes.subarray(cut)) : undefined;
		if (!isUtf8(bytes.subarray(0, cut))) this.dirty();
	}

	end(): void {
		if (this.carry !== undefined) this.dirty();
		this.carry = undefined;
	}

	private dirty(): void {
		if (!this.clean) return;
		this.clean = false;
		this.onDirty?.();
	}
}

function plural(n: number, word: string): string {
	return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describeCsvError(error: CsvError, startLine: number): FileFormatError {
	const where = `the row starting on line ${startLine}`;
	const field = (error as unknown as { column?: unknown }).column;
	switch (error.code) {
		case 'CSV_QUOTE_NOT_CLOSED':
			return new FileFormatError(
				`CSV: ${where} has a quoted field that is never closed (unbalanced quote): the rest of the file cannot be read`,
				startLine,
			);
		case 'CSV_INVALID_CLOSING_QUOTE':
			return new FileFormatError(
				`CSV: ${where} has a quote inside a quoted field that is not doubled ("") nor followed by the delimiter`,
				startLine,
			);
		case 'INVALID_OPENING_QUOTE':
			return new FileFormatError(
				`CSV: ${where} has a quote inside field ${typeof field === 'number' ? field + 1 : '?'}, which is not quoted: ` +
					'write the whole field in quotes and double the quote inside it ("")',
				startLine,
			);
		case 'CSV_MAX_RECORD_SIZE':
			return new FileFormatError(`CSV: ${where} has a field larger than 16 MB`, startLine);
		default:
			return new FileFormatError(`CSV: ${error.message.replace(/^Invalid/, 'invalid')}`, startLine);
	}
}

/** The header's problem, in words, or undefined when the columns can be used. */
function headerProblem(columns: string[], delimiter: string): string | undefined {
	const seen = new Set<string>();
	for (const [index, name] of columns.entries()) {
		if (name === '') return `column ${index + 1} has no name`;
		if (name.includes('\u0000')) {
			return 'holds NUL bytes: the file is not UTF-8 text (UTF-16 without a byte order mark, or not a CSV file at all)';
		}
		if (seen.has(name)) return `column "${name}" appears twice`;
		seen.add(name);
	}
	if (columns.length === 1) {
		const other = DELIMITER_CANDIDATES.find(
			(candidate) => candidate !== delimiter && columns[0].includes(candidate),
		);
		if (other !== undefined) {
			return (
				`one column "${columns[0].slice(0, 60)}" found with delimiter ${JSON.stringify(delimiter)}: ` +
				`the file seems to use another delimiter (${JSON.stringify(other)}); set "CSV Delimiter"`
			);
		}
	}
	for (const name of columns) {
		const parts = name.split('.');
		if (
			parts.some((part) => UNSAFE_NAMES.has(part)) ||
			(parts.length === 1 && name === '__proto__')
		) {
			return `column "${name}" is not allowed (__proto__, constructor and prototype cannot name a field)`;
		}
		if (parts.length > 1 && parts.some((part) => part === '')) {
			return `column "${name}" has an empty part in its dotted name (dotted names such as user.email build nested fields)`;
		}
	}
	// A column "a" beside "a.b" (or "a.b" beside "a.b.c") would overwrite one with the other.
	for (const name of columns) {
		if (!name.includes('.')) continue;
		const parts = name.split('.');
		for (let i = 1; i < parts.length; i++) {
			const prefix = parts.slice(0, i).join('.');
			if (seen.has(prefix))
				return `columns "${prefix}" and "${name}" both set the field "${prefix}"`;
		}
	}
	return undefined;
}

/** A chunk as bytes (a stream in string mode hands over text). */
function bytesOf(chunk: Buffer | string): Buffer {
	return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

/** How the file's first bytes say it is encoded. */
interface Head {
	/** Bytes of a byte order mark to skip. */
	bom: number;
	encoding: 'utf8' | 'utf16le';
}

/** Bytes of the file's start kept to tell binary data from text. */
const SAMPLE_BYTES = 4096;

/** Why the file's first bytes are not CSV text (NUL bytes, or not UTF-8), or undefined. */
function binaryReason(sample: Buffer, truncated: boolean): string | undefined {
	if (sample.includes(0))
		return 'CSV: the file holds NUL bytes: it is not a CSV text file (binary data, or UTF-16 text without a byte order mark)';
	// A sample cut in the middle of a character is fine: drop up to 3 bytes of it.
	for (let drop = 0; drop <= (truncated ? 3 : 0); drop++) {
		if (isUtf8(sample.subarray(0, sample.length - drop))) return undefined;
	}
	return `CSV: the start of the file ${NOT_UTF8} (or it is not a CSV file)`;
}

function readHead(first: Buffer): Head | string {
	if (first.length >= 3 && first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf)
		return { bom: 3, encoding: 'utf8' };
	if (first.length >= 2 && first[0] === 0xff && first[1] === 0xfe)
		return { bom: 2, encoding: 'utf16le' };
	if (first.length >= 2 && first[0] === 0xfe && first[1] === 0xff) {
		return 'CSV: the file is UTF-16 big-endian text; save it as UTF-8';
	}
	return { bom: 0, encoding: 'utf8' };
}

/** The CSV bytes for the parser (a BOM skipped), and what their start says of the file. */
interface CsvInput {
	head: Head;
	/** The file's first bytes after a BOM, to tell binary data from text. */
	sample: Buffer;
	/** Whether the file goes on past the sample. */
	truncated: boolean;
	utf8: Utf8Watch;
	input: Readable;
}

/**
 * Reads the first bytes to tell the encoding; a UTF-8 BOM is skipped here, so that csv-parse
 * hands over the raw bytes of every cell and invalid UTF-8 can be told from U+FFFD in the text.
 */
async function openCsvInput(stream: Readable): Promise<CsvInput> {
	const source = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
	let first = Buffer.alloc(0);
	let ended = false;
	let unreadable: unknown;
	try {
		while (first.length < 3) {
			const next = await source.next();
			if (next.done) {
				ended = true;
				break;
			}
			first = Buffer.concat([first, bytesOf(next.value)]);
		}
	} catch (error) {
		unreadable = error;
	}
	const head = unreadable === undefined ? readHead(first) : undefined;
	if (head === undefined || typeof head === 'string') {
		stream.destroy();
		throw head === undefined ? unreadable : new FileFormatError(head, 1);
	}
	const utf8 = new Utf8Watch();
	utf8.clean = head.encoding === 'utf8';
	const bytes = bytesAfterHead(source, first.subarray(head.bom), ended, utf8);
	return {
		head,
		// A copy, so that the first chunk is not held for the whole read.
		sample: Buffer.from(first.subarray(head.bom, head.bom + SAMPLE_BYTES)),
		truncated: first.length > head.bom + SAMPLE_BYTES,
		utf8,
		input: Readable.from(bytes, { objectMode: false }),
	};
}

/** The rest of the file's bytes from `start` on, each checked for UTF-8 before the parser gets it. */
async function* bytesAfterHead(
	source: AsyncIterator<Buffer | string>,
	start: Buffer,
	ended: boolean,
	utf8: Utf8Watch,
): AsyncGenerator<Buffer> {
	if (start.length > 0) {
		utf8.feed(start);
		yield start;
	}
	if (!ended) {
		for (;;) {
			const next = await source.next();
			if (next.done) break;
			const chunk = bytesOf(next.value);
			utf8.feed(chunk);
			yield chunk;
		}
	}
	utf8.end();
}

/** What csv-parse says of the record it completed. */
interface RecordContext {
	bytes: number;
	empty_lines: number;
}

/**
 * Turns each record into its row as the parser completes it, synchronously (the parser's info
 * then gives the bytes read and the empty lines skipped). The header is checked here too and not
 * passed on.
 */
class CsvRows {
	columns: string[] | undefined;
	/** Data rows read. */
	row = 0;
	/** Records read, the header included. */
	records = 0;

	private paths: Array<{ name: string; dotted: boolean }> = [];
	// Line numbers, counted as each record completes (synchronously, in the parser, so they are
	// right even for a record that fails while earlier ones wait in the stream's buffer).
	/** Line where the next record starts, before the empty lines in between. */
	private nextLine = 1;
	private emptyLinesBefore = 0;
	private readonly options: CsvOptions;
	private readonly result: ReadResult;
	private readonly file: CsvInput;

	constructor(options: CsvOptions, result: ReadResult, file: CsvInput) {
		this.options = options;
		this.result = result;
		this.file = file;
	}

	onRecord(record: RawCell[], context: RecordContext): FileRow | null {
		this.records++;
		const startLine = this.nextLine + (context.empty_lines - this.emptyLinesBefore);
		this.emptyLinesBefore = context.empty_lines;
		const { utf8, head } = this.file;
		const valid = decodeCells(record, utf8.clean, !utf8.clean && head.encoding === 'utf8');
		const cells = record as string[];
		let breaks = 0;
		for (const cell of cells) if (cell.length > 0) breaks += lineBreaks(cell);
		this.nextLine = startLine + breaks + 1;
		const endOffset = context.bytes + this.file.head.bom;
		if (this.columns === undefined) {
			this.readHeader(cells, valid, startLine, endOffset);
			return null;
		}
		this.row++;
		return this.toRow(cells, valid, startLine, endOffset);
	}

	/** Where the record being read when the parser failed starts, given its empty lines so far. */
	lineOfFailure(emptyLines: number | undefined): number {
		return this.nextLine + ((emptyLines ?? this.emptyLinesBefore) - this.emptyLinesBefore);
	}

	private readHeader(cells: string[], valid: boolean, line: number, endOffset: number): void {
		if (!valid) {
			const { sample, truncated } = this.file;
			throw new FileFormatError(binaryReason(sample, truncated) ?? `CSV header ${NOT_UTF8}`, line);
		}
		const names = cells.map((name) => name.trim());
		const problem = headerProblem(names, this.options.delimiter);
		if (problem !== undefined) {
			throw new FileFormatError(`CSV header: ${problem}`, line);
		}
		this.columns = names;
		this.paths = names.map((name) => ({ name, dotted: name.includes('.') }));
		this.result.columns = names;
		this.result.headerEndOffset = endOffset;
	}

	private toRow(cells: string[], valid: boolean, line: number, endOffset: number): FileRow {
		const row = this.row;
		if (!valid) return { row, line, endOffset, cells, error: NOT_UTF8 };
		const columns = this.columns as string[];
		if (cells.length !== columns.length) {
			return {
				row,
				line,
				endOffset,
				cells,
				error: `has ${plural(cells.length, 'field')} where the header has ${columns.length}`,
			};
		}
		let size = 0;
		for (const cell of cells) size += cell.length;
		if (size > MAX_RECORD_CHARS) {
			return { row, line, endOffset, error: `is larger than ${MAX_RECORD_CHARS / 1024 / 1024} MB` };
		}
		const paths = this.paths;
		const fields: IDataObject = {};
		for (let i = 0; i < paths.length; i++) {
			const value = cellValue(cells[i], this.options.parseJsonCells);
			if (paths[i].dotted) setPath(fields, paths[i].name, value);
			else fields[paths[i].name] = value as IDataObject[string];
		}
		return { row, line, endOffset, record: fields, cells };
	}
}

/**
 * csv-parse's stream parser, whose records become rows as it pushes them. csv-parse's
 * `on_record` would do the same, but it builds a context object for every record; the parser's
 * own `info` holds the same counts at the moment of the push.
 */
class RowParser extends Parser {
	constructor(
		options: CsvParseOptions,
		private readonly rows: CsvRows,
	) {
		super(options);
	}

	push(record: unknown, encoding?: BufferEncoding): boolean {
		if (record === null) return super.push(null, encoding);
		if (this.destroyed) return false;
		let row: FileRow | null;
		try {
			row = this.rows.onRecord(record as RawCell[], this.info);
		} catch (error) {
			// A header that cannot be used: the read fails, with this error.
			this.destroy(error as Error);
			return false;
		}
		return row === null ? true : super.push(row);
	}
}

/**
 * Hands out the parser's rows with read() whenever it has some (no promise per row, as an async
 * iterator over the stream would make); the stream's buffer still bounds how far it reads ahead.
 */
class ParserDrain {
	finished = false;
	error: unknown;

	private ready = false;
	private wake: (() => void) | undefined;
	private readonly parser: Parser;

	constructor(parser: Parser) {
		this.parser = parser;
		const signal = () => {
			this.ready = true;
			this.wake?.();
		};
		parser.on('readable', signal);
		parser.once('end', () => {
			this.finished = true;
			signal();
		});
		parser.once('error', (error) => {
			this.error ??= error;
			signal();
		});
	}

	/**
	 * The rows ready now, at most `maxRows`. A parse error ends the rows at once, as a failed
	 * stream does (rows still buffered after it are not handed out: the error names where to resume).
	 */
	take(maxRows: number): FileRow[] {
		const rows: FileRow[] = [];
		let next: FileRow | null;
		while (
			this.error === undefined &&
			rows.length < maxRows &&
			(next = this.parser.read() as FileRow | null) !== null
		)
			rows.push(next);
		return rows;
	}

	/** Until the parser has more to say: rows, its end or an error. */
	async wait(): Promise<void> {
		if (!this.ready) await new Promise<void>((resolve) => (this.wake = resolve));
		this.wake = undefined;
		this.ready = false;
	}
}

/** The error to throw for a failed read: a csv-parse error becomes a FileFormatError naming the line. */
function csvReadFailure(failure: unknown, line: number, records: number, file: CsvInput): unknown {
	if (failure instanceof FileFormatError) return failure;
	const code = (failure as CsvError).code;
	const known =
		typeof code === 'string' && (code.startsWith('CSV_') || code === 'INVALID_OPENING_QUOTE');
	if (!known) return failure;
	// Binary data often breaks the CSV syntax before its first line ends: say what the file is.
	const binary =
		records === 0 && file.head.encoding === 'utf8'
			? binaryReason(file.sample, file.truncated)
			: undefined;
	return binary !== undefined
		? new FileFormatError(binary, 1)
		: describeCsvError(failure as CsvError, line);
}

/**
 * Reads a CSV stream row by row with csv-parse (BOM, CRLF, LF or CR line endings, even mixed,
 * quoted fields with delimiters and newlines, empty lines skipped). Dotted column names build
 * nested objects. Rows with the wrong number of cells, or bytes that are not UTF-8, are returned
 * with an error; a file that cannot be parsed further throws a FileFormatError naming the line.
 */
export async function* readCsv(
	stream: Readable,
	options: CsvOptions,
	result: ReadResult = { headerEndOffset: 0 },
): AsyncGenerator<FileRow> {
	for await (const rows of readCsvChunks(stream, options, result, 1)) {
		for (const row of rows) yield row;
	}
}

/** Rows handed out at once by readCsvChunks, at most. */
export const CHUNK_ROWS = 512;

/**
 * readCsv's rows in arrays: every row the parser has ready (up to `maxRows`) at once, so that a
 * consumer pays one promise per array, not per row. The same rows, errors and order as readCsv.
 */
export async function* readCsvChunks(
	stream: Readable,
	options: CsvOptions,
	result: ReadResult = { headerEndOffset: 0 },
	maxRows = CHUNK_ROWS,
): AsyncGenerator<FileRow[]> {
	const file = await openCsvInput(stream);
	const rows = new CsvRows(options, result, file);
	const parser = new RowParser(
		{
			bom: false,
			// UTF-8 cells come as text while every chunk so far was valid UTF-8; from the first
			// chunk that is not, as bytes, so that each cell can be checked and its row named (the
			// parser reads this option for each cell it completes).
			encoding: file.head.encoding,
			delimiter: options.delimiter,
			record_delimiter: ['\r\n', '\n', '\r'],
			skip_empty_lines: true,
			relax_column_count: true,
			raw: false,
			max_record_size: MAX_FIELD_BYTES,
		},
		rows,
	);
	file.utf8.onDirty = () => (parser.options.encoding = null);
	const drain = new ParserDrain(parser);
	const input = file.input;
	input.on('error', (error) => parser.destroy(error));
	input.pipe(parser);

	let failure: unknown;
	let failureLine = 1;
	try {
		for (;;) {
			const ready = drain.take(maxRows);
			if (ready.length > 0) {
				yield ready;
				continue;
			}
			if (drain.error !== undefined) throw drain.error;
			if (drain.finished) break;
			await drain.wait();
		}
	} catch (error) {
		failure = error;
		failureLine = rows.lineOfFailure(parser.info?.empty_lines);
	} finally {
		input.unpipe(parser);
		if (!input.destroyed) input.destroy();
		if (!parser.destroyed) parser.destroy();
		if (!stream.destroyed) stream.destroy();
	}
	if (failure !== undefined) throw csvReadFailure(failure, failureLine, rows.records, file);
	if (rows.columns === undefined)
		throw new FileFormatError('CSV: the file is empty (no header row)');
	if (rows.row === 0) throw new FileFormatError('CSV: the file has a header row but no data rows');
}
