import type { Readable } from 'node:stream';

import { readCsv, readCsvChunks } from './csv';
import { readNdjson, readNdjsonChunks } from './ndjson';
import type { FileFormat } from './binary';
import type { CsvOptions, FileRow, ReadResult } from './types';

export { openBinary, detectFormat, type BinarySource, type FileFormat } from './binary';
export { FileFormatError, type FileRow, type CsvOptions, type ReadResult } from './types';

/** Rows of a CSV or NDJSON stream, whichever the format. */
export function readRows(
	stream: Readable,
	format: FileFormat,
	csv: CsvOptions,
	result: ReadResult = { headerEndOffset: 0 },
): AsyncGenerator<FileRow> {
	return format === 'csv' ? readCsv(stream, csv, result) : readNdjson(stream);
}

/** readRows' rows in arrays (one promise per array, not per row): the path of bulk imports. */
export function readRowChunks(
	stream: Readable,
	format: FileFormat,
	csv: CsvOptions,
	result: ReadResult = { headerEndOffset: 0 },
): AsyncGenerator<FileRow[]> {
	return format === 'csv' ? readCsvChunks(stream, csv, result) : readNdjsonChunks(stream);
}
