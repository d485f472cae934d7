/**
 * "Validate Only (Send Nothing)" in the core (delivery/preview.ts, fileValidation.ts): the items
 * and rows checked as a real run would, what would be sent shown, and no request made.
 *   npx jest test/unit/preview.test.ts
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import { validateFileRows } from '../../core/delivery/fileValidation';
import { prepareItems } from '../../core/delivery/items';
import { batchBodies, PREVIEW_LINES, validatedResults } from '../../core/delivery/preview';
import type { SendSettings } from '../../core/delivery/sendSettings';
import type { Platform } from '../../core/platform';
import type { FileSettings } from '../../core/rows/fileRows';
import type { BinarySource } from '../../core/rows/readers';
import { DEFAULT_RETRY_POLICY } from '../../core/transport';
import { ayona } from '../../platforms/ayona';
import { userpilot } from '../../platforms/userpilot';
import { textOf } from './rejectedText';

function sourceOf(text: string, fileName: string): BinarySource {
	const bytes = Buffer.from(text);
	return {
		fileName,
		size: bytes.length,
		async open(start = 0, end = bytes.length) {
			return Readable.from([bytes.subarray(start, end)], { objectMode: false });
		},
	};
}

function settingsOf(platform: Platform, batchSize?: number): SendSettings {
	const credentials: ICredentialDataDecryptedObject = { platform: platform.id, apiKey: 'k' };
	const values: Record<string, unknown> = { sourceId: 'src', defaultSource: 'backend-http-import' };
	return {
		platform,
		credentials,
		itemOptions: { timezone: 'UTC', ...platform.readNodeOptions((name) => values[name] as never) },
		batchSize,
		concurrency: 1,
		policy: DEFAULT_RETRY_POLICY,
		options: { validateOnly: true },
	};
}

/** A row Userpilot takes. */
const IDENTIFY = {
	event_type: 'identify_user',
	user_id: 'user_123',
	inserted_at: '2024-07-28T08:55:35.874555',
	metadata: { name: 'John Doe' },
};

const entry = (name: string) => ({ date: '2024-03-08 00:29:00', name, content: 'Feedback' });

describe('core/delivery/preview: items checked, nothing sent', () => {
	test('valid and invalid items; the first of each batch carries its request body', async () => {
		const settings = settingsOf(ayona, 2);
		const records = [entry('a'), {}, entry('b'), entry('c')];
		const input = await prepareItems(records.length, (index) => records[index], settings, 1);
		const results = validatedResults(settings, input);
		assert.deepEqual(
			results.map((result) => result.status),
			['valid', 'invalid', 'valid', 'valid'],
		);
		const first = results[0] as { batch?: number; requestBody?: { source_id: string; payload: unknown[] } };
		assert.equal(first.batch, 1);
		assert.equal(first.requestBody?.source_id, 'src');
		assert.deepEqual(
			first.requestBody?.payload.map((item) => (item as { name: string }).name),
			['a', 'b'],
		);
		assert.equal((results[2] as { requestBody?: unknown }).requestBody, undefined);
		assert.equal((results[2] as { batch?: number }).batch, 1);
		const third = results[3] as { batch?: number; requestBody?: { payload: unknown[] } };
		assert.equal(third.batch, 2);
		assert.equal(third.requestBody?.payload.length, 1);
		assert.ok(results[1].status === 'invalid' && results[1].errors.length > 0);
	});

	test('a job platform: the first item shows the first lines of the file; no batch bodies', async () => {
		const settings = settingsOf(userpilot);
		const records = Array.from({ length: PREVIEW_LINES + 2 }, (_, index) => ({
			...IDENTIFY,
			user_id: `u${index}`,
		}));
		const input = await prepareItems(records.length, (index) => records[index], settings, 1);
		assert.deepEqual(batchBodies(settings, input.prepared), []);
		const results = validatedResults(settings, input);
		assert.ok(results.every((result) => result.status === 'valid'));
		const lines = (results[0] as { firstLinesOfFile?: Array<{ user_id: string }> }).firstLinesOfFile;
		assert.equal(lines?.length, PREVIEW_LINES);
		assert.equal(lines?.[0].user_id, 'u0');
		assert.equal((results[1] as { firstLinesOfFile?: unknown }).firstLinesOfFile, undefined);
	});
});

describe('core/delivery/fileValidation: a file checked, nothing sent', () => {
	test('rows tallied and rejected as an import would; the first rows and a request body shown', async () => {
		const settings = settingsOf(ayona);
		const file: FileSettings = {
			format: 'csv',
			csv: { delimiter: ',', parseJsonCells: false },
			platform: ayona,
			itemOptions: settings.itemOptions,
		};
		const csv = 'date,name,content\n2024-03-08 00:29:00,a,x\nnot a date,b,y\n2024-03-08 00:29:00,c,z\n';
		const progress = { read: 0, sent: 0, accepted: 0 };
		const { summary, rejectedFile } = await validateFileRows(sourceOf(csv, 'f.csv'), file, settings, true, progress);
		assert.deepEqual(progress, { read: 3, sent: 0, accepted: 0 }, 'progress counts every row read, valid or not; none sent');
		assert.equal(summary.status, 'validated');
		assert.equal(summary.rowsRead, 3);
		assert.equal(summary.valid, 2);
		assert.equal(summary.invalid, 1);
		const rejected = summary.rejected as Array<{ row: number; errors: Array<{ field: string }> }>;
		assert.equal(rejected[0].row, 2);
		assert.equal(rejected[0].errors[0].field, 'date');
		assert.deepEqual(
			(summary.firstRowsAsSent as Array<{ name: string }>).map((row) => row.name),
			['a', 'c'],
		);
		const body = summary.requestBodyOfFirstRows as { source_id: string; payload: unknown[] };
		assert.equal(body.source_id, 'src');
		assert.equal(body.payload.length, 2);
		assert.match(await textOf(rejectedFile), /^_row,_line,_reason,date,name,content/);
	});

	test('a job platform: the first lines as sent, no request body', async () => {
		const settings = settingsOf(userpilot);
		const file: FileSettings = {
			format: 'ndjson',
			csv: { delimiter: ',', parseJsonCells: false },
			platform: userpilot,
			itemOptions: settings.itemOptions,
		};
		const ndjson = `${JSON.stringify(IDENTIFY)}\n{"event_type":"nope"}\n`;
		const { summary } = await validateFileRows(sourceOf(ndjson, 'f.ndjson'), file, settings, false);
		assert.equal(summary.valid, 1);
		assert.equal(summary.invalid, 1);
		assert.equal(summary.requestBodyOfFirstRows, undefined);
		assert.equal((summary.firstRowsAsSent as unknown[]).length, 1);
	});
});
