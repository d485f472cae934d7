/**
 * Userpilot import files: streaming CSV / NDJSON readers and the row rules of the event-schema
 * and row-validation pages (independent oracle: written from /work/shared/specs, no code shared
 * with core/ or platforms/).
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export const EVENT_TYPES = new Set(['identify_user', 'identify_company', 'page_view', 'track']);
export const SOURCES = new Set([
	'web-client',
	'backend-http',
	'backend-hubspot',
	'backend-salesforce',
	'backend-segment',
	'backend-http-import',
]);
/** Keys kept for identify_company rows (the others are ignored by Userpilot). */
const COMPANY_KEYS = ['event_type', 'company_id', 'source', 'inserted_at', 'metadata'];

export const MAX_REASONS = 100;
const ID_FIELDS = ['user_id', 'company_id'];

// ---------------------------------------------------------------------------------------------
// Elixir-style inspect (the docs' failure reasons print rows as `%{"key" => "value"}`)
// ---------------------------------------------------------------------------------------------

function inspectString(s: string): string {
	return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

export function inspect(v: unknown): string {
	if (v === null || v === undefined) return 'nil';
	if (typeof v === 'string') return inspectString(v);
	if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
	if (typeof v === 'boolean') return String(v);
	if (Array.isArray(v)) return `[${v.map(inspect).join(', ')}]`;
	if (typeof v === 'object') {
		const keys = Object.keys(v as object).sort();
		const body = keys.map((k) => `${inspectString(k)} => ${inspect((v as Record<string, unknown>)[k])}`).join(', ');
		return `%{${body}}`;
	}
	return inspectString(String(v));
}

function rowText(row: Record<string, unknown>): string {
	const s = inspect(row);
	return s.length > 4000 ? `${s.slice(0, 4000)}...` : s;
}

// ---------------------------------------------------------------------------------------------
// Row rules
// ---------------------------------------------------------------------------------------------

function provided(v: unknown): boolean {
	return v !== undefined && v !== null && v !== '';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function digitsAt(s: string, i: number, len: number): number {
	let v = 0;
	for (let k = 0; k < len; k++) {
		const c = s.charCodeAt(i + k) - 48;
		if (c < 0 || c > 9) return -1;
		v = v * 10 + c;
	}
	return v;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * ISO 8601 date-time: `YYYY-MM-DD` then `T` or a space, `HH:MM[:SS[.fraction]]`, then optionally
 * `Z` or an offset `±HH[:MM]` / `±HHMM`. (Both forms of the docs' examples pass.)
 */
export function isIso8601(s: string): boolean {
	const n = s.length;
	if (n < 16) return false;
	const y = digitsAt(s, 0, 4);
	const mo = digitsAt(s, 5, 2);
	const d = digitsAt(s, 8, 2);
	const h = digitsAt(s, 11, 2);
	const mi = digitsAt(s, 14, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59) return false;
	if (s[4] !== '-' || s[7] !== '-' || (s[10] !== 'T' && s[10] !== ' ') || s[13] !== ':') return false;
	const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
	if (d > (mo === 2 && leap ? 29 : MONTH_DAYS[mo - 1])) return false;
	let i = 16;
	if (s[i] === ':') {
		const sec = digitsAt(s, i + 1, 2);
		if (sec < 0 || sec > 59) return false;
		i += 3;
		if (s[i] === '.' || s[i] === ',') {
			const from = ++i;
			while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
			if (i === from || i - from > 9) return false;
		}
	}
	if (i === n) return true;
	if ((s[i] === 'Z' || s[i] === 'z') && i + 1 === n) return true;
	if (s[i] !== '+' && s[i] !== '-') return false;
	const oh = digitsAt(s, i + 1, 2);
	if (oh < 0 || oh > 23) return false;
	i += 3;
	if (i === n) return true;
	if (s[i] === ':') i++;
	const om = digitsAt(s, i, 2);
	return om >= 0 && om <= 59 && i + 2 === n;
}

function missing(row: Record<string, unknown>, field: string): string {
	return `Required field \`${field}\` not provided in the row: ${rowText(row)}`;
}

function invalid(row: Record<string, unknown>, what: string): string {
	return `${what} in the row: ${rowText(row)}`;
}

/**
 * Check one row. Returns the failure reason, or null (and normalises the row in place: metadata
 * defaults to {}, url sets hostname/pathname, identify_company keeps only its keys).
 */
export function checkRow(row: Record<string, unknown>, requireSource: boolean): string | null {
	const et = row.event_type;
	if (!provided(et)) return missing(row, 'event_type');
	if (typeof et !== 'string' || !EVENT_TYPES.has(et)) {
		return invalid(row, `Invalid \`event_type\` ${inspect(et)}, expected one of ${[...EVENT_TYPES].join(', ')}`);
	}
	if (et === 'identify_company') {
		if (!provided(row.company_id)) return missing(row, 'company_id');
	} else if (!provided(row.user_id)) {
		return missing(row, 'user_id');
	}
	for (const f of ID_FIELDS) {
		const v = row[f];
		if (provided(v) && typeof v !== 'string' && typeof v !== 'number') {
			return invalid(row, `Field \`${f}\` must be a string`);
		}
	}
	if (et === 'track' && !provided(row.event_name)) return missing(row, 'event_name');

	let url: URL | null = null;
	if (provided(row.url)) {
		if (typeof row.url !== 'string') return invalid(row, 'Field `url` must be a string');
		try {
			url = new URL(row.url);
		} catch {
			return invalid(row, `Field \`url\` is not a valid URL ${inspect(row.url)}`);
		}
	}
	if (et === 'page_view' && url === null) {
		if (!provided(row.hostname)) return missing(row, 'hostname');
		if (!provided(row.pathname)) return missing(row, 'pathname');
	}

	const source = row.source;
	if (provided(source)) {
		if (typeof source !== 'string' || !SOURCES.has(source)) {
			return invalid(row, `Invalid \`source\` ${inspect(source)}, expected one of ${[...SOURCES].join(', ')}`);
		}
		if (source === 'web-client' && et !== 'identify_company') {
			if (url === null) {
				if (!provided(row.hostname)) return missing(row, 'hostname');
				if (!provided(row.pathname)) return missing(row, 'pathname');
			}
			if (!provided(row.user_agent)) return missing(row, 'user_agent');
		}
	} else if (requireSource) {
		return missing(row, 'source');
	}

	const ins = row.inserted_at;
	if (!provided(ins)) return missing(row, 'inserted_at');
	if (typeof ins !== 'string' || !isIso8601(ins)) {
		return invalid(row, `Invalid date format for \`inserted_at\` ${inspect(ins)}, expected ISO 8601`);
	}

	const md = row.metadata;
	if (!provided(md)) row.metadata = {};
	else if (!isPlainObject(md)) return invalid(row, 'Field `metadata` must be a map (a JSON object)');

	if (url !== null) {
		row.hostname = url.hostname;
		row.pathname = url.pathname;
	}
	if (et === 'identify_company') {
		for (const k of Object.keys(row)) if (!COMPANY_KEYS.includes(k)) delete row[k];
	}
	return null;
}

// ---------------------------------------------------------------------------------------------
// Streaming readers
// ---------------------------------------------------------------------------------------------

const SPECIAL = /[,"\r\n]/g;
const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** RFC 4180 CSV reader fed with text chunks: quoted fields, "" escapes, LF / CRLF / CR ends. */
export class CsvReader {
	private field = '';
	private record: string[] = [];
	private inQuotes = false;
	private quoteSeen = false;
	private skipLF = false;
	private fieldStarted = false;
	/** 1-based line of the record being read (for messages). */
	line = 1;
	recordLine = 1;

	feed(s: string, out: Array<{ fields: string[]; line: number }>): void {
		const n = s.length;
		// Work on locals in the hot loop; write the state back at the end.
		let field = this.field;
		let record = this.record;
		let inQuotes = this.inQuotes;
		let quoteSeen = this.quoteSeen;
		let skipLF = this.skipLF;
		let fieldStarted = this.fieldStarted;
		let line = this.line;
		let recordLine = this.recordLine;
		let seg = 0;
		let i = 0;
		while (i < n) {
			if (inQuotes) {
				if (quoteSeen) {
					quoteSeen = false;
					if (s.charCodeAt(i) === QUOTE) {
						field += '"';
						i++;
						seg = i;
						continue;
					}
					inQuotes = false; // the quote closed the field; handle this char below
				} else {
					const q = s.indexOf('"', i);
					const end = q < 0 ? n : q;
					for (let k = s.indexOf('\n', i); k >= 0 && k < end; k = s.indexOf('\n', k + 1)) line++;
					if (q < 0) {
						i = n;
						break;
					}
					field += s.slice(seg, q);
					quoteSeen = true;
					i = q + 1;
					seg = i;
					continue;
				}
			}
			const c = s.charCodeAt(i);
			if (skipLF) {
				skipLF = false;
				if (c === LF) {
					i++;
					seg = i;
					continue;
				}
			}
			if (c === COMMA) {
				record.push(seg === i ? field : field + s.slice(seg, i));
				field = '';
				fieldStarted = false;
				i++;
				seg = i;
			} else if (c === LF || c === CR) {
				record.push(seg === i ? field : field + s.slice(seg, i));
				field = '';
				fieldStarted = false;
				out.push({ fields: record, line: recordLine });
				record = [];
				line++;
				recordLine = line;
				if (c === CR) skipLF = true;
				i++;
				seg = i;
			} else if (c === QUOTE && !fieldStarted && seg === i && field === '') {
				inQuotes = true;
				fieldStarted = true;
				i++;
				seg = i;
			} else {
				fieldStarted = true;
				// Jump to the next special character (native scan, much faster than a JS loop).
				SPECIAL.lastIndex = i + 1;
				const m = SPECIAL.exec(s);
				i = m === null ? n : m.index;
			}
		}
		if (seg < n) field += s.slice(seg, n);
		this.field = field;
		this.record = record;
		this.inQuotes = inQuotes;
		this.quoteSeen = quoteSeen;
		this.skipLF = skipLF;
		this.fieldStarted = fieldStarted;
		this.line = line;
		this.recordLine = recordLine;
	}

	/** Flush the last record; returns an error message for an unterminated quoted field. */
	end(out: Array<{ fields: string[]; line: number }>): string | null {
		if (this.inQuotes && !this.quoteSeen) return `Unterminated quoted field starting at line ${this.recordLine}`;
		if (this.record.length > 0 || this.field !== '' || this.fieldStarted) {
			this.record.push(this.field);
			out.push({ fields: this.record, line: this.recordLine });
		}
		this.record = [];
		this.field = '';
		return null;
	}
}

export interface FileCheckResult {
	/** Rows read (data rows; the CSV header is not a row). */
	rows: number;
	/** Failure reasons (one per bad row, at most MAX_REASONS). */
	reasons: string[];
	/** Accepted rows, when kept. */
	kept: Record<string, unknown>[] | null;
}

export function detectFormat(filename: string, firstBytes: Buffer): 'csv' | 'ndjson' {
	const lower = filename.toLowerCase();
	if (lower.endsWith('.csv')) return 'csv';
	if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl') || lower.endsWith('.json')) return 'ndjson';
	for (const b of firstBytes) {
		if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0xef || b === 0xbb || b === 0xbf) continue;
		return b === 0x7b ? 'ndjson' : 'csv';
	}
	return 'csv';
}

export interface CheckOptions {
	format: 'csv' | 'ndjson';
	requireSource: boolean;
	keepRows: boolean;
	signal: AbortSignal;
}

/** Read the stored file (streamed) and check every row. */
export function checkFile(path: string, opts: CheckOptions): Promise<FileCheckResult> {
	return new Promise((resolve, reject) => {
		const result: FileCheckResult = { rows: 0, reasons: [], kept: opts.keepRows ? [] : null };
		const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
		const decoder = new StringDecoder('utf8');
		let first = true;
		let stopped = false;

		const onRow = (row: Record<string, unknown>): void => {
			result.rows++;
			if (result.reasons.length >= MAX_REASONS) return;
			const reason = checkRow(row, opts.requireSource);
			if (reason !== null) {
				result.reasons.push(reason);
				result.kept = null;
				if (result.reasons.length >= MAX_REASONS) stop();
			} else if (result.kept !== null) {
				result.kept.push(row);
			}
		};
		const fileError = (reason: string): void => {
			if (result.reasons.length < MAX_REASONS) result.reasons.push(reason);
			result.kept = null;
		};

		// --- CSV ---
		const csv = new CsvReader();
		let header: string[] | null = null;
		const records: Array<{ fields: string[]; line: number }> = [];
		const csvRecords = (): void => {
			for (const { fields, line } of records) {
				if (fields.length === 1 && fields[0] === '') continue; // blank line
				if (header === null) {
					header = fields.map((h) => h.trim());
					if (!header.includes('event_type')) {
						fileError('The CSV header must have an `event_type` column');
						stop();
						break;
					}
					continue;
				}
				if (fields.length !== header.length) {
					fileError(`Row at line ${line} has ${fields.length} fields, the header has ${header.length}: ${inspect(fields)}`);
					result.rows++;
					if (result.reasons.length >= MAX_REASONS) stop();
					continue;
				}
				const row: Record<string, unknown> = {};
				let metadataError = false;
				for (let k = 0; k < header.length; k++) {
					const name = header[k];
					const v = fields[k];
					if (name === 'metadata') {
						if (v.trim() === '') row.metadata = {};
						else {
							try {
								row.metadata = JSON.parse(v);
							} catch {
								row.metadata = v;
								metadataError = true;
							}
						}
					} else if (name !== '') {
						row[name] = v;
					}
				}
				if (metadataError) {
					result.rows++;
					fileError(`Field \`metadata\` is not valid JSON in the row: ${rowText(row)}`);
					if (result.reasons.length >= MAX_REASONS) stop();
					continue;
				}
				onRow(row);
				if (stopped) break;
			}
			records.length = 0;
		};

		// --- NDJSON ---
		let pendingLine = '';
		let lineNo = 0;
		const ndLine = (line: string): void => {
			lineNo++;
			const t = line.trim();
			if (t === '') return;
			let v: unknown;
			try {
				v = JSON.parse(t);
			} catch {
				result.rows++;
				fileError(`Invalid JSON at line ${lineNo}: ${t.length > 200 ? `${t.slice(0, 200)}...` : t}`);
				if (result.reasons.length >= MAX_REASONS) stop();
				return;
			}
			if (!isPlainObject(v)) {
				result.rows++;
				fileError(`Line ${lineNo} is not a JSON object: ${t.length > 200 ? `${t.slice(0, 200)}...` : t}`);
				if (result.reasons.length >= MAX_REASONS) stop();
				return;
			}
			onRow(v);
		};
		const ndChunk = (s: string): void => {
			let start = 0;
			for (;;) {
				const nl = s.indexOf('\n', start);
				if (nl < 0) break;
				const piece = s.slice(start, nl);
				if (pendingLine !== '') {
					ndLine(pendingLine + piece);
					pendingLine = '';
				} else ndLine(piece);
				if (stopped) return;
				start = nl + 1;
			}
			pendingLine += s.slice(start);
		};

		function stop(): void {
			if (stopped) return;
			stopped = true;
			stream.destroy();
			resolve(result);
		}

		const onAbort = (): void => {
			stopped = true;
			stream.destroy();
			reject(new Error('aborted'));
		};
		if (opts.signal.aborted) return onAbort();
		opts.signal.addEventListener('abort', onAbort, { once: true });

		stream.on('data', (chunk: Buffer | string) => {
			if (stopped) return;
			let s = decoder.write(chunk as Buffer);
			if (first) {
				first = false;
				if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
			}
			if (opts.format === 'csv') {
				csv.feed(s, records);
				csvRecords();
			} else ndChunk(s);
		});
		stream.on('error', (err) => {
			if (stopped) return;
			stopped = true;
			opts.signal.removeEventListener('abort', onAbort);
			reject(err);
		});
		stream.on('end', () => {
			if (stopped) return;
			const tail = decoder.end();
			if (opts.format === 'csv') {
				if (tail) csv.feed(tail, records);
				const err = csv.end(records);
				csvRecords();
				if (err !== null) fileError(err);
				if (header === null && result.reasons.length === 0) fileError('The file has no CSV header row');
			} else {
				pendingLine += tail;
				if (pendingLine !== '') ndLine(pendingLine);
			}
			if (result.rows === 0 && result.reasons.length === 0) fileError('The file has no rows');
			stopped = true;
			opts.signal.removeEventListener('abort', onAbort);
			resolve(result);
		});
	});
}
