/**
 * Job Status Trigger in a real, running n8n (`n8n start`, workflows active) against the sandbox:
 * every emission reaches a small HTTP server in this process through an HTTP Request node, so the
 * test sees exactly what fired and how often, across stops and restarts of n8n.
 *   node --import tsx --test test/e2e/jobStatusTrigger.test.ts   (after npm run build)
 *   TRIGGER_E2E_DEBUG=<file>: n8n logs at debug level, all of them written to <file> at the end.
 *
 * How often the trigger checks depends on the n8n line:
 *   - n8n 1.x refuses a polling interval under a minute only when the seconds field of the cron
 *     has a `*`: a custom cron listing seconds (0,5,…,55) checks every 5 s, which keeps this short.
 *   - n8n 2.x refuses any cron that fires more than once a minute, so there the trigger polls in
 *     the "Every Minute" mode its users get, and the run takes a few minutes.
 * Waits are counted in checks, not seconds: the credentials point n8n at a counting proxy in
 * front of the sandbox, so the test knows when a check has happened (e.g. "two checks and
 * nothing fired") whatever the interval, and no fixed sleep has to guess it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { RIMDIAN_TOKEN, RIMDIAN_WORKSPACE, USERPILOT_KEY } from '../../sandbox/defaults';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, DEFAULT_N8N_BIN, type N8nInstance } from './harness';
import { findSecrets, loadExample, sandboxCredentials } from './setup';

/** The major version of the n8n under test (N8N_BIN, as the harness picks it). */
function n8nMajor(): number {
	const bin = fs.realpathSync(process.env.N8N_BIN || DEFAULT_N8N_BIN);
	const packageJson = path.join(path.dirname(path.dirname(bin)), 'package.json');
	return Number((JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string }).version.split('.')[0]);
}

const N8N_MAJOR = n8nMajor();
/** The trigger's Poll Times, and the longest gap between two of its checks. */
const POLL =
	N8N_MAJOR >= 2
		? { times: { item: [{ mode: 'everyMinute' }] }, intervalMs: 60_000 }
		: { times: { item: [{ mode: 'custom', cronExpression: '0,5,10,15,20,25,30,35,40,45,50,55 * * * * *' }] }, intervalMs: 5_000 };
/** Long enough for a check to happen and what it emits to run: a few intervals and then some. */
const FIRE_TIMEOUT_MS = 3 * POLL.intervalMs + 60_000;
/** After a check, how long its emission may take to reach the evidence server. */
const EMISSION_GRACE_MS = 3_000;

interface Evidence {
	path: string;
	message: string;
	trigger: Record<string, unknown>;
}

let sandbox: Sandbox;
let n8n: N8nInstance;
let evidenceServer: http.Server;
let evidenceUrl: string;
const evidence: Evidence[] = [];
/** The counting proxy in front of the sandbox; when each check it answered had arrived. */
let proxy: http.Server;
const checks: Record<'userpilot' | 'rimdian', number[]> = { userpilot: [], rimdian: [] };

/**
 * The example workflow, polling as POLL says, its message and trigger item posted to `path`.
 * `id`: at most 16 characters, or n8n never saves the workflow's static data (isWorkflowIdValid).
 */
function watched(file: string, id: string, path: string) {
	assert.ok(id.length <= 16, 'n8n saves static data only for workflow ids of 16 characters or fewer');
	const workflow = loadExample(file);
	workflow.id = id;
	workflow.name = `${workflow.name} (e2e)`;
	workflow.active = true;
	const trigger = workflow.nodes.find((node) => node.name === 'Job Status Trigger');
	assert.ok(trigger);
	trigger.parameters.pollTimes = POLL.times;
	workflow.nodes.push({
		name: 'Evidence',
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		position: [440, 0],
		parameters: {
			method: 'POST',
			url: `${evidenceUrl}${path}`,
			sendBody: true,
			specifyBody: 'json',
			jsonBody: '={{ JSON.stringify({ message: $json.message, trigger: $("Job Status Trigger").item.json }) }}',
			options: {},
		},
	} as (typeof workflow.nodes)[number]);
	const connections = workflow.connections as Record<string, { main: unknown[][] }>;
	connections['Compose Message'] = { main: [[{ node: 'Evidence', type: 'main', index: 0 }]] };
	return workflow;
}

const of = (path: string) => evidence.filter((e) => e.path === path);

/** n8n's own record of the executions (best effort: needs the sqlite3 command), for a failure message. */
function executions(): string {
	try {
		const db = path.join(n8n.userFolder, '.n8n', 'database.sqlite');
		const query = 'select e.id, e.workflowId, e.status, e.startedAt, substr(d.data, 1, 400) from execution_entity e left join execution_data d on d.executionId = e.id order by e.id';
		return execFileSync('sqlite3', [db, query], { encoding: 'utf8' });
	} catch (error) {
		return `(executions unavailable: ${(error as Error).message})`;
	}
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = FIRE_TIMEOUT_MS): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!predicate()) {
		if (Date.now() > deadline) {
			throw new Error(
				`timed out waiting for ${what}; checks answered: userpilot ${checks.userpilot.length}, rimdian ${checks.rimdian.length}; evidence so far:\n${JSON.stringify(evidence, null, 1).slice(0, 4000)}\n` +
					`executions:\n${executions()}\n${n8n.logs().slice(-4000)}`,
			);
		}
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until each watched platform's trigger has made `count` checks that reached the sandbox
 * after this call (so they saw the sandbox as it is now), then lets what they emitted arrive.
 */
async function waitForChecks(count: number, platforms: Array<keyof typeof checks> = ['userpilot', 'rimdian']): Promise<void> {
	const start = performance.now();
	const since = (platform: keyof typeof checks) => checks[platform].filter((arrived) => arrived > start).length;
	await waitFor(`${count} more check(s) of ${platforms.join(' and ')}`, () => platforms.every((p) => since(p) >= count), count * POLL.intervalMs + 60_000);
	await sleep(EMISSION_GRACE_MS);
}

/**
 * `n8n start`, then the first check of both triggers (activation): n8n 2.x says "Editor is now
 * accessible" before it activates workflows, so an upload right after start could land before the
 * trigger's baseline and never fire. Waiting for the check makes the order certain on both lines.
 */
async function startN8n(): Promise<void> {
	const since = performance.now();
	await n8n.start();
	const checked = (platform: keyof typeof checks) => checks[platform].some((arrived) => arrived > since);
	await waitFor('the first check of both triggers after start', () => checked('userpilot') && checked('rimdian'));
}

/** Forwards everything to the sandbox; counts the answered checks of each trigger. */
function startCountingProxy(): Promise<string> {
	const target = new URL(sandbox.url);
	proxy = http.createServer((req, res) => {
		const arrived = performance.now();
		const forward = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
			res.writeHead(answer.statusCode ?? 502, answer.headers);
			answer.pipe(res);
			answer.on('end', () => {
				const pathname = (req.url ?? '').split('?')[0];
				if (req.method === 'GET' && pathname === '/v1/background_jobs') checks.userpilot.push(arrived);
				if (req.method === 'GET' && pathname === '/api/dataLog.list') checks.rimdian.push(arrived);
			});
		});
		forward.on('error', (error) => res.destroy(error));
		req.pipe(forward);
	});
	return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`)));
}

const ROW = { event_type: 'track', user_id: 'u1', event_name: 'signed_up', source: 'backend-http-import', inserted_at: '2024-07-28T08:55:35.874555' };

async function upload(name: string, waitForEnd = true): Promise<string> {
	const form = new FormData();
	form.append('file', new Blob([`${JSON.stringify(ROW)}\n${JSON.stringify(ROW)}\n`]), name);
	const response = await fetch(`${sandbox.url}/v1/imports`, { method: 'POST', headers: { Authorization: `Token ${USERPILOT_KEY}` }, body: form });
	assert.equal(response.status, 200, await response.clone().text());
	const jobId = ((await response.json()) as { job_id: string }).job_id;
	if (!waitForEnd) return jobId;
	await waitFor(`job ${name} to end`, () => ['completed', 'failed'].includes(sandbox.state.userpilot.jobs.get(jobId)?.status ?? ''), 30_000);
	return jobId;
}

const customEvent = (id: string, domain: string) => ({
	kind: 'custom_event',
	custom_event: { external_id: id, label: 'signup', created_at: '2024-01-01T10:00:00Z', domain_id: domain },
	user: { external_id: `user-${id}`, is_authenticated: true, created_at: '2024-01-01T10:00:00Z' },
});

async function sendRimdian(items: object[]): Promise<void> {
	const response = await fetch(`${sandbox.url}/data`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${RIMDIAN_TOKEN}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ workspace_id: RIMDIAN_WORKSPACE, items }),
	});
	assert.equal(await response.text(), 'queued');
	await sandbox.settled();
}

const rimdianIds = () =>
	of('/rimdian').map((e) => ((e.trigger.item as Record<string, Record<string, string>>).custom_event ?? {}).external_id);

before(async () => {
	sandbox = await startSandbox({ jobStepMs: 50 });
	evidenceServer = http.createServer((req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (chunk: string) => (body += chunk));
		req.on('end', () => {
			const parsed = JSON.parse(body) as { message: string; trigger: Record<string, unknown> };
			evidence.push({ path: req.url ?? '', message: parsed.message, trigger: parsed.trigger });
			res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
		});
	});
	await new Promise<void>((resolve) => evidenceServer.listen(0, '127.0.0.1', resolve));
	evidenceUrl = `http://127.0.0.1:${(evidenceServer.address() as AddressInfo).port}`;

	// History from before the workflows were active: it must never fire.
	await upload('history.ndjson');
	await sendRimdian([customEvent('history-bad', 'nope')]);

	const proxyUrl = await startCountingProxy();
	n8n = await createN8n(process.env.TRIGGER_E2E_DEBUG ? { env: { N8N_LOG_LEVEL: 'debug' } } : {});
	await n8n.importCredentials(
		sandboxCredentials(sandbox).map((credential) =>
			credential.data.baseUrl === sandbox.url ? { ...credential, data: { ...credential.data, baseUrl: proxyUrl } } : credential,
		),
	);
	for (const workflow of [
		watched('job-status-userpilot.json', 'e2eJobStatusUp', '/userpilot'),
		watched('job-status-rimdian.json', 'e2eJobStatusRim', '/rimdian'),
	]) {
		await n8n.importWorkflow(workflow, { activate: true });
	}
});

after(async () => {
	if (process.env.TRIGGER_E2E_DEBUG && n8n) fs.writeFileSync(process.env.TRIGGER_E2E_DEBUG, n8n.logs());
	await n8n?.dispose();
	await sandbox?.close();
	await new Promise((resolve) => evidenceServer?.close(resolve));
	await new Promise((resolve) => proxy?.close(resolve));
});

test(`each transition fires exactly once across stops and restarts of n8n: no repeat, no gap (n8n ${N8N_MAJOR}.x, a check every ${POLL.intervalMs / 1000} s)`, async () => {
	await startN8n(); // activation: both triggers take their baseline

	// 1. While n8n runs: a Userpilot job completes; Rimdian rejects two items of four.
	const first = await upload('first.ndjson');
	await sendRimdian([customEvent('ok-1', 'web'), customEvent('bad-1', 'unknown-domain'), customEvent('ok-2', 'app'), customEvent('bad-2', 'nowhere')]);
	await waitFor('the first completion', () => of('/userpilot').length >= 1);
	await waitFor('the two Rimdian failures', () => of('/rimdian').length >= 2);

	// 2. n8n stops; a job fails and Rimdian rejects an item while it is down; n8n starts again.
	await n8n.stop();
	await fetch(`${sandbox.url}/__sandbox/userpilot/fail-next`, { method: 'POST', body: JSON.stringify({ reason: 'Required field `user_id` not provided in the row' }) });
	const second = await upload('second.ndjson');
	await sendRimdian([customEvent('bad-3', 'offline'), customEvent('ok-3', 'web')]);
	await startN8n();
	await waitFor('the failure that happened while n8n was down', () => of('/userpilot').length >= 2);
	await waitFor('the Rimdian failure from the downtime', () => of('/rimdian').length >= 3);

	// 3. A restart with nothing new: nothing fires again, at start nor at the next checks.
	await n8n.stop();
	await startN8n();
	await waitForChecks(2);
	assert.equal(of('/userpilot').length, 2, 'a restart repeats nothing');
	assert.equal(of('/rimdian').length, 3, 'a restart repeats nothing');

	// 4. One more job while n8n runs, held at "processing" until a check has seen it there.
	sandbox.configure({ userpilotHoldAt: 'processing' });
	const third = await upload('third.ndjson', false);
	await waitFor('the third job to reach processing', () => sandbox.state.userpilot.jobs.get(third)?.status === 'processing', 10_000);
	await waitForChecks(1, ['userpilot']);
	sandbox.configure({ userpilotHoldAt: null });
	await waitFor('the third completion', () => of('/userpilot').length >= 3);
	await waitForChecks(2);
	await n8n.stop();

	const userpilot = of('/userpilot');
	assert.deepEqual(
		userpilot.map((e) => [e.trigger.job_id, e.trigger.transition]),
		[
			[first, 'completed'],
			[second, 'failed'],
			[third, 'completed'],
		],
	);
	assert.equal(userpilot[0].trigger.total_rows, 2);
	// The first job ends within a step or two of the sandbox, so a check mostly first sees it
	// final; on a loaded machine (the suites of both n8n lines run at once) a check can catch it
	// still queued or processing. Either way its completion fired once (above), never as a repeat.
	assert.ok(
		[null, 'queued', 'processing'].includes(userpilot[0].trigger.previous_status as string | null),
		`previous status ${String(userpilot[0].trigger.previous_status)}`,
	);
	assert.equal(userpilot[1].trigger.previous_status, null, 'first seen already failed, after the restart');
	assert.equal(userpilot[2].trigger.previous_status, 'processing', 'seen processing by a check, then completed');
	assert.deepEqual(userpilot[1].trigger.reason_for_failure, ['Required field `user_id` not provided in the row']);
	assert.match(userpilot[1].message, /^Userpilot import second\.ndjson failed: Required field/);
	assert.match(userpilot[2].message, /^Userpilot import third\.ndjson completed: 2 rows in \d+ s$/);

	assert.deepEqual(rimdianIds().sort(), ['bad-1', 'bad-2', 'bad-3']);
	for (const e of of('/rimdian')) {
		assert.equal(e.trigger.transition, 'item_failed');
		assert.equal(e.trigger.has_error, 2);
		assert.match(String(e.trigger.error), /domain_id ".*" is not a domain of the workspace/);
		assert.match(e.message, /^Rimdian rejected a custom_event item: /);
	}
	assert.deepEqual(findSecrets(n8n.logs()), []);
});
