/**
 * The file and item paths of the core (delivery/fileJob.ts, fileBatches.ts, items.ts), driven
 * without n8n: plain sources, a transport whose every request is refused, plain outcomes.
 *   npx jest test/unit/coreDelivery.test.ts
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

import type { ICredentialDataDecryptedObject, IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { importFileRows } from '../../core/delivery/fileBatches';
import { uploadFileAsJobs } from '../../core/delivery/fileJob';
import {
	deliverItems,
	finalResults,
	invalidSummary,
	prepareItems,
} from '../../core/delivery/items';
import { PartsNotSentError } from '../../core/delivery/job';
import type { SendSettings } from '../../core/delivery/sendSettings';
import type { Platform } from '../../core/platform';
import type { ItemResult } from '../../core/results';
import type { FileSettings } from '../../core/rows/fileRows';
import type { BinarySource } from '../../core/rows/readers';
import {
	DEFAULT_RETRY_POLICY,
	PlatformRequestError,
	PlatformTransport,
} from '../../core/transport';
import { ayona } from '../../platforms/ayona';
import { rimdian } from '../../platforms/rimdian';
import { userpilot } from '../../platforms/userpilot';

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

/** Settings as the nodes read them, for `platform`; a transport that must send nothing. */
function setUp(platform: Platform, options: IDataObject = {}) {
	const credentials: ICredentialDataDecryptedObject = {
		platform: platform.id,
		baseUrl: 'http://127.0.0.1:9',
		apiKey: 'k',
	};
	const values: Record<string, unknown> = { sourceId: 'src', defaultSource: 'backend-http-import' };
	const settings: SendSettings = {
		platform,
		credentials,
		itemOptions: { timezone: 'UTC', ...platform.readNodeOptions((name) => values[name] as never) },
		concurrency: 1,
		policy: { ...DEFAULT_RETRY_POLICY, maxRetries: 0 },
		options,
	};
	const context = {
		getExecutionCancelSignal: () => new AbortController().signal,
		helpers: {
			async httpRequestWithAuthentication() {
				throw new Error('no request is expected');
			},
		},
	} as unknown as IExecuteFunctions;
	const transport = new PlatformTransport(context, platform, credentials, settings.policy);
	return { settings, transport };
}

function fileOf(settings: SendSettings, format: 'csv' | 'ndjson', fromRow?: number): FileSettings {
	return {
		fromRow,
		format,
		csv: { delimiter: ',', parseJsonCells: false },
		platform: settings.platform,
		itemOptions: settings.itemOptions,
	};
}

/** A row Userpilot takes. */
const IDENTIFY =
	'{"event_type": "identify_user", "user_id": "user_123", "inserted_at": "2024-07-28T08:55:35.874555", "metadata": { "name": "John Doe" }}';

const token = () => ({ token: 'x1-abc', deterministic: true });

describe('core/delivery/fileJob: a file cut into job parts', () => {
	test('a row larger than a part alone is refused before anything is sent (413)', async () => {
		const { settings, transport } = setUp(userpilot);
		const source = sourceOf(`${IDENTIFY}\n`, 'a.ndjson');
		const upload = uploadFileAsJobs(source, fileOf(settings, 'ndjson'), settings, transport, {
			validateFirst: true,
			normalized: true,
			partLimit: 10,
			split: true,
			nameToken: token,
		});
		await assert.rejects(upload, (error: unknown) => {
			assert.ok(error instanceof PlatformRequestError);
			assert.equal(error.status, 413);
			assert.equal(
				error.message,
				'Row 1 alone is larger than the part size limit: it cannot be sent in any part',
			);
			return true;
		});
		assert.equal(transport.stats.requests, 0);
	});

	test('a file with rows that break the rules is not uploaded: the outcome lists them', async () => {
		const { settings, transport } = setUp(userpilot);
		const source = sourceOf('{"nothing":"here"}\n{"nor":"here"}\n', 'bad.ndjson');
		const outcome = await uploadFileAsJobs(
			source,
			fileOf(settings, 'ndjson'),
			settings,
			transport,
			{
				validateFirst: true,
				normalized: true,
				partLimit: 1_000_000,
				split: true,
				nameToken: () => assert.fail('no name is needed for a file that is not sent'),
			},
		);
		assert.equal(outcome.summary.status, 'invalid');
		assert.equal(outcome.summary.rowsRead, 2);
		assert.equal(outcome.summary.invalid, 2);
		assert.match(
			outcome.failure ?? '',
			/^2 of 2 rows break Userpilot's rules; the file was not uploaded\. /,
		);
		assert.equal(transport.stats.requests, 0);
	});

	test('a start row past the last row leaves nothing to send', async () => {
		const { settings, transport } = setUp(userpilot);
		const source = sourceOf(`${IDENTIFY}\n`, 'a.ndjson');
		const outcome = await uploadFileAsJobs(
			source,
			fileOf(settings, 'ndjson', 5),
			settings,
			transport,
			{
				validateFirst: true,
				normalized: true,
				partLimit: 1_000_000,
				split: true,
				nameToken: token,
			},
		);
		assert.equal(outcome.summary.status, 'failed');
		assert.equal(outcome.failure, 'No row to send from row 5 on');
	});

	test('a batch platform is refused', async () => {
		const { settings, transport } = setUp(ayona);
		const source = sourceOf('{}\n', 'a.ndjson');
		await assert.rejects(
			uploadFileAsJobs(source, fileOf(settings, 'ndjson'), settings, transport, {
				validateFirst: true,
				normalized: true,
				partLimit: 10,
				split: true,
				nameToken: token,
			}),
			/needs a job platform/,
		);
	});
});

describe('core/delivery/fileBatches: a file sent in batches', () => {
	test('"stop on invalid": one pass checks every row, nothing is sent, the rejected rows are kept', async () => {
		const { settings, transport } = setUp(ayona);
		const source = sourceOf('nothing,useful\n1,2\n3,4\n', 'rows.csv');
		const outcome = await importFileRows(source, fileOf(settings, 'csv'), settings, transport, {
			stopOnInvalid: true,
			keepRejectedFile: true,
			continueOnFail: false,
		});
		assert.equal(outcome.summary.status, 'invalid');
		assert.equal(outcome.summary.rowsRead, 2);
		assert.equal(outcome.summary.accepted, 0);
		assert.match(outcome.fatal ?? '', /^2 rows are invalid; nothing was sent\. First: Row 1: /);
		const lines = outcome.rejectedFile?.toString().trim().split(/\r?\n/) ?? [];
		assert.equal(lines.length, 3, 'a header and the two rows');
		assert.match(lines[0], /^_row,_line,_reason,nothing,useful$/);
		assert.equal(transport.stats.requests, 0);
	});

	test('"skip invalid" with no valid row: nothing accepted is a failure, not a success', async () => {
		const { settings, transport } = setUp(ayona);
		const source = sourceOf('nothing,useful\n1,2\n', 'rows.csv');
		const outcome = await importFileRows(source, fileOf(settings, 'csv'), settings, transport, {
			stopOnInvalid: false,
			keepRejectedFile: false,
			continueOnFail: true,
		});
		assert.equal(outcome.summary.status, 'completedWithRejections');
		assert.equal(outcome.summary.invalid, 1);
		assert.equal(outcome.rejectedFile, undefined);
		assert.match(outcome.fatal ?? '', /^No row of 1 was accepted\. First: Row 1: /);
	});

	test('accepted batches are counted per batch: rows, warnings once each, possibly duplicated rows as ranges', async () => {
		const { settings } = setUp(rimdian, { batchSize: 2 });
		const batchSettings = {
			...settings,
			batchSize: 2,
			credentials: { ...settings.credentials, workspaceId: 'w' },
		};
		let sent = 0;
		// Rimdian answers "queued"; the second batch comes back as possibly duplicated (re-sent after a reset).
		const transport = {
			endpoints: { data: 'http://127.0.0.1:9' },
			stats: { requests: 0, retries: 0, retryReasons: {} },
			async request() {
				sent++;
				return {
					status: 200,
					body: 'queued',
					headers: {},
					retries: sent === 2 ? 1 : 0,
					possiblyDuplicated: sent === 2,
				};
			},
		} as unknown as PlatformTransport;
		const rows = [
			'external_id,is_authenticated,created_at,language',
			'u1,true,2024-01-01T00:00:00Z,en',
			'u2,true,2024-01-01T00:00:00Z,xx',
			'u3,true,2024-01-01T00:00:00Z,xx',
			'u4,true,2024-01-01T00:00:00Z,en',
			'u5,true,2024-01-01T00:00:00Z,en',
		];
		const outcome = await importFileRows(
			sourceOf(`${rows.join('\n')}\n`, 'users.csv'),
			fileOf(batchSettings, 'csv'),
			batchSettings,
			transport,
			{ stopOnInvalid: false, keepRejectedFile: false, continueOnFail: false },
		);
		assert.equal(sent, 3, JSON.stringify(outcome.summary));
		assert.equal(outcome.summary.status, 'completed');
		assert.equal(outcome.summary.rowsRead, 5);
		assert.equal(outcome.summary.accepted, 5);
		assert.equal(outcome.summary.possiblyDuplicated, 2);
		assert.deepEqual(outcome.summary.possiblyDuplicatedRows, [{ from: 3, to: 4 }]);
		const warnings = outcome.summary.warnings as Array<{
			warning: string;
			rows: number;
			firstRow: number;
		}>;
		assert.equal(warnings.length, 1, JSON.stringify(warnings));
		assert.equal(warnings[0].rows, 2);
		assert.equal(warnings[0].firstRow, 2);
		assert.equal(outcome.fatal, undefined);
	});

	test('a job platform is refused', async () => {
		const { settings, transport } = setUp(userpilot);
		await assert.rejects(
			importFileRows(sourceOf('a\n1\n', 'a.csv'), fileOf(settings, 'csv'), settings, transport, {
				stopOnInvalid: false,
				keepRejectedFile: false,
				continueOnFail: false,
			}),
			/needs a batch platform/,
		);
	});
});

describe('core/delivery/items: items, one result each', () => {
	test('items before the start are skipped; a record that cannot be built makes its item invalid', async () => {
		const { settings } = setUp(ayona);
		const input = await prepareItems(
			3,
			(index) => {
				if (index === 2) throw new Error('the expression failed');
				return {};
			},
			settings,
			2,
		);
		assert.deepEqual(input.results[0], {
			status: 'skipped',
			message: 'Skipped: before "Start at Item" 2',
		});
		assert.equal(input.results[2]?.status, 'invalid');
		assert.equal(
			input.results[2]?.status === 'invalid' && input.results[2].message,
			'Item 3: the expression failed',
		);
	});

	test('the invalid items listed: the first ten, and how many more', () => {
		const results: ItemResult[] = Array.from({ length: 12 }, (_, index) => ({
			status: 'invalid',
			errors: [],
			message: `Item ${index + 1}: bad`,
		}));
		const summary = invalidSummary([{ status: 'skipped', message: 's' }, ...results]);
		assert.equal(summary.message, '12 of 13 items are invalid; nothing was sent');
		assert.equal(summary.first, 1);
		assert.match(summary.description, /Item 10: bad\n…and 2 more invalid items\.\nFix them/);
		assert.doesNotMatch(summary.description, /Item 11/);
	});

	test('an item with no result was not sent; remarks are added to what each got', () => {
		const final = finalResults(
			[undefined, { status: 'accepted' } as ItemResult],
			[undefined, ['a remark']],
		);
		assert.deepEqual(final[0], {
			status: 'notSent',
			message: 'Not sent: the import stopped before this item',
		});
		assert.deepEqual((final[1] as { warnings?: string[] }).warnings, ['a remark']);
	});

	test('jobs that break down before any is sent: a PartsNotSentError saying why', async () => {
		const { settings, transport } = setUp(userpilot);
		const prepared = [{ index: 0, serialized: '{"user_id":"u1"}' }];
		const sending = deliverItems(
			transport,
			settings,
			prepared as never,
			{
				stopOnFailure: true,
				nameToken: () => {
					throw new Error('no token');
				},
			},
			() => undefined,
		);
		await assert.rejects(sending, (error: unknown) => {
			assert.ok(error instanceof PartsNotSentError);
			assert.equal((error.reason as Error).message, 'no token');
			assert.equal(error.message, 'no token');
			return true;
		});
	});
});
