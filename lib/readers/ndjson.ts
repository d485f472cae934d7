import type { IDataObject } from 'n8n-workflow';
import type { Readable } from 'node:stream';

import { FileFormatError, type FileRow } from './types';

const NEWLINE = 0x0a;
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Why a line is not a JSON object, in words. */
function parseLine(text: string): { record?: IDataObject; error?: string } {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		return { error: `is not valid JSON (${(error as Error).message})` };
	}
	if (value === null || typeof value !== 'object' || Array.isArray(value)) {
		const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
		return { error: `is ${got}, not a JSON object` };
	}
	return { record: value as IDataObject };
}

/**
 * Reads NDJSON line by line from a byte stream (LF or CRLF, blank lines skipped, a UTF-8 BOM
 * ignored). Each broken line is returned as a row with an error; the rest go on. A file that is
 * one JSON array is refused as a whole, since it is JSON, not NDJSON.
 */
export async function* readNdjson(stream: Readable): AsyncGenerator<FileRow> {
	let pending: Buffer[] = [];
	let pendingBytes = 0;
	let offset = 0;
	let line = 0;
	let row = 0;
	let first = true;

	const emit = (bytes: Buffer, endOffset: number): FileRow | undefined => {
		line++;
		let text = bytes.toString('utf8');
		if (first) {
			if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
		}
		if (text.endsWith('\r')) text = text.slice(0, -1);
		if (text.trim() === '') return undefined;
		if (first && text.trimStart().startsWith('[')) {
			throw new FileFormatError(
				'NDJSON: the file starts with "[": it looks like one JSON array, but NDJSON needs one JSON object per line',
				line,
			);
		}
		first = false;
		row++;
		if (text.includes('\ufffd') && !bytes.includes(Buffer.from('\ufffd'))) {
			return { row, line, endOffset, error: 'is not valid UTF-8 text' };
		}
		const parsed = parseLine(text);
		return { row, line, endOffset, ...parsed };
	};

	for await (const chunk of stream as AsyncIterable<Buffer>) {
		let start = 0;
		for (let index = chunk.indexOf(NEWLINE); index !== -1; index = chunk.indexOf(NEWLINE, start)) {
			const piece = chunk.subarray(start, index);
			const bytes = pendingBytes > 0 ? Buffer.concat([...pending, piece]) : piece;
			pending = [];
			pendingBytes = 0;
			offset += piece.length + 1;
			const result = emit(bytes, offset);
			if (result) yield result;
			start = index + 1;
		}
		if (start < chunk.length) {
			const rest = chunk.subarray(start);
			offset += rest.length;
			pending.push(rest);
			pendingBytes += rest.length;
			if (pendingBytes > MAX_LINE_BYTES) {
				throw new FileFormatError(`NDJSON: line ${line + 1} is longer than 16 MB`, line + 1);
			}
		}
	}
	if (pendingBytes > 0) {
		const result = emit(Buffer.concat(pending), offset);
		if (result) yield result;
	}
	if (row === 0) throw new FileFormatError('NDJSON: the file has no data rows');
}
