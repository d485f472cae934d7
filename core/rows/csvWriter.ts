import { stringify } from 'csv-stringify/sync';

/**
 * A cell as the rejected-rows file has always written it: text as it is, structured values
 * (booleans, objects, dates) as JSON. Numbers stay numbers: csv-stringify writes them as text
 * itself, and leaves a negative one alone where it escapes a text that starts with `-`.
 */
function cellOf(value: unknown): string | number | bigint | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value === 'string' || typeof value === 'bigint') return value;
	if (typeof value === 'number' && Number.isFinite(value)) return value;
	return JSON.stringify(value);
}

/**
 * One CSV line (RFC 4180 quoting), for writing rejected rows back out. A cell a spreadsheet
 * would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
 * leading single quote (csv-stringify's escape_formulas): the file holds whatever the input
 * held, and is meant to be opened, fixed and fed back.
 */
export function csvLine(cells: unknown[], delimiter = ','): string {
	return stringify([cells.map(cellOf)], {
		delimiter,
		record_delimiter: 'windows',
		// A line break in a cell is quoted whichever line ending the file uses.
		quote_record_delimiter: true,
		escape_formulas: true,
	});
}
