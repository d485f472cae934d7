/**
 * The bad-input catalogue (test/fixtures/bad/catalogue.json), at unit level: every entry is run
 * through the package's real node code, in-process, with a fake n8n context whose HTTP helper
 * makes real requests (to the sandbox, or to a tiny server that misbehaves as the entry says).
 * The user must get exactly the catalogued error or row reasons; nothing may crash, hang, or be
 * reported as accepted unless the platform holds it.
 *   npx jest test/unit/badInput*.test.ts
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';

import type { IExecuteFunctions } from 'n8n-workflow';

import { csvLine } from '../../core/rows/csvWriter';
import { FileFormatError, openBinary, readRows, type FileRow } from '../../core/rows/readers';
import { compileAyonaValidator } from '../../platforms/ayona/rules';
import { compileRimdianValidator } from '../../platforms/rimdian/rules';
import { compileUserpilotValidator } from '../../platforms/userpilot/rules';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { BAD_DIR, loadCatalogue, normalizeMessage, observe, type Entry } from '../fixtures/bad/catalogue';
import { runNode } from '../fixtures/bad/fakeN8n';

const entries = loadCatalogue();
let sandbox: Sandbox;

beforeAll(async () => {
	sandbox = await startSandbox({ jobStepMs: 5 });
});

afterAll(async () => {
	await sandbox?.close();
});

function check(entry: Entry, observed: Awaited<ReturnType<typeof observe>>): void {
	const { expect } = entry;
	assert.equal(observed.error === undefined ? undefined : normalizeMessage(observed.error), expect.error, 'the error the user gets');
	assert.deepEqual((observed.rejected ?? []).map(normalizeMessage), expect.rejected ?? [], 'the rejected rows or invalid items');
	assert.equal(observed.accepted, expect.accepted, 'rows or items reported as accepted');
	if (expect.requests !== undefined) assert.equal(observed.requests, expect.requests, 'requests the platform received');
	if (expect.warnings !== undefined) assert.deepEqual(observed.warnings, expect.warnings, 'the warnings of the items sent');
	if (expect.largestBatch !== undefined) assert.equal(observed.largestBatch, expect.largestBatch, 'largest batch');
	if (observed.largestBatch !== undefined) assert.ok(observed.largestBatch <= 100, 'Rimdian never gets more than 100 items');
	if (observed.stored !== undefined) {
		// Nothing reported as accepted that the platform does not hold (and the other way round).
		assert.equal(observed.stored, expect.stored ?? expect.accepted, 'what the platform holds');
	}
}

describe('the catalogue', () => {
	test('lists at least 40 inputs, each with a unique id, an input and an expectation', () => {
		assert.ok(entries.length >= 40, `${entries.length} entries`);
		assert.equal(new Set(entries.map((entry) => entry.id)).size, entries.length, 'ids are unique');
		for (const entry of entries) {
			assert.ok(entry.what && entry.node && entry.platform && entry.format, entry.id);
			assert.ok(entry.expect && typeof entry.expect.accepted === 'number', `${entry.id} has an expectation`);
			assert.ok(entry.expect.error !== undefined || entry.expect.rejected !== undefined || entry.expect.accepted > 0, `${entry.id} expects something`);
			if (entry.input.fixture) assert.ok(fs.existsSync(path.join(BAD_DIR, entry.input.fixture)), `${entry.id}: ${entry.input.fixture} exists`);
		}
	});

	test('every fixture file is used by an entry, and none is big', () => {
		const used = new Set(entries.map((entry) => entry.input.fixture).filter(Boolean));
		const files = fs.readdirSync(BAD_DIR).filter((name) => !/\.(ts|json)$/.test(name) || name === 'users.json' || name === 'pretty.json');
		for (const file of files) {
			assert.ok(used.has(file), `${file} is in the catalogue`);
			assert.ok(fs.statSync(path.join(BAD_DIR, file)).size < 4096, `${file} is small`);
		}
	});

	test('covers what the issue asks for', () => {
		const ids = new Set(entries.map((entry) => entry.id));
		for (const id of [
			'csv-empty', 'csv-header-only', 'csv-bom', 'csv-mixed-line-endings', 'csv-unbalanced-quote', 'csv-10mb-field',
			'csv-invalid-utf8', 'binary-png-as-csv', 'ndjson-broken-line', 'ndjson-json-array', 'csv-wrong-delimiter-semicolon',
			'csv-duplicate-columns', 'csv-missing-required-column', 'csv-numbers-in-date-field', 'csv-dates-out-of-range',
			'ndjson-userpilot-metadata-too-deep', 'items-rimdian-batch-size-150', 'item-not-an-object',
			'item-string-where-object-required', 'server-wrong-content-type-error', 'server-html-502-proxy-page',
			'server-200-unexpected-json', 'csv-userpilot-rule-breaks', 'csv-ayona-date-formats',
		]) {
			assert.ok(ids.has(id), id);
		}
		for (const kind of ['user', 'user-alias', 'device', 'session', 'pageview', 'order', 'cart', 'postview', 'custom-event', 'subscription-list-user', 'message']) {
			assert.ok(ids.has(`rimdian-${kind}-required`), kind);
		}
	});
});

describe('each catalogued input gives exactly the catalogued outcome', () => {
	for (const entry of entries) {
		test(`${entry.id}: ${entry.what}`, async () => {
			check(entry, await observe(entry, sandbox));
		}, 60_000);
	}
});

describe('a file the reader refuses is refused the same way for every platform', () => {
	// (The generated 17 MB inputs take the same path; reading them three times would only be slow.)
	const fileLevel = entries.filter((entry) => entry.appliesTo?.startsWith('every platform') && !entry.input.generate);
	for (const entry of fileLevel) {
		for (const platform of ['ayona', 'userpilot'] as const) {
			test(`${entry.id} (${platform})`, async () => {
				const observed = await observe(entry, sandbox, platform);
				assert.equal(observed.error, entry.expect.error);
				assert.equal(observed.accepted, 0);
				assert.equal(observed.requests, 0, 'nothing was sent');
			});
		}
	}
});

describe('rejected rows come back as a file to fix and feed back', () => {
	test('an NDJSON line that is not JSON is written out as it was read', async () => {
		await sandbox.reset();
		const bytes = fs.readFileSync(path.join(BAD_DIR, 'broken-line.ndjson'));
		const run = await runNode({
			node: 'bulk',
			platform: 'rimdian',
			baseUrl: sandbox.url,
			params: { options: { rejectedRowsFile: true } },
			file: { bytes, fileName: 'broken-line.ndjson' },
		});
		assert.equal(run.error, undefined);
		const rejected = run.output?.[0].binary?.rejected;
		assert.ok(rejected, 'a rejected-rows file');
		const text = Buffer.from(rejected.data, 'base64').toString('utf8');
		const rows: FileRow[] = [];
		for await (const row of readRows(Readable.from([Buffer.from(text)]), 'csv', { delimiter: ',', parseJsonCells: false })) rows.push(row);
		assert.equal(rows.length, 1);
		assert.deepEqual(rows[0].cells?.slice(0, 2), ['2', '2']);
		assert.equal(rows[0].record?._record, '{"external_id":"nd-2","is_authenticated":true');
	});

	test('a CSV row that is not UTF-8 keeps its other cells', async () => {
		await sandbox.reset();
		const bytes = fs.readFileSync(path.join(BAD_DIR, 'invalid-utf8.csv'));
		const run = await runNode({
			node: 'bulk',
			platform: 'rimdian',
			baseUrl: sandbox.url,
			params: { options: { rejectedRowsFile: true } },
			file: { bytes, fileName: 'invalid-utf8.csv' },
		});
		const text = Buffer.from(run.output?.[0].binary?.rejected.data ?? '', 'base64').toString('utf8');
		assert.match(text, /^_row,_line,_reason,external_id,is_authenticated,created_at,last_name\r\n2,3,/);
		assert.match(text, /lat-2,true,2024-01-02T10:00:00Z,Mu\uFFFDoz\r\n$/);
	});
});

describe('readers, directly', () => {
	const read = async (bytes: Buffer | string, format: 'csv' | 'ndjson', chunk = 7) => {
		const buffer = Buffer.from(bytes);
		const chunks: Buffer[] = [];
		for (let i = 0; i < buffer.length; i += chunk) chunks.push(buffer.subarray(i, i + chunk));
		const rows: FileRow[] = [];
		for await (const row of readRows(Readable.from(chunks), format, { delimiter: ',', parseJsonCells: false })) rows.push(row);
		return rows;
	};

	test('a BOM split over two chunks is still a BOM', async () => {
		const rows = await read('\ufeffa,b\r\n1,2\r\n', 'csv', 1);
		assert.deepEqual(rows.map((row) => row.record), [{ a: '1', b: '2' }]);
		assert.equal(rows[0].endOffset, Buffer.byteLength('\ufeffa,b\r\n1,2\r\n'));
	});

	test('CRLF split between two chunks is one line ending', async () => {
		const text = 'a,b\r\n1,2\r\n3,4\r\n';
		for (let chunk = 1; chunk <= text.length; chunk++) {
			const rows = await read(text, 'csv', chunk);
			assert.deepEqual(rows.map((row) => [row.line, row.endOffset, row.record]), [
				[2, 10, { a: '1', b: '2' }],
				[3, 15, { a: '3', b: '4' }],
			], `chunks of ${chunk}`);
		}
	});

	test('U+FFFD written in the file is text, not an encoding error', async () => {
		const rows = await read('name\n\ufffd ok\n', 'csv');
		assert.deepEqual(rows.map((row) => [row.record, row.error]), [[{ name: '\ufffd ok' }, undefined]]);
		const lines = await read('{"name":"\ufffd ok"}\n', 'ndjson');
		assert.deepEqual(lines.map((row) => [row.record, row.error]), [[{ name: '\ufffd ok' }, undefined]]);
	});

	test('a multi-byte character split between chunks is read whole', async () => {
		const rows = await read('name\nZoë Ångström 日本\n', 'csv', 1);
		assert.deepEqual(rows[0].record, { name: 'Zoë Ångström 日本' });
		const lines = await read('{"name":"Zoë 日本"}\n', 'ndjson', 1);
		assert.deepEqual(lines[0].record, { name: 'Zoë 日本' });
	});

	test('a stream that fails is not reported as a format error', async () => {
		const failing = new Readable({
			read() {
				this.destroy(Object.assign(new Error('disk gone'), { code: 'EIO' }));
			},
		});
		await assert.rejects(
			(async () => {
				for await (const row of readRows(failing, 'csv', { delimiter: ',', parseJsonCells: false })) void row;
			})(),
			(error: Error) => !(error instanceof FileFormatError) && /disk gone/.test(error.message),
		);
	});

	test('a reader stopped early releases its stream', async () => {
		let destroyed = false;
		const lines = Array.from({ length: 1000 }, (_, i) => `{"n":${i}}\n`);
		for (const format of ['csv', 'ndjson'] as const) {
			destroyed = false;
			const stream = Readable.from(format === 'csv' ? ['n\n', ...lines.map((_, i) => `${i}\n`)] : lines);
			stream.on('close', () => (destroyed = true));
			for await (const row of readRows(stream, format, { delimiter: ',', parseJsonCells: false })) {
				if (row.row === 3) break;
			}
			await new Promise((resolve) => setImmediate(resolve));
			assert.ok(destroyed, `${format}: the stream is closed`);
		}
	});

	test('the rejected-rows writer quotes what a reader would split', () => {
		assert.equal(csvLine(['a', 'b,c', 'd"e', 'f\ng', 'h\ri', null, 42, { x: 1 }]), 'a,"b,c","d""e","f\ng","h\ri",,42,"{""x"":1}"\r\n');
		assert.equal(csvLine(['a;b', 'c,d'], ';'), '"a;b";c,d\r\n');
	});

	test('the rejected-rows writer escapes every cell a spreadsheet would run as a formula', () => {
		for (const lead of ['=', '+', '-', '@']) {
			assert.equal(csvLine([`${lead}1+1`, 'ok']), `'${lead}1+1,ok\r\n`, `a cell starting with ${lead}`);
		}
		assert.equal(csvLine(['\t=1']), "'\t=1\r\n");
		assert.equal(csvLine(['\r=1']), `"'\r=1"\r\n`, 'escaped, then quoted for its line break');
		assert.equal(csvLine(['=HYPERLINK("http://x.test","click")']), `"'=HYPERLINK(""http://x.test"",""click"")"\r\n`);
		// As csv-stringify does: a number is left alone, the same figure as text is not.
		assert.equal(csvLine([-5, '-5']), "-5,'-5\r\n");
		assert.equal(csvLine(['a=b', ' =1', true, new Date(0)]), 'a=b, =1,true,"""1970-01-01T00:00:00.000Z"""\r\n');
	});
});

describe('hostile values', () => {
	test('validators refuse, without throwing, values that throw when read or refer to themselves', () => {
		const throwing = new Proxy(
			{},
			{
				get() {
					throw new Error('get trap');
				},
				ownKeys() {
					throw new Error('ownKeys trap');
				},
				getOwnPropertyDescriptor() {
					throw new Error('descriptor trap');
				},
			},
		);
		const cyclic: Record<string, unknown> = { kind: 'user', user: { external_id: 'u-1', is_authenticated: true, created_at: '2024-01-01T10:00:00Z' } };
		(cyclic.user as Record<string, unknown>).self = cyclic;
		const metadata: Record<string, unknown> = {};
		metadata.self = metadata;
		const values = [
			throwing,
			{ kind: 'user', user: throwing },
			cyclic,
			{ event_type: 'identify_user', user_id: 'u-1', inserted_at: '2024-05-01T10:00:00Z', metadata },
			{ date: throwing, name: 'a', content: 'b' },
		];
		const validators = [
			compileRimdianValidator({ timezone: 'UTC' }),
			compileUserpilotValidator({ timezone: 'UTC', defaultSource: 'backend-http-import' }),
			compileAyonaValidator({ timezone: 'UTC' }),
		];
		for (const value of values) {
			for (const validate of validators) {
				const result = validate(value);
				assert.equal(result.ok, false);
				assert.ok(!result.ok && result.errors.length > 0);
			}
		}
	});

	test('a binary whose store gives no size is measured once, so it can still be split', async () => {
		const bytes = Buffer.from('a,b\n1,2\n');
		const context = {
			helpers: {
				assertBinaryData: () => ({ id: 'store:1', fileName: 'x.csv', mimeType: 'text/csv' }),
				getBinaryMetadata: async () => ({}),
				getBinaryStream: async () => Readable.from([bytes.subarray(0, 3), bytes.subarray(3)]),
			},
		} as unknown as IExecuteFunctions;
		const source = await openBinary(context, 0, 'data');
		assert.equal(source.size, bytes.length);
		const part: Buffer[] = [];
		for await (const chunk of (await source.open(4, source.size)) as AsyncIterable<Buffer>) part.push(chunk);
		assert.equal(Buffer.concat(part).toString(), '1,2\n');
	});
});
