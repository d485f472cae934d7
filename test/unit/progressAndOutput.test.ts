import assert from 'node:assert/strict';
import * as fs from 'node:fs';

import { ProgressReporter, progressIntervalMs, DEFAULT_PROGRESS_INTERVAL_MS } from '../../core/progress';
import { LISTED_PROBLEMS, ResultTally } from '../../core/resultTally';
import { Rejections } from '../../core/delivery/fileBatches';
import { RejectedRowsWriter } from '../../core/rows/rejectedFile';
import { textOf } from './rejectedText';

describe('progress reporter', () => {
	beforeEach(() => jest.useFakeTimers({ now: 0 }));
	afterEach(() => jest.useRealTimers());

	test('speaks at a steady pace, never per item, and once more at the end', () => {
		const lines: string[] = [];
		const stats = { requests: 0, retries: 0 };
		const progress = new ProgressReporter({
			label: 'Import Items',
			unit: 'items',
			total: 1000,
			intervalMs: 5000,
			stats,
			emit: (line) => lines.push(line),
		}).start();
		progress.read = 1000;
		for (let i = 0; i < 250; i++) progress.sent++;
		progress.accepted = 240;
		stats.requests = 3;
		stats.retries = 1;
		jest.advanceTimersByTime(4999);
		assert.equal(lines.length, 0, 'nothing before the interval');
		jest.advanceTimersByTime(1);
		assert.deepEqual(lines, [
			'Import Items: 1000 items read, 250/1000 sent, 240 accepted, 3 requests, 1 retried, 50.0 items/s, about 15s left',
		]);
		progress.sent = 1000;
		jest.advanceTimersByTime(5000);
		assert.equal(lines.length, 2);
		progress.finish();
		progress.finish();
		assert.equal(lines.length, 3, 'one final line, however often finish is called');
		assert.match(lines[2], /1000\/1000 sent, .* done in 10s$/);
		jest.advanceTimersByTime(60_000);
		assert.equal(lines.length, 3, 'no line after the end');
	});

	test('without a known total there is no time left, only the rate', () => {
		const lines: string[] = [];
		const progress = new ProgressReporter({
			label: 'Bulk File Import (users.csv)',
			unit: 'rows',
			intervalMs: 1000,
			stats: { requests: 1, retries: 0 },
			emit: (line) => lines.push(line),
		}).start();
		progress.read = 20;
		progress.sent = 10;
		jest.advanceTimersByTime(1000);
		assert.equal(lines[0], 'Bulk File Import (users.csv): 20 rows read, 10 sent, 0 accepted, 1 requests, 0 retried, 10.0 rows/s');
		progress.finish();
	});

	test("a job platform's upload: bytes uploaded and the job's status join the line once known", () => {
		const lines: string[] = [];
		const progress = new ProgressReporter({
			label: 'Bulk File Import (events.csv)',
			unit: 'rows',
			intervalMs: 1000,
			stats: { requests: 2, retries: 0 },
			emit: (line) => lines.push(line),
		}).start();
		progress.read = 3000;
		jest.advanceTimersByTime(1000);
		assert.doesNotMatch(lines[0], /uploaded|job/);
		progress.bytes = 1_250_000;
		progress.status = 'job 42 processing (poll 3)';
		jest.advanceTimersByTime(1000);
		assert.equal(lines[1], 'Bulk File Import (events.csv): 3000 rows read, 0 sent, 0 accepted, 2 requests, 0 retried, 0.0 rows/s, 1.3 MB uploaded, job 42 processing (poll 3)');
		progress.bytes = 999;
		progress.finish();
		assert.match(lines[2], /, 999 B uploaded, job 42 processing \(poll 3\), done in 2s$/);
	});

	test('the interval knob takes sane values only', () => {
		assert.equal(progressIntervalMs(undefined), DEFAULT_PROGRESS_INTERVAL_MS);
		assert.equal(progressIntervalMs('abc'), DEFAULT_PROGRESS_INTERVAL_MS);
		assert.equal(progressIntervalMs('5'), DEFAULT_PROGRESS_INTERVAL_MS);
		assert.equal(progressIntervalMs('500'), 500);
	});
});

describe('result tally ("One Summary Item")', () => {
	test('counts every item and lists the first problems in item order, saying how many are not listed', () => {
		const tally = new ResultTally();
		// Results arrive as batches end: later items first.
		for (let index = 99; index >= 0; index--) {
			if (index % 2 === 0) tally.add(index, { status: 'accepted', batch: 1, retries: 0 });
			else tally.add(index, { status: 'failed', message: `boom ${index}`, httpCode: 500 });
		}
		tally.add(100, { status: 'invalid', message: 'bad', errors: [{ field: 'email', reason: 'not an email' }] });
		tally.add(101, { status: 'skipped', message: 'before start' });
		assert.equal(tally.items, 102);
		assert.equal(tally.counts.accepted, 50);
		assert.equal(tally.counts.failed, 50);
		assert.equal(tally.counts.invalid, 1);
		assert.equal(tally.counts.skipped, 1);
		const { problems, problemItemsNotListed } = tally.problems();
		assert.equal(problems.length, LISTED_PROBLEMS);
		assert.deepEqual(problems[0], { item: 2, status: 'failed', reason: 'boom 1', httpCode: 500 });
		assert.deepEqual(problems.map((p) => p.item).slice(0, 3), [2, 4, 6]);
		assert.equal(problemItemsNotListed, 51 - LISTED_PROBLEMS);
		assert.equal(tally.firstFailed, 1);
		assert.equal(tally.firstNotIn, 1);
	});

	test('an invalid item lists each field at fault', () => {
		const tally = new ResultTally();
		tally.add(0, {
			status: 'invalid',
			message: 'two',
			errors: [
				{ field: 'a', reason: 'missing' },
				{ field: 'b', reason: 'not a date' },
			],
		});
		assert.deepEqual(tally.problems(), {
			problems: [
				{ item: 1, status: 'invalid', field: 'a', reason: 'missing' },
				{ item: 1, status: 'invalid', field: 'b', reason: 'not a date' },
			],
			problemItemsNotListed: 0,
		});
	});
});

describe('rejected-rows file', () => {
	test('is written as rows come, formulas escaped, and never held whole in memory', async () => {
		const rejections = new Rejections(true, ',');
		const cell = 'x'.repeat(1000);
		const rows = 60_000; // about 60 MB of CSV
		const before = process.memoryUsage().heapUsed;
		for (let row = 1; row <= rows; row++) {
			rejections.add(
				{ row, line: row + 1, errors: [], message: `Row ${row}: bad` },
				[row === 1 ? '=HYPERLINK("x")' : cell],
				['value'],
				true,
			);
		}
		const grown = process.memoryUsage().heapUsed - before;
		const file = rejections.file();
		assert.ok(file);
		assert.ok(file.size > 60_000_000, `the file holds every row (${file.size} bytes)`);
		assert.ok(grown < file.size / 3, `the heap grew ${grown} bytes for a ${file.size}-byte file`);
		const text = await textOf(file);
		const lines = text.split('\r\n');
		assert.equal(lines[0], '_row,_line,_reason,value');
		assert.equal(lines[1], `1,2,Row 1: bad,"'=HYPERLINK(""x"")"`);
		assert.equal(lines.length, rows + 2, 'header, every row, and the last line break');
	});

	test('nothing written, no file; a discarded file is gone', async () => {
		assert.equal(new RejectedRowsWriter().close(), undefined);
		const writer = new RejectedRowsWriter();
		writer.write('a\r\n');
		const file = writer.close();
		assert.ok(file);
		const stream = file.open() as fs.ReadStream;
		await new Promise((resolve) => stream.once('open', resolve));
		const where = String(stream.path);
		stream.destroy();
		await file.dispose();
		assert.equal(fs.existsSync(where), false);
	});
});
