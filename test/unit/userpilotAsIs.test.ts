/**
 * "The File As It Is" (Userpilot): which files are sent as they are and which need rewriting
 * (they are refused, saying why), decided from the file's head and from each validated row.
 *   npx jest test/unit/userpilotAsIs.test.ts
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';

import { prepareRows, type FileSettings } from '../../core/rows/fileRows';
import type { BinarySource } from '../../core/rows/readers';
import { userpilot } from '../../platforms/userpilot';
import { AsIsCheck, fileRewrites, rowRewrites } from '../../platforms/userpilot/asIs';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', name));

function sourceOf(bytes: Buffer, fileName: string): BinarySource {
	return {
		fileName,
		size: bytes.length,
		async open(start = 0, end = bytes.length) {
			return Readable.from([bytes.subarray(start, end)], { objectMode: false });
		},
	};
}

function settings(
	format: 'csv' | 'ndjson',
	extra: {
		delimiter?: string;
		defaultSource?: string;
		defaultEventType?: string;
		timezone?: string;
	} = {},
): FileSettings {
	return {
		format,
		csv: { delimiter: extra.delimiter ?? ',', parseJsonCells: false },
		platform: userpilot,
		itemOptions: {
			timezone: extra.timezone ?? 'UTC',
			defaultSource: extra.defaultSource,
			defaultEventType: extra.defaultEventType,
		},
	};
}

/** What the upload does: the head check, then the validating pass feeding every row. */
async function decide(bytes: Buffer, file: FileSettings, name = 'events.csv'): Promise<string[]> {
	const source = sourceOf(bytes, name);
	const check = await AsIsCheck.open(source, file);
	if (check.fileReasons.length > 0) return check.reasons();
	const rejected: string[] = [];
	for await (const row of prepareRows(source, check.file, (r) => rejected.push(r.message)))
		check.row(row);
	assert.deepEqual(rejected, [], 'the test files are valid');
	return check.reasons();
}

const HEADER = 'event_type,event_name,source,user_id,inserted_at,metadata\n';
const ROW = 'track,opened,backend-http,u-1,2024-05-01 10:00:00.123456,"{""plan"": ""pro""}"\n';

test("Userpilot's own sample files go as they are (nothing to rewrite)", async () => {
	assert.deepEqual(await decide(fixture('userpilot-sample.csv'), settings('csv')), []);
	assert.deepEqual(await decide(Buffer.from(HEADER + ROW + ROW), settings('csv')), []);
	const ndjson =
		'{"event_type":"track","event_name":"opened","source":"backend-http","user_id":"u-1","inserted_at":"2024-05-01T10:00:00Z"}\n';
	assert.deepEqual(await decide(Buffer.from(ndjson), settings('ndjson'), 'e.ndjson'), []);
	// Spaces, another key order, a missing metadata and an identify_company's extra keys are
	// the file as Userpilot reads it too.
	const loose =
		'{ "user_id": "u-2", "event_type": "identify_user", "source": "backend-http", "inserted_at": "2024-05-01T10:00:00Z" }\n' +
		'{"event_type":"identify_company","company_id":"c-1","source":"backend-http","inserted_at":"2024-05-01T10:00:00Z","metadata":null,"hostname":"x.io"}\n';
	assert.deepEqual(await decide(Buffer.from(loose), settings('ndjson'), 'e.ndjson'), []);
	// CSV numbers are text; an empty numeric cell is no value.
	const screens =
		'event_type,source,user_id,inserted_at,screen_width,screen_height\nidentify_user,backend-http,u-1,2024-05-01 10:00:00,1086,\n';
	assert.deepEqual(await decide(Buffer.from(screens), settings('csv')), []);
});

test('a ";" or tab-delimited CSV needs rewriting (Userpilot reads commas)', async () => {
	const semicolons = Buffer.from((HEADER + ROW).replace(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/g, ';'));
	const reasons = await decide(semicolons, settings('csv', { delimiter: ';' }));
	assert.equal(reasons.length, 1);
	assert.match(reasons[0], /separated by ";".*comma-separated/);
	assert.match(fileRewrites(Buffer.from('a'), 'csv', '\t')[0], /separated by tabs/);
	assert.deepEqual(fileRewrites(Buffer.from('a'), 'ndjson', ';'), [], 'NDJSON has no delimiter');
});

test('UTF-16 and a byte order mark need rewriting, CSV or NDJSON', async () => {
	const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(HEADER + ROW, 'utf16le')]);
	const reasons = await decide(utf16, settings('csv'));
	assert.equal(reasons.length, 1);
	assert.match(reasons[0], /UTF-16/);
	assert.match(fileRewrites(Buffer.from([0xfe, 0xff, 0, 0x65]), 'ndjson', ',')[0], /UTF-16/);
	const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(HEADER + ROW)]);
	assert.match((await decide(bom, settings('csv')))[0], /byte order mark/);
	assert.match(fileRewrites(bom, 'ndjson', ',')[0], /byte order mark/);
});

test('dotted CSV columns need rewriting (the node nests them; Userpilot does not)', async () => {
	const text =
		'event_type,event_name,source,user_id,inserted_at,metadata.plan\ntrack,opened,backend-http,u-1,2024-05-01 10:00:00,pro\n';
	const reasons = await decide(Buffer.from(text), settings('csv'));
	assert.equal(reasons.length, 1);
	assert.match(reasons[0], /column "metadata\.plan" has a dotted name/);
	assert.deepEqual(
		fileRewrites(Buffer.from('{'), 'ndjson', ',', ['a.b']),
		[],
		'only CSV columns nest',
	);
});

test('a CSV without source, with a Default Source, needs rewriting: the rows are named', async () => {
	const text =
		'event_type,event_name,user_id,inserted_at\n' + 'track,a,u-1,2024-05-01 10:00:00\n'.repeat(5);
	const reasons = await decide(
		Buffer.from(text),
		settings('csv', { defaultSource: 'backend-http-import' }),
	);
	assert.deepEqual(reasons, [
		'5 rows (first: rows 1, 2, 3) have no source: the Default Source "backend-http-import" would be filled in',
	]);
	// An empty source cell is filled in too; a row that has one is left alone.
	const mixed = HEADER + 'track,opened,,u-1,2024-05-01 10:00:00,{}\n' + ROW;
	assert.deepEqual(
		await decide(Buffer.from(mixed), settings('csv', { defaultSource: 'backend-http' })),
		['row 1 has no source: the Default Source "backend-http" would be filled in'],
	);
	// Userpilot's NDJSON sample has no source either.
	const sample = await decide(
		fixture('userpilot-sample.ndjson'),
		settings('ndjson', { defaultSource: 'backend-http-import' }),
		's.ndjson',
	);
	assert.equal(sample.length, 1);
	assert.match(sample[0], /^2 rows \(rows 1, 2\) have no source/);
});

test('a filled-in event type, a rewritten date and a number sent as a string need rewriting', async () => {
	const noType =
		'event_name,source,user_id,inserted_at\nopened,backend-http,u-1,2024-05-01 10:00:00\n';
	assert.deepEqual(
		await decide(Buffer.from(noType), settings('csv', { defaultEventType: 'track' })),
		['row 1 has no event_type: the Default Event Type "track" would be filled in'],
	);
	// A zone-less date read in another time zone, or an offset, is sent in UTC.
	assert.deepEqual(
		await decide(Buffer.from(HEADER + ROW), settings('csv', { timezone: 'Europe/Paris' })),
		[
			'row 1 has "inserted_at" "2024-05-01 10:00:00.123456", which would be sent as "2024-05-01T08:00:00.123456Z"',
		],
	);
	const numeric =
		'{"event_type":"identify_user","source":"backend-http","user_id":42,"inserted_at":"2024-05-01T10:00:00+02:00"}\n';
	assert.deepEqual(await decide(Buffer.from(numeric), settings('ndjson'), 'n.ndjson'), [
		'row 1 has "user_id" 42, which would be sent as "42"',
		'row 1 has "inserted_at" "2024-05-01T10:00:00+02:00", which would be sent as "2024-05-01T08:00:00Z"',
	]);
});

test('rowRewrites: what Userpilot does itself is not a rewrite; anything else is', () => {
	const base = {
		event_type: 'track',
		event_name: 'a',
		source: 'backend-http',
		user_id: 'u',
		inserted_at: '2024-05-01T10:00:00Z',
	};
	assert.deepEqual(
		rowRewrites({ ...base, metadata: '{"a":1}' }, { ...base, metadata: { a: 1 } }, 'csv'),
		[],
	);
	assert.deepEqual(rowRewrites(base, { ...base, metadata: {} }, 'ndjson'), []);
	// A JSON string in NDJSON is a string, not an object.
	assert.equal(
		rowRewrites({ ...base, metadata: '{"a":1}' }, { ...base, metadata: { a: 1 } }, 'ndjson').length,
		1,
	);
	assert.deepEqual(
		rowRewrites({ ...base, screen_width: '1e3' }, { ...base, screen_width: 1000 }, 'csv'),
		[{ field: 'screen_width', kind: 'changed', from: '1e3', to: 1000 }],
	);
	assert.deepEqual(
		rowRewrites(
			{ ...base, extra: { b: [1, { c: 2 }] } },
			{ ...base, extra: { b: [1, { c: 2 }] } },
			'ndjson',
		),
		[],
	);
	assert.deepEqual(rowRewrites({ ...base, extra: 1 }, base, 'ndjson'), [
		{ field: 'extra', kind: 'changed', from: 1 },
	]);
	const { source: _source, ...noSource } = base;
	void _source;
	assert.deepEqual(rowRewrites(noSource, base, 'ndjson'), [
		{ field: 'source', kind: 'defaultSource', to: 'backend-http' },
	]);
});

test('a file the reader cannot read is a clear format error, not a crash', async () => {
	await assert.rejects(
		AsIsCheck.open(sourceOf(Buffer.from('a,a\n1,2\n'), 'x.csv'), settings('csv')),
		/CSV header: column "a" appears twice/,
	);
	await assert.rejects(
		AsIsCheck.open(sourceOf(Buffer.alloc(0), 'x.csv'), settings('csv')),
		/the file is empty/,
	);
});

test('rows are named by their number in the file, rejected rows in between included', async () => {
	const text =
		'event_type,source,user_id,inserted_at\n' +
		'identify_user,backend-http,u-1,2024-05-01 10:00:00\n' +
		'identify_user,backend-http,,2024-05-01 10:00:00\n' +
		'identify_user,,u-3,2024-05-01 10:00:00\n';
	const file = settings('csv', { defaultSource: 'backend-http' });
	const source = sourceOf(Buffer.from(text), 'x.csv');
	const check = await AsIsCheck.open(source, file);
	const rejected: number[] = [];
	for await (const row of prepareRows(source, check.file, (r) => rejected.push(r.row)))
		check.row(row);
	assert.deepEqual(rejected, [2]);
	assert.deepEqual(check.reasons(), [
		'row 3 has no source: the Default Source "backend-http" would be filled in',
	]);
});

test('the header is read from the file start, however long its first row or header', async () => {
	// A first row longer than the bytes read for the header (its quote not closed there).
	const long = `${HEADER}track,opened,backend-http,u-1,2024-05-01 10:00:00,"{""note"": ""${'x'.repeat(100_000)}""}"\n`;
	assert.deepEqual(await decide(Buffer.from(long), settings('csv')), []);
	// A header longer than that, with a dotted column at its end.
	const names = Array.from({ length: 8000 }, (_, i) => `extra_column_${i}`);
	const wide = `${HEADER.trimEnd()},${names.join(',')},context.plan\n${ROW.trimEnd()},${names.map(() => '').join(',')},pro\n`;
	const check = await AsIsCheck.open(sourceOf(Buffer.from(wide), 'w.csv'), settings('csv'));
	assert.equal(check.fileReasons.length, 1);
	assert.match(check.fileReasons[0], /column "context\.plan" has a dotted name/);
});
