/**
 * The package in n8n's queue mode, as n8n documents it for production: n8n 2.x (Node 24), a
 * PostgreSQL (Debian's `postgresql`, initdb in a temporary folder, 127.0.0.1, a free port), binary
 * data in that database (n8n 2.x's default in queue mode), a Redis (Debian's redis-server, nothing
 * persisted), a main (`n8n start`, EXECUTIONS_MODE=queue) and two `n8n worker` processes, against
 * the sandbox in this process. The settings are those of docs/docker-compose.yml (cluster.ts's
 * queueEnv; test/unit/compose.test.ts keeps the two equal).
 *   npm run test:queue          (n8n 2.x and PostgreSQL; scripts/ensure-debian-packages.sh installs
 *                               redis-server and postgresql, install-n8n2.sh n8n 2.x)
 *   npm run test:queue:n8n1     (n8n 1.123 on one SQLite file in WAL mode, binary data as files)
 *
 * Executions start from webhooks: the main receives the call and puts a job in Redis, a worker
 * runs it; the answer (the last node's first item) carries `$execution.id`, and each worker logs
 * "Worker started execution <id>", so the test knows which worker ran what.
 *
 * Then: a 100 MB CSV posted to a Webhook on the main, stored in PostgreSQL, read and streamed to
 * Userpilot by a worker (the worker's peak memory measured); the Job Status Trigger polling in the
 * main only and firing once per transition; workers SIGKILLed in the middle of imports.
 *
 * Why the n8n 1.x / SQLite variant is kept, and only for the worker kills: n8n 2.x never runs a
 * killed worker's execution again (it forces Bull's maxStalledCount to 0: the execution fails),
 * while n8n 1.x runs it once more from its start (QUEUE_WORKER_MAX_STALLED_COUNT, default 1).
 * Only 1.x shows that the nodes' own re-run is safe (Rimdian drops what it has; Userpilot's re-run
 * finds the uploaded file in the job list and uploads nothing twice). Everything else (throughput,
 * the big file, the trigger) the 2.x run shows on the topology n8n supports; 1.x's SQLite and
 * filesystem binary data are not that topology, so they are not measured again there.
 *
 * Figures printed: items per second with one worker and with two (QUEUE_ITEMS_REQUESTS requests
 * of QUEUE_ITEMS_PER_REQUEST items, default 10 x 5,000), CPU seconds per process, and the big
 * upload's wall time and memory. QUEUE_BIG_FILE_MB sets the size of the file (default 100);
 * QUEUE_DATABASE=sqlite picks the 1.x variant's topology; QUEUE_DEBUG=1 prints progress.
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
import { createN8n, DEFAULT_N8N_BIN, memoryOf, type N8nInstance, type StartedN8n } from '../e2e/harness';
import { findSecrets, sandboxCredentials, sandboxGet } from '../e2e/setup';
import {
	cpuSeconds,
	executionsStartedBy,
	queueEnv,
	restClient,
	sleep,
	startPostgres,
	startRedis,
	startWorker,
	treeCpuSeconds,
	waitFor,
	WORKER_CONCURRENCY,
	type N8nProcess,
	type PostgresServer,
	type RedisServer,
	type RestClient,
	unflatten,
} from './cluster';
import { entries, events, importUsersWorkflow, jobStatusWorkflow, uploadFileWorkflow, users } from './workflows';

const numberFromEnv = (name: string, fallback: number) => {
	const value = Number(process.env[name]);
	return Number.isFinite(value) && value > 0 ? value : fallback;
};
const REQUESTS = numberFromEnv('QUEUE_ITEMS_REQUESTS', 10);
const ITEMS_PER_REQUEST = numberFromEnv('QUEUE_ITEMS_PER_REQUEST', 5000);
const BIG_FILE_MB = numberFromEnv('QUEUE_BIG_FILE_MB', 100);
/** Per worker (the compose file's too). */
const CONCURRENCY = WORKER_CONCURRENCY;
/** Items of the import a worker is killed in, and the sandbox's latency per request then. */
const KILL_ITEMS = 6000;
const KILL_LATENCY_MS = 200;

/** The n8n line under test (N8N_BIN, as the harness picks it). */
function n8nMajor(): number {
	const bin = fs.realpathSync(process.env.N8N_BIN || DEFAULT_N8N_BIN);
	return Number((JSON.parse(fs.readFileSync(path.join(path.dirname(path.dirname(bin)), 'package.json'), 'utf8')) as { version: string }).version.split('.')[0]);
}
const N8N_MAJOR = n8nMajor();
const DATABASE = process.env.QUEUE_DATABASE === 'sqlite' ? 'sqlite' : 'postgres';
/** n8n 1.x runs a killed worker's execution once more; n8n 2.x fails it. */
const RERUNS_STALLED = N8N_MAJOR < 2;
/** The Job Status Trigger's longest gap between two checks (n8n 2.x: once a minute at most). */
const POLL_MS = N8N_MAJOR >= 2 ? 60_000 : 5_000;
/** The SQLite variant runs the worker kills only (see the header). */
const only = (what: 'all' | 'kills') => (DATABASE === 'sqlite' && what === 'all' ? { skip: 'n8n 1.x / SQLite variant: worker kills only (see the file header)' } : {});

let postgres: PostgresServer | undefined;
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
	killAyona: importUsersWorkflow('queueKillAyona', 'queue-kill-ayona', 'sandboxAyona', 1, 'ayona'),
	ayona: importUsersWorkflow('queueImportAyona', 'queue-import-ayona', 'sandboxAyona', 4, 'ayona'),
	userpilot: importUsersWorkflow('queueImportUserpilot', 'queue-import-userpilot', 'sandboxUserpilot', 4, 'userpilot'),
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

/** CPU seconds used so far by the main, each running worker (with their task runners), PostgreSQL (all its backends), Redis, and this process (the sandbox). */
function cpuSnapshot(): Map<string, number> {
	const snapshot = new Map<string, number>();
	snapshot.set('main', treeCpuSeconds(main.pid) ?? NaN);
	for (const worker of workers) snapshot.set(worker.name, treeCpuSeconds(worker.pid) ?? NaN);
	if (postgres) snapshot.set('postgres', treeCpuSeconds(postgres.pid) ?? NaN);
	snapshot.set('redis', cpuSeconds(redis.pid) ?? NaN);
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

/** CPU seconds each process used since `before`. */
function cpuDelta(before: Map<string, number>): Map<string, number> {
	return new Map([...cpuSnapshot().entries()].map(([name, seconds]) => [name, seconds - (before.get(name) ?? 0)]));
}

function cpuText(delta: Map<string, number>): string {
	return [...delta.entries()].map(([name, seconds]) => `${name} ${seconds.toFixed(1)}`).join(', ');
}

/** `requests` parallel Import Items executions of `perRequest` users each; items per second. */
async function importInParallel(
	label: string,
	requests: number,
	perRequest: number,
): Promise<{ answers: ImportAnswer[]; itemsPerSecond: number; seconds: number; cpu: string; cpuByProcess: Map<string, number> }> {
	const cpuBefore = cpuSnapshot();
	const started = Date.now();
	const results = await Promise.all(
		Array.from({ length: requests }, (_, i) => postJson<ImportAnswer>('queue-import-users', { users: users(`${label}-${i}`, perRequest) })),
	);
	const seconds = (Date.now() - started) / 1000;
	const cpuByProcess = cpuDelta(cpuBefore);
	const cpu = cpuText(cpuByProcess);
	for (const result of results) assert.equal(result.status, 200, result.text);
	const answers = results.map((r) => r.body);
	return { answers, seconds, itemsPerSecond: (requests * perRequest) / seconds, cpu, cpuByProcess };
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
	if (DATABASE === 'postgres') {
		postgres = await startPostgres();
		// The harness's SQLite template database does not apply (and would migrate this PostgreSQL
		// under another encryption key).
		process.env.N8N_E2E_DB_TEMPLATE = '0';
	}
	n8n = await createN8n({ env: queueEnv(redis.port, postgres ? { database: 'postgres', postgresPort: postgres.port } : { database: 'sqlite' }) });
	await n8n.importCredentials(sandboxCredentials(sandbox));
	const all = [...Object.values(workflows), { ...jobStatusWorkflow('queueJobStatus', 'sandboxUserpilot', evidenceUrl, N8N_MAJOR >= 2), active: false }];
	const ids = await n8n.importWorkflows(all);
	if (N8N_MAJOR >= 2) {
		// n8n 2.x publishes one workflow per command (`update:workflow --all` no longer does):
		// side by side, PostgreSQL takes the writes at once.
		await Promise.all(ids.map((id) => n8n.activateWorkflow(id)));
	} else {
		const activated = await n8n.run(['update:workflow', '--all', '--active=true']);
		assert.equal(activated.exitCode, 0, activated.stdout + activated.stderr);
	}
	// The main and the first worker start together (both only read the migrated database).
	const logFrom = n8n.logs().length;
	const [started] = await Promise.all([n8n.start({ env: { N8N_EVENTBUS_LOGWRITER_LOGBASENAME: 'n8nEventLog-main' } }), addWorker()]);
	main = started;
	// Seen on n8n 2.x under load: the first webhook call answered 404 "not registered" just after
	// the main was up. A GET to a registered POST webhook answers "not registered for GET
	// requests" (and runs nothing): wait for that on every path.
	const paths = Object.values(workflows).map((wf) => String(wf.nodes[0].parameters.path));
	let lastAnswer = '';
	await waitFor(
		'the main to register every webhook',
		async () => {
			const answers = await Promise.all(paths.map(async (p) => await (await fetch(main.webhookUrl(p))).text()));
			lastAnswer = answers.join('\n');
			return answers.every((text) => text.includes('not registered for GET requests'));
		},
		60_000,
		() => `${lastAnswer}\n${n8n.logs().slice(logFrom).slice(-3000)}`,
	);
	rest = await restClient(main.baseUrl);
});

after(async () => {
	await Promise.all(workers.map((w) => w.stop(15_000)));
	await n8n?.dispose();
	await redis?.stop();
	await postgres?.stop();
	await sandbox?.close();
	await new Promise((resolve) => evidenceServer?.close(resolve));
	fs.rmSync(tmp, { recursive: true, force: true });
	if (figures.length > 0) console.log(`\n[queue] figures\n${figures.map((f) => `  ${f}`).join('\n')}`);
});

test('one worker: parallel Import Items executions, every item arrives once', only('all'), async () => {
	// A warm-up, not measured: the first executions after start-up cost the main and the worker
	// more CPU (compilation, caches), which would count against one worker only.
	await importInParallel('warm-up', 2, 1000);
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

/** Two workers up (the 1.x variant skips the one-worker test). */
async function twoWorkers(): Promise<void> {
	while (workers.length < 2) await addWorker();
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (Linux: clear_refs 5); false if it cannot. */
function resetPeakMemory(pid: number | undefined): boolean {
	try {
		if (pid === undefined) return false;
		fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
		return true;
	} catch {
		return false;
	}
}
const mib = (bytes: number | undefined) => (bytes === undefined ? '?' : `${Math.round(bytes / 1024 / 1024)} MiB`);

/** A Userpilot job that fails, for the Job Status Trigger (created once its baseline is taken). */
let failedJob: string | undefined;
async function startFailingJob(): Promise<string> {
	await waitFor('the Job Status Trigger\'s first check (its baseline)', () => /Job Status Trigger: baseline taken for Userpilot/.test(n8n.logs()), POLL_MS + 30_000);
	await fetch(`${sandbox.url}/__sandbox/userpilot/fail-next`, { method: 'POST', body: JSON.stringify({ reason: 'Required field `user_id` not provided in the row' }) });
	const form = new FormData();
	form.append('file', new Blob(['{"event_type":"track","event_name":"x","source":"backend-http","user_id":"u1","inserted_at":"2024-05-01 10:00:00"}\n']), 'will-fail.ndjson');
	const response = await fetch(`${sandbox.url}/v1/imports`, { method: 'POST', headers: { Authorization: `Token ${USERPILOT_KEY}` }, body: form });
	assert.equal(response.status, 200);
	return ((await response.json()) as { job_id: string }).job_id;
}

test('two workers: the same load is shared between them, every item arrives once', only('all'), async () => {
	await twoWorkers();
	await sandbox.reset();
	const { answers, itemsPerSecond, seconds, cpu, cpuByProcess } = await importInParallel('two', REQUESTS, ITEMS_PER_REQUEST);
	const total = REQUESTS * ITEMS_PER_REQUEST;
	for (const answer of answers) assert.deepEqual([answer.items, answer.accepted], [ITEMS_PER_REQUEST, ITEMS_PER_REQUEST]);
	const stats = sandbox.stats().rimdian;
	assert.deepEqual([stats.itemsReceived, stats.itemsStored, stats.duplicatesReceived], [total, total, 0]);
	const ranOn = answers.map((answer) => workersOf(answer.executionId));
	for (const names of ranOn) assert.equal(names.length, 1, 'each execution ran on exactly one worker');
	const used = new Set(ranOn.flat());
	assert.deepEqual([...used].sort(), ['worker-1', 'worker-2'], `executions by worker: ${JSON.stringify(ranOn)}`);
	print(`two workers (concurrency ${CONCURRENCY} each): ${total} items in ${REQUESTS} executions, ${seconds.toFixed(1)} s = ${Math.round(itemsPerSecond)} items/s (CPU s: ${cpu})`);
	// What limits it: on these 2 cores, the CPU of all processes together; with a core per process
	// (4 or more cores, or other machines), the busiest single process (each is one Node.js thread;
	// PostgreSQL's backends are several processes).
	const perProcess = (name: string) => cpuByProcess.get(name) ?? NaN;
	const allCpu = [...cpuByProcess.values()].reduce((sum, value) => sum + value, 0);
	const workerCpu = Math.max(perProcess('worker-1'), perProcess('worker-2'));
	const bound = (cpuSeconds: number) => Math.round(total / cpuSeconds);
	print(
		`  CPU per process for ${total} items: all ${allCpu.toFixed(1)} s = ${(allCpu / seconds / os.cpus().length * 100).toFixed(0)}% of ${os.cpus().length} cores over ${seconds.toFixed(1)} s; ` +
			`bound with a core per process: main ${bound(perProcess('main'))} items/s, each worker ${bound(workerCpu)} items/s (x2 = ${2 * bound(workerCpu)})` +
			(postgres ? `, postgres ${bound(perProcess('postgres'))} items/s` : '') +
			` => two workers on 4+ cores: about ${Math.min(bound(perProcess('main')), 2 * bound(workerCpu), postgres ? bound(perProcess('postgres')) : Infinity)} items/s`,
	);
	print(`  two workers, ${await meanTimes(answers)}`);
});

test('two workers: Import Items into Userpilot and Ayona too, executions spread over both, every record arrives once', only('all'), async () => {
	await twoWorkers();
	await sandbox.reset();
	const perRequest = 1000;
	const requests = 4;
	const calls = [
		...Array.from({ length: requests }, (_, i) => postJson<ImportAnswer>('queue-import-userpilot', { events: events(`up-${i}`, perRequest) })),
		...Array.from({ length: requests }, (_, i) => postJson<ImportAnswer>('queue-import-ayona', { entries: entries(`ay-${i}`, perRequest) })),
	];
	const results = await Promise.all(calls);
	for (const result of results) assert.equal(result.status, 200, result.text);
	for (const result of results) assert.equal(result.body.items, perRequest, result.text);
	const stats = sandbox.stats();
	assert.equal(stats.userpilot.uploads, requests, 'one Userpilot upload per execution');
	assert.equal(stats.userpilot.rowsImported, requests * perRequest, 'every event imported');
	assert.equal(stats.ayona.entriesStored, requests * perRequest, 'every entry stored');
	const contents = (await sandboxGet<{ entries: Array<{ content: string }> }>(sandbox, `/__sandbox/records/ayona?limit=${2 * requests * perRequest}`)).entries.map((e) => e.content);
	assert.equal(new Set(contents).size, contents.length, 'no Ayona entry twice');
	const ranOn = results.map((r) => workersOf(r.body.executionId));
	for (const names of ranOn) assert.equal(names.length, 1, 'each execution ran on exactly one worker');
	assert.deepEqual([...new Set(ranOn.flat())].sort(), workers.map((w) => w.name).sort(), `executions by worker: ${JSON.stringify(ranOn)}`);
	print(`Userpilot and Ayona: ${requests} x ${perRequest} each, executions on ${JSON.stringify(ranOn.map((names) => names[0]))}; ${stats.userpilot.uploads} uploads, ${stats.userpilot.rowsImported} events, ${stats.ayona.entriesStored} entries`);
});

test(`a ${BIG_FILE_MB} MB file uploaded through the main is streamed to Userpilot by a worker, while Import Items runs on the other`, only('all'), async () => {
	await twoWorkers();
	await sandbox.reset();
	// The Job Status Trigger's failed job, started now: its check runs during the upload.
	failedJob = await startFailingJob();
	const file = path.join(tmp, 'events-big.csv');
	const rows = await writeBigCsv(file, BIG_FILE_MB);
	const size = fs.statSync(file).size;
	const peaksReset = [main.pid, ...workers.map((w) => w.pid)].map(resetPeakMemory).every(Boolean);
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
	assert.equal(userpilot.uploads, 2, 'one upload (and the failing job\'s): nothing sent twice');
	assert.equal(userpilot.bytes >= size, true, `the sandbox received the whole file (${userpilot.bytes} bytes of ${size})`);
	assert.equal(userpilot.rowsImported, rows, 'every row of the file was imported');
	const rimdian = sandbox.stats().rimdian;
	assert.deepEqual([rimdian.itemsStored, rimdian.duplicatesReceived], [4 * ITEMS_PER_REQUEST, 0]);
	for (const answer of imports.answers) assert.deepEqual([answer.items, answer.accepted], [ITEMS_PER_REQUEST, ITEMS_PER_REQUEST]);
	// The Webhook node ran in the main, which wrote the body into the binary store; the rest of
	// the execution, Bulk File Import streaming the file from that store, ran on one worker.
	const uploadWorker = workersOf(String(summary.executionId));
	assert.equal(uploadWorker.length, 1);
	const worker = workers.find((w) => w.name === uploadWorker[0]);
	// Peak RSS since just before the upload (the worker also ran some of the imports meanwhile).
	const peaks = `peak RSS${peaksReset ? ' during the upload' : ' (process lifetime: clear_refs not writable)'}: ${uploadWorker[0]} ${mib(memoryOf(worker?.pid ?? -1)?.hwm)}, main ${mib(memoryOf(main.pid ?? -1)?.hwm)}`;
	print(
		`${(size / 1024 / 1024).toFixed(0)} MB CSV (${rows} rows) posted to the main (binary data: ${n8n.env.N8N_DEFAULT_BINARY_DATA_MODE}), streamed to Userpilot by ${uploadWorker[0]}: ${seconds.toFixed(1)} s ` +
			`(node ${summary.durationMs} ms), with 4 x ${ITEMS_PER_REQUEST} items imported meanwhile on ${[...new Set(imports.answers.flatMap((a) => workersOf(a.executionId)))].join(', ')}; ${peaks}`,
	);
	fs.rmSync(file, { force: true });
});

/** When both transitions of the trigger test had fired; the closing check waits one poll past it. */
let triggerFiredAt = 0;
let triggerJobs: string[] = [];

test('Job Status Trigger: with the main and two workers running, both transitions fire; the check runs in the main, the executions on workers', only('all'), async () => {
	// The job that fails (started before the big upload) and the one the upload completed.
	assert.ok(failedJob, 'the big-file test started the failing job');
	const completedJob = [...sandbox.state.userpilot.jobs.values()].find((job) => job.status === 'completed')?.job_id;
	assert.ok(completedJob, 'the big upload left a completed job');
	triggerJobs = [completedJob, failedJob];
	await waitFor('both transitions', () => evidence.some((e) => e.job_id === failedJob) && evidence.some((e) => e.job_id === completedJob), 2 * POLL_MS + 30_000, () => JSON.stringify(evidence));
	triggerFiredAt = Date.now();
	for (const e of evidence) assert.equal(workersOf(e.executionId).length, 1, `execution ${e.executionId} ran on a worker`);
	// The check itself (the node's poll) ran in the main: only its log has the trigger's lines.
	assert.match(n8n.logs(), /Job Status Trigger: baseline taken for Userpilot/);
	for (const worker of allWorkers) assert.doesNotMatch(worker.output(), /Job Status Trigger/);
});

/** Running workers that logged starting the execution (any execution, if no id) from `after` on. */
function startedOn(executionId: string | undefined, after: number): N8nProcess[] {
	const pattern = executionId ? new RegExp(`Worker started execution ${executionId} `) : /Worker started execution /;
	return workers.filter((w) => pattern.test(w.outputSince(after)));
}

/** The worker that started an execution from `since` on, and that execution's id. */
async function firstStarted(since: number): Promise<{ worker: N8nProcess; executionId: string }> {
	await waitFor('an execution to start', () => startedOn(undefined, since).length > 0, 60_000, dumpWorkers);
	const [worker] = startedOn(undefined, since);
	return { worker, executionId: (worker.outputSince(since).match(/Worker started execution (\S+) /) as RegExpMatchArray)[1] };
}

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
	await twoWorkers();
	await sandbox.reset();
	sandbox.configure({ faults: { latencyMs: KILL_LATENCY_MS } });
	const since = Date.now();
	const pending = start();

	// 1. The worker that took it dies once a fifth of the items are in.
	const { worker: first, executionId } = await firstStarted(since);
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

const onlyRerunning = RERUNS_STALLED ? {} : { skip: 'n8n 2.x never runs a killed worker\'s execution again' };

test('Import Items, its worker killed: n8n runs the execution once more; killed again, it fails; a re-run completes with nothing lost', onlyRerunning, async () => {
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

test('Bulk File Import, its worker killed: re-run with "Start at Row" after what the platform holds, the file completes with nothing sent twice', onlyRerunning, async () => {
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

test('Bulk File Import to Userpilot, its worker killed while the job runs: n8n\'s re-run finds the uploaded file in the job list and waits for that job, uploading nothing twice', onlyRerunning, async () => {
	await twoWorkers();
	await sandbox.reset();
	// The job stays in "processing" until released, so the worker dies after the upload landed.
	sandbox.configure({ userpilotHoldAt: 'processing' });
	const file = path.join(tmp, 'events-rerun.csv');
	const rows = await writeBigCsv(file, 1);
	const since = Date.now();
	const pending = postFile<Record<string, unknown>>('queue-upload-file', file, 'events-rerun.csv');
	await waitFor('the upload to land', () => sandbox.stats().userpilot.uploads === 1, 60_000);
	const { worker: first, executionId } = await firstStarted(since);
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

// ---------------------------------------------------------------------------------------------
// n8n 2.x: a killed worker's execution fails (Bull's maxStalledCount forced to 0), nothing re-runs
// ---------------------------------------------------------------------------------------------

const onlyFailing = RERUNS_STALLED ? { skip: 'n8n 1.x runs a killed worker\'s execution again (the tests above)' } : {};

interface KilledOnce {
	executionId: string;
	killed: N8nProcess;
	/** What the platform held when the worker died, and when the execution had failed. */
	storedAtKill: number;
	storedAtFailure: number;
	/** Seconds from the kill to the webhook's answer. */
	answeredAfter: number;
	answer: { status: number; text: string };
	execution: Awaited<ReturnType<RestClient['execution']>>;
	/** The execution's error message, as the execution list shows it. */
	error: string;
}

/**
 * Starts an execution, SIGKILLs the worker running it once `killWhen()` holds, starts a
 * replacement, and returns what the user then has: the webhook's answer, the execution's record,
 * and what the platform holds (`stored()`). Checks that no worker ran the execution again and
 * that nothing arrived once it had failed.
 */
async function killOnce(start: () => Promise<{ status: number; text: string }>, killWhen: () => boolean, stored: () => number): Promise<KilledOnce> {
	await twoWorkers();
	const since = Date.now();
	const pending = start();
	const { worker: killed, executionId } = await firstStarted(since);
	await waitFor('the moment to kill', killWhen, 120_000, dumpWorkers);
	debug(`killing ${killed.name}, which runs execution ${executionId}; platform holds ${stored()}`);
	killed.kill('SIGKILL');
	await killed.exited;
	const killedAt = Date.now();
	workers.splice(workers.indexOf(killed), 1);
	const storedAtKill = stored();
	const replacement = addWorker();
	const answer = await pending;
	const answeredAfter = (Date.now() - killedAt) / 1000;
	debug(`answered ${answer.status} after ${answeredAfter.toFixed(1)} s: ${answer.text.slice(0, 300)}`);
	await replacement;
	await sleep(2000);
	const storedAtFailure = stored();
	const execution = await rest.execution(executionId);
	assert.deepEqual(startedOn(executionId, killedAt).map((w) => w.name), [], 'no worker ran the execution again');
	assert.equal(execution.status, 'error', JSON.stringify({ ...execution, data: undefined, workflowData: undefined }));
	const error = (unflatten(String(execution.data ?? '[{}]')) as { resultData?: { error?: { message?: string } } }).resultData?.error?.message ?? '';
	debug(`execution ${executionId} error: ${error}`);
	assert.deepEqual(await rest.nodeTimes(executionId), {}, 'no node output was kept');
	assert.notEqual(answer.status, 200, answer.text);
	assert.equal(storedAtFailure, storedAtKill, 'nothing arrived after the worker died');
	return { executionId, killed, storedAtKill, storedAtFailure, answeredAfter, answer, execution, error };
}

test('Import Items into Ayona (no item key), its worker killed: the execution fails and nothing is sent twice; a re-run with "Start at Item" after what Ayona holds completes', onlyFailing, async () => {
	await sandbox.reset();
	sandbox.configure({ faults: { latencyMs: KILL_LATENCY_MS } });
	const body = { entries: entries('kill', KILL_ITEMS) };
	const stored = () => sandbox.stats().ayona.entriesStored;
	const killed = await killOnce(() => postJson<ImportAnswer>('queue-kill-ayona', body), () => stored() >= KILL_ITEMS / 5, stored);
	sandbox.configure({ faults: { latencyMs: 0 } });
	assert.ok(killed.storedAtFailure < KILL_ITEMS, 'the import was cut short');
	const contents = async () =>
		(await sandboxGet<{ entries: Array<{ content: string }> }>(sandbox, `/__sandbox/records/ayona?limit=${2 * KILL_ITEMS}`)).entries.map((e) => e.content);
	// One batch in flight, items in order: what Ayona holds is the first entries, each once.
	assert.deepEqual(await contents(), entries('kill', killed.storedAtFailure).map((e) => e.content), 'Ayona holds the first entries, once each');
	print(
		`Import Items into Ayona, ${killed.killed.name} killed at ${killed.storedAtKill}/${KILL_ITEMS} entries: no re-run, webhook answered ${killed.answer.status} ` +
			`${killed.answeredAfter.toFixed(1)} s later, execution "${killed.execution.status}" ("${killed.error}"); Ayona holds entries 1-${killed.storedAtFailure}, none twice`,
	);

	const startAtItem = killed.storedAtFailure + 1;
	const rerun = await postJson<ImportAnswer>(`queue-kill-ayona?startAtItem=${startAtItem}`, body);
	assert.equal(rerun.status, 200, rerun.text);
	assert.deepEqual([rerun.body.items, rerun.body.accepted], [KILL_ITEMS, KILL_ITEMS - killed.storedAtFailure], rerun.text);
	const all = await contents();
	assert.equal(all.length, KILL_ITEMS, 'nothing lost, nothing twice');
	assert.deepEqual([...new Set(all)].sort(), entries('kill', KILL_ITEMS).map((e) => e.content).sort());
	print(`  re-run with Start at Item ${startAtItem} on ${workersOf(rerun.body.executionId).join(', ')}: ${all.length}/${KILL_ITEMS} entries in Ayona, each once`);
});

test('Bulk File Import to Userpilot, its worker killed after the upload: the execution fails, nothing is uploaded again, the job completes with every row', onlyFailing, async () => {
	await sandbox.reset();
	// The job stays in "processing" until released, so the worker dies after the upload landed.
	sandbox.configure({ userpilotHoldAt: 'processing' });
	const file = path.join(tmp, 'events-killed.csv');
	const rows = await writeBigCsv(file, 1);
	const killed = await killOnce(
		() => postFile<Record<string, unknown>>('queue-upload-file', file, 'events-killed.csv'),
		() => sandbox.stats().userpilot.uploads === 1,
		() => sandbox.stats().userpilot.uploads,
	);
	sandbox.configure({ userpilotHoldAt: null });
	const jobs = [...sandbox.state.userpilot.jobs.values()];
	await waitFor('the job to complete', () => jobs.every((job) => job.status === 'completed'), 30_000, () => JSON.stringify(jobs));
	assert.equal(sandbox.stats().userpilot.uploads, 1, 'one upload');
	assert.equal(sandbox.stats().userpilot.rowsImported, rows, 'every row is in');
	print(
		`Bulk File Import to Userpilot, ${killed.killed.name} killed after the upload: no re-run, webhook answered ${killed.answer.status} ` +
			`${killed.answeredAfter.toFixed(1)} s later, execution "${killed.execution.status}"; 1 upload, the job completed with ${rows} rows`,
	);
	fs.rmSync(file, { force: true });
});

test('Job Status Trigger, checked again after the worker kills: each transition fired once', only('all'), async () => {
	assert.ok(triggerFiredAt > 0, 'the trigger test saw both transitions');
	// At least one more check after both fired (the kill tests mostly cover the wait).
	await sleep(Math.max(0, triggerFiredAt + POLL_MS + 5_000 - Date.now()));
	const [completedJob, failedJob] = triggerJobs;
	const ours = evidence.filter((e) => triggerJobs.includes(e.job_id));
	assert.deepEqual(
		ours.map((e) => [e.job_id, e.transition]).sort(),
		[
			[completedJob, 'completed'],
			[failedJob, 'failed'],
		].sort(),
		JSON.stringify(evidence),
	);
	// Jobs of the later tests fire too, each transition once.
	const pairs = evidence.map((e) => `${e.job_id} ${e.transition}`);
	assert.equal(new Set(pairs).size, pairs.length, `nothing fired twice: ${JSON.stringify(evidence)}`);
	for (const worker of allWorkers) assert.doesNotMatch(worker.output(), /Job Status Trigger/);
	// One execution per check that found something (both transitions may come in one).
	const executions = await rest.executions('queueJobStatus');
	assert.deepEqual(executions.map((e) => e.id).sort(), [...new Set(evidence.map((e) => e.executionId))].sort(), JSON.stringify(executions));
	assert.ok(executions.every((e) => e.status === 'success' && e.mode === 'trigger'), JSON.stringify(executions));
	print(`Job Status Trigger: ${evidence.length} transitions, each fired once, in ${executions.length} executions on ${[...new Set(evidence.flatMap((e) => workersOf(e.executionId)))].join(', ')}`);
});

test('no secret in any log line of the main, the workers or Redis', () => {
	assert.deepEqual(findSecrets(n8n.logs()), []);
	for (const worker of allWorkers) assert.deepEqual(findSecrets(worker.output()), [], worker.name);
	assert.deepEqual(findSecrets(redis.logs()), []);
});
