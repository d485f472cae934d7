/**
 * Bulk File Import in a real n8n (binary data mode filesystem) against the sandbox.
 *   node --import tsx --test test/e2e/bulkFileImport.test.ts   (after npm run build)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { USERPILOT_KEY } from '../../sandbox/defaults';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/server';
import { createN8n, REPO_ROOT, type N8nInstance } from './harness';
import { findSecrets, loadExample, sandboxCredentials, sandboxGet, variant } from './setup';

let sandbox: Sandbox;
let n8n: N8nInstance;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulk-e2e-'));
const outputs: string[] = [];

const userpilotFile = loadExample('userpilot-file.json');
const rimdianFile = loadExample('rimdian-file.json');
const fixture = (name: string) => path.join(REPO_ROOT, 'test/fixtures', name);

function write(name: string, text: string): string {
	const file = path.join(dir, name);
	fs.writeFileSync(file, text);
	return file;
}

/** 40 track events, about 190 bytes a row, user ids track-000..039. */
const EVENTS_HEADER = 'event_type,event_name,source,user_id,inserted_at,metadata\n';
const eventsCsv = EVENTS_HEADER + Array.from({ length: 40 }, (_, i) =>
	`track,exported_report,backend-http,track-${String(i).padStart(3, '0')},2024-05-0${(i % 9) + 1} 10:00:00.123456,"{""plan"": ""pro"", ""seats"": ${i}}"\n`,
).join('');

const badRowsCsv =
	EVENTS_HEADER +
	'track,opened,backend-http,u-1,2024-05-01 10:00:00,{}\n' +
	'track,opened,backend-http,,2024-05-01 10:00:00,{}\n' +
	'track,opened,backend-http,u-3,yesterday,{}\n' +
	'identify_user,,backend-http,u-4,2024-05-01 10:00:00,not json\n';

/** The same rows as eventsCsv's first three, in files that "The File As It Is" cannot send unchanged. */
const asIsRows = eventsCsv.split('\n').slice(0, 4).join('\n') + '\n';
const semicolonCsv = asIsRows.replace(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/gm, ';');
const utf16Csv = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(asIsRows, 'utf16le')]);
const noSourceCsv = 'event_type,event_name,user_id,inserted_at\ntrack,opened,u-1,2024-05-01 10:00:00\ntrack,opened,u-2,2024-05-01 11:00:00\n';

function usersCsv(rows: number, bad: Set<number>): string {
	let text = 'external_id,is_authenticated,created_at,email\n';
	for (let i = 1; i <= rows; i++) {
		const date = bad.has(i) ? '31/12/2023' : `2024-02-${String((i % 28) + 1).padStart(2, '0')}T08:00:00Z`;
		text += `csv-user-${i},${i % 2 === 0 ? 'true' : 'false'},${date},u${i}@example.com\r\n`;
	}
	return text;
}

/** Two good users and one with a bad date whose email is a spreadsheet formula. */
const FORMULA_ROW_CSV =
	'external_id,is_authenticated,created_at,email\n' +
	'f-1,true,2024-02-01T08:00:00Z,f1@example.com\n' +
	'f-2,true,31/12/2023,"=HYPERLINK(""http://evil.test"",""open"")"\n' +
	'f-3,false,2024-02-03T08:00:00Z,f3@example.com\n';

/** The bytes of a binary that n8n (binary data mode filesystem) stored under its user folder. */
function storedBinary(binary: Record<string, unknown>): string {
	const name = path.basename(String(binary.id));
	const found = (fs.readdirSync(n8n.userFolder, { recursive: true }) as string[]).find((entry) => path.basename(entry) === name);
	assert.ok(found, `binary ${String(binary.id)} is stored under ${n8n.userFolder}`);
	return fs.readFileSync(path.join(n8n.userFolder, found), 'utf8');
}

const up = (id: string, file: string, options: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
	variant(userpilotFile, id, {
		'Read Export File': { fileSelector: file },
		'Bulk File Import': { ...extra, options: { waitForCompletion: true, pollIntervalSeconds: 0.2, ...options } },
	});

fs.writeFileSync(path.join(dir, 'utf16.csv'), utf16Csv);

const workflows = {
	csv: up('bulkSeedCsv', fixture('userpilot-sample.csv')),
	ndjson: up('bulkSeedNdjson', fixture('userpilot-sample.ndjson')),
	split: up('bulkSplit', write('events.csv', eventsCsv), { partSizeMb: 0.002, splitLargeFiles: true }, { userpilotUpload: 'asIs', validateFirst: true }),
	noSplit: up('bulkNoSplit', path.join(dir, 'events.csv'), { splitLargeFiles: false }, { userpilotUpload: 'asIs', validateFirst: false }),
	busyWait: up('bulkBusyWait', fixture('userpilot-sample.csv'), { whenJobRunning: 'wait', pollIntervalSeconds: 0.3 }),
	busyFail: up('bulkBusyFail', fixture('userpilot-sample.csv'), { whenJobRunning: 'fail' }),
	badRows: up('bulkBadRows', write('bad-rows.csv', badRowsCsv), {}, { userpilotUpload: 'asIs', validateFirst: true }),
	pendingRefresh: up('bulkPendingRefresh', fixture('userpilot-sample.csv'), { waitTimeoutMinutes: 0.05 }),
	asIsSemicolon: up('bulkAsIsSemicolon', write('semicolon.csv', semicolonCsv), { delimiter: ';' }, { userpilotUpload: 'asIs', validateFirst: true }),
	asIsUtf16: up('bulkAsIsUtf16', path.join(dir, 'utf16.csv'), {}, { userpilotUpload: 'asIs', validateFirst: true }),
	asIsNoSource: up('bulkAsIsNoSource', write('no-source.csv', noSourceCsv), {}, { userpilotUpload: 'asIs', validateFirst: true, defaultSource: 'backend-http-import' }),
	asIsPlain: up('bulkAsIsPlain', write('plain.csv', asIsRows), {}, { userpilotUpload: 'asIs', validateFirst: true }),
	formulaRow: variant(rimdianFile, 'bulkFormulaRow', {
		'Read Export File': { fileSelector: write('formula.csv', FORMULA_ROW_CSV) },
		'Bulk File Import': { options: { rejectedRowsFile: true } },
	}),
	// "Stop" set on purpose: a preview lists the invalid rows, never fails on them.
	validateOnlyRimdian: variant(rimdianFile, 'bulkValidateOnlyRimdian', {
		'Read Export File': { fileSelector: write('validate.csv', usersCsv(6, new Set([2, 5]))) },
		'Bulk File Import': { onInvalid: 'stop', options: { validateOnly: true, rejectedRowsFile: true } },
	}),
	validateOnlyUserpilot: up('bulkValidateOnlyUserpilot', path.join(dir, 'bad-rows.csv'), { validateOnly: true }),
	rimdian: variant(rimdianFile, 'bulkRimdianCsv', { 'Read Export File': { fileSelector: write('users.csv', usersCsv(3000, new Set([17, 2999]))) } }),
};

async function run(id: string) {
	const result = await n8n.execute(id);
	outputs.push(result.stdout + result.stderr);
	return result;
}

/** Starts a Userpilot job outside n8n, so that the next upload meets a 409. */
async function startBlockingJob(): Promise<void> {
	const form = new FormData();
	form.append('file', new Blob([fs.readFileSync(fixture('userpilot-sample.csv'))]), 'blocking.csv');
	const response = await fetch(`${sandbox.url}/v1/imports`, { method: 'POST', body: form, headers: { Authorization: `Token ${USERPILOT_KEY}` } });
	assert.equal(response.status, 200);
}

type UserpilotRecords = { jobs: Array<{ job_id: string; status: string; total_rows: number; filename: string }>; rows: { total: number; items: Array<Record<string, unknown>> } };

before(async () => {
	sandbox = await startSandbox({ jobStepMs: 50 });
	n8n = await createN8n();
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflows(Object.values(workflows));
});

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
	fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs a workflow that must import the 3-row file as one completed job; the sandbox's records. */
async function importsThreeRowsAsOneJob(id: string): Promise<UserpilotRecords> {
	await sandbox.reset();
	const result = await run(id);
	assert.equal(result.status, 'success', result.error?.message);
	const [summary] = result.nodeOutput('Bulk File Import');
	assert.equal(summary.status, 'completed');
	assert.equal(summary.totalRows, 3);
	const records = await sandboxGet<UserpilotRecords>(sandbox, '/__sandbox/records/userpilot');
	assert.equal(records.jobs.length, 1);
	return records;
}

test("Userpilot's sample CSV imports as a job that completes with total_rows 3", async () => {
	const records = await importsThreeRowsAsOneJob('bulkSeedCsv');
	assert.deepEqual([records.jobs[0].status, records.jobs[0].total_rows], ['completed', 3]);
	assert.deepEqual(records.rows.items.map((row) => row.user_id), ['User-7320-001', 'User-9491-002', 'User-6267-003']);
	// Sent as validated NDJSON: metadata is an object, microseconds kept, the source as given.
	assert.deepEqual(records.rows.items[2].metadata, { created_at: '1730810175', name: 'User-Bob', prop_0: 'value_17' });
	assert.equal(records.rows.items[2].inserted_at, '2024-05-05 14:36:15.453813');
});

test("Userpilot's sample NDJSON (without source) imports, the default source filled in", async () => {
	await sandbox.reset();
	const result = await run('bulkSeedNdjson');
	assert.equal(result.status, 'success', result.error?.message);
	assert.equal(result.nodeOutput('Bulk File Import')[0].totalRows, 2);
	const records = await sandboxGet<UserpilotRecords>(sandbox, '/__sandbox/records/userpilot');
	assert.deepEqual(records.rows.items.map((row) => row.source), ['backend-http-import', 'backend-http-import']);
});

test('a file over the limit is split at row boundaries into several jobs, every row exactly once', async () => {
	await sandbox.reset();
	sandbox.configure({ userpilotMaxFileBytes: 2500 });
	const result = await run('bulkSplit');
	assert.equal(result.status, 'success', result.error?.message);
	const [summary] = result.nodeOutput('Bulk File Import');
	// About 4.4 kB of rows in parts of at most 2 kB (the sandbox's limit is 2.5 kB).
	assert.ok((summary.parts as number) >= 3, `split into ${summary.parts} parts`);
	assert.equal(summary.totalRows, 40);
	const records = await sandboxGet<UserpilotRecords>(sandbox, '/__sandbox/records/userpilot?limit=1000');
	assert.equal(records.jobs.length, summary.parts);
	assert.ok(records.jobs.every((job) => job.status === 'completed'));
	const ids = records.rows.items.map((row) => row.user_id as string).sort();
	assert.deepEqual(ids, Array.from({ length: 40 }, (_, i) => `track-${String(i).padStart(3, '0')}`));
});

test('without the split option, the same file fails with a clear 413 error', async () => {
	await sandbox.reset();
	sandbox.configure({ userpilotMaxFileBytes: 2500 });
	const result = await run('bulkNoSplit');
	sandbox.configure({ userpilotMaxFileBytes: 1024 ** 3 });
	assert.equal(result.status, 'error');
	assert.match(result.nodeError('Bulk File Import')?.message ?? '', /Userpilot refused the file as too large \(413\)/);
	assert.equal(sandbox.stats().userpilot.rejected413, 1);
});

test('while a job runs, "fail at once" stops with the 409', async () => {
	await sandbox.reset();
	sandbox.configure({ userpilotHoldAt: 'processing' });
	await startBlockingJob();
	const result = await run('bulkBusyFail');
	sandbox.configure({ userpilotHoldAt: null });
	assert.equal(result.status, 'error');
	assert.match(result.nodeError('Bulk File Import')?.message ?? '', /because a job is in progress \(409\)/);
});

test('while a job runs, "wait" waits for it to end and then imports', async () => {
	await sandbox.reset();
	sandbox.configure({ userpilotHoldAt: 'processing' });
	await startBlockingJob();
	// The running job ends only once our upload has met its 409, however slow n8n starts.
	const release = setInterval(() => {
		if (sandbox.stats().userpilot.rejected409 >= 1) sandbox.configure({ userpilotHoldAt: null });
	}, 100);
	const result = await run('bulkBusyWait');
	clearInterval(release);
	sandbox.configure({ userpilotHoldAt: null });
	assert.equal(result.status, 'success', result.error?.message);
	assert.equal(result.nodeOutput('Bulk File Import')[0].status, 'completed');
	const records = await sandboxGet<UserpilotRecords>(sandbox, '/__sandbox/records/userpilot');
	assert.equal(records.jobs.length, 2, 'the blocking job and ours');
	assert.ok(sandbox.stats().userpilot.rejected409 >= 1, 'it met the 409 first');
});

/** The other readings of Userpilot's pages, each a sandbox switch, and what else each is seen by. */
const USERPILOT_READINGS: Array<[string, NonNullable<SandboxOptions['readings']>, (retries: number) => void]> = [
	['the documented job path only (links 404)', { userpilotJobPath: 'documented' }, () => undefined],
	['server-chosen job names', { userpilotServerFileNames: true }, () => undefined],
	['total_rows as a string', { userpilotTotalRowsAsString: true }, () => undefined],
	['409s from an export job the import list does not show', { userpilotExportConflicts: 2 }, (retries) => {
		assert.equal(sandbox.stats().userpilot.rejected409, 2);
		assert.ok(retries >= 2, `the waits show as retries (${retries})`);
	}],
	['401 after the body was read', { userpilot401AfterBody: 1 }, (retries) => {
		assert.equal(sandbox.stats().requestsByStatus['401'], 1);
		// a re-send from the stream the first attempt had read fails, and shows as a retry
		assert.equal(retries, 0, 'the one re-send after the 401 went out whole');
	}],
	['502 after the upload was processed', { processedThen502: { userpilot: 1 } }, (retries) => {
		assert.equal(sandbox.stats().readings.processedThen502, 1);
		assert.ok(retries >= 1, `the lost answer shows as a retry (${retries})`);
	}],
	['502 after processing, with a job name the service chose', { processedThen502: { userpilot: 1 }, userpilotServerFileNames: true }, () => {
		assert.equal(sandbox.stats().readings.processedThen502, 1);
	}],
];

for (const [reading, readings, seen] of USERPILOT_READINGS) {
	test(`Userpilot, under the reading "${reading}": the file lands exactly once and is reported landed`, async () => {
		await sandbox.reset();
		sandbox.configure({ readings });
		const result = await run('bulkSeedCsv');
		assert.equal(result.status, 'success', result.error?.message);
		const [summary] = result.nodeOutput('Bulk File Import');
		assert.equal(summary.status, 'completed');
		assert.equal(summary.totalRows, 3);
		assert.equal(summary.foundUploaded, undefined);
		const records = await sandboxGet<UserpilotRecords>(sandbox, '/__sandbox/records/userpilot');
		assert.equal(records.jobs.length, 1, 'one job: nothing was imported twice');
		assert.equal(records.rows.total, 3);
		seen(summary.retries as number);
	});
}

test('Userpilot, a job still pending_refresh when the wait runs out: reported landed (its rows are in), not failed', async () => {
	await sandbox.reset();
	sandbox.configure({ userpilotHoldAt: 'pending_refresh' });
	const result = await run('bulkPendingRefresh');
	sandbox.configure({ userpilotHoldAt: null });
	assert.equal(result.status, 'success', result.error?.message);
	const [summary] = result.nodeOutput('Bulk File Import');
	assert.equal(summary.status, 'pending_refresh');
	assert.equal(summary.totalRows, 3);
	assert.equal(sandbox.stats().userpilot.uploads, 1);
});

test('a file with bad rows is refused before upload, with row-level reasons', async () => {
	await sandbox.reset();
	const result = await run('bulkBadRows');
	assert.equal(result.status, 'error');
	const error = result.nodeError('Bulk File Import');
	assert.match(error?.message ?? '', /^3 of 4 rows break Userpilot's rules; the file was not uploaded/);
	assert.match(error?.message ?? '', /Row 2: field "user_id"/);
	assert.match(error?.message ?? '', /Row 3: field "inserted_at"/);
	assert.match(error?.message ?? '', /Row 4: field "metadata"/);
	assert.equal(sandbox.stats().userpilot.uploads, 0);
});

type UserpilotJobRecord = UserpilotRecords['jobs'][number] & { file_size: number; sha256: string | null };

/** A file "The File As It Is" must refuse: the error names what needs rewriting and the other mode. */
async function assertRefusedAsIs(id: string, reason: RegExp): Promise<void> {
	await sandbox.reset();
	const result = await run(id);
	assert.equal(result.status, 'error', 'refused, not uploaded');
	const message = result.nodeError('Bulk File Import')?.message ?? '';
	assert.match(message, /^The file was not uploaded: "The File As It Is" sends its bytes unchanged, and they are not what was checked/);
	assert.match(message, reason);
	assert.match(message, /Set "Send" to "Validated Rows as NDJSON"/);
	assert.equal(sandbox.stats().userpilot.uploads, 0, 'nothing reached Userpilot');
}

test('as it is: a ";"-delimited CSV is refused, naming the delimiter', async () => {
	await assertRefusedAsIs('bulkAsIsSemicolon', /its fields are separated by ";" .*where Userpilot's CSV is comma-separated/);
});

test('as it is: a UTF-16 CSV is refused, naming the encoding', async () => {
	await assertRefusedAsIs('bulkAsIsUtf16', /it is UTF-16 text, where Userpilot's import files are UTF-8/);
});

test('as it is: a CSV without source is refused when the Default Source would fill it in', async () => {
	await assertRefusedAsIs('bulkAsIsNoSource', /2 rows \(rows 1, 2\) have no source: the Default Source "backend-http-import" would be filled in/);
});

test('as it is: a compliant CSV is uploaded byte for byte, and its rows arrive as in the file', async () => {
	const records = await importsThreeRowsAsOneJob('bulkAsIsPlain');
	const job = records.jobs[0] as UserpilotJobRecord;
	assert.match(job.filename, /\.csv$/);
	assert.equal(job.file_size, Buffer.byteLength(asIsRows));
	assert.equal(job.sha256, createHash('sha256').update(asIsRows).digest('hex'), 'the bytes received are the file');
	assert.deepEqual(records.rows.items.map((row) => [row.user_id, row.source, row.inserted_at]), [
		['track-000', 'backend-http', '2024-05-01 10:00:00.123456'],
		['track-001', 'backend-http', '2024-05-02 10:00:00.123456'],
		['track-002', 'backend-http', '2024-05-03 10:00:00.123456'],
	]);
});

test('Rimdian: a 3,000-row CSV streams in batches; bad rows are skipped, reported and given back as a file', async () => {
	await sandbox.reset();
	const result = await run('bulkRimdianCsv');
	assert.equal(result.status, 'success', result.error?.message);
	const [item] = result.nodeItems('Bulk File Import');
	const summary = item.json;
	assert.equal(summary.rowsRead, 3000);
	assert.equal(summary.accepted, 2998);
	assert.equal(summary.invalid, 2);
	assert.equal(summary.requests, 30);
	const rejected = summary.rejected as Array<{ row: number; line: number; errors: Array<{ field: string }> }>;
	assert.deepEqual(rejected.map((r) => [r.row, r.line, r.errors[0].field]), [[17, 18, 'user.created_at'], [2999, 3000, 'user.created_at']]);
	assert.ok(item.binary?.rejected, 'the rejected rows come back as a CSV binary');
	assert.equal(sandbox.stats().rimdian.itemsStored, 2998);
	const stored = await sandboxGet<{ items: Array<{ item: { user: Record<string, unknown> } }> }>(sandbox, '/__sandbox/records/rimdian?limit=1');
	assert.equal(typeof stored.items[0].item.user.is_authenticated, 'boolean', 'CSV strings became the declared types');
});

test('the rejected-rows file escapes a cell a spreadsheet would run as a formula', async () => {
	await sandbox.reset();
	const result = await run('bulkFormulaRow');
	assert.equal(result.status, 'success', result.error?.message);
	const [item] = result.nodeItems('Bulk File Import');
	assert.equal(item.json.accepted, 2);
	assert.ok(item.binary?.rejected, 'the rejected rows come back as a CSV binary');
	const text = storedBinary(item.binary.rejected);
	assert.match(text, /,"'=HYPERLINK\(""http:\/\/evil\.test"",""open""\)"\r\n$/, text);
	assert.doesNotMatch(text, /,"=HYPERLINK/);
});

test('an import that failed half-way resumes from the row it names, and ends with every row in once', async () => {
	await sandbox.reset();
	const file = write('resume.csv', usersCsv(1000, new Set()));
	const options = { maxRetries: 0, concurrency: 1, batchSize: 100 };
	const first = variant(rimdianFile, 'bulkResumeFirst', { 'Read Export File': { fileSelector: file }, 'Bulk File Import': { options } });
	await n8n.importWorkflow(first);
	// Seeded faults with no retries: some batch fails for good, and the run stops there.
	sandbox.configure({ faults: { rate5xx: 0.25, seed: 9 } }); // seed 9: the 6th request is the first to fail
	const failed = await run('bulkResumeFirst');
	sandbox.configure({ faults: { rate5xx: 0 } });
	assert.equal(failed.status, 'error');
	const error = failed.nodeError('Bulk File Import');
	const resumeFrom = Number(/"Start at Row" set to (\d+)/.exec(error?.description ?? '')?.[1]);
	assert.ok(resumeFrom > 1 && resumeFrom <= 1000, `resume point named: ${error?.description}`);
	assert.equal((resumeFrom - 1) % 100, 0, 'resumes at the first row of the failed batch');
	assert.equal(sandbox.stats().rimdian.itemsStored, resumeFrom - 1, 'every row before it is in');

	const second = variant(first, 'bulkResumeSecond', { 'Bulk File Import': { options: { ...options, startAtRow: resumeFrom } } });
	await n8n.importWorkflow(second);
	const resumed = await run('bulkResumeSecond');
	assert.equal(resumed.status, 'success', resumed.error?.message);
	const [summary] = resumed.nodeOutput('Bulk File Import');
	assert.equal(summary.skippedBeforeStartRow, resumeFrom - 1);
	assert.equal(summary.accepted, 1000 - (resumeFrom - 1));
	const stats = sandbox.stats();
	assert.equal(stats.rimdian.itemsStored, 1000);
	assert.equal(stats.rimdian.duplicatesReceived, 0, 'nothing was sent twice');
});

test('Validate Only, Rimdian: the rows checked and listed as an import would, the first rows and a request body shown, nothing sent', async () => {
	await sandbox.reset();
	const result = await run('bulkValidateOnlyRimdian');
	assert.equal(result.status, 'success', result.error?.message);
	const [item] = result.nodeItems('Bulk File Import');
	const summary = item.json;
	assert.equal(summary.status, 'validated');
	assert.deepEqual([summary.rowsRead, summary.valid, summary.invalid], [6, 4, 2]);
	const rejected = summary.rejected as Array<{ row: number; line: number; errors: Array<{ field: string; reason: string }> }>;
	assert.deepEqual(rejected.map((r) => [r.row, r.line, r.errors[0].field]), [[2, 3, 'user.created_at'], [5, 6, 'user.created_at']]);
	const firstRows = summary.firstRowsAsSent as Array<{ user: Record<string, unknown> }>;
	assert.deepEqual(firstRows.map((row) => row.user.external_id), ['csv-user-1', 'csv-user-3', 'csv-user-4', 'csv-user-6']);
	assert.equal(firstRows[1].user.is_authenticated, false, 'CSV strings as the declared types, as they would be sent');
	const body = summary.requestBodyOfFirstRows as { workspace_id: string; items: unknown[] };
	assert.equal(body.workspace_id, 'sandbox_workspace');
	assert.equal(body.items.length, 4);
	assert.ok(item.binary?.rejected, 'the rejected rows come back as a CSV binary, as in an import');
	assert.deepEqual(sandbox.stats().requestsByStatus, {}, 'no request of any kind');
});

test('Validate Only, Userpilot: bad rows listed instead of refusing the file, the first lines as they would be uploaded, no upload', async () => {
	await sandbox.reset();
	const result = await run('bulkValidateOnlyUserpilot');
	assert.equal(result.status, 'success', result.error?.message);
	const summary = result.nodeOutput('Bulk File Import')[0];
	assert.equal(summary.status, 'validated');
	assert.deepEqual([summary.rowsRead, summary.valid, summary.invalid], [4, 1, 3]);
	const rejected = summary.rejected as Array<{ row: number; errors: Array<{ field: string }> }>;
	assert.deepEqual(rejected.map((r) => [r.row, r.errors[0].field]), [[2, 'user_id'], [3, 'inserted_at'], [4, 'metadata']]);
	assert.deepEqual((summary.firstRowsAsSent as Array<{ user_id: string }>).map((row) => row.user_id), ['u-1']);
	assert.equal(summary.requestBodyOfFirstRows, undefined);
	assert.deepEqual(sandbox.stats().requestsByStatus, {});
});

test('no secret in any output', () => {
	for (const text of outputs) assert.deepEqual(findSecrets(text), []);
	assert.deepEqual(findSecrets(n8n.logs()), []);
});
