/**
 * The package in n8n's queue mode: a real Redis (Debian's redis-server, 127.0.0.1, a free port,
 * nothing persisted), a main (`n8n start`, EXECUTIONS_MODE=queue) and `n8n worker` processes
 * sharing one user folder (SQLite database in WAL mode, binary data in filesystem mode), against
 * the sandbox in this process.
 *   npm run test:queue          (after npm run build; needs redis-server: scripts/ensure-debian-packages.sh)
 *
 * Executions start from webhooks: the main receives the call and puts a job in Redis, a worker
 * runs it; the answer (the last node's first item) carries `$execution.id`, and each worker logs
 * "Worker started execution <id>", so the test knows which worker ran what.
 *
 * Then: a >100 MB file uploaded through the main and streamed by a worker; the Job Status
 * Trigger polling in the main only; and workers SIGKILLed in the middle of an Import Items and of
 * a Bulk File Import run (n8n runs the execution again once, then fails it), each finished by a
 * re-run (as it is / with "Start at Row") with every item stored once.
 *
 * Figures printed: items per second with one worker and with two (QUEUE_ITEMS_REQUESTS requests
 * of QUEUE_ITEMS_PER_REQUEST items, default 10 x 5,000), CPU seconds per process, and the big
 * upload's wall time. QUEUE_BIG_FILE_MB sets the size of the file (default 110);
 * QUEUE_POSTGRES_PORT runs on a PostgreSQL instead of SQLite; QUEUE_DEBUG=1 prints progress.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { USERPILOT_KEY } from '../../sandbox/defaults';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, type N8nInstance, type StartedN8n } from '../e2e/harness';
import { findSecrets, sandboxCredentials, sandboxGet } from '../e2e/setup';
import {
	cpuSeconds,
	executionsStartedBy,
	restClient,
	sleep,
	startRedis,
	startWorker,
	waitFor,
	type N8nProcess,
	type RedisServer,
	type RestClient,
} from './cluster';
import { importUsersWorkflow, jobStatusWorkflow, uploadFileWorkflow, users } from './workflows';

const numberFromEnv = (name: string, fallback: number) => {
	const value = Number(process.env[name]);
	return Number.isFinite(value) && value > 0 ? value : fallback;
};
const REQUESTS = numberFromEnv('QUEUE_ITEMS_REQUESTS', 10);
const ITEMS_PER_REQUEST = numberFromEnv('QUEUE_ITEMS_PER_REQUEST', 5000);
const BIG_FILE_MB = numberFromEnv('QUEUE_BIG_FILE_MB', 110);
/** Per worker; n8n warns below 5. */
const CONCURRENCY = 5;
/** Items of the import a worker is killed in, and the sandbox's latency per request then. */
const KILL_ITEMS = 6000;
const KILL_LATENCY_MS = 200;

/**
 * Queue-mode settings of every n8n process. The Bull lock settings are shortened so that a
 * killed worker's job is noticed within about 25 s instead of about 90 s (lock 60 s, checked every
 * 30 s). A worker renews its lock from its event loop: a live worker that cannot run a timer for
 * longer than the lock (a long synchronous stretch on a loaded machine) looks dead too, and its job
 * is handed out a second time. 20 s keeps that away from this test's executions.
 */
function queueEnv(redisPort: number): Record<string, string> {
	return {
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: '127.0.0.1',
		QUEUE_BULL_REDIS_PORT: String(redisPort),
		QUEUE_HEALTH_CHECK_ACTIVE: 'false',
		QUEUE_WORKER_LOCK_DURATION: '20000',
		QUEUE_WORKER_LOCK_RENEW_TIME: '4000',
		QUEUE_WORKER_STALLED_INTERVAL: '5000',
		QUEUE_WORKER_MAX_STALLED_COUNT: '1', // n8n's default, said out loud: a stalled job is run once more
		// One SQLite file for every process (one host): WAL lets readers and a writer of different
		// processes work at once. QUEUE_POSTGRES_PORT: a PostgreSQL on 127.0.0.1 instead (user and
		// database "n8n", no password), for comparison.
		...(process.env.QUEUE_POSTGRES_PORT
			? {
					DB_TYPE: 'postgresdb',
					DB_POSTGRESDB_HOST: '127.0.0.1',
					DB_POSTGRESDB_PORT: process.env.QUEUE_POSTGRES_PORT,
					DB_POSTGRESDB_USER: 'n8n',
					DB_POSTGRESDB_DATABASE: 'n8n',
				}
			: { DB_SQLITE_ENABLE_WAL: 'true' }),
		// Binary data as files under <user folder>/.n8n/binaryData: the main writes a webhook's
		// upload there and the worker streams it from the same path.
		N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
	};
}

let sandbox: Sandbox;
let redis: RedisServer;
let n8n: N8nInstance;
let main: StartedN8n;
let rest: RestClient;
let evidenceServer: http.Server;
const workers: N8nProcess[] = [];
/** Every worker ever started (killed ones included), for "who ran what". */
const allWorkers: N8nProcess[] = [];
const evidence: Array<{ executionId: string; job_id: string; transition: string; filename: string; total_rows: number }> = [];
const figures: string[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'queue-test-'));

const workflows = {
	users: importUsersWorkflow('queueImportUsers', 'queue-import-users', 'sandboxRimdian', 4),
	kill: importUsersWorkflow('queueKillImport', 'queue-kill-import', 'sandboxRimdian', 1),
	upload: uploadFileWorkflow('queueUploadFile', 'queue-upload-file', 'sandboxUserpilot', 'userpilot'),
	resume: uploadFileWorkflow('queueResumeFile', 'queue-resume-file', 'sandboxRimdian', 'rimdian'),
};

let workersStarted = 0;
async function addWorker(): Promise<N8nProcess> {
	const worker = await startWorker(n8n, `worker-${++workersStarted}`, CONCURRENCY);
	workers.push(worker);
	allWorkers.push(worker);
	return worker;
}

/** The workers that logged starting this execution (none: an empty list). */
function workersOf(executionId: string): string[] {
	return allWorkers.filter((w) => executionsStartedBy(w).includes(executionId)).map((w) => w.name);
}

interface ImportAnswer {
	executionId: string;
	items: number;
	accepted: number;
}

async function postJson<T>(webhookPath: string, body: unknown): Promise<{ status: number; body: T; text: string }> {
	const response = await fetch(main.webhookUrl(webhookPath), {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
		signal: AbortSignal.timeout(240_000),
	});
	const text = await response.text();
	let parsed: T;
	try {
		parsed = JSON.parse(text) as T;
	} catch {
		parsed = undefined as T;
	}
	return { status: response.status, body: parsed, text };
}

/** Streams a file as the body of a webhook call (not buffered: the file may be over 100 MB). */
async function postFile<T>(webhookPath: string, file: string, fileName: string, query = ''): Promise<{ status: number; body: T; text: string }> {
	const url = new URL(main.webhookUrl(webhookPath) + query);
	return await new Promise((resolve, reject) => {
		const request = http.request(
			url,
			{
				method: 'POST',
				headers: {
					'content-type': 'text/csv',
					'content-length': fs.statSync(file).size,
					'content-disposition': `attachment; filename="${fileName}"`,
				},
				timeout: 240_000,
			},
			(response) => {
				let text = '';
				response.setEncoding('utf8');
				response.on('data', (chunk: string) => (text += chunk));
				response.on('end', () => {
					let body: T;
					try {
						body = JSON.parse(text) as T;
					} catch {
						body = undefined as T;
					}
					resolve({ status: response.statusCode ?? 0, body, text });
				});
			},
		);
		request.on('timeout', () => request.destroy(new Error('upload timed out')));
		request.on('error', reject);
		fs.createReadStream(file).pipe(request);
	});
}

/** CPU seconds used so far by the main, each running worker, and this process (the sandbox). */
function cpuSnapshot(): Map<string, number> {
	const snapshot = new Map<string, number>();
	snapshot.set('main', cpuSeconds(main.pid) ?? NaN);
	for (const worker of workers) snapshot.set(worker.name, cpuSeconds(worker.pid) ?? NaN);
	const own = process.cpuUsage();
	snapshot.set('sandbox (test process)', (own.user + own.system) / 1e6);
	return snapshot;
}

/** Mean time per execution of each node, and of the whole execution as n8n stored it. */
async function meanTimes(answers: ImportAnswer[]): Promise<string> {
	const sums: Record<string, number> = {};
	let wall = 0;
	for (const answer of answers) {
		for (const [node, ms] of Object.entries(await rest.nodeTimes(answer.executionId))) sums[node] = (sums[node] ?? 0) + ms;
		const execution = await rest.execution(answer.executionId);
		wall += Date.parse(String(execution.stoppedAt)) - Date.parse(String(execution.startedAt));
	}
	const mean = (ms: number) => `${Math.round(ms / answers.length)} ms`;
	return `per execution: ${mean(wall)} in all, ${Object.entries(sums).map(([node, ms]) => `${node} ${mean(ms)}`).join(', ')}`;
}

function cpuSince(before: Map<string, number>): string {
	const now = cpuSnapshot();
	return [...now.entries()].map(([name, seconds]) => `${name} ${(seconds - (before.get(name) ?? 0)).toFixed(1)}`).join(', ');
}

/** `requests` parallel Import Items executions of `perRequest` users each; items per second. */
async function importInParallel(
	label: string,
	requests: number,
	perRequest: number,
): Promise<{ answers: ImportAnswer[]; itemsPerSecond: number; seconds: number; cpu: string }> {
	const cpuBefore = cpuSnapshot();
	const started = Date.now();
	const results = await Promise.all(
		Array.from({ length: requests }, (_, i) => postJson<ImportAnswer>('queue-import-users', { users: users(`${label}-${i}`, perRequest) })),
	);
	const seconds = (Date.now() - started) / 1000;
	const cpu = cpuSince(cpuBefore);
	for (const result of results) assert.equal(result.status, 200, result.text);
	const answers = results.map((r) => r.body);
	return { answers, seconds, itemsPerSecond: (requests * perRequest) / seconds, cpu };
}

/** A Userpilot CSV of `megabytes` MB: track events of about 500 bytes. Returns its row count. */
async function writeBigCsv(file: string, megabytes: number): Promise<number> {
	const out = fs.createWriteStream(file);
	const header = 'event_type,event_name,source,user_id,inserted_at,metadata\n';
	out.write(header);
	const note = 'x'.repeat(400);
	let bytes = header.length;
	let rows = 0;
	const target = megabytes * 1024 * 1024;
	while (bytes < target) {
		let chunk = '';
		for (let i = 0; i < 2000; i++) {
			rows++;
			chunk += `track,imported_event,backend-http,user-${String(rows).padStart(7, '0')},2024-05-0${(rows % 9) + 1} 10:00:00.${String(rows % 1_000_000).padStart(6, '0')},"{""plan"": ""pro"", ""seq"": ${rows}, ""note"": ""${note}""}"\n`;
		}
		bytes += Buffer.byteLength(chunk);
		if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
	}
	await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
	return rows;
}

/** Every worker's output (killed ones too), for a failure message. */
function dumpWorkers(): string {
	return allWorkers.map((w) => `----- ${w.name} (pid ${w.pid}${w.running() ? '' : ', exited'})\n${w.output().slice(-3000)}`).join('\n');
}

const t0 = Date.now();
/** Progress lines with QUEUE_DEBUG=1. */
function debug(line: string) {
	if (process.env.QUEUE_DEBUG === '1') console.log(`[queue +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
}

function print(line: string) {
	line += ` [load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores]`;
	figures.push(line);
	console.log(`[queue] ${line}`);
}

before(async () => {
	sandbox = await startSandbox({ jobStepMs: 50 });
	evidenceServer = http.createServer((req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (chunk: string) => (body += chunk));
		req.on('end', () => {
			evidence.push(JSON.parse(body) as (typeof evidence)[number]);
			res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
		});
	});
	await new Promise<void>((resolve) => evidenceServer.listen(0, '127.0.0.1', resolve));
	const evidenceUrl = `http://127.0.0.1:${(evidenceServer.address() as AddressInfo).port}/evidence`;

	redis = await startRedis();
	n8n = await createN8n({ env: queueEnv(redis.port) });
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflows([...Object.values(workflows), jobStatusWorkflow('queueJobStatus', 'sandboxUserpilot', evidenceUrl)]);
	const activated = await n8n.run(['update:workflow', '--all', '--active=true']);
	assert.equal(activated.exitCode, 0, activated.stdout + activated.stderr);
	// The main and the first worker start together (both only read the migrated database).
	const [started] = await Promise.all([n8n.start({ env: { N8N_EVENTBUS_LOGWRITER_LOGBASENAME: 'n8nEventLog-main' } }), addWorker()]);
	main = started;
	rest = await restClient(main.baseUrl);
});

after(async () => {
	await Promise.all(workers.map((w) => w.stop(15_000)));
	await n8n?.dispose();
	await redis?.stop();
	await sandbox?.close();
	await new Promise((resolve) => evidenceServer?.close(resolve));
	fs.rmSync(tmp, { recursive: true, force: true });
	if (figures.length > 0) console.log(`\n[queue] figures\n${figures.map((f) => `  ${f}`).join('\n')}`);
});

test('one worker: parallel Import Items executions, every item arrives once', async () => {
	await sandbox.reset();
	const { answers, itemsPerSecond, seconds, cpu } = await importInParallel('one', REQUESTS, ITEMS_PER_REQUEST);
	const total = REQUESTS * ITEMS_PER_REQUEST;
	for (const answer of answers) assert.deepEqual([answer.items, answer.accepted], [ITEMS_PER_REQUEST, ITEMS_PER_REQUEST]);
	const stats = sandbox.stats().rimdian;
	assert.deepEqual([stats.itemsReceived, stats.itemsStored, stats.duplicatesReceived], [total, total, 0]);
	for (const answer of answers) assert.deepEqual(workersOf(answer.executionId), ['worker-1']);
	print(`one worker  (concurrency ${CONCURRENCY}): ${total} items in ${REQUESTS} executions, ${seconds.toFixed(1)} s = ${Math.round(itemsPerSecond)} items/s (CPU s: ${cpu})`);
	print(`  one worker, ${await meanTimes(answers)}`);
});

test('two workers: the same load is shared between them, every item arrives once', async () => {
	await addWorker();
	await sandbox.reset();
	const { answers, itemsPerSecond, seconds, cpu } = await importInParallel('two', REQUESTS, ITEMS_PER_REQUEST);
	const total = REQUESTS * ITEMS_PER_REQUEST;
	for (const answer of answers) assert.deepEqual([answer.items, answer.accepted], [ITEMS_PER_REQUEST, ITEMS_PER_REQUEST]);
	const stats = sandbox.stats().rimdian;
	assert.deepEqual([stats.itemsReceived, stats.itemsStored, stats.duplicatesReceived], [total, total, 0]);
	const ranOn = answers.map((answer) => workersOf(answer.executionId));
	for (const names of ranOn) assert.equal(names.length, 1, 'each execution ran on exactly one worker');
	const used = new Set(ranOn.flat());
	assert.deepEqual([...used].sort(), ['worker-1', 'worker-2'], `executions by worker: ${JSON.stringify(ranOn)}`);
	print(`two workers (concurrency ${CONCURRENCY} each): ${total} items in ${REQUESTS} executions, ${seconds.toFixed(1)} s = ${Math.round(itemsPerSecond)} items/s (CPU s: ${cpu})`);
	print(`  two workers, ${await meanTimes(answers)}`);
});

test(`a ${BIG_FILE_MB} MB file uploaded through the main is streamed to Userpilot by a worker, while Import Items runs on the other`, async () => {
	await sandbox.reset();
	const file = path.join(tmp, 'events-big.csv');
	const rows = await writeBigCsv(file, BIG_FILE_MB);
	const size = fs.statSync(file).size;
	const started = Date.now();
	const [upload, imports] = await Promise.all([
		postFile<Record<string, unknown>>('queue-upload-file', file, 'events-big.csv'),
		// Started a moment later, so that both workers have work at once.
		sleep(500).then(() => importInParallel('mixed', 4, ITEMS_PER_REQUEST)),
	]);
	const seconds = (Date.now() - started) / 1000;
	assert.equal(upload.status, 200, upload.text);
	const summary = upload.body;
	assert.equal(summary.status, 'completed', JSON.stringify(summary));
	assert.equal(summary.fileSize, size);
	assert.equal(summary.rowsRead, rows);
	assert.equal(summary.totalRows, rows);
	const userpilot = sandbox.stats().userpilot;
	assert.equal(userpilot.uploads, 1, 'one upload: nothing sent twice');
	assert.equal(userpilot.bytes >= size, true, `the sandbox received the whole file (${userpilot.bytes} bytes of ${size})`);
	assert.equal(userpilot.rowsImported, rows);
	const rimdian = sandbox.stats().rimdian;
	assert.deepEqual([rimdian.itemsStored, rimdian.duplicatesReceived], [4 * ITEMS_PER_REQUEST, 0]);
	for (const answer of imports.answers) assert.deepEqual([answer.items, answer.accepted], [ITEMS_PER_REQUEST, ITEMS_PER_REQUEST]);
	// The Webhook node ran in the main, which wrote the body into the binary store; the rest of
	// the execution, Bulk File Import streaming the file from that store, ran on one worker.
	const uploadWorker = workersOf(String(summary.executionId));
	assert.equal(uploadWorker.length, 1);
	print(
		`${(size / 1024 / 1024).toFixed(0)} MB CSV (${rows} rows) uploaded to the main, streamed to Userpilot by ${uploadWorker[0]}: ${seconds.toFixed(1)} s ` +
			`(node ${summary.durationMs} ms), with 4 x ${ITEMS_PER_REQUEST} items imported meanwhile on ${[...new Set(imports.answers.flatMap((a) => workersOf(a.executionId)))].join(', ')}`,
	);
	fs.rmSync(file, { force: true });
});

test('Job Status Trigger: polls on the main only, its executions run on workers, each transition fires once', async () => {
	// A job that fails, beside the completed one of the previous test.
	await fetch(`${sandbox.url}/__sandbox/userpilot/fail-next`, { method: 'POST', body: JSON.stringify({ reason: 'Required field `user_id` not provided in the row' }) });
	const form = new FormData();
	form.append('file', new Blob(['{"event_type":"track","event_name":"x","source":"backend-http","user_id":"u1","inserted_at":"2024-05-01 10:00:00"}\n']), 'will-fail.ndjson');
	const response = await fetch(`${sandbox.url}/v1/imports`, { method: 'POST', headers: { Authorization: `Token ${USERPILOT_KEY}` }, body: form });
	assert.equal(response.status, 200);
	const failedJob = ((await response.json()) as { job_id: string }).job_id;
	const completedJob = sandbox.state.userpilot.jobs.size > 0 ? [...sandbox.state.userpilot.jobs.values()].find((job) => job.status === 'completed')?.job_id : undefined;
	assert.ok(completedJob, 'the big upload left a completed job');

	await waitFor('both transitions', () => evidence.some((e) => e.job_id === failedJob) && evidence.some((e) => e.job_id === completedJob), 60_000, () => JSON.stringify(evidence));
	await sleep(12_000); // two more checks: anything that fires twice does so now
	const ours = evidence.filter((e) => e.job_id === failedJob || e.job_id === completedJob);
	assert.deepEqual(
		ours.map((e) => [e.job_id, e.transition]).sort(),
		[
			[completedJob, 'completed'],
			[failedJob, 'failed'],
		].sort(),
		JSON.stringify(evidence),
	);
	assert.equal(evidence.length, 2, `nothing else fired: ${JSON.stringify(evidence)}`);
	for (const e of evidence) assert.equal(workersOf(e.executionId).length, 1, `execution ${e.executionId} ran on a worker`);
	// The check itself (the node's poll) ran in the main: only its log has the trigger's lines.
	assert.match(n8n.logs(), /Job Status Trigger: baseline taken for Userpilot/);
	for (const worker of allWorkers) assert.doesNotMatch(worker.output(), /Job Status Trigger/);
	// One execution per check that found something (both transitions may come in one).
	const executions = await rest.executions('queueJobStatus');
	assert.deepEqual(executions.map((e) => e.id).sort(), [...new Set(evidence.map((e) => e.executionId))].sort(), JSON.stringify(executions));
	assert.ok(executions.every((e) => e.status === 'success' && e.mode === 'trigger'), JSON.stringify(executions));
});

interface TwiceKilled {
	executionId: string;
	second: N8nProcess;
	storedAtFirstKill: number;
	/** Sandbox stats once the re-run n8n made by itself had re-sent some items. */
	afterRerun: ReturnType<Sandbox['stats']>['rimdian'];
	/** Items stored when the execution had failed. */
	storedAtFailure: number;
	answer: { status: number; text: string };
	execution: Awaited<ReturnType<RestClient['execution']>>;
}

/**
 * Starts an import of `total` Rimdian items (one batch of 100 in flight, each answered after
 * KILL_LATENCY_MS: about 12 s), SIGKILLs the worker running it once a fifth is in, waits for n8n
 * to run the same execution again on another worker (Bull's stalled-job check), SIGKILLs that
 * one too, and returns what the user then has: the webhook's answer and the execution's record.
 * A replacement worker is started after each kill, so that two stay up.
 */
async function killTwice(start: () => Promise<{ status: number; text: string }>, total: number): Promise<TwiceKilled> {
	await sandbox.reset();
	sandbox.configure({ faults: { latencyMs: KILL_LATENCY_MS } });
	const since = Date.now();
	/** Running workers that logged starting the execution (any execution, if no id) from `after` on. */
	const startedOn = (executionId: string | undefined, after: number) =>
		workers.filter((w) => (executionId ? new RegExp(`Worker started execution ${executionId} `) : /Worker started execution /).test(w.outputSince(after)));
	const pending = start();

	// 1. The worker that took it dies once a fifth of the items are in.
	await waitFor('the import to start', () => startedOn(undefined, since).length > 0, 60_000);
	const [first] = startedOn(undefined, since);
	const executionId = (first.outputSince(since).match(/Worker started execution (\S+) /) as RegExpMatchArray)[1];
	await waitFor('a fifth of the items', () => sandbox.stats().rimdian.itemsStored >= total / 5, 120_000);
	assert.deepEqual(
		startedOn(executionId, since).map((w) => w.name),
		[first.name],
		'one worker runs it (two would mean a live worker missed its lock renewal: a machine too loaded for QUEUE_WORKER_LOCK_DURATION)',
	);
	debug(`killing ${first.name}, which runs execution ${executionId}; stored ${sandbox.stats().rimdian.itemsStored}`);
	first.kill('SIGKILL');
	await first.exited;
	const killedAt = Date.now();
	workers.splice(workers.indexOf(first), 1);
	const storedAtFirstKill = sandbox.stats().rimdian.itemsStored;
	const replacement = addWorker();

	// 2. Bull sees the job's lock expire; a surviving worker runs the same execution again from its start.
	await waitFor(`execution ${executionId} to be run again`, () => startedOn(executionId, killedAt).length > 0, 90_000, dumpWorkers);
	const [second] = startedOn(executionId, killedAt);
	debug(`execution ${executionId} started again on ${second.name} ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
	await replacement;
	await waitFor('the re-run to re-send some items', () => sandbox.stats().rimdian.duplicatesReceived >= total / 20, 120_000);
	const afterRerun = sandbox.stats().rimdian;

	// 3. Killed again: past QUEUE_WORKER_MAX_STALLED_COUNT, the execution fails.
	debug(`killing ${second.name}; stored ${afterRerun.itemsStored}, duplicates ${afterRerun.duplicatesReceived}`);
	second.kill('SIGKILL');
	await second.exited;
	workers.splice(workers.indexOf(second), 1);
	const secondReplacement = addWorker();
	const answer = await pending;
	const storedAtFailure = sandbox.stats().rimdian.itemsStored;
	const execution = await rest.execution(executionId);
	await secondReplacement;
	sandbox.configure({ faults: { latencyMs: 0 } });

	assert.ok(storedAtFirstKill < total && storedAtFailure < total, 'the import was cut short');
	assert.equal(afterRerun.itemsReceived - afterRerun.duplicatesReceived, afterRerun.itemsStored, "n8n's re-run stored nothing twice");
	assert.notEqual(answer.status, 200, answer.text);
	assert.ok(['error', 'crashed'].includes(execution.status), JSON.stringify(execution));
	// What the user reads in the execution list: n8n's own message, and no node output at all
	// (the worker died before saving any): how far it came is on the platform's side.
	assert.match(String(execution.data), /failed to be processed too many times/);
	assert.deepEqual(await rest.nodeTimes(executionId), {}, 'no node output was kept');
	await sleep(1000);
	assert.equal(sandbox.stats().rimdian.itemsStored, storedAtFailure, 'nothing arrives after the failure');
	return { executionId, second, storedAtFirstKill, afterRerun, storedAtFailure, answer, execution };
}

test('Import Items, its worker killed: n8n runs the execution once more; killed again, it fails; a re-run completes with nothing lost', async () => {
	const body = { users: users('kill', KILL_ITEMS) };
	const killed = await killTwice(() => postJson<ImportAnswer>('queue-kill-import', body), KILL_ITEMS);
	print(
		`Import Items, worker killed at ${killed.storedAtFirstKill}/${KILL_ITEMS} items stored: execution ${killed.executionId} run again by n8n on ` +
			`${killed.second.name} (${killed.afterRerun.duplicatesReceived} re-sent items dropped by Rimdian as duplicates); killed again: ` +
			`webhook answered ${killed.answer.status}, execution "${killed.execution.status}", ${killed.storedAtFailure} items in`,
	);

	// The user runs it again: the items already in are re-sent and dropped as duplicates by
	// Rimdian (the node serializes them byte-identically); every item ends up stored once.
	const before = sandbox.stats().rimdian;
	const rerun = await postJson<ImportAnswer>('queue-kill-import', body);
	assert.equal(rerun.status, 200, rerun.text);
	assert.deepEqual([rerun.body.items, rerun.body.accepted], [KILL_ITEMS, KILL_ITEMS]);
	const final = sandbox.stats().rimdian;
	assert.equal(final.itemsStored, KILL_ITEMS, 'nothing lost');
	assert.equal(final.itemsReceived - final.duplicatesReceived, KILL_ITEMS, 'each item stored once');
	assert.equal(final.duplicatesReceived - before.duplicatesReceived, killed.storedAtFailure, 'the re-run re-sent exactly what was in');
	print(
		`  re-run as it is on ${workersOf(rerun.body.executionId).join(', ')}: ${final.itemsStored}/${KILL_ITEMS} stored once each, ` +
			`${final.duplicatesReceived - before.duplicatesReceived} re-sent items dropped as duplicates`,
	);
});

test('Bulk File Import, its worker killed: re-run with "Start at Row" after what the platform holds, the file completes with nothing sent twice', async () => {
	const file = path.join(tmp, 'users-resume.csv');
	fs.writeFileSync(
		file,
		'external_id,is_authenticated,created_at,email\n' +
			users('resume', KILL_ITEMS)
				.map((u) => `${u.external_id},true,${u.created_at},${u.email}\n`)
				.join(''),
	);
	const killed = await killTwice(() => postFile('queue-resume-file', file, 'users-resume.csv'), KILL_ITEMS);
	// One batch in flight, rows in file order: what Rimdian holds is the file's first rows.
	const stored = (await sandboxGet<{ items: Array<{ item: { user: { external_id: string } } }> }>(sandbox, `/__sandbox/records/rimdian?limit=${KILL_ITEMS}`)).items
		.map((entry) => entry.item.user.external_id)
		.sort();
	assert.equal(stored.length, killed.storedAtFailure);
	assert.deepEqual(stored, users('resume', killed.storedAtFailure).map((u) => u.external_id), 'the rows in are the first ones');
	const startAtRow = killed.storedAtFailure + 1;
	print(
		`Bulk File Import, worker killed twice: execution "${killed.execution.status}" with no output; Rimdian holds rows 1-${killed.storedAtFailure} ` +
			`of ${KILL_ITEMS}: re-run with Start at Row ${startAtRow}`,
	);

	const before = sandbox.stats().rimdian;
	const rerun = await postFile<Record<string, unknown>>('queue-resume-file', file, 'users-resume.csv', `?startAtRow=${startAtRow}`);
	assert.equal(rerun.status, 200, rerun.text);
	assert.equal(rerun.body.accepted, KILL_ITEMS - killed.storedAtFailure, rerun.text);
	const final = sandbox.stats().rimdian;
	assert.equal(final.itemsStored, KILL_ITEMS, 'nothing lost');
	assert.equal(final.duplicatesReceived, before.duplicatesReceived, 'nothing sent twice by the resumed run');
	print(`  resumed on ${workersOf(String(rerun.body.executionId)).join(', ')}: ${final.itemsStored}/${KILL_ITEMS} rows stored, none sent twice`);
});

test('Bulk File Import to Userpilot, its worker killed while the job runs: n8n\'s re-run finds the uploaded file in the job list and waits for that job, uploading nothing twice', async () => {
	await sandbox.reset();
	// The job stays in "processing" until released, so the worker dies after the upload landed.
	sandbox.configure({ userpilotHoldAt: 'processing' });
	const file = path.join(tmp, 'events-rerun.csv');
	const rows = await writeBigCsv(file, 1);
	const since = Date.now();
	const startedOn = (executionId: string | undefined, after: number) =>
		workers.filter((w) => (executionId ? new RegExp(`Worker started execution ${executionId} `) : /Worker started execution /).test(w.outputSince(after)));
	const pending = postFile<Record<string, unknown>>('queue-upload-file', file, 'events-rerun.csv');
	await waitFor('the upload to land', () => sandbox.stats().userpilot.uploads === 1, 60_000);
	const [first] = startedOn(undefined, since);
	const executionId = (first.outputSince(since).match(/Worker started execution (\S+) /) as RegExpMatchArray)[1];
	first.kill('SIGKILL');
	await first.exited;
	const killedAt = Date.now();
	workers.splice(workers.indexOf(first), 1);
	const replacement = addWorker();
	await waitFor(`execution ${executionId} to be run again`, () => startedOn(executionId, killedAt).length > 0, 90_000, dumpWorkers);
	const [second] = startedOn(executionId, killedAt);
	await replacement;
	// The re-run reads the job list, then polls the job it found (or, without that look-up, would
	// upload again and meet a 409); only then may the job finish.
	const requests = () => Object.values(sandbox.stats().requestsByStatus).reduce((sum, n) => sum + n, 0);
	const atRerun = requests();
	await waitFor('the re-run to reach Userpilot', () => requests() >= atRerun + 3, 60_000);
	sandbox.configure({ userpilotHoldAt: null });
	const answer = await pending;
	assert.equal(answer.status, 200, answer.text);
	assert.equal(answer.body.status, 'completed', answer.text);
	assert.equal(answer.body.totalRows, rows, answer.text);
	const jobIds = [...sandbox.state.userpilot.jobs.keys()];
	assert.equal(sandbox.stats().userpilot.uploads, 1, 'the re-run uploaded nothing');
	assert.deepEqual(answer.body.foundUploaded, jobIds, 'the output names the job the first attempt had created');
	print(
		`Bulk File Import to Userpilot, ${first.name} killed after the upload: execution ${executionId} run again on ${second.name}, ` +
			`which found job ${jobIds[0]} in the job list and waited for it: 1 upload, ${rows} rows, completed`,
	);
	fs.rmSync(file, { force: true });
});

test('no secret in any log line of the main, the workers or Redis', () => {
	assert.deepEqual(findSecrets(n8n.logs()), []);
	for (const worker of allWorkers) assert.deepEqual(findSecrets(worker.output()), [], worker.name);
	assert.deepEqual(findSecrets(redis.logs()), []);
});
