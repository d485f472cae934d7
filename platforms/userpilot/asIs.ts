/**
 * "The File As It Is": the node checks a normalized reading of the file (delimiter, encoding and
 * byte order mark handled, dotted columns nested, defaults filled in, dates rewritten in UTC)
 * but uploads the raw bytes. A file is sent as it is only when those bytes already are what was
 * checked; otherwise it is refused, naming what would need rewriting (the "Validated Rows as
 * NDJSON" mode sends the rows as checked).
 *
 * Userpilot's import pages show UTF-8 CSV (comma-separated, header row, `metadata` as one column
 * of JSON) or NDJSON, and say nothing of a byte order mark, another delimiter or another
 * encoding: none of those is taken on trust. Differences the platform itself makes (documented on
 * the row-validation page) are not rewrites: a missing or empty `metadata` is `{}`, and the keys
 * of an identify_company row other than its own are ignored. In a CSV, a cell is text: a JSON
 * `metadata` cell, a number written as the number, an empty numeric cell are what the file says.
 */
import { isDeepStrictEqual } from 'node:util';

import type { IDataObject } from 'n8n-workflow';

import type { FileSettings, PreparedRow } from '../../core/rows/fileRows';
import { readRows, type BinarySource, type ReadResult } from '../../core/rows/readers';
import { isRecord } from '../../core/validation/checks';

const COMPANY_KEYS = new Set(['event_type', 'company_id', 'source', 'inserted_at', 'metadata']);
const NUMERIC_FIELDS = new Set(['screen_width', 'screen_height']);
/** Examples of the rows of each kind of rewrite, at most. */
const LISTED = 3;

/** What the file's first bytes, the delimiter and the CSV columns say needs rewriting. */
export function fileRewrites(
	head: Buffer,
	format: FileSettings['format'],
	delimiter: string,
	columns?: string[],
): string[] {
	const reasons: string[] = [];
	if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
		reasons.push(
			"it starts with a UTF-8 byte order mark (BOM), which Userpilot's import pages do not provide for (the node skips it when reading)",
		);
	} else if (
		head.length >= 2 &&
		((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))
	) {
		reasons.push("it is UTF-16 text, where Userpilot's import files are UTF-8");
	}
	if (format !== 'csv') return reasons;
	if (delimiter !== ',') {
		const name = delimiter === '\t' ? 'tabs' : JSON.stringify(delimiter);
		reasons.push(
			`its fields are separated by ${name} (the "CSV Delimiter" option, or a .tsv name), where Userpilot's CSV is comma-separated`,
		);
	}
	const dotted = (columns ?? []).filter((name) => name.includes('.'));
	if (dotted.length > 0) {
		const list = dotted
			.slice(0, LISTED)
			.map((name) => `"${name}"`)
			.join(', ');
		reasons.push(
			`${dotted.length === 1 ? 'column' : `${dotted.length} columns such as`} ${list} ` +
				`${dotted.length === 1 ? 'has a dotted name' : 'have dotted names'}, which the node reads as nested fields ` +
				"but Userpilot's CSV takes as plain column names (its metadata is one column of JSON)",
		);
	}
	return reasons;
}

/** Bytes of the file's start read for its CSV header (all of it when the header is longer). */
const HEADER_BYTES = 64 * 1024;

/**
 * The CSV header's column names, read from the file's start only (an in-memory file is one chunk:
 * the reader would otherwise parse all of it). A problem of the header itself is thrown; what
 * follows it is left to the validating pass (and to Userpilot).
 */
async function readColumns(
	source: BinarySource,
	file: FileSettings,
): Promise<string[] | undefined> {
	let failure: unknown;
	for (const end of [Math.min(source.size, HEADER_BYTES), source.size]) {
		const header: ReadResult = { headerEndOffset: 0 };
		failure = undefined;
		try {
			for await (const row of readRows(await source.open(0, end), 'csv', file.csv, header)) {
				void row;
				break;
			}
		} catch (error) {
			failure = error;
		}
		// A header that runs to the end of a cut read may be cut itself: read it all then.
		if (header.columns !== undefined && (end === source.size || header.headerEndOffset < end))
			return header.columns;
		if (end === source.size) break;
	}
	if (failure !== undefined) throw failure;
	return undefined;
}

/** A field of a row that would reach Userpilot other than as it was checked. */
export interface FieldRewrite {
	field: string;
	kind: 'defaultSource' | 'defaultEventType' | 'changed';
	/** Absent: the file has no such field (or it is left out of what was checked). */
	from?: unknown;
	to?: unknown;
}

function blank(value: unknown): boolean {
	return value === undefined || value === null || value === '';
}

/**
 * The fields of one row that were checked in another form than the file holds: `raw` is the row
 * as Userpilot reads the file (CSV cells as text), `checked` the row as validated and sent by the
 * normalized mode.
 */
export function rowRewrites(
	raw: Record<string, unknown>,
	checked: Record<string, unknown>,
	format: FileSettings['format'],
): FieldRewrite[] {
	const out: FieldRewrite[] = [];
	if (raw === checked) return out;
	const has = (row: Record<string, unknown>, key: string) =>
		Object.prototype.hasOwnProperty.call(row, key);
	const keys = Object.keys(raw);
	for (const key in checked) if (!has(raw, key)) keys.push(key);
	for (const field of keys) {
		const inRaw = has(raw, field);
		const inChecked = has(checked, field);
		const from = raw[field];
		const to = checked[field];
		if (inRaw && inChecked && isDeepStrictEqual(from, to)) continue;
		// Userpilot gives a row without metadata {}; a CSV holds it as one cell of JSON text.
		if (
			field === 'metadata' &&
			isRecord(to) &&
			(blank(from) || (format === 'csv' && typeof from === 'string'))
		)
			continue;
		if (format === 'csv' && NUMERIC_FIELDS.has(field) && typeof from === 'string') {
			if (!inChecked && from.trim() === '') continue;
			if (typeof to === 'number' && String(to) === from) continue;
		}
		// Userpilot ignores an identify_company row's other keys (the node leaves them out).
		if (!inChecked && checked.event_type === 'identify_company' && !COMPANY_KEYS.has(field))
			continue;
		if (field === 'source' && blank(from)) {
			out.push({ field, kind: 'defaultSource', ...(inRaw ? { from } : {}), to });
		} else if (field === 'event_type' && !inRaw) {
			out.push({ field, kind: 'defaultEventType', to });
		} else {
			out.push({
				field,
				kind: 'changed',
				...(inRaw ? { from } : {}),
				...(inChecked ? { to } : {}),
			});
		}
	}
	return out;
}

function show(value: unknown): string {
	const text = JSON.stringify(value) ?? String(value);
	return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function describe(rewrite: FieldRewrite): string {
	switch (rewrite.kind) {
		case 'defaultSource':
			return `no source: the Default Source ${show(rewrite.to)} would be filled in`;
		case 'defaultEventType':
			return `no event_type: the Default Event Type ${show(rewrite.to)} would be filled in`;
		default:
			if (!('from' in rewrite))
				return `no "${rewrite.field}": it would be sent as ${show(rewrite.to)}`;
			if (!('to' in rewrite))
				return `"${rewrite.field}" ${show(rewrite.from)}, which would be left out`;
			return `"${rewrite.field}" ${show(rewrite.from)}, which would be sent as ${show(rewrite.to)}`;
	}
}

/** The rewrites of one kind (same kind and field) met in the file. */
interface Tally {
	count: number;
	rows: number[];
	example: FieldRewrite;
}

/**
 * Decides whether the file can go as it is: `open` checks its head (encoding, BOM, delimiter,
 * CSV columns); `row` compares each validated row with the row as read; `refused` says why not.
 */
export class AsIsCheck {
	/**
	 * The file settings to validate with: their platform hands this check each row as read and
	 * as validated (no second reading, no re-parsing of the serialized row).
	 */
	readonly file: FileSettings;

	private readonly tallies = new Map<string, Tally>();
	/** The record the last mapItem call was given: the row as read from the file. */
	private lastRead: IDataObject = {};
	/** Rows validated so far, and rows handed to `row` so far (the same order, one for one). */
	private validated = 0;
	private seen = 0;
	/** Rewrites of validated rows not yet handed to `row`, by their validation number. */
	private pending: Array<{ at: number; rewrites: FieldRewrite[] }> = [];

	private constructor(
		file: FileSettings,
		readonly fileReasons: string[],
	) {
		const { platform } = file;
		this.file = {
			...file,
			platform: {
				...platform,
				mapItem: (json, options) => {
					this.lastRead = json;
					return platform.mapItem(json, options);
				},
				compileValidator: (options) => {
					const validate = platform.compileValidator(options);
					return (item) => {
						const result = validate(item);
						if (result.ok) {
							this.validated++;
							const rewrites = rowRewrites(
								this.lastRead,
								result.value as Record<string, unknown>,
								file.format,
							);
							if (rewrites.length > 0) this.pending.push({ at: this.validated, rewrites });
						}
						return result;
					};
				},
			},
		};
	}

	/** Reads the file's first bytes and, for a CSV, its header (a file format error is thrown). */
	static async open(source: BinarySource, file: FileSettings): Promise<AsIsCheck> {
		let head = Buffer.alloc(0);
		for await (const chunk of (await source.open(
			0,
			Math.min(source.size, 4),
		)) as AsyncIterable<Buffer>)
			head = Buffer.concat([head, chunk]);
		let reasons = fileRewrites(head, file.format, file.csv.delimiter);
		if (reasons.length === 0 && file.format === 'csv') {
			const columns = await readColumns(source, file);
			reasons = fileRewrites(head, file.format, file.csv.delimiter, columns);
		}
		return new AsIsCheck(file, reasons);
	}

	/**
	 * Called with each row validated with `this.file`, in order: counts what it would need
	 * rewritten, under its row number.
	 */
	row(prepared: PreparedRow): void {
		this.seen++;
		if (this.pending.length === 0 || this.pending[0].at !== this.seen) return;
		const { rewrites } = this.pending.shift()!;
		for (const rewrite of rewrites) {
			const key = `${rewrite.kind}:${rewrite.field}:${'from' in rewrite}:${'to' in rewrite}`;
			const tally = this.tallies.get(key);
			if (tally === undefined) {
				this.tallies.set(key, { count: 1, rows: [prepared.index + 1], example: rewrite });
			} else {
				tally.count++;
				if (tally.rows.length < LISTED) tally.rows.push(prepared.index + 1);
			}
		}
	}

	/** Everything that needs rewriting, in words. */
	reasons(): string[] {
		const reasons = [...this.fileReasons];
		for (const { count, rows, example } of this.tallies.values()) {
			const which =
				count === 1
					? `row ${rows[0]}`
					: `${count} rows (${rows.length < count ? 'first: ' : ''}rows ${rows.join(', ')})`;
			reasons.push(`${which} ${count === 1 ? 'has' : 'have'} ${describe(example)}`);
		}
		return reasons;
	}

	/** The outcome of a file that cannot go as it is, or undefined when it can. */
	refused(summary: IDataObject): { summary: IDataObject; failure: string } | undefined {
		const reasons = this.reasons();
		if (reasons.length === 0) return undefined;
		return {
			summary: { ...summary, status: 'invalid', needsRewriting: reasons },
			failure: asIsRefusal(reasons),
		};
	}
}

/** The error of a file that "The File As It Is" cannot send unchanged. */
export function asIsRefusal(reasons: string[]): string {
	return (
		'The file was not uploaded: "The File As It Is" sends its bytes unchanged, and they are not what was checked. ' +
		`It would need rewriting: ${reasons.slice(0, 6).join('; ')}. ` +
		'Set "Send" to "Validated Rows as NDJSON" to upload the rows as checked, or save the file in Userpilot\'s form ' +
		'(UTF-8 without BOM, comma-separated, every field as it should arrive).'
	);
}
