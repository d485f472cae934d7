import assert from 'node:assert/strict';

import type { IExecuteFunctions } from 'n8n-workflow';

import { uploadToken } from '../../core/delivery/uploadName';

/** The parts of n8n's execute context that the token reads. */
function context(executionId: string | undefined, runIndex = 0, node = 'Bulk File Import') {
	return {
		getExecutionId: () => executionId,
		getWorkflow: () => ({ id: 'wf1', name: 'w', active: false }),
		getNode: () => ({ name: node }),
		evaluateExpression: (expression: string) => {
			assert.equal(expression, '{{ $runIndex }}');
			return runIndex;
		},
	} as unknown as IExecuteFunctions;
}

test('the same execution, node, run, item and input give the same upload name (a re-run finds it)', () => {
	const first = uploadToken(context('42'), 0, 'events.csv', 1000);
	const again = uploadToken(context('42'), 0, 'events.csv', 1000);
	assert.deepEqual(first, again);
	assert.equal(first.deterministic, true);
	assert.match(first.token, /^x42-[0-9a-f]{10}$/);
});

test('any other execution, run, item, node or input gives another name', () => {
	const base = uploadToken(context('42'), 0, 'events.csv', 1000).token;
	const others = [
		uploadToken(context('43'), 0, 'events.csv', 1000),
		uploadToken(context('42', 1), 0, 'events.csv', 1000),
		uploadToken(context('42'), 1, 'events.csv', 1000),
		uploadToken(context('42', 0, 'Other'), 0, 'events.csv', 1000),
		uploadToken(context('42'), 0, 'events.csv', 1001),
	].map((t) => t.token);
	assert.equal(new Set([base, ...others]).size, 6);
});

test('without an execution id, a random name that nothing is looked up by', () => {
	const a = uploadToken(context(undefined), 0, 'events.csv', 1000);
	const b = uploadToken(context(undefined), 0, 'events.csv', 1000);
	assert.equal(a.deterministic, false);
	assert.notEqual(a.token, b.token);
});
