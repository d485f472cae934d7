import type { IDataObject } from 'n8n-workflow';
import { parse, type CsvError } from 'csv-parse';
import type { Readable } from 'node:stream';

import { setPath } from '../paths';
import { FileFormatError, type CsvOptions, type FileRow, type ReadResult } from './types';

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

function describeCsvError(error: CsvError): FileFormatError {
	const line = (error as unknown as { lines?: number }).lines;
	const where = line ? `line ${line}` : 'the file';
	switch (error.code) {
		case 'CSV_QUOTE_NOT_CLOSED':
			return new FileFormatError(`CSV: a quoted field opened before ${where} is never closed (unbalanced quote)`, line);
		case 'CSV_INVALID_CLOSING_QUOTE':
			return new FileFormatError(`CSV: a quote inside a field at ${where} is not doubled ("") nor followed by the delimiter`, line);
		case 'CSV_MAX_RECORD_SIZE':
			return new FileFormatError(`CSV: the record at ${where} is larger than the 16 MB a field may hold`, line);
		default:
			return new FileFormatError(`CSV: ${error.message.replace(/^Invalid/, 'invalid')}`, line);
	}
}

/**
 * Reads a CSV stream row by row with csv-parse (BOM, CRLF or LF, quoted fields with delimiters
 * and newlines, empty lines skipped). Dotted column names build nested objects. Rows with the
 * wrong number of cells are returned with an error; a file that cannot be parsed further throws
 * a FileFormatError naming the line.
 */
export async function* readCsv(
	stream: Readable,
	options: CsvOptions,
	result: ReadResult = { headerEndOffset: 0 },
): AsyncGenerator<FileRow> {
	const parser = parse({
		bom: true,
		delimiter: options.delimiter,
		skip_empty_lines: true,
		// Files glued together from several exports mix CRLF and LF: accept both on every line.
		record_delimiter: ['\r\n', '\n'],
		relax_column_count: true,
		info: true,
		raw: false,
		max_record_size: 16 * 1024 * 1024,
	});
	stream.on('error', (error) => parser.destroy(error));
	stream.pipe(parser);

	let columns: string[] | undefined;
	let paths: Array<{ name: string; dotted: boolean }> = [];
	let row = 0;
	let previousLines = 0;
	let failure: unknown;
	try {
		for await (const entry of parser as AsyncIterable<{ record: string[]; info: { bytes: number; lines: number } }>) {
			const { record, info } = entry;
			const startLine = previousLines + 1;
			previousLines = info.lines;
			if (!columns) {
				columns = record.map((name) => name.trim());
				const seen = new Set<string>();
				for (const [index, name] of columns.entries()) {
					if (name === '') throw new FileFormatError(`CSV header: column ${index + 1} has no name`, 1);
					if (seen.has(name)) throw new FileFormatError(`CSV header: column "${name}" appears twice`, 1);
					seen.add(name);
				}
				if (columns.length === 1 && options.delimiter !== ';' && /[;\t|]/.test(columns[0])) {
					throw new FileFormatError(
						`CSV header: one column "${columns[0].slice(0, 60)}" found with delimiter "${options.delimiter}": the file seems to use another delimiter`,
						1,
					);
				}
				paths = columns.map((name) => ({ name, dotted: name.includes('.') }));
				result.columns = columns;
				result.headerEndOffset = info.bytes;
				continue;
			}
			row++;
			if (record.length !== columns.length) {
				yield {
					row,
					line: startLine,
					endOffset: info.bytes,
					cells: record,
					error: `has ${record.length} fields where the header has ${columns.length}`,
				};
				continue;
			}
			const fields: IDataObject = {};
			for (let i = 0; i < paths.length; i++) {
				const value = cellValue(record[i], options.parseJsonCells);
				if (paths[i].dotted) setPath(fields, paths[i].name, value);
				else fields[paths[i].name] = value as IDataObject[string];
			}
			yield { row, line: startLine, endOffset: info.bytes, record: fields, cells: record };
		}
	} catch (error) {
		failure = error;
	} finally {
		stream.unpipe(parser);
		if (!stream.destroyed) stream.destroy();
	}
	if (failure !== undefined) {
		const code = (failure as CsvError).code;
		throw typeof code === 'string' && code.startsWith('CSV_') ? describeCsvError(failure as CsvError) : failure;
	}
	if (columns === undefined) throw new FileFormatError('CSV: the file is empty (no header row)');
	if (row === 0) throw new FileFormatError('CSV: the file has a header row but no data rows');
}
