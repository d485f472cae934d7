/**
 * The templates in examples/ (the workflows users import and adapt), executed in a real n8n
 * against the sandbox, so that none of them rots:
 *   google-sheets-to-ayona.json  Google Sheets → Import Items (Ayona)
 *   file-import-notify.json      Read Files from Disk → Bulk File Import (wait) → Slack message
 *   job-failed-alert.json        Job Status Trigger (failed) → Slack alert           (active)
 *   incremental-sync.json        Schedule → source → changed rows only → Import Items (active)
 *   hubspot-to-rimdian.json      HubSpot contacts (HTTP) → Split Out → Import Items (Rimdian, mapped)
 *
 * Each runs as shipped except where a service outside this machine stands: the Google Sheets
 * node is replaced by a Code node putting out rows as Google Sheets does; Slack's incoming
 * webhook and the CRM's API are URLs on a small HTTP server in this process ("catcher"), which
 * records every message and serves the CRM's users; schedules and polls run every few seconds.
 *   node --import tsx --test test/e2e/examples.test.ts   (after npm run build)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { USERPILOT_KEY } from '../../sandbox/defaults';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, REPO_ROOT, type N8nInstance } from './harness';
import { findSecrets, loadExample, sandboxCredentials, variant } from './setup';

type Workflow = ReturnType<typeof loadExample>;

let sandbox: Sandbox;
let n8n: N8nInstance;
let catcher: http.Server;
let catcherUrl: string;
/** Messages posted to the catcher's /slack/<channel> URLs, in arrival order. */
const messages: Array<{ channel: string; text: string; at: number }> = [];
/** The CRM's users as the stand-in API serves them now, and how often they were asked for. */
let crmUsers: Array<Record<string, unknown>> = [];
let crmRequests = 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const channel = (name: string) => messages.filter((m) => m.channel === name).map((m) => m.text);

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 90_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!predicate()) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}; messages: ${JSON.stringify(messages)}; CRM requests: ${crmRequests}\nexecutions:\n${executions()}\n${n8n.logs().slice(-4000)}`);
		}
		await sleep(200);
	}
}

/** n8n's own record of the executions (best effort: needs the sqlite3 command), for a failure message. */
function executions(): string {
	try {
		const db = path.join(n8n.userFolder, '.n8n', 'database.sqlite');
		const query = 'select e.id, e.workflowId, e.mode, e.status, substr(d.data, 1, 600) from execution_entity e left join execution_data d on d.executionId = e.id order by e.id';
		return execFileSync('sqlite3', [db, query], { encoding: 'utf8' });
	} catch (error) {
		return `(executions unavailable: ${(error as Error).message})`;
	}
}

/** Replaces a node (keeping its name, so connections hold) by a stand-in without credentials. */
function standIn(workflow: Workflow, name: string, type: string, typeVersion: number, parameters: Record<string, unknown>): Workflow {
	const node = workflow.nodes.find((n) => n.name === name);
	assert.ok(node, `${name} is in ${workflow.name}`);
	Object.assign(node, { type, typeVersion, parameters });
	delete node.credentials;
	return workflow;
}

function node(workflow: Workflow, name: string) {
	const found = workflow.nodes.find((n) => n.name === name);
	assert.ok(found, `${name} is in ${workflow.name}`);
	return found;
}

/** Rows as the Google Sheets node ("Get Row(s)") puts them out: column names as keys, row_number. */
const SHEET_ROWS = `return [
  { json: { row_number: 2, 'Submitted At': '2024-03-08 09:15:30', Customer: 'Ana', Feedback: 'The CSV export saved my week.' } },
  { json: { row_number: 3, 'Submitted At': '08/03/2024 10:00', Customer: 'Ben', Feedback: 'Which day is this?' } },
  { json: { row_number: 4, 'Submitted At': '2024-03-09T12:00:00+01:00', Customer: 'Chloé', Feedback: 'Search is fast now.' } },
];`;

const sheets = standIn(variant(loadExample('google-sheets-to-ayona.json'), 'exSheets', {}), 'Read Sheet Rows', 'n8n-nodes-base.code', 2, {
	jsCode: SHEET_ROWS,
});

const fileNotify = (): Workflow => {
	const workflow = variant(loadExample('file-import-notify.json'), 'exFileNotify', {
		'Read Export File': { fileSelector: path.join(REPO_ROOT, 'test/fixtures/userpilot-sample.csv') },
		'Bulk File Import': { options: { waitForCompletion: true, pollIntervalSeconds: 0.2 } },
	});
	node(workflow, 'Notify Slack').parameters.url = `${catcherUrl}/slack/file`;
	return workflow;
};

/** A page of HubSpot's CRM API v3 contacts (GET /crm/v3/objects/contacts), as HubSpot gives it. */
const HUBSPOT_PAGE = {
	results: [
		{ id: '101', properties: { email: 'ana@example.com', createdate: '2024-02-01T09:00:00.000Z', lastmodifieddate: '2024-05-01T10:00:00.000Z', hs_object_id: '101' }, createdAt: '2024-02-01T09:00:00.000Z', updatedAt: '2024-05-01T10:00:00.000Z', archived: false },
		{ id: '102', properties: { email: null, createdate: '2024-02-02T09:00:00.000Z', lastmodifieddate: '2024-05-02T10:00:00.000Z', hs_object_id: '102' }, createdAt: '2024-02-02T09:00:00.000Z', updatedAt: '2024-05-02T10:00:00.000Z', archived: false },
		{ id: '103', properties: { email: 'chloe@example.com', createdate: '2024-02-03T09:00:00.000Z', lastmodifieddate: '2024-05-03T10:00:00.000Z', hs_object_id: '103' }, createdAt: '2024-02-03T09:00:00.000Z', updatedAt: '2024-05-03T10:00:00.000Z', archived: false },
	],
};

/** HubSpot → Rimdian, its HubSpot request sent to the catcher (no HubSpot credential here). */
const hubspot = (): Workflow =>
	standIn(variant(loadExample('hubspot-to-rimdian.json'), 'exHubspot', {}), 'Get HubSpot Contacts', 'n8n-nodes-base.httpRequest', 4.2, {
		url: `${catcherUrl}/hubspot/contacts`,
		options: {},
	});

/** The major version of the n8n under test (N8N_BIN picks another). */
const n8nMajor = (): number => {
	const packageJson = path.join(path.dirname(path.dirname(fs.realpathSync(n8n.n8nBin))), 'package.json');
	return Number((JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string }).version.split('.')[0]);
};

/**
 * How often the job alert polls: every 5 s on n8n 1.x (a custom cron listing seconds); n8n 2.x
 * refuses any poll under a minute ("The polling interval is too short"), so there every minute.
 */
const pollSeconds = (): number => (n8nMajor() >= 2 ? 60 : 5);

/** The job alert, polling as often as n8n allows. Id ≤ 16: n8n keeps its static data. */
const jobAlert = (): Workflow => {
	const pollTimes =
		pollSeconds() === 5
			? { item: [{ mode: 'custom', cronExpression: '0,5,10,15,20,25,30,35,40,45,50,55 * * * * *' }] }
			: { item: [{ mode: 'everyMinute' }] };
	const workflow = variant(loadExample('job-failed-alert.json'), 'exJobAlert', { 'Job Status Trigger': { pollTimes } });
	node(workflow, 'Alert on Slack').parameters.url = `${catcherUrl}/slack/alert`;
	return workflow;
};

/** The incremental sync, every 4 s, reading the CRM stand-in. */
const incremental = (): Workflow => {
	const workflow = variant(loadExample('incremental-sync.json'), 'exIncrSync', {
		'Every Hour': { rule: { interval: [{ field: 'seconds', secondsInterval: 4 }] } },
	});
	node(workflow, 'Get Users From CRM').parameters.url = `${catcherUrl}/crm/users`;
	return workflow;
};

async function uploadJob(name: string, failWith?: string): Promise<string> {
	if (failWith) {
		await fetch(`${sandbox.url}/__sandbox/userpilot/fail-next`, { method: 'POST', body: JSON.stringify({ reason: failWith }) });
	}
	const row = { event_type: 'track', user_id: 'u1', event_name: 'signed_up', source: 'backend-http-import', inserted_at: '2024-07-28T08:55:35.874555' };
	const form = new FormData();
	form.append('file', new Blob([`${JSON.stringify(row)}\n`]), name);
	const response = await fetch(`${sandbox.url}/v1/imports`, { method: 'POST', headers: { Authorization: `Token ${USERPILOT_KEY}` }, body: form });
	assert.equal(response.status, 200, await response.clone().text());
	const jobId = ((await response.json()) as { job_id: string }).job_id;
	await waitFor(`job ${name} to end`, () => ['completed', 'failed'].includes(sandbox.state.userpilot.jobs.get(jobId)?.status ?? ''), 30_000);
	return jobId;
}

/** External ids of the Rimdian users received, in arrival order (every copy counted). */
const rimdianUsersReceived = (): string[] =>
	sandbox.state.rimdian.order.flatMap((record) => Array<string>(record.received).fill(String(JSON.parse(record.raw).user?.external_id)));

const crmUser = (id: number, updatedAt: string, email = `user${id}@example.com`) => ({
	external_id: `crm-${id}`,
	is_authenticated: true,
	email,
	created_at: '2024-01-15T09:00:00Z',
	updated_at: updatedAt,
});

before(async () => {
	sandbox = await startSandbox({ jobStepMs: 50 });
	catcher = http.createServer((req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (chunk: string) => (body += chunk));
		req.on('end', () => {
			const url = req.url ?? '';
			if (req.method === 'GET' && url === '/hubspot/contacts') {
				res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(HUBSPOT_PAGE));
				return;
			}
			if (req.method === 'GET' && url === '/crm/users') {
				crmRequests++;
				res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(crmUsers));
				return;
			}
			if (req.method === 'POST' && url.startsWith('/slack/')) {
				// Slack's incoming webhooks take {"text": "…"} and answer "ok".
				messages.push({ channel: url.slice('/slack/'.length), text: (JSON.parse(body) as { text: string }).text, at: Date.now() });
				res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
				return;
			}
			res.writeHead(404).end();
		});
	});
	await new Promise<void>((resolve) => catcher.listen(0, '127.0.0.1', resolve));
	catcherUrl = `http://127.0.0.1:${(catcher.address() as AddressInfo).port}`;

	n8n = await createN8n();
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflows([sheets, fileNotify(), jobAlert(), incremental(), hubspot()]);
	// One by one: n8n 2.x no longer publishes (activates) with `update:workflow --all`.
	await n8n.activateWorkflow('exJobAlert');
	await n8n.activateWorkflow('exIncrSync');
});

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
	await new Promise((resolve) => catcher?.close(resolve));
});

test('the templates carry sticky notes that say what to adapt, and ids n8n keeps static data for', () => {
	for (const file of ['google-sheets-to-ayona.json', 'file-import-notify.json', 'job-failed-alert.json', 'incremental-sync.json', 'hubspot-to-rimdian.json']) {
		const workflow = loadExample(file);
		const notes = workflow.nodes.filter((n) => n.type === 'n8n-nodes-base.stickyNote');
		assert.ok(notes.some((n) => /\*\*Adapt:\*\*/.test(String(n.parameters.content))), `${file} has an "Adapt" note`);
		assert.ok(String(workflow.id).length <= 16, `${file}: id of at most 16 characters`);
	}
});

test('Google Sheets → Ayona: valid rows arrive with their dates rewritten, a bad row is reported by itself', async () => {
	await sandbox.reset();
	const result = await n8n.execute('exSheets');
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items');
	assert.deepEqual(output.map((item) => item.status), ['accepted', 'invalid', 'accepted']);
	assert.match(String(output[1].message), /Item 2: field "date": "08\/03\/2024 10:00"/);
	assert.deepEqual(
		sandbox.state.ayona.entries.map(({ source_id, date, name, content }) => ({ source_id, date, name, content })),
		[
			{ source_id: 'sandbox-source', date: '2024-03-08 09:15:30', name: 'Ana', content: 'The CSV export saved my week.' },
			{ source_id: 'sandbox-source', date: '2024-03-09 11:00:00', name: 'Chloé', content: 'Search is fast now.' },
		],
	);
	assert.deepEqual(findSecrets(result.stdout + result.stderr), []);
});

test('HubSpot → Rimdian: each contact becomes a user through Map Each Field Manually; a contact without email still goes', async () => {
	await sandbox.reset();
	const result = await n8n.execute('exHubspot');
	assert.equal(result.status, 'success', result.error?.message);
	const output = result.nodeOutput('Import Items');
	assert.deepEqual(output.map((item) => item.status), ['accepted', 'accepted', 'accepted']);
	const users = sandbox.state.rimdian.order.map((record) => JSON.parse(record.raw).user as Record<string, unknown>);
	assert.deepEqual(
		users.map(({ external_id, is_authenticated, email, created_at, updated_at }) => ({ external_id, is_authenticated, email, created_at, updated_at })),
		[
			{ external_id: 'hubspot-101', is_authenticated: true, email: 'ana@example.com', created_at: '2024-02-01T09:00:00.000Z', updated_at: '2024-05-01T10:00:00.000Z' },
			{ external_id: 'hubspot-102', is_authenticated: true, email: undefined, created_at: '2024-02-02T09:00:00.000Z', updated_at: '2024-05-02T10:00:00.000Z' },
			{ external_id: 'hubspot-103', is_authenticated: true, email: 'chloe@example.com', created_at: '2024-02-03T09:00:00.000Z', updated_at: '2024-05-03T10:00:00.000Z' },
		],
	);
	assert.deepEqual(findSecrets(result.stdout + result.stderr), []);
});

test('CSV file → Userpilot → Slack: a completed import and a failed one are each reported', async () => {
	await sandbox.reset();
	const ok = await n8n.execute('exFileNotify');
	assert.equal(ok.status, 'success', ok.error?.message);
	const job = sandbox.state.userpilot.jobs.values().next().value;
	assert.equal(job?.status, 'completed');
	assert.deepEqual(channel('file'), [`✅ Userpilot imported 3 rows from userpilot-sample.csv (job ${job.job_id}).`]);

	// A job Userpilot fails: with On Error "Continue" the summary, carrying `error`, goes on to the message.
	await fetch(`${sandbox.url}/__sandbox/userpilot/fail-next`, { method: 'POST', body: JSON.stringify({ reason: 'Required field `user_id` not provided in the row' }) });
	const failed = await n8n.execute('exFileNotify');
	assert.equal(failed.status, 'success', failed.error?.message);
	const [summary] = failed.nodeOutput('Bulk File Import');
	assert.deepEqual([summary.status, summary.resumeFromRow], ['failed', 1]);
	const jobs = [...sandbox.state.userpilot.jobs.values()];
	assert.equal(jobs.length, 2);
	assert.equal(jobs[1].status, 'failed');
	assert.equal(channel('file').length, 2);
	assert.equal(
		channel('file')[1],
		`❌ Userpilot import of userpilot-sample.csv failed: Userpilot import job ${jobs[1].job_id} failed: Required field \`user_id\` not provided in the row — fix it and run again with Start at Row 1.`,
	);
	assert.deepEqual(findSecrets(ok.stdout + ok.stderr + failed.stdout + failed.stderr), []);
});

test('active templates: the scheduled sync sends only changed rows; a failed job alerts once', async () => {
	await sandbox.reset();
	crmUsers = [1, 2, 3, 4, 5].map((id) => crmUser(id, `2024-05-01T10:00:0${id}Z`));
	// History from before activation: the alert must not fire for it.
	const before = await uploadJob('before.ndjson', 'an old failure');

	await n8n.start(); // activation: the Job Status Trigger records the jobs that exist
	// start() may return on /healthz before activation is done (a loaded machine): jobs uploaded
	// before the baseline would be part of it and never fire.
	await waitFor('the trigger\'s baseline', () => n8n.logs().includes('baseline taken for Userpilot'));

	// The alert: a job that completes says nothing, a failed one alerts (checked at the end).
	await uploadJob('fine.ndjson');
	const failed = await uploadJob('broken.ndjson', 'Required field `user_id` not provided in the row');

	// 1. The first scheduled run sends every row; the next, with nothing changed, sends nothing.
	await waitFor('the first sync', () => rimdianUsersReceived().length >= 5);
	let asked = crmRequests;
	await waitFor('two more runs', () => crmRequests >= asked + 2);
	assert.deepEqual(rimdianUsersReceived(), ['crm-1', 'crm-2', 'crm-3', 'crm-4', 'crm-5']);

	// 2. Two users change and one is added: the next run sends those three, and only once.
	crmUsers[1] = crmUser(2, '2024-06-01T08:00:00Z', 'new-address@example.com');
	crmUsers[3] = crmUser(4, '2024-06-02T08:00:00.500Z');
	crmUsers.push(crmUser(6, '2024-06-03T08:00:00Z'));
	asked = crmRequests;
	await waitFor('the changed rows', () => rimdianUsersReceived().length >= 8);
	await waitFor('two more runs', () => crmRequests >= asked + 3);
	const received = rimdianUsersReceived();
	assert.deepEqual(received.slice(0, 5), ['crm-1', 'crm-2', 'crm-3', 'crm-4', 'crm-5']);
	assert.deepEqual(received.slice(5).sort(), ['crm-2', 'crm-4', 'crm-6']);
	assert.equal(received.length, 8, `received: ${received.join(', ')}`);
	const crm2 = [...sandbox.state.rimdian.records.values()].map((r) => JSON.parse(r.raw)).filter((item) => item.user?.external_id === 'crm-2');
	assert.deepEqual(crm2.map((item) => item.user.email), ['user2@example.com', 'new-address@example.com']);

	// 3. The alert fired once, for the failed job only, and not again at the polls after it.
	const poll = pollSeconds() * 1000;
	await waitFor('the alert', () => channel('alert').length >= 1, 2 * poll + 60_000);
	const alertedAt = messages.find((m) => m.channel === 'alert')?.at ?? 0;
	// Polls after the alert: two at 5 s (n8n 1.x), one at a minute (2.x) to keep the suite short.
	await waitFor('more polls after the alert', () => Date.now() - alertedAt >= (poll === 5000 ? 11_000 : poll + 5_000), 2 * poll + 60_000);
	assert.deepEqual(channel('alert'), [`🚨 Userpilot import broken.ndjson (job ${failed}) failed: Required field \`user_id\` not provided in the row`]);
	assert.ok(!channel('alert').some((text) => text.includes(before)));
	await n8n.stop();
	assert.deepEqual(findSecrets(n8n.logs()), []);
});
