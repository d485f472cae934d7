/**
 * The CSV reader checks UTF-8 chunk by chunk and only falls back to checking every cell once a
 * chunk fails. These tests cut files at every byte, so that multi-byte characters fall across
 * chunk ends, and check that valid text is never refused and each bad row is still named.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

import { readRows, type FileRow } from '../../core/rows/readers';

async function read(bytes: Buffer, chunkSize: number): Promise<FileRow[]> {
	const chunks: Buffer[] = [];
	for (let offset = 0; offset < bytes.length; offset += chunkSize) {
		chunks.push(bytes.subarray(offset, offset + chunkSize));
	}
	const rows: FileRow[] = [];
	for await (const row of readRows(Readable.from(chunks), 'csv', {
		delimiter: ',',
		parseJsonCells: false,
	})) {
		rows.push(row);
	}
	return rows;
}

test('CSV: multi-byte characters cut by any chunk end are read, not refused', async () => {
	const text = 'name,city\nZoë,Kraków\n日本語,東京\n😀 smile,Zürich\n';
	const bytes = Buffer.from(text, 'utf8');
	for (let size = 1; size <= bytes.length; size++) {
		const rows = await read(bytes, size);
		assert.deepEqual(
			rows.map((row) => [row.error, row.record]),
			[
				[undefined, { name: 'Zoë', city: 'Kraków' }],
				[undefined, { name: '日本語', city: '東京' }],
				[undefined, { name: '😀 smile', city: 'Zürich' }],
			],
			`chunks of ${size} bytes`,
		);
	}
});

test('CSV: a row with bytes that are not UTF-8 is named, the rows around it are read', async () => {
	const bytes = Buffer.concat([
		Buffer.from('name,city\nZoë,Kraków\nbad,', 'utf8'),
		Buffer.from([0xe2, 0x28, 0xa1]),
		Buffer.from('\n日本語,東京\ncut,', 'utf8'),
		// A lead byte with its sequence cut short by the end of the file.
		Buffer.from([0xf0, 0x9f]),
	]);
	for (let size = 1; size <= bytes.length; size++) {
		const rows = await read(bytes, size);
		assert.deepEqual(
			rows.map((row) => [row.row, row.error === undefined ? 'ok' : 'not utf-8']),
			[
				[1, 'ok'],
				[2, 'not utf-8'],
				[3, 'ok'],
				[4, 'not utf-8'],
			],
			`chunks of ${size} bytes`,
		);
		assert.match(String(rows[1].error), /not valid UTF-8/);
	}
});

test('CSV: U+FFFD written as valid UTF-8 is text like any other, in a file whose every byte is UTF-8', async () => {
	const bytes = Buffer.from('name,note\nA,kept \uFFFD here\nB,plain\n', 'utf8');
	for (const size of [1, 7, bytes.length]) {
		const rows = await read(bytes, size);
		assert.deepEqual(
			rows.map((row) => [row.error, row.record]),
			[
				[undefined, { name: 'A', note: 'kept \uFFFD here' }],
				[undefined, { name: 'B', note: 'plain' }],
			],
			`chunks of ${size} bytes`,
		);
	}
});

test('CSV: a bad row far into a large file is named, every row before and after it read', async () => {
	const good = Array.from({ length: 5000 }, (_, i) => `user-${i},Zoë ${i}`);
	const bytes = Buffer.concat([
		Buffer.from(`id,name\n${good.join('\n')}\nbad,`, 'utf8'),
		Buffer.from([0xc3, 0x28]),
		Buffer.from(`\n${good.join('\n')}\n`, 'utf8'),
	]);
	const rows = await read(bytes, 16 * 1024);
	assert.equal(rows.length, 10_001);
	const bad = rows.filter((row) => row.error !== undefined).map((row) => row.row);
	assert.deepEqual(bad, [5001]);
	assert.deepEqual(rows[10_000].record, { id: 'user-4999', name: 'Zoë 4999' });
});
