/**
 * Property-based tests (fast-check) of the readers and the validators.
 *
 * Readers: random records are written as CSV (random delimiter, quoting, LF/CRLF/CR line endings
 * mixed, blank lines, BOM) or NDJSON (LF/CRLF, blank lines, BOM), then read back through
 * readRows from a stream cut into random chunks. Nothing but a FileFormatError may escape; no row
 * is lost or invented; endOffsets increase, nothing but line endings follows the last one, and
 * the bytes between two endOffsets (after the CSV header) read back as exactly those rows, which
 * is what splitting a file into parts relies on.
 *
 * Validators: arbitrary values never throw; a valid item is still valid, and serialized to the
 * same bytes, after a serialize/parse round trip.
 *
 * Runs are bounded (FUZZ_RUNS scales them; FUZZ_SEED replays one).
 *   npx jest test/unit/fuzz*.test.ts
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

import fc from 'fast-check';

import { FileFormatError, readRows, type FileRow, type ReadResult } from '../../core/rows/readers';
import type { IDataObject } from 'n8n-workflow';

import type { ItemValidator } from '../../core/validation/types';
import { ayona } from '../../platforms/ayona';
import { compileAyonaValidator } from '../../platforms/ayona/rules';
import { rimdian } from '../../platforms/rimdian';
import { compileRimdianValidator } from '../../platforms/rimdian/rules';
import { userpilot } from '../../platforms/userpilot';
import { compileUserpilotValidator } from '../../platforms/userpilot/rules';

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const seed = process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {};
// node:test set no time limit; jest's (jest.config.js) grows with FUZZ_RUNS.
jest.setTimeout(30_000 * Math.max(1, SCALE));

// ---------------------------------------------------------------------------------------------
// Reading helpers

function chunked(bytes: Buffer, sizes: number[]): Readable {
	const chunks: Buffer[] = [];
	let offset = 0;
	let i = 0;
	while (offset < bytes.length) {
		const size = sizes.length > 0 ? sizes[i++ % sizes.length] : bytes.length;
		chunks.push(bytes.subarray(offset, offset + size));
		offset += size;
	}
	return Readable.from(chunks, { objectMode: false });
}

async function readAll(
	bytes: Buffer,
	format: 'csv' | 'ndjson',
	delimiter: string,
	sizes: number[],
): Promise<{ rows: FileRow[]; result: ReadResult; error?: unknown }> {
	const rows: FileRow[] = [];
	const result: ReadResult = { headerEndOffset: 0 };
	try {
		for await (const row of readRows(chunked(bytes, sizes), format, { delimiter, parseJsonCells: false }, result)) rows.push(row);
	} catch (error) {
		return { rows, result, error };
	}
	return { rows, result };
}

/** Line breaks in a text as the readers count them: CRLF, lone CR, lone LF each once. */
function breaks(text: string): number {
	let count = 0;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c === 10) count++;
		else if (c === 13 && text.charCodeAt(i + 1) !== 10) count++;
	}
	return count;
}

function onlyLineEndings(bytes: Buffer): boolean {
	return bytes.every((byte) => byte === 10 || byte === 13);
}

function checkOffsets(rows: FileRow[], bytes: Buffer, headerEnd: number): void {
	let previous = headerEnd;
	for (const row of rows) {
		assert.ok(row.endOffset > previous, `endOffset ${row.endOffset} after ${previous} (row ${row.row})`);
		previous = row.endOffset;
	}
	assert.ok(previous <= bytes.length);
	assert.ok(onlyLineEndings(bytes.subarray(previous)), 'only line endings after the last row');
}

// ---------------------------------------------------------------------------------------------
// CSV

const CELL_UNITS = ['a', 'b', 'Z', '0', '.', ' ', '"', ',', ';', '\t', '|', '\r', '\n', '\r\n', 'é', '日', '😀', '\ufeff', '\ufffd', '{', '[', '\u0000'];
const cellArb = fc.oneof(
	{ weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...CELL_UNITS), maxLength: 10 }) },
	{ weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
	{ weight: 1, arbitrary: fc.constant('') },
);
const columnArb = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/), { minLength: 1, maxLength: 5 });
const csvFileArb = columnArb.chain((columns) =>
	fc.record({
		columns: fc.constant(columns),
		records: fc.array(fc.array(cellArb, { minLength: columns.length, maxLength: columns.length }), { minLength: 1, maxLength: 25 }),
		delimiter: fc.constantFrom(',', ';', '\t', '|'),
		quoting: fc.constantFrom('minimal', 'all', 'random'),
		endings: fc.array(fc.constantFrom('\n', '\r\n', '\r'), { minLength: 1, maxLength: 6 }),
		blankLines: fc.array(fc.nat(2), { minLength: 1, maxLength: 6 }),
		bom: fc.boolean(),
		finalNewline: fc.boolean(),
		quoteDice: fc.array(fc.boolean(), { minLength: 1, maxLength: 9 }),
		sizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
		cut: fc.tuple(fc.nat(), fc.nat()),
	}),
);

test('CSV: what is written is read back, row for row, from any chunking', async () => {
	await fc.assert(
		fc.asyncProperty(csvFileArb, async (file) => {
			let dice = 0;
			const mustQuote = (cell: string) => /["\r\n]/.test(cell) || cell.includes(file.delimiter);
			const cellText = (cell: string, onlyCell: boolean) => {
				const quote =
					mustQuote(cell) ||
					(onlyCell && cell === '') || // an empty line would be skipped as blank
					file.quoting === 'all' ||
					(file.quoting === 'random' && file.quoteDice[dice++ % file.quoteDice.length]);
				return quote ? `"${cell.replace(/"/g, '""')}"` : cell;
			};
			const line = (cells: string[]) => cells.map((cell) => cellText(cell, cells.length === 1)).join(file.delimiter);
			let text = file.bom ? '\ufeff' : '';
			let e = 0;
			const ending = () => file.endings[e++ % file.endings.length];
			text += line(file.columns) + ending();
			const startLines: number[] = [];
			file.records.forEach((record, index) => {
				for (let b = 0; b < file.blankLines[index % file.blankLines.length]; b++) text += ending();
				startLines.push(breaks(text) + 1);
				text += line(record);
				if (index < file.records.length - 1 || file.finalNewline) text += ending();
			});
			const bytes = Buffer.from(text, 'utf8');

			const { rows, result, error } = await readAll(bytes, 'csv', file.delimiter, file.sizes);
			assert.equal(error, undefined, `no error: ${String(error)}`);
			assert.deepEqual(result.columns, file.columns);
			assert.equal(rows.length, file.records.length, 'no row lost or invented');
			rows.forEach((row, index) => {
				assert.equal(row.error, undefined, `row ${row.row}: ${row.error}`);
				assert.equal(row.row, index + 1);
				assert.equal(row.line, startLines[index], `line of row ${index + 1}`);
				assert.deepEqual(row.cells, file.records[index]);
				assert.deepEqual(row.record, Object.fromEntries(file.columns.map((column, i) => [column, file.records[index][i]])));
			});
			checkOffsets(rows, bytes, result.headerEndOffset);
			if (!file.finalNewline) assert.equal(rows[rows.length - 1].endOffset, bytes.length, 'the last row ends the file');

			// The header, then the bytes between two cuts, read back as exactly the rows between them.
			const a = file.cut[0] % rows.length;
			const b = a + 1 + (file.cut[1] % (rows.length - a));
			const start = a === 0 ? result.headerEndOffset : rows[a - 1].endOffset;
			const part = Buffer.concat([bytes.subarray(0, result.headerEndOffset), bytes.subarray(start, rows[b - 1].endOffset)]);
			const reread = await readAll(part, 'csv', file.delimiter, file.sizes);
			assert.equal(reread.error, undefined);
			assert.deepEqual(
				reread.rows.map((row) => row.cells),
				file.records.slice(a, b),
				`part of rows ${a + 1}..${b}`,
			);
		}),
		{ numRuns: runs(200), ...seed },
	);
});

// ---------------------------------------------------------------------------------------------
// NDJSON

const ndjsonFileArb = fc.record({
	records: fc.array(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }), { minLength: 1, maxLength: 25 }),
	endings: fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 1, maxLength: 4 }),
	blanks: fc.array(fc.constantFrom('', '', '', '\n', '\r\n', '  \n', '\t\r\n'), { minLength: 1, maxLength: 6 }),
	bom: fc.boolean(),
	finalNewline: fc.boolean(),
	sizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
	cut: fc.tuple(fc.nat(), fc.nat()),
});

test('NDJSON: what is written is read back, line for line, from any chunking', async () => {
	await fc.assert(
		fc.asyncProperty(ndjsonFileArb, async (file) => {
			let text = file.bom ? '\ufeff' : '';
			const lines: number[] = [];
			file.records.forEach((record, index) => {
				text += file.blanks[index % file.blanks.length];
				lines.push(breaks(text) + 1);
				text += JSON.stringify(record);
				if (index < file.records.length - 1 || file.finalNewline) text += file.endings[index % file.endings.length];
			});
			const bytes = Buffer.from(text, 'utf8');
			const { rows, error } = await readAll(bytes, 'ndjson', ',', file.sizes);
			assert.equal(error, undefined, `no error: ${String(error)}`);
			assert.equal(rows.length, file.records.length, 'no row lost or invented');
			rows.forEach((row, index) => {
				assert.equal(row.error, undefined, `row ${row.row}: ${row.error}`);
				assert.equal(row.row, index + 1);
				assert.equal(row.line, lines[index]);
				assert.equal(JSON.stringify(row.record), JSON.stringify(file.records[index]));
			});
			checkOffsets(rows, bytes, 0);
			if (!file.finalNewline) assert.equal(rows[rows.length - 1].endOffset, bytes.length);

			const a = file.cut[0] % rows.length;
			const b = a + 1 + (file.cut[1] % (rows.length - a));
			const part = bytes.subarray(a === 0 ? 0 : rows[a - 1].endOffset, rows[b - 1].endOffset);
			const reread = await readAll(part, 'ndjson', ',', file.sizes);
			assert.equal(reread.error, undefined);
			assert.deepEqual(
				reread.rows.map((row) => JSON.stringify(row.record)),
				file.records.slice(a, b).map((record) => JSON.stringify(record)),
			);
		}),
		{ numRuns: runs(200), ...seed },
	);
});

// ---------------------------------------------------------------------------------------------
// Any bytes at all

const BYTES_OF_INTEREST = [...Buffer.from('a,;"\r\n{}[]: \t\\é0')].concat([0x00, 0xff, 0xfe, 0xef, 0xbb, 0xbf, 0x80, 0xc3]);
const bytesArb = fc.oneof(
	fc.uint8Array({ maxLength: 200 }),
	fc.array(fc.constantFrom(...BYTES_OF_INTEREST), { maxLength: 200 }).map((list) => Uint8Array.from(list)),
	fc.array(fc.oneof(fc.constantFrom(...BYTES_OF_INTEREST), fc.integer({ min: 0, max: 255 })), { maxLength: 60 }).map((list) =>
		Uint8Array.from([...Buffer.from('external_id,email\n'), ...list]),
	),
);

test('any bytes: readers end with rows or a FileFormatError, nothing else', async () => {
	await fc.assert(
		fc.asyncProperty(
			bytesArb,
			fc.constantFrom('csv', 'ndjson'),
			fc.constantFrom(',', ';', '\t'),
			fc.array(fc.integer({ min: 1, max: 32 }), { minLength: 1, maxLength: 4 }),
			async (raw, format, delimiter, sizes) => {
				const bytes = Buffer.from(raw);
				const { rows, result, error } = await readAll(bytes, format, delimiter, sizes);
				if (error !== undefined) assert.ok(error instanceof FileFormatError, `only FileFormatError escapes: ${String(error)}`);
				let previous = format === 'csv' ? result.headerEndOffset : 0;
				rows.forEach((row, index) => {
					assert.equal(row.row, index + 1);
					assert.ok(row.endOffset > previous && row.endOffset <= bytes.length);
					previous = row.endOffset;
					assert.ok((row.record === undefined) !== (row.error === undefined), 'a record or an error');
					assert.ok(row.line >= 1);
				});
				if (error === undefined) assert.ok(rows.length > 0, 'a file read without error has rows');
			},
		),
		{ numRuns: runs(400), ...seed },
	);
});

// ---------------------------------------------------------------------------------------------
// Validators

const ZONES = ['UTC', 'Europe/Paris', 'America/Sao_Paulo', 'Asia/Kolkata', 'Australia/Lord_Howe'];
const NOW = Date.parse('2025-06-01T00:00:00Z');

interface Compiled {
	name: string;
	validate: ItemValidator;
	serialize: (item: IDataObject) => string;
}

function compileAll(timezone: string, coerceStrings: boolean): Compiled[] {
	const options = { timezone, coerceStrings, now: () => NOW };
	return [
		{ name: 'rimdian', validate: compileRimdianValidator(options), serialize: rimdian.delivery.serializeItem },
		{ name: 'userpilot', validate: compileUserpilotValidator({ ...options, defaultSource: 'backend-http-import' }), serialize: userpilot.delivery.serializeItem },
		{ name: 'ayona', validate: compileAyonaValidator(options), serialize: ayona.delivery.serializeItem },
	];
}

test('validators: arbitrary values never throw and always explain a refusal', () => {
	const anything = fc.oneof(
		fc.jsonValue({ maxDepth: 4 }),
		fc.anything({ maxDepth: 3, withBoxedValues: true, withMap: true, withSet: true, withNullPrototype: true, withDate: true, withTypedArray: true, withSparseArray: true, withBigInt: true }),
		// Items shaped like the real ones, with any values in their fields.
		fc.record({ kind: fc.constantFrom('user', 'order', 'app_x', 'session', 'message'), user: fc.anything({ maxDepth: 2 }), order: fc.anything({ maxDepth: 2 }), session: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['kind'] }),
		fc.record({ event_type: fc.constantFrom('identify_user', 'identify_company', 'page_view', 'track', 'x'), user_id: fc.jsonValue({ maxDepth: 1 }), company_id: fc.jsonValue({ maxDepth: 1 }), inserted_at: fc.oneof(fc.string(), fc.date(), fc.integer()), metadata: fc.anything({ maxDepth: 3 }), url: fc.string(), source: fc.string() }, { requiredKeys: ['event_type'] }),
		fc.record({ date: fc.oneof(fc.string(), fc.date(), fc.double(), fc.constant(null)), name: fc.anything({ maxDepth: 1 }), content: fc.anything({ maxDepth: 1 }) }, { requiredKeys: [] }),
	);
	fc.assert(
		fc.property(anything, fc.constantFrom(...ZONES), fc.boolean(), (value, timezone, coerce) => {
			for (const { name, validate } of compileAll(timezone, coerce)) {
				let result: ReturnType<ItemValidator> | undefined;
				assert.doesNotThrow(() => {
					result = validate(value);
				}, name);
				assert.ok(result && typeof result.ok === 'boolean', name);
				if (!result.ok) {
					assert.ok(result.errors.length > 0, `${name}: a refusal has reasons`);
					for (const error of result.errors) assert.ok(typeof error.field === 'string' && typeof error.reason === 'string' && error.reason.length > 0, name);
				}
			}
		}),
		{ numRuns: runs(500), ...seed },
	);
});

/** Past dates written in the forms the package reads. */
const dateTextArb = fc
	.record({
		date: fc.date({ min: new Date('1950-01-01T00:00:00Z'), max: new Date('2024-12-31T00:00:00Z'), noInvalidDate: true }),
		form: fc.constantFrom('iso', 'isoMicro', 'offset', 'zoneless', 'zonelessT', 'slashes', 'dateOnly', 'http', 'ayona'),
		offsetMinutes: fc.integer({ min: -12 * 60, max: 14 * 60 }).map((m) => m - (m % 15)),
	})
	.map(({ date, form, offsetMinutes }) => {
		const iso = date.toISOString();
		const pad = (n: number) => String(n).padStart(2, '0');
		switch (form) {
			case 'iso':
				return iso;
			case 'isoMicro':
				return iso.replace(/\.\d{3}Z$/, '.123456Z');
			case 'offset': {
				const shifted = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19);
				const sign = offsetMinutes < 0 ? '-' : '+';
				const abs = Math.abs(offsetMinutes);
				return `${shifted}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
			}
			case 'zoneless':
				return iso.slice(0, 19).replace('T', ' ');
			case 'zonelessT':
				return iso.slice(0, 16);
			case 'slashes':
				return iso.slice(0, 19).replace('T', ' ').replace(/-/g, '/');
			case 'dateOnly':
				return iso.slice(0, 10);
			case 'http':
				return date.toUTCString();
			default:
				return iso.slice(0, 19).replace('T', ' ');
		}
	});

const idArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:@-]{2,30}$/).filter((id) => !/^(id|userid|user_id|undefined|null|nan|none|nil)$/i.test(id));
const textArb = fc.string({ minLength: 1, maxLength: 40 }).filter((text) => text.trim() !== '' && !/[\u0000-\u001f]/.test(text));
const extraArb = fc.dictionary(fc.stringMatching(/^x_[a-z]{1,6}$/), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 3 });

const validItemArb: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
	rimdian: fc
		.record({ external_id: idArb, is_authenticated: fc.boolean(), created_at: dateTextArb, email: fc.option(fc.constantFrom('a@example.com', 'zoë@exämple.org'), { nil: undefined }), extra: extraArb })
		.map(({ extra, email, ...user }) => ({ kind: 'user', user: { ...user, ...(email ? { email } : {}), ...extra } })),
	userpilot: fc
		.record({
			event_type: fc.constantFrom('identify_user', 'track', 'identify_company'),
			user_id: idArb,
			company_id: idArb,
			event_name: textArb,
			inserted_at: dateTextArb,
			metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 5 }), { maxKeys: 4 }),
		})
		.map((row) => row as Record<string, unknown>),
	ayona: fc.record({ date: dateTextArb, name: textArb, content: textArb }),
};

test('validators: a valid item stays valid, with the same bytes, after a serialize/parse round trip', () => {
	for (const name of ['rimdian', 'userpilot', 'ayona']) {
		fc.assert(
			fc.property(validItemArb[name], fc.constantFrom(...ZONES), fc.boolean(), (item, timezone, coerce) => {
				const compiled = compileAll(timezone, coerce).find((entry) => entry.name === name) as Compiled;
				const first = compiled.validate(item);
				// A zone-less wall-clock time the clocks skip in this zone is refused, rightly.
				fc.pre(first.ok || first.errors.every((error) => /clocks skipped/.test(error.reason)));
				if (!first.ok) return;
				const bytes = compiled.serialize(first.value as IDataObject);
				assert.equal(compiled.serialize((compiled.validate(item) as { value: IDataObject }).value), bytes, 'same item, same bytes');
				const again = compiled.validate(JSON.parse(bytes));
				assert.ok(again.ok, `${name}: still valid after the round trip: ${JSON.stringify(!again.ok && again.errors)}`);
				assert.equal(compiled.serialize(again.value as IDataObject), bytes, `${name}: same bytes after the round trip`);
			}),
			{ numRuns: runs(300), ...seed },
		);
	}
});
