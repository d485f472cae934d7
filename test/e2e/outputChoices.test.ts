/**
 * Issue #14 items 3, 4, 6 and 7 in a real n8n against the sandbox: the "Output" choices of Import
 * Items, progress lines in n8n's log, dates without a timezone read in the workflow's timezone,
 * and a rejected-rows file of many rows streamed to n8n's binary store (filesystem and default).
 *   node --import tsx --test test/e2e/outputChoices.test.ts   (after npm run build)
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, type ExecutionResult, type N8nInstance } from './harness';
import { findSecrets, loadExample, sandboxCredentials, sandboxGet, variant } from './setup';

let sandbox: Sandbox;
let n8n: N8nInstance;
const outputs: string[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'output-e2e-'));

const rimdian = loadExample('rimdian-users.json');
const ayona = loadExample('ayona-feedback.json');
const rimdianFile = loadExample('rimdian-file.json');
const userpilotFile = loadExample('userpilot-file.json');

/** 3,000 Userpilot track events: several parts under 0.2 MB, each a job. */
const UPLOAD_ROWS = 3000;
const eventsFile = path.join(dir, 'events-progress.csv');
fs.writeFileSync(
	eventsFile,
	'event_type,event_name,source,user_id,inserted_at,metadata\n' +
		Array.from({ length: UPLOAD_ROWS }, (_, i) => `track,exported_report,backend-http,p-${String(i).padStart(5, '0')},2024-05-01 10:00:00,"{""seats"": ${i}}"\n`).join(''),
);

/** Six records: two valid, four each broken in one way. */
const MIXED_USERS = `return [
  { json: { external_id: 'ok-1', is_authenticated: true, created_at: '2024-01-01T10:00:00Z', crm: { id: 1 } } },
  { json: { external_id: 'no-date', is_authenticated: true, crm: { id: 2 } } },
  { json: { external_id: 'bad-date', is_authenticated: true, created_at: '03/04/2024', crm: { id: 3 } } },
  { json: { external_id: 'bad-type', is_authenticated: 'maybe', created_at: '2024-01-01T10:00:00Z', crm: { id: 4 } } },
  { json: { external_id: 'ok-2', is_authenticated: false, created_at: '2024-01-02 11:30:00', crm: { id: 5 } } },
  { json: { external_id: '{{user_id}}', is_authenticated: true, created_at: '2024-01-01T10:00:00Z', crm: { id: 6 } } },
];`;

/** 40 users, the 30 odd-numbered from the 11th on with a date no platform reads. */
const FORTY_USERS = `return Array.from({ length: 40 }, (_, i) => ({
  json: { external_id: 's-' + i, is_authenticated: true, created_at: i >= 10 && i % 2 === 1 ? 'never' : '2024-01-01T10:00:00Z' },
}));`;

/** 20,000 rows: every one rejected (a bad date) but the first, each with a formula in a cell. */
const MANY_REJECTS = 20_000;
function manyRejectsCsv(): string {
	const lines = ['external_id,is_authenticated,created_at,email'];
	lines.push('r-1,true,2024-02-01T08:00:00Z,r1@example.com');
	for (let i = 2; i <= MANY_REJECTS; i++) lines.push(`r-${i},true,31/12/2023,=cmd|' /C calc'!A${i}`);
	return lines.join('\n') + '\n';
}
const rejectsFile = path.join(dir, 'many-rejects.csv');
fs.writeFileSync(rejectsFile, manyRejectsCsv());

type Workflow = ReturnType<typeof variant>;
type Connections = Record<string, { main: Array<Array<{ node: string; type: string; index: number }>> }>;
const TRIGGER = 'When clicking ‘Execute workflow’';

/**
 * One workflow made of several (each trigger -> source -> Import Items), each part's nodes named
 * "<part>: <node>", all started by one manual trigger: one n8n run checks them all, part by part
 * (n8n's v1 order runs a branch to its end before the next, top to bottom).
 */
function combine(id: string, parts: Record<string, Workflow>, timezone?: string): Workflow {
	const nodes: Workflow['nodes'] = [];
	const connections: Connections = { [TRIGGER]: { main: [[]] } };
	const first = Object.values(parts)[0];
	Object.entries(parts).forEach(([part, workflow], row) => {
		const rename = (name: string) => (name === TRIGGER ? TRIGGER : `${part}: ${name}`);
		for (const node of workflow.nodes) {
			if (node.name === TRIGGER) {
				if (row === 0) nodes.push(node);
				continue;
			}
			const { position, id: nodeId } = node as unknown as { position: number[]; id: string };
			const copy = { ...node, name: rename(node.name), id: `${id}-${row}-${nodeId}`, position: [position[0], row * 300] };
			nodes.push(copy as Workflow['nodes'][number]);
		}
		for (const [from, outputs] of Object.entries(workflow.connections as Connections)) {
			const main = outputs.main.map((links) => links.map((link) => ({ ...link, node: rename(link.node) })));
			if (from === TRIGGER) connections[TRIGGER].main[0].push(...main[0]);
			else connections[rename(from)] = { main };
		}
	});
	const settings = { ...((first.settings as object | undefined) ?? {}), ...(timezone ? { timezone } : {}) };
	return { ...first, id, name: id, nodes, connections, settings };
}

const workflows = {
	choices: combine('outChoices', {
		'With Input': variant(rimdian, 'a', {
			'Source Records': { jsCode: MIXED_USERS },
			'Import Items': { onInvalid: 'skip', options: { output: 'withInput' } },
		}),
		Summary: variant(rimdian, 'b', {
			'Source Records': { jsCode: FORTY_USERS },
			'Import Items': { onInvalid: 'skip', options: { output: 'summary', batchSize: 10 } },
		}),
		Preview: variant(rimdian, 'c', {
			'Source Records': { jsCode: MIXED_USERS },
			'Import Items': { onInvalid: 'stop', options: { output: 'summary', validateOnly: true } },
		}),
	}),
	progress: combine('outProgress', {
		// 2,000 users in 20 requests at 600 a minute: about 2 s, over several 500 ms intervals.
		Rimdian: variant(rimdian, 'a', {
			'Import Items': { options: { maxRequestsPerMinute: 600, output: 'summary' } },
		}),
		// Several parts, each a job the node waits for, polled every half second.
		Userpilot: variant(userpilotFile, 'b', {
			'Read Export File': { fileSelector: eventsFile },
			'Bulk File Import': { options: { waitForCompletion: true, pollIntervalSeconds: 0.5, partSizeMb: 0.2 } },
		}),
	}),
	timezones: combine(
		'outTimezones',
		{
			'Ayona Empty': variant(ayona, 'a', { 'Import Items': { options: {} } }),
			// An existing workflow that set UTC keeps it, whatever the workflow's timezone.
			'Ayona UTC': variant(ayona, 'b', {}),
			Rimdian: variant(rimdian, 'c', {
				'Source Records': { jsCode: `return [{ json: { external_id: 'tz-1', is_authenticated: true, created_at: '2024-01-02 11:30:00' } }];` },
			}),
		},
		'Asia/Tokyo',
	),
	manyRejects: variant(rimdianFile, 'outManyRejects', {
		'Read Export File': { fileSelector: rejectsFile },
		'Bulk File Import': { options: { rejectedRowsFile: true } },
	}),
};

/** One run of each combined workflow, shared by the tests that read its parts. */
const runs = new Map<string, Promise<ExecutionResult>>();
function runOnce(id: string): Promise<ExecutionResult> {
	if (!runs.has(id)) runs.set(id, run(id));
	return runs.get(id) as Promise<ExecutionResult>;
}

async function run(id: string, env?: Record<string, string>): Promise<ExecutionResult> {
	const result = await n8n.execute(id, env ? { env } : undefined);
	outputs.push(result.stdout + result.stderr);
	return result;
}

before(async () => {
	sandbox = await startSandbox({ jobStepMs: 50 });
	n8n = await createN8n({ env: { DATA_IMPORT_PROGRESS_INTERVAL_MS: '500' } });
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflows(Object.values(workflows));
});

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
	fs.rmSync(dir, { recursive: true, force: true });
});

/** The combined workflow of the three output choices, run once on a fresh sandbox. */
async function choicesRun(): Promise<ExecutionResult> {
	if (!runs.has('outChoices')) await sandbox.reset();
	const result = await runOnce('outChoices');
	assert.equal(result.status, 'success', result.error?.message);
	return result;
}

test('Include Input Fields: each input item comes out whole, its result under "importResult"', async () => {
	const result = await choicesRun();
	const output = result.nodeOutput('With Input: Import Items');
	assert.equal(output.length, 6);
	assert.deepEqual(output.map((item) => (item.crm as { id: number }).id), [1, 2, 3, 4, 5, 6]);
	assert.deepEqual(output.map((item) => item.external_id), ['ok-1', 'no-date', 'bad-date', 'bad-type', 'ok-2', '{{user_id}}']);
	const statuses = output.map((item) => (item.importResult as { status: string }).status);
	assert.deepEqual(statuses, ['accepted', 'invalid', 'invalid', 'invalid', 'accepted', 'invalid']);
	const invalid = output[2].importResult as { errors: Array<{ field: string }>; platform: string };
	assert.equal(invalid.platform, 'rimdian');
	assert.ok(invalid.errors.some((error) => /created_at/.test(error.field)), JSON.stringify(invalid));
});

test('One Summary Item: one item that counts all 40, lists the first problems by item and says how many are not listed', async () => {
	const result = await choicesRun();
	const output = result.nodeOutput('Summary: Import Items');
	assert.equal(output.length, 1);
	const summary = output[0] as Record<string, unknown>;
	assert.equal(summary.status, 'completedWithProblems');
	assert.equal(summary.items, 40);
	assert.equal(summary.accepted, 25);
	assert.equal(summary.invalid, 15);
	assert.equal(summary.failed, 0);
	assert.equal(summary.notSent, 0);
	assert.equal(summary.requests, 3);
	const problems = summary.problems as Array<{ item: number; status: string; field: string; reason: string }>;
	assert.equal(problems.length, 15);
	assert.equal(problems[0].item, 12);
	assert.equal(problems[0].status, 'invalid');
	assert.match(problems[0].field, /created_at/);
	assert.equal(summary.problemItemsNotListed, 0);
});

test('One Summary Item with Validate Only: every item counted as valid or invalid, nothing sent', async () => {
	const result = await choicesRun();
	const [summary] = result.nodeOutput('Preview: Import Items') as Array<Record<string, unknown>>;
	assert.equal(summary.status, 'validated');
	assert.equal(summary.items, 6);
	assert.equal(summary.valid, 2);
	assert.equal(summary.invalid, 4);
	assert.equal((summary.problems as unknown[]).length >= 4, true);
	// The sandbox saw the other two parts' requests only: one for "With Input", three for "Summary".
	assert.equal(sandbox.stats().rimdian.requests, 4);
});

test("Progress: a 2-second import tells n8n's log how far it is at a steady pace, and once at the end", async () => {
	const result = await progressRun();
	const log = result.stdout + result.stderr;
	const lines = log.split('\n').filter((line) => /Import Items: 2000 items read, \d+\/2000 sent/.test(line));
	assert.ok(lines.length >= 3, `at least two steady lines and a final one:\n${lines.join('\n')}`);
	assert.ok(lines.length <= 12, `not per item nor per batch: ${lines.length} lines`);
	assert.match(lines[lines.length - 1], /2000\/2000 sent, 2000 accepted, 20 requests, 0 retried, .* done in/);
	assert.ok(lines.slice(0, -1).some((line) => /left/.test(line)), 'a line before the end says the time left');
	const [summary] = result.nodeOutput('Rimdian: Import Items') as Array<Record<string, unknown>>;
	assert.equal(summary.accepted, 2000);
});

test('Progress: Bulk File Import into Userpilot tells rows read, bytes uploaded and each job as it is polled', async () => {
	const result = await progressRun();
	const lines = (result.stdout + result.stderr).split('\n').filter((line) => line.includes('Bulk File Import (events-progress.csv): '));
	assert.ok(lines.length >= 3, `steady lines and a final one:\n${lines.join('\n')}`);
	assert.ok(lines.length <= 20, `not per row nor per poll: ${lines.length} lines`);
	assert.ok(lines.some((line) => /job \S+ \w+ \(poll \d+\)/.test(line)), `a line while a job is polled:\n${lines.join('\n')}`);
	assert.match(lines[lines.length - 1], new RegExp(`: ${UPLOAD_ROWS} rows read, ${UPLOAD_ROWS} sent, ${UPLOAD_ROWS} accepted, .* kB uploaded, job \\S+ (completed|pending_refresh), done in`));
	const [summary] = result.nodeOutput('Userpilot: Bulk File Import') as Array<Record<string, unknown>>;
	assert.ok((summary.parts as number) >= 2, `several parts: ${String(summary.parts)}`);
	assert.equal(sandbox.stats().userpilot.rowsImported, UPLOAD_ROWS);
});

/** The progress workflow, run once on a fresh sandbox whose jobs take a few polls. */
async function progressRun(): Promise<ExecutionResult> {
	if (!runs.has('outProgress')) {
		await sandbox.reset();
		sandbox.configure({ jobStepMs: 300 });
	}
	const result = await runOnce('outProgress');
	sandbox.configure({ jobStepMs: 50 });
	assert.equal(result.status, 'success', result.error?.message);
	return result;
}

/** The timezones workflow (Asia/Tokyo in its settings), run once on a fresh sandbox. */
async function timezonesRun(): Promise<ExecutionResult> {
	if (!runs.has('outTimezones')) await sandbox.reset();
	const result = await runOnce('outTimezones');
	assert.equal(result.status, 'success', result.error?.message);
	return result;
}

async function ayonaDates(): Promise<string[][]> {
	const records = await sandboxGet<{ entries: Array<{ date: string; name: string }> }>(sandbox, '/__sandbox/records/ayona');
	return records.entries.map((entry) => [entry.name, entry.date]);
}

test("Timezone: with the option left empty, dates without one are read in the workflow's timezone (Ayona, Asia/Tokyo)", async () => {
	const result = await timezonesRun();
	assert.equal(result.nodeOutput('Ayona Empty: Import Items').length, 3);
	assert.deepEqual((await ayonaDates()).slice(0, 3), [
		['User 1', '2024-03-08 09:29:00'],
		['User 2', '2024-03-08 16:15:30'],
		['User 3', '2024-03-09 12:00:00'],
	]);
});

test('Timezone: a workflow that set "UTC" keeps it, whatever its own timezone', async () => {
	await timezonesRun();
	assert.deepEqual((await ayonaDates()).slice(3), [
		['User 1', '2024-03-08 00:29:00'],
		['User 2', '2024-03-08 07:15:30'],
		['User 3', '2024-03-09 12:00:00'],
	]);
});

test("Timezone: Rimdian reads an offset-less date in the workflow's timezone (Asia/Tokyo, 9 hours ahead of UTC)", async () => {
	await timezonesRun();
	const [record] = [...sandbox.state.rimdian.records.values()];
	const user = JSON.parse(record.raw).user as { created_at: string };
	assert.equal(new Date(user.created_at).toISOString(), '2024-01-02T02:30:00.000Z', user.created_at);
});

/** The bytes of a binary n8n stored: its file (filesystem mode), or its data (default mode). */
function binaryText(binary: Record<string, unknown>): string {
	if (typeof binary.data === 'string' && binary.data !== 'filesystem-v2' && binary.data !== 'filesystem') {
		return Buffer.from(binary.data, 'base64').toString('utf8');
	}
	const name = path.basename(String(binary.id));
	const found = (fs.readdirSync(n8n.userFolder, { recursive: true }) as string[]).find((entry) => path.basename(entry) === name);
	assert.ok(found, `binary ${String(binary.id)} is stored under ${n8n.userFolder}`);
	return fs.readFileSync(path.join(n8n.userFolder, found), 'utf8');
}

function checkRejectsFile(result: ExecutionResult, mode: 'filesystem' | 'default'): void {
	assert.equal(result.status, 'success', result.error?.message);
	const [item] = result.nodeItems('Bulk File Import');
	assert.equal(item.json.accepted, 1);
	assert.equal(item.json.invalid, MANY_REJECTS - 1);
	assert.ok(item.binary?.rejected, 'the rejected rows come back as a CSV binary');
	// Stored as a file, n8n gives an id; kept in memory, the data itself.
	assert.equal(item.binary.rejected.id === undefined, mode === 'default', JSON.stringify(item.binary.rejected).slice(0, 300));
	const lines = binaryText(item.binary.rejected).split('\r\n');
	assert.equal(lines[0], '_row,_line,_reason,external_id,is_authenticated,created_at,email');
	assert.equal(lines.length, MANY_REJECTS + 1, 'the header, every rejected row, and the last line break');
	assert.match(lines[1], /^2,3,.*,r-2,true,31\/12\/2023,'=cmd\|' \/C calc'!A2$/);
	assert.match(lines[MANY_REJECTS - 1], new RegExp(`^${MANY_REJECTS},${MANY_REJECTS + 1},.*,'=cmd.*!A${MANY_REJECTS}$`));
	assert.equal(lines[MANY_REJECTS], '');
	// Bulk File Import tells its progress too: at least its final line, every row counted.
	const log = result.stdout + result.stderr;
	assert.match(log, new RegExp(`Bulk File Import \\(many-rejects\\.csv\\): ${MANY_REJECTS} rows read, 1 sent, 1 accepted, 1 requests, 0 retried, .* done in`));
}

test('Many rejected rows: the CSV streamed to the binary store arrives whole, formulas escaped (filesystem mode)', async () => {
	await sandbox.reset();
	checkRejectsFile(await run('outManyRejects'), 'filesystem');
});

test('Many rejected rows: the same file arrives whole with binary data kept in memory (default mode)', async () => {
	await sandbox.reset();
	checkRejectsFile(await run('outManyRejects', { N8N_DEFAULT_BINARY_DATA_MODE: 'default' }), 'default');
});

test('no secret in any output', () => {
	for (const output of outputs) assert.deepEqual(findSecrets(output), []);
});
