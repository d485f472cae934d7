import type { IDataObject } from 'n8n-workflow';
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';

import { FileFormatError, type FileRow } from './types';

const NEWLINE = 0x0a;
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Why a line is not a JSON object, in words. */
function parseLine(text: string): { record?: IDataObject; error?: string } {
	let value: unknown;
	let failure: string | undefined;
	try {
		value = JSON.parse(text);
	} catch (error) {
		failure = (error as Error).message;
	}
	if (failure !== undefined) {
		// JSON strings cannot hold a raw CR: one inside a line is a line ending NDJSON does not know.
		const hint = text.includes('\r')
			? '; its lines seem to end with a lone CR, but NDJSON lines end with LF or CRLF'
			: '';
		return {
			error: `is not valid JSON (${failure.length > 200 ? `${failure.slice(0, 200)}…` : failure})${hint}`,
		};
	}
	if (value === null || typeof value !== 'object' || Array.isArray(value)) {
		const got =
			value === null
				? 'null'
				: Array.isArray(value)
					? 'an array'
					: typeof value === 'string'
						? 'a string'
						: `a ${typeof value}`;
		return { error: `is ${got}, not a JSON object` };
	}
	return { record: value as IDataObject };
}

/** Why a file's first non-blank line shows it is not NDJSON, as an error to throw, or undefined. */
function notNdjson(bytes: Buffer, text: string, line: number): FileFormatError | undefined {
	if (bytes.includes(0)) {
		return new FileFormatError(
			`NDJSON: line ${line} holds NUL bytes: the file is not JSON text (binary data?)`,
			line,
		);
	}
	const start = text.trimStart();
	if (start.startsWith('[')) {
		return new FileFormatError(
			`NDJSON: the file starts with "[" (line ${line}): it looks like one JSON array, but NDJSON needs one JSON object per line`,
			line,
		);
	}
	if (start.trimEnd() === '{') {
		return new FileFormatError(
			`NDJSON: line ${line} holds only "{": the file looks like pretty-printed JSON, but NDJSON needs each object on one line`,
			line,
		);
	}
	return undefined;
}

function isUtf16Start(bytes: Buffer): boolean {
	return (
		bytes.length >= 2 &&
		((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
	);
}

/** Cuts a byte stream into lines and each line into its row; a line may span chunks. */
class NdjsonLines {
	/** Data rows read. */
	row = 0;

	private pending: Buffer[] = [];
	private pendingBytes = 0;
	private offset = 0;
	private line = 0;
	private first = true;

	/** Adds the rows of the lines `chunk` completes to `rows`, and keeps its unfinished line. */
	split(chunk: Buffer, rows: FileRow[]): void {
		let start = 0;
		for (let index = chunk.indexOf(NEWLINE); index !== -1; index = chunk.indexOf(NEWLINE, start)) {
			const piece = chunk.subarray(start, index);
			const bytes = this.pendingBytes > 0 ? Buffer.concat([...this.pending, piece]) : piece;
			this.pending = [];
			this.pendingBytes = 0;
			this.offset += piece.length + 1;
			const result = this.toRow(bytes, this.offset);
			if (result) rows.push(result);
			start = index + 1;
		}
		if (start < chunk.length) {
			const rest = chunk.subarray(start);
			this.offset += rest.length;
			this.pending.push(rest);
			this.pendingBytes += rest.length;
			if (this.pendingBytes > MAX_LINE_BYTES) {
				const line = this.line + 1;
				throw new FileFormatError(`NDJSON: line ${line} is longer than 16 MB`, line);
			}
		}
	}

	/** The row of a last line that has no line break after it. */
	finish(): FileRow | undefined {
		if (this.pendingBytes === 0) return undefined;
		return this.toRow(Buffer.concat(this.pending), this.offset);
	}

	/** A line's row; undefined for a blank line. */
	private toRow(bytes: Buffer, endOffset: number): FileRow | undefined {
		const line = ++this.line;
		if (line === 1 && isUtf16Start(bytes)) {
			throw new FileFormatError('NDJSON: the file is UTF-16 text; save it as UTF-8', 1);
		}
		if (bytes.length > MAX_LINE_BYTES)
			throw new FileFormatError(`NDJSON: line ${line} is longer than 16 MB`, line);
		let text = bytes.toString('utf8');
		if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
		if (text.endsWith('\r')) text = text.slice(0, -1);
		if (text.trim() === '') return undefined;
		if (this.first) {
			const refusal = notNdjson(bytes, text, line);
			if (refusal !== undefined) throw refusal;
		}
		this.first = false;
		const row = ++this.row;
		if (!isUtf8(bytes)) {
			return {
				row,
				line,
				endOffset,
				cells: [text],
				error:
					'is not valid UTF-8 text: the file seems to be in another encoding (such as Windows-1252 or Latin-1); save it as UTF-8',
			};
		}
		// The line itself is the row's one cell: a rejected row is written back out as it was read.
		return { row, line, endOffset, cells: [text], ...parseLine(text) };
	}
}

/**
 * Reads NDJSON line by line from a byte stream (LF or CRLF, even mixed; blank lines skipped; a
 * UTF-8 BOM ignored). Each broken line is returned as a row with an error; the rest go on. A file
 * that is one JSON array or one pretty-printed object is refused as a whole, since it is JSON,
 * not NDJSON; so is a UTF-16 file.
 */
export async function* readNdjson(stream: Readable): AsyncGenerator<FileRow> {
	for await (const rows of readNdjsonChunks(stream)) {
		for (const row of rows) yield row;
	}
}

/**
 * readNdjson's rows in arrays, one array per chunk of the stream (one promise per array, not
 * per row). The same rows, errors and order as readNdjson: rows before a line that ends the
 * read are handed out before its error is thrown.
 */
export async function* readNdjsonChunks(stream: Readable): AsyncGenerator<FileRow[]> {
	const lines = new NdjsonLines();
	let sawBytes = false;
	for await (const data of stream as AsyncIterable<Buffer | string>) {
		const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
		if (chunk.length > 0) sawBytes = true;
		const rows: FileRow[] = [];
		let failure: unknown;
		try {
			lines.split(chunk, rows);
		} catch (error) {
			failure = error;
		}
		if (rows.length > 0) yield rows;
		if (failure !== undefined) throw failure;
	}
	const last = lines.finish();
	if (last) yield [last];
	if (!sawBytes) throw new FileFormatError('NDJSON: the file is empty');
	if (lines.row === 0)
		throw new FileFormatError('NDJSON: the file has no data rows (only blank lines)');
}
