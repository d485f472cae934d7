import type { IDataObject } from 'n8n-workflow';

/** One data row of a file, read but not yet validated. */
export interface FileRow {
	/** 1-based number of the data row (the CSV header is not a row). */
	row: number;
	/** 1-based line of the file where the row starts, for error messages. */
	line: number;
	/** Byte offset just past the row (its line ending included): where a split may cut. */
	endOffset: number;
	/** The row's fields; absent when the row could not be read (then `error` says why). */
	record?: IDataObject;
	error?: string;
	/** The row's cells as read, for writing rejected rows back out as CSV. */
	cells?: string[];
}

/** A problem with the file as a whole (not one row): it cannot be read further. */
export class FileFormatError extends Error {
	constructor(
		message: string,
		readonly line?: number,
	) {
		super(message);
		this.name = 'FileFormatError';
	}
}

export interface CsvOptions {
	delimiter: string;
	/** Cells that hold a JSON object or array become that value (for nested platform fields). */
	parseJsonCells: boolean;
}

export interface ReadResult {
	/** CSV: the header line's bytes, repeated at the head of every part when a file is split. */
	header?: Buffer;
	headerEndOffset: number;
	columns?: string[];
}
