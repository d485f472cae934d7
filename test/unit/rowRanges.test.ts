import assert from 'node:assert/strict';

import { RowRanges } from '../../core/rows/rowRanges';

test('row ranges: consecutive rows make one range; batches reported out of order are sorted and merged', () => {
	const rows = new RowRanges();
	// Batch 3 (rows 201-300, row 250 invalid so never reported) ends before batch 1 and batch 2.
	for (let row = 201; row <= 300; row++) if (row !== 250) rows.add(row);
	for (let row = 1; row <= 100; row++) rows.add(row);
	for (let row = 101; row <= 200; row++) rows.add(row);
	rows.add(500);
	assert.equal(rows.count, 300);
	assert.deepEqual(rows.list(10), {
		ranges: [
			{ from: 1, to: 249 },
			{ from: 251, to: 300 },
			{ from: 500, to: 500 },
		],
		more: 0,
	});
	assert.deepEqual(rows.list(2), {
		ranges: [
			{ from: 1, to: 249 },
			{ from: 251, to: 300 },
		],
		more: 1,
	});
});

test('row ranges: none added lists none', () => {
	assert.deepEqual(new RowRanges().list(5), { ranges: [], more: 0 });
});
