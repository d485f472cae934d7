/**
 * Import Items in a real n8n (its own CLI) against the sandbox over HTTP on 127.0.0.1.
 *   node --import tsx --test test/e2e/importItems.test.ts   (after npm run build)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/server';
import { createN8n, type ExecutionResult, type N8nInstance } from './harness';
import { findSecrets, loadExample, sandboxCredentials, sandboxGet, variant } from './setup';

let sandbox: Sandbox;
let n8n: N8nInstance;
const results: ExecutionResult[] = [];

const rimdian = loadExample('rimdian-users.json');
const ayona = loadExample('ayona-feedback.json');
const userpilot = loadExample('userpilot-events.json');

/** Six records: two valid, four each broken in one way the user must be told about. */
const MIXED_USERS = `return [
  { json: { external_id: 'ok-1', is_authenticated: true, created_at: '2024-01-01T10:00:00Z' } },
  { json: { external_id: 'no-date', is_authenticated: true } },
  { json: { external_id: 'bad-date', is_authenticated: true, created_at: '03/04/2024' } },
  { json: { external_id: 'bad-type', is_authenticated: 'maybe', created_at: '2024-01-01T10:00:00Z' } },
  { json: { external_id: 'ok-2', is_authenticated: false, created_at: '2024-01-02 11:30:00' } },
  { json: { external_id: '{{user_id}}', is_authenticated: true, created_at: '2024-01-01T10:00:00Z' } },
];`;

/** Fifty valid users: five batches of ten. */
const FIFTY_USERS = `return Array.from({ length: 50 }, (_, i) => ({
  json: { external_id: 'paced-' + i, is_authenticated: true, created_at: '2024-01-01T10:00:00Z' },
}));`;

const workflows = {
	rimdian,
	ayona,
	userpilot,
	skip: variant(rimdian, 'e2eInvalidSkip', { 'Source Records': { jsCode: MIXED_USERS }, 'Import Items': { onInvalid: 'skip' } }),
	stop: variant(rimdian, 'e2eInvalidStop', { 'Source Records': { jsCode: MIXED_USERS }, 'Import Items': { onInvalid: 'stop' } }),
	errorOutput: withErrorOutput(variant(rimdian, 'e2eErrorOutput', { 'Source Records': { jsCode: MIXED_USERS }, 'Import Items': { onInvalid: 'skip' } })),
	faults: variant(rimdian, 'e2eFaults', { 'Import Items': { options: { maxRetries: 10, concurrency: 4 } } }),
	paced: variant(rimdian, 'e2ePaced', {
		'Source Records': { jsCode: FIFTY_USERS },
		'Import Items': { options: { maxRequestsPerMinute: 120, batchSize: 10, concurrency: 4 } },
	}),
	service: variant(rimdian, 'e2eServiceAccount', {}, 'sandboxRimdianService'),
	wrongKey: variant(rimdian, 'e2eWrongKey', {}, 'wrongRimdianKey'),
	// "Stop" and the error output set on purpose: a preview lists invalid items, never fails on them.
	validateOnly: withErrorOutput(variant(rimdian, 'e2eValidateOnly', {
		'Source Records': { jsCode: MIXED_USERS },
		'Import Items': { onInvalid: 'stop', options: { validateOnly: true, batchSize: 1 } },
	})),
	validateOnlyUserpilot: variant(userpilot, 'e2eValidateOnlyUserpilot', { 'Import Items': { options: { validateOnly: true } } }),
	userpilotPendingRefresh: variant(userpilot, 'e2eUserpilotPendingRefresh', {
		'Import Items': { options: { waitForCompletion: true, pollIntervalSeconds: 0.2, waitTimeoutMinutes: 0.05 } },
	}),
};

/** The workflow with Import Items set to "On Error: Continue (using error output)". */
function withErrorOutput(workflow: ReturnType<typeof variant>): ReturnType<typeof variant> {
	const node = workflow.nodes.find((n) => n.name === 'Import Items') as Record<string, unknown>;
	node.onError = 'continueErrorOutput';
	return workflow;
}

async function run(id: string): Promise<ExecutionResult> {
	const result = await n8n.execute(id);
	results.push(result);
	return result;
}

before(async () => {
	sandbox = await startSandbox({ jobStepMs: 50 });
	n8n = await createN8n();
	await n8n.importCredentials([
		...sandboxCredentials(sandbox),
		{
			id: 'wrongRimdianKey',
			name: 'wrong key',
			type: 'dataImportApi',
			data: { platform: 'rimdian', rimdianAuthentication: 'accessToken', rimdianRegion: 'custom', baseUrl: sandbox.url, apiKey: 'wrong-key-e2e-7f3a9c', workspaceId: 'sandbox_workspace' },
		},
	]);
	await n8n.importWorkflows(Object.values(workflows));
});

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
});

test('Rimdian: 2,000 generated users arrive exactly once, in 20 requests, with their content', async () => {
	await sandbox.reset();
	const result = await run(rimdian.id as string);
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items');
	assert.equal(output.length, 2000);
	assert.ok(output.every((item) => item.status === 'accepted'));
	assert.equal(output[1999].key, 'user:crm-user-02000');
	const stats = sandbox.stats();
	assert.equal(stats.rimdian.requests, 20);
	assert.equal(stats.rimdian.itemsReceived, 2000);
	assert.equal(stats.rimdian.itemsStored, 2000);
	assert.equal(stats.rimdian.duplicatesReceived, 0);
	// Looked up by id: with 4 batches in flight, arrival order is not the items' order.
	const record = [...sandbox.state.rimdian.records.values()].find((r) => JSON.parse(r.raw).user?.external_id === 'crm-user-00042');
	assert.ok(record, 'crm-user-00042 is stored');
	const stored = { received: record.received, item: JSON.parse(record.raw) };
	assert.equal(stored.received, 1);
	assert.equal(stored.item.kind, 'user');
	assert.equal(stored.item.user.external_id, 'crm-user-00042');
	assert.equal(stored.item.user.email, 'user42@example.com');
	assert.equal(stored.item.user.is_authenticated, true);
});

test('Ayona: ISO 8601 dates are sent as YYYY-MM-DD HH:mm:ss', async () => {
	await sandbox.reset();
	const result = await run(ayona.id as string);
	assert.equal(result.status, 'success', result.error?.message);
	assert.deepEqual(result.nodeOutput('Import Items').map((item) => item.status), ['accepted', 'accepted', 'accepted']);
	const records = await sandboxGet<{ entries: Array<{ date: string; name: string }> }>(sandbox, '/__sandbox/records/ayona');
	assert.deepEqual(
		records.entries.map((entry) => [entry.name, entry.date]),
		[
			['User 1', '2024-03-08 00:29:00'],
			['User 2', '2024-03-08 07:15:30'],
			['User 3', '2024-03-09 12:00:00'],
		],
	);
});

test('Ayona, a batch answered 502 after it was stored: re-sent, and each of its items flagged possibly duplicated (Ayona has no key to look it up by)', async () => {
	await sandbox.reset();
	sandbox.configure({ readings: { processedThen502: { ayona: 1 } } });
	const result = await run(ayona.id as string);
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items');
	assert.deepEqual(output.map((item) => [item.status, item.possiblyDuplicated, item.safeToResend]), [
		['accepted', true, false],
		['accepted', true, false],
		['accepted', true, false],
	]);
	const records = await sandboxGet<{ entries: Array<{ name: string }> }>(sandbox, '/__sandbox/records/ayona');
	assert.deepEqual(records.entries.map((entry) => entry.name), ['User 1', 'User 2', 'User 3', 'User 1', 'User 2', 'User 3'], 'the 502 came after the batch was stored: it is there twice, as flagged');
});

test('Userpilot: the items go as one import job that completes with total_rows equal to the items sent', async () => {
	await sandbox.reset();
	const result = await run(userpilot.id as string);
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items');
	assert.equal(output.length, 3);
	assert.ok(output.every((item) => item.status === 'accepted'));
	const jobId = output[0].jobId as string;
	assert.ok(output.every((item) => item.jobId === jobId));
	const records = await sandboxGet<{ jobs: Array<{ job_id: string; status: string; total_rows: number }>; rows: { total: number } }>(sandbox, '/__sandbox/records/userpilot');
	assert.equal(records.jobs.length, 1);
	assert.equal(records.jobs[0].job_id, jobId);
	assert.equal(records.jobs[0].status, 'completed');
	assert.equal(records.jobs[0].total_rows, 3);
});

type UserpilotRecords = { jobs: Array<{ job_id: string; status: string }>; rows: { total: number } };

/** The other readings of Userpilot's pages, each a sandbox switch. */
const USERPILOT_READINGS: Array<[string, NonNullable<SandboxOptions['readings']>]> = [
	['the documented job path only (links 404)', { userpilotJobPath: 'documented' }],
	['server-chosen job names', { userpilotServerFileNames: true }],
	['total_rows as a string', { userpilotTotalRowsAsString: true }],
	['409s from an export job the import list does not show', { userpilotExportConflicts: 2 }],
	['401 after the body was read', { userpilot401AfterBody: 1 }],
	['502 after the upload was processed, with a job name the service chose', { processedThen502: { userpilot: 1 }, userpilotServerFileNames: true }],
];

for (const [reading, readings] of USERPILOT_READINGS) {
	test(`Userpilot, under the reading "${reading}": the items land as one job, each reported accepted`, async () => {
		await sandbox.reset();
		sandbox.configure({ readings });
		const result = await run(userpilot.id as string);
		assert.equal(result.status, 'success', result.error?.message);
		const output = result.nodeOutput('Import Items');
		assert.equal(output.length, 3);
		assert.deepEqual(output.map((item) => item.status), ['accepted', 'accepted', 'accepted']);
		assert.ok(output.every((item) => item.possiblyDuplicated === undefined && item.possiblyDelivered === undefined));
		const records = await sandboxGet<UserpilotRecords>(sandbox, '/__sandbox/records/userpilot');
		assert.equal(records.jobs.length, 1, 'one job: nothing was imported twice');
		assert.equal(records.jobs[0].job_id, output[0].jobId);
		assert.equal(records.rows.total, 3);
		if (readings.userpilotExportConflicts) assert.ok((output[0].retries as number) >= 2, 'the 409 waits show as retries');
	});
}

test('Userpilot, a job still pending_refresh when the wait runs out: its items are reported accepted, not failed', async () => {
	await sandbox.reset();
	sandbox.configure({ userpilotHoldAt: 'pending_refresh' });
	const result = await run('e2eUserpilotPendingRefresh');
	sandbox.configure({ userpilotHoldAt: null });
	assert.equal(result.status, 'success', result.error?.message);
	assert.deepEqual(result.nodeOutput('Import Items').map((item) => item.status), ['accepted', 'accepted', 'accepted']);
	assert.equal(sandbox.stats().userpilot.uploads, 1);
});

test('invalid items, skipped: each reported with item number, field and reason; the valid ones still go', async () => {
	await sandbox.reset();
	const result = await run(workflows.skip.id as string);
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items');
	assert.deepEqual(output.map((item) => item.status), ['accepted', 'invalid', 'invalid', 'invalid', 'accepted', 'invalid']);
	const fieldsOf = (index: number) => (output[index].errors as Array<{ field: string }>).map((error) => error.field);
	assert.deepEqual(fieldsOf(1), ['user.created_at']);
	assert.deepEqual(fieldsOf(2), ['user.created_at']);
	assert.deepEqual(fieldsOf(3), ['user.is_authenticated']);
	assert.deepEqual(fieldsOf(5), ['user.external_id']);
	assert.match(output[1].message as string, /^Item 2: field "user\.created_at": .*required/);
	assert.match(output[2].message as string, /^Item 3: .*ambiguous/);
	assert.match(output[3].message as string, /^Item 4: field "user\.is_authenticated": expected true or false/);
	assert.match(output[5].message as string, /^Item 6: field "user\.external_id": .*unresolved template/);
	const stats = sandbox.stats();
	assert.equal(stats.rimdian.itemsStored, 2);
	const stored = await sandboxGet<{ items: Array<{ item: Record<string, any> }> }>(sandbox, '/__sandbox/records/rimdian');
	assert.deepEqual(stored.items.map((entry) => entry.item.user.external_id).sort(), ['ok-1', 'ok-2']);
	// A zone-less date was read in UTC and written as RFC 3339.
	assert.equal(stored.items.find((entry) => entry.item.user.external_id === 'ok-2')?.item.user.created_at, '2024-01-02T11:30:00Z');
});

test('On Error "Continue (using error output)": accepted items leave by the success output, invalid ones by the error output with item, field and reason', async () => {
	await sandbox.reset();
	const result = await run(workflows.errorOutput.id as string);
	assert.equal(result.status, 'success', result.error?.message);
	const accepted = result.nodeOutput('Import Items', 0);
	const failed = result.nodeOutput('Import Items', 1);
	assert.deepEqual(accepted.map((item) => item.status), ['accepted', 'accepted']);
	assert.ok(accepted.every((item) => item.error === undefined));
	// n8n replaces an error-output item's json with its error's message; the rest of the result
	// (status, each field's error) is in the error's description.
	const routed = result.nodeItems('Import Items', 1);
	assert.deepEqual(failed.map((item) => Object.keys(item)), [['error'], ['error'], ['error'], ['error']]);
	assert.match(failed[0].error as string, /^Item 2: field "user\.created_at"/);
	assert.match(failed[3].error as string, /^Item 6: field "user\.external_id"/);
	const details = routed.map((item) => JSON.parse(String((item.error as { description?: string } | undefined)?.description)));
	assert.deepEqual(details.map((d) => d.status), ['invalid', 'invalid', 'invalid', 'invalid']);
	assert.deepEqual(details[2].errors.map((e: { field: string }) => e.field), ['user.is_authenticated']);
	assert.deepEqual(routed.map((item) => (item.pairedItem as { item: number }).item), [1, 2, 3, 5]);
	assert.equal(sandbox.stats().rimdian.itemsStored, 2);
});

test('invalid items, stop: the execution fails listing every item at fault, and nothing is sent', async () => {
	await sandbox.reset();
	const result = await run(workflows.stop.id as string);
	assert.equal(result.status, 'error');
	const error = result.nodeError('Import Items');
	assert.ok(error, 'the node reports an error');
	assert.match(error.message, /4 of 6 items are invalid; nothing was sent/);
	for (const item of ['Item 2', 'Item 3', 'Item 4', 'Item 6']) assert.match(error.description ?? '', new RegExp(item));
	assert.equal(sandbox.stats().rimdian.requests, 0);
});

test('Validate Only: valid and invalid items reported with field and reason, each batch\'s request body shown, and the sandbox receives nothing', async () => {
	await sandbox.reset();
	const result = await run(workflows.validateOnly.id as string);
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items', 0);
	assert.deepEqual(output.map((item) => item.status), ['valid', 'invalid', 'invalid', 'invalid', 'valid', 'invalid']);
	assert.ok(output.every((item) => item.error === undefined), 'invalid items are results, not errors');
	assert.deepEqual((output[3].errors as Array<{ field: string }>).map((error) => error.field), ['user.is_authenticated']);
	assert.match(output[5].message as string, /^Item 6: field "user\.external_id"/);
	// Batch Size 1: each valid item is a batch, and carries the body its request would have.
	const bodyOf = (index: number) => output[index].requestBody as { workspace_id: string; items: Array<{ user: Record<string, unknown> }> };
	assert.deepEqual([output[0].batch, output[4].batch], [1, 2]);
	assert.equal(bodyOf(0).workspace_id, 'sandbox_workspace');
	assert.deepEqual(bodyOf(0).items.map((item) => item.user.external_id), ['ok-1']);
	assert.equal(bodyOf(4).items[0].user.created_at, '2024-01-02T11:30:00Z');
	assert.deepEqual(sandbox.stats().requestsByStatus, {}, 'no request of any kind, not even a token');
});

test('Validate Only, Userpilot: the first item shows the first lines of the file that would be uploaded; no job is made', async () => {
	await sandbox.reset();
	const result = await run(workflows.validateOnlyUserpilot.id as string);
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items');
	assert.deepEqual(output.map((item) => item.status), ['valid', 'valid', 'valid']);
	const lines = output[0].firstLinesOfFile as Array<{ user_id: string }>;
	assert.equal(lines.length, 3);
	assert.ok(lines.every((line) => typeof line.user_id === 'string'));
	assert.equal(output[1].firstLinesOfFile, undefined);
	assert.deepEqual(sandbox.stats().requestsByStatus, {});
	const records = await sandboxGet<UserpilotRecords>(sandbox, '/__sandbox/records/userpilot');
	assert.equal(records.jobs.length, 0);
});

test('with 20% of requests failing (5xx, 429, resets) every item still arrives, and the output counts the retries', async () => {
	await sandbox.reset();
	sandbox.configure({ faults: { rate5xx: 0.1, rate429: 0.05, retryAfterSeconds: 1, rateReset: 0.05, seed: 42 } });
	const result = await run(workflows.faults.id as string);
	sandbox.configure({ faults: { rate5xx: 0, rate429: 0, rateReset: 0 } });
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items');
	assert.equal(output.length, 2000);
	assert.ok(output.every((item) => item.status === 'accepted'));
	const stats = sandbox.stats();
	const injected = stats.faults['5xx'] + stats.faults['429'] + stats.faults.reset;
	assert.ok(injected > 0, 'faults were injected');
	const retries = new Map<number, number>();
	for (const item of output) retries.set(item.batch as number, item.retries as number);
	const totalRetries = [...retries.values()].reduce((sum, n) => sum + n, 0);
	assert.equal(totalRetries, injected, 'each injected fault cost exactly one visible retry');
	assert.equal(stats.rimdian.itemsStored, 2000, 'nothing lost');
	// A reset before processing cannot duplicate; Rimdian's own de-duplication would absorb it anyway.
	assert.equal(stats.rimdian.itemsReceived - stats.rimdian.duplicatesReceived, 2000);
});

test('Max Requests per Minute 120: the batches arrive about half a second apart, though 4 may be in flight, and every item arrives', async () => {
	await sandbox.reset();
	const result = await run('e2ePaced');
	assert.equal(result.status, 'success', result.error?.message);
	assert.ok(result.nodeOutput('Import Items').every((item) => item.status === 'accepted'));
	assert.equal(sandbox.stats().rimdian.requests, 5);
	assert.equal(sandbox.stats().rimdian.itemsStored, 50);
	// The items of one batch are stored at the same instant: one arrival time per request.
	const arrivals = [...new Set([...sandbox.state.rimdian.records.values()].map((r) => r.first_received_at))].sort((a, b) => a - b);
	assert.equal(arrivals.length, 5, `one arrival time per batch: ${arrivals}`);
	// Sent at least 500 ms apart (the pacer's unit tests check the spacing exactly). An arrival is
	// its sending time plus a delay on the way that a loaded machine can stretch for one request
	// and not the next, so any two batches j after i must be at least (j - i) × 500 ms apart, less
	// one such delay; unpaced, 4 in flight, all five would arrive within a few milliseconds.
	const jitterMs = 350;
	for (let i = 0; i < arrivals.length; i++) {
		for (let j = i + 1; j < arrivals.length; j++) {
			const gap = arrivals[j] - arrivals[i];
			assert.ok(gap >= (j - i) * 500 - jitterMs, `batch ${j + 1} arrived ${gap} ms after batch ${i + 1}: ${arrivals.map((t) => t - arrivals[0])}`);
		}
	}
});

test('Rimdian service account: logs in, and renews the token when it expires', async () => {
	await sandbox.reset();
	sandbox.configure({ tokenTtlSeconds: 1 });
	const tokensBefore = sandbox.state.rimdian.tokens.size;
	const first = await run(workflows.service.id as string);
	assert.equal(first.status, 'success', first.error?.message);
	await new Promise((resolve) => setTimeout(resolve, 1500));
	// The stored token has expired: the 401 makes n8n log in again (preAuthentication) and retry.
	const second = await run(workflows.service.id as string);
	sandbox.configure({ tokenTtlSeconds: 8 * 3600 });
	assert.equal(second.status, 'success', second.error?.message);
	assert.ok(sandbox.state.rimdian.tokens.size - tokensBefore >= 2, 'a second token was issued');
	assert.ok(second.nodeOutput('Import Items').every((item) => item.status === 'accepted'));
	assert.ok((sandbox.stats().requestsByStatus['401'] ?? 0) >= 1, 'the expired token was refused once');
});

test('a wrong key fails with a clear message that does not contain the key', async () => {
	await sandbox.reset();
	const result = await run(workflows.wrongKey.id as string);
	assert.equal(result.status, 'error');
	const error = result.nodeError('Import Items');
	assert.match(error?.message ?? '', /Rimdian refused the access token \(401\)/);
	assert.ok(!result.stdout.includes('wrong-key-e2e-7f3a9c') && !result.stderr.includes('wrong-key-e2e-7f3a9c'));
});

test('no secret appears in any output, error or log line of these runs', () => {
	assert.ok(results.length >= 8);
	for (const result of results) {
		assert.deepEqual(findSecrets(result.stdout + result.stderr), [], 'execution output');
	}
	assert.deepEqual(findSecrets(n8n.logs()), [], 'n8n logs');
	assert.ok(!n8n.logs().includes('wrong-key-e2e-7f3a9c'));
});
