import type { IDataObject } from 'n8n-workflow';

import type { Platform, PlatformItemOptions } from '../platform';
import type { PreparedItem } from '../delivery/batch';
import { compilePreparer } from './prepare';
import {
	readRowChunks,
	type BinarySource,
	type CsvOptions,
	type FileFormat,
	type FileRow,
	type ReadResult,
} from './readers';
import type { FieldError } from '../validation/types';

/**
 * How many rejected rows a file's outcome lists (all are in the rejected-rows file), and how many
 * distinct warnings: a file of a million bad rows must not make an output item of a million.
 */
export const LISTED_REJECTIONS = 100;

/** A row that will not be imported, and why. */
export interface RejectedRow {
	row: number;
	line: number;
	errors: FieldError[];
	message: string;
	/** Set for rows refused by the platform (not by validation). */
	httpCode?: number;
}

export interface FileSettings {
	/** Rows before this 1-based number are read past, not sent nor checked (resuming an import). */
	fromRow?: number;
	format: FileFormat;
	csv: CsvOptions;
	platform: Platform;
	itemOptions: PlatformItemOptions;
}

/** A prepared row keeps its line and cells, so a row the platform refuses can be written back out. */
export interface PreparedRow extends PreparedItem {
	line: number;
	endOffset: number;
	cells?: string[];
}

/** Rows of a file, each mapped, validated and serialized, or rejected with its reasons. */
export async function* prepareRows(
	source: BinarySource,
	settings: FileSettings,
	onRejected: (rejected: RejectedRow, row: FileRow) => void,
	readResult?: ReadResult,
	onSkipped?: (row: FileRow) => void,
): AsyncGenerator<PreparedRow> {
	for await (const rows of prepareRowChunks(source, settings, onRejected, readResult, onSkipped)) {
		for (const row of rows) yield row;
	}
}

/**
 * prepareRows in arrays: the rows of each chunk the reader hands over, prepared in one
 * synchronous loop (one promise per chunk, not per row). Arrays may be empty (all rejected).
 */
export async function* prepareRowChunks(
	source: BinarySource,
	settings: FileSettings,
	onRejected: (rejected: RejectedRow, row: FileRow) => void,
	readResult?: ReadResult,
	onSkipped?: (row: FileRow) => void,
): AsyncGenerator<PreparedRow[]> {
	const prepare = compilePreparer(
		settings.platform,
		{ ...settings.itemOptions, coerceStrings: settings.format === 'csv' },
		'row',
	);
	const fromRow = settings.fromRow ?? 1;
	for await (const chunk of readRowChunks(
		await source.open(),
		settings.format,
		settings.csv,
		readResult,
	)) {
		const prepared: PreparedRow[] = [];
		for (const row of chunk) {
			if (row.row < fromRow) {
				onSkipped?.(row);
				continue;
			}
			if (row.error !== undefined || row.record === undefined) {
				const reason = row.error ?? 'could not be read';
				onRejected(
					{
						row: row.row,
						line: row.line,
						errors: [{ field: '(item)', reason }],
						message: `Row ${row.row} (line ${row.line}): ${reason}`,
					},
					row,
				);
				continue;
			}
			const outcome = prepare(row.record as IDataObject, row.row - 1);
			if (outcome.ok) {
				// The prepared item becomes the row's (no second object per row).
				const item = outcome.item as PreparedRow;
				item.line = row.line;
				item.endOffset = row.endOffset;
				item.cells = row.cells;
				prepared.push(item);
			} else {
				onRejected(
					{
						row: row.row,
						line: row.line,
						errors: outcome.result.errors,
						message: `${outcome.result.message} (line ${row.line})`,
					},
					row,
				);
			}
		}
		yield prepared;
	}
}
