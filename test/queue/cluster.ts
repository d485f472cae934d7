/**
 * What the queue-mode test needs besides the e2e harness: a throw-away Redis server, long-running
 * n8n processes (`n8n worker`) with their logs, and a logged-in client of the main's REST API.
 *
 * The harness (test/e2e/harness.ts) gives the user folder, environment and installed package;
 * `run()` waits for a command to exit, so workers are spawned here with `n8n.env`, `n8n.nodeBin`
 * and `n8n.n8nBin`, like the harness spawns `n8n start`.
 *
 * Node built-ins only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { findFreePort, type N8nInstance } from '../e2e/harness';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every 200 ms; throws with `describe()` after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number, describe?: () => string): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (await predicate()) return;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `\n${describe()}` : ''}`);
		await sleep(200);
	}
}

// ---------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------

/** Where Debian's redis-server is, or undefined. */
export function redisServerBinary(): string | undefined {
	for (const candidate of [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
		if (candidate && fs.existsSync(candidate)) return candidate;
	}
	const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
	const found = which.stdout.trim();
	return which.status === 0 && found ? found : undefined;
}

export interface RedisServer {
	port: number;
	pid: number | undefined;
	/** Sends one command (RESP) and returns the raw first answer line(s). */
	command(...args: string[]): Promise<string>;
	logs(): string;
	stop(): Promise<void>;
}

function resp(args: string[]): string {
	return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

async function redisCommand(port: number, args: string[], timeoutMs = 2000): Promise<string> {
	return await new Promise((resolve, reject) => {
		const socket = net.connect(port, '127.0.0.1');
		let answer = '';
		const timer = setTimeout(() => socket.destroy(new Error('redis: no answer')), timeoutMs);
		socket.setEncoding('utf8');
		socket.on('connect', () => socket.write(resp(args)));
		socket.on('data', (chunk: string) => {
			answer += chunk;
			if (answer.endsWith('\r\n')) {
				clearTimeout(timer);
				socket.end();
				resolve(answer);
			}
		});
		socket.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
	});
}

/** Stops a server: `signal`, SIGKILL after `graceMs`; then removes its folder. */
function stopper(child: ChildProcess, signal: NodeJS.Signals, graceMs: number, dir: string): () => Promise<void> {
	const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
	return async () => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill(signal);
			const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
			if (!done) {
				child.kill('SIGKILL');
				await exited;
			}
		}
		await fsp.rm(dir, { recursive: true, force: true });
	};
}

/**
 * A Redis server on 127.0.0.1 and a free port, persisting nothing (`--save ''`, no AOF), in a
 * temporary folder; stopped (SIGTERM, then SIGKILL) by `stop()`.
 */
export async function startRedis(): Promise<RedisServer> {
	const binary = redisServerBinary();
	if (!binary) {
		throw new Error(
			'redis-server is not installed: `apt-get install -y redis-server` (Debian), or `bash scripts/ensure-debian-packages.sh redis-server`; .ci/run installs it',
		);
	}
	const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'queue-redis-'));
	const port = await findFreePort();
	const child = spawn(
		binary,
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'notice'],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	let output = '';
	child.stdout?.setEncoding('utf8');
	child.stderr?.setEncoding('utf8');
	child.stdout?.on('data', (chunk: string) => (output += chunk));
	child.stderr?.on('data', (chunk: string) => (output += chunk));
	const stop = stopper(child, 'SIGTERM', 5000, dir);
	try {
		await waitFor(
			'redis-server to answer PING',
			async () => {
				if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}):\n${output}`);
				try {
					return (await redisCommand(port, ['PING'], 500)).startsWith('+PONG');
				} catch {
					return false;
				}
			},
			15_000,
			() => output,
		);
	} catch (error) {
		await stop();
		throw error;
	}
	return { port, pid: child.pid, command: (...args) => redisCommand(port, args), logs: () => output, stop };
}

// ---------------------------------------------------------------------------------------------
// Long-running n8n processes
// ---------------------------------------------------------------------------------------------

export interface N8nProcess {
	name: string;
	pid: number | undefined;
	child: ChildProcess;
	/** Everything it printed so far. */
	output(): string;
	/** What it printed from the time `at` (ms since the epoch) on. */
	outputSince(at: number): string;
	/** Resolves when the output matches (searched from `from`, a length of output() seen before). */
	waitForOutput(pattern: RegExp, timeoutMs: number, from?: number): Promise<RegExpMatchArray>;
	running(): boolean;
	exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
	/** SIGTERM (n8n's graceful shutdown), SIGKILL after `graceMs`. */
	stop(graceMs?: number): Promise<void>;
	kill(signal: NodeJS.Signals): void;
}

/** Spawns `n8n <args>` with the instance's environment, in its user folder (as the harness does). */
export function spawnN8n(n8n: N8nInstance, name: string, args: string[], env: Record<string, string> = {}): N8nProcess {
	const child = spawn(n8n.nodeBin, [n8n.n8nBin, ...args], {
		cwd: n8n.userFolder,
		env: { ...n8n.env, ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	const chunks: Array<{ at: number; text: string }> = [];
	for (const stream of [child.stdout, child.stderr]) {
		stream?.setEncoding('utf8');
		stream?.on('data', (chunk: string) => {
			output += chunk;
			chunks.push({ at: Date.now(), text: chunk });
		});
	}
	const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
		child.once('close', (code, signal) => resolve({ code, signal })),
	);
	const running = () => child.exitCode === null && child.signalCode === null;
	return {
		name,
		pid: child.pid,
		child,
		output: () => output,
		outputSince: (at) =>
			chunks
				.filter((chunk) => chunk.at >= at)
				.map((chunk) => chunk.text)
				.join(''),
		running,
		exited,
		kill: (signal) => {
			if (running()) child.kill(signal);
		},
		async waitForOutput(pattern, timeoutMs, from = 0) {
			let match: RegExpMatchArray | null = null;
			await waitFor(
				`${name} to print ${pattern}`,
				() => {
					match = output.slice(from).match(pattern);
					if (!match && !running()) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output.slice(-4000)}`);
					return match !== null;
				},
				timeoutMs,
				() => output.slice(-4000),
			);
			return match as unknown as RegExpMatchArray;
		},
		async stop(graceMs = 20_000) {
			if (!running()) return;
			child.kill('SIGTERM');
			const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
			if (!done) {
				child.kill('SIGKILL');
				await exited;
			}
		},
	};
}

/**
 * `n8n worker --concurrency=N`, resolved once it says it is ready.
 * Each process sharing a user folder needs its own event log (N8N_EVENTBUS_LOGWRITER_LOGBASENAME):
 * at start-up n8n reads `<user folder>/.n8n/<name>.log` and marks every execution it finds
 * unfinished there as crashed, so a worker starting beside a busy one would mark the other's
 * running executions crashed (and a job that Bull hands out again is then skipped).
 */
export async function startWorker(n8n: N8nInstance, name: string, concurrency: number, env: Record<string, string> = {}): Promise<N8nProcess> {
	const worker = spawnN8n(n8n, name, ['worker', `--concurrency=${concurrency}`], {
		N8N_EVENTBUS_LOGWRITER_LOGBASENAME: `n8nEventLog-${name}`,
		// n8n 2.x runs a task broker in every process (5679 by default): one port each.
		N8N_RUNNERS_BROKER_PORT: String(await findFreePort()),
		...env,
	});
	try {
		await worker.waitForOutput(/n8n worker is now ready/, 120_000);
	} catch (error) {
		await worker.stop(2000);
		throw error;
	}
	return worker;
}

/** Execution ids a worker says it started ("Worker started execution 12 (job 5)"). */
export function executionsStartedBy(worker: N8nProcess): string[] {
	return [...worker.output().matchAll(/Worker started execution (\S+) \(job/g)].map((m) => m[1]);
}

// ---------------------------------------------------------------------------------------------
// The main's REST API (what the editor uses), as the instance owner
// ---------------------------------------------------------------------------------------------

export interface ExecutionSummary {
	id: string;
	workflowId: string;
	status: string;
	finished: boolean;
	mode: string;
	startedAt: string | null;
	stoppedAt: string | null;
	[key: string]: unknown;
}

/** Parses n8n's stored execution data (the `flatted` format: objects and strings by index). */
export function unflatten(text: string): unknown {
	const input = JSON.parse(text) as unknown[];
	const revived = new Set<object>();
	const revive = (value: unknown): unknown => {
		if (typeof value !== 'object' || value === null || revived.has(value)) return value;
		revived.add(value);
		const record = value as Record<string, unknown>;
		for (const key of Object.keys(record)) {
			const ref = record[key];
			if (typeof ref === 'string') record[key] = revive(input[Number(ref)]);
		}
		return value;
	};
	return revive(input[0]);
}

export interface RestClient {
	get<T>(route: string): Promise<T>;
	executions(workflowId?: string): Promise<ExecutionSummary[]>;
	execution(id: string): Promise<ExecutionSummary & { data?: unknown }>;
	/** Milliseconds each node took in an execution (n8n's own measure, summed over runs). */
	nodeTimes(id: string): Promise<Record<string, number>>;
}

/** Sets the instance owner up (a new instance has none) and keeps the session cookie. */
export async function restClient(baseUrl: string): Promise<RestClient> {
	const owner = { email: 'owner@queue-test.local', firstName: 'Queue', lastName: 'Test', password: 'Queue-test-password-1' };
	const setup = await fetch(`${baseUrl}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(owner),
	});
	let cookie = (setup.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
	if (!setup.ok || !cookie) {
		const login = await fetch(`${baseUrl}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ emailOrLdapLoginId: owner.email, password: owner.password }),
		});
		if (!login.ok) throw new Error(`owner setup (${setup.status}) and login (${login.status}) failed: ${await login.text()}`);
		cookie = (login.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
	}
	const get = async <T>(route: string): Promise<T> => {
		const response = await fetch(`${baseUrl}${route}`, { headers: { cookie } });
		const text = await response.text();
		if (!response.ok) throw new Error(`GET ${route}: ${response.status} ${text.slice(0, 500)}`);
		return (JSON.parse(text) as { data: T }).data;
	};
	return {
		get,
		async executions(workflowId) {
			const filter = encodeURIComponent(JSON.stringify(workflowId ? { workflowId } : {}));
			const page = await get<{ results: ExecutionSummary[] }>(`/rest/executions?filter=${filter}&limit=250`);
			return page.results;
		},
		async execution(id) {
			return await get<ExecutionSummary & { data?: unknown }>(`/rest/executions/${id}`);
		},
		async nodeTimes(id) {
			const execution = await get<{ data?: string }>(`/rest/executions/${id}`);
			const data = unflatten(execution.data ?? '[{}]') as { resultData?: { runData?: Record<string, Array<{ executionTime?: number }>> } };
			const times: Record<string, number> = {};
			for (const [node, runs] of Object.entries(data.resultData?.runData ?? {})) {
				times[node] = runs.reduce((sum, run) => sum + (run.executionTime ?? 0), 0);
			}
			return times;
		},
	};
}

// ---------------------------------------------------------------------------------------------
// CPU time
// ---------------------------------------------------------------------------------------------

let ticksPerSecond: number | undefined;

/** User + system CPU seconds a process has used so far (Linux /proc), or undefined. */
export function cpuSeconds(pid: number | undefined): number | undefined {
	if (pid === undefined) return undefined;
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		// Fields 14 and 15 of proc(5) (utime, stime), counted from the state field (3).
		const ticks = Number(fields[11]) + Number(fields[12]);
		if (ticksPerSecond === undefined) {
			const clk = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim());
			ticksPerSecond = Number.isFinite(clk) && clk > 0 ? clk : 100;
		}
		return ticks / ticksPerSecond;
	} catch {
		return undefined;
	}
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

/** The bin folder of Debian's newest PostgreSQL (/usr/lib/postgresql/<version>/bin), or PG_BIN. */
export function postgresBinDir(): string | undefined {
	if (process.env.PG_BIN && fs.existsSync(path.join(process.env.PG_BIN, 'postgres'))) return process.env.PG_BIN;
	const root = '/usr/lib/postgresql';
	const versions = fs.existsSync(root)
		? fs
				.readdirSync(root)
				.filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres')))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	return versions.length > 0 ? path.join(root, versions[0], 'bin') : undefined;
}

export interface PostgresServer {
	port: number;
	pid: number | undefined;
	/** Database and (superuser) role n8n connects as; trust authentication on 127.0.0.1. */
	database: string;
	user: string;
	logs(): string;
	stop(): Promise<void>;
}

/** uid/gid of the `postgres` system user when this process is root (PostgreSQL refuses to run as root). */
function postgresIds(): { uid: number; gid: number } | undefined {
	if (process.getuid?.() !== 0) return undefined;
	const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
	const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
	if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0) {
		throw new Error('running as root, and there is no `postgres` system user to run PostgreSQL as (Debian\'s postgresql package creates it)');
	}
	return { uid, gid };
}

/**
 * A throw-away PostgreSQL (Debian's `postgresql` package) on 127.0.0.1 and a free port: `initdb` of
 * a new cluster in a temporary folder (role and database "n8n", trust authentication), its unix
 * socket in that folder, durability off (fsync, synchronous_commit, full_page_writes: nothing here
 * outlives the test). Run as the `postgres` system user when this process is root. `stop()` shuts
 * it down (fast mode, then SIGKILL) and removes the folder.
 */
export async function startPostgres(): Promise<PostgresServer> {
	const bin = postgresBinDir();
	if (!bin) {
		throw new Error(
			'PostgreSQL is not installed: `apt-get install -y postgresql` (Debian), or `bash scripts/ensure-debian-packages.sh postgresql`; .ci/run installs it',
		);
	}
	const ids = postgresIds();
	const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'queue-postgres-'));
	const dataDir = path.join(dir, 'data');
	await fsp.mkdir(dataDir, { mode: 0o700 });
	if (ids) {
		await fsp.chown(dir, ids.uid, ids.gid);
		await fsp.chown(dataDir, ids.uid, ids.gid);
	}
	const asPostgres = { ...(ids ?? {}), cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } };
	const user = 'n8n';
	const database = 'n8n';
	const init = spawnSync(path.join(bin, 'initdb'), ['-D', dataDir, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], { ...asPostgres, encoding: 'utf8' });
	if (init.status !== 0) {
		await fsp.rm(dir, { recursive: true, force: true });
		throw new Error(`initdb failed (${init.status ?? init.signal}):\n${init.stdout}\n${init.stderr}`);
	}
	const port = await findFreePort();
	const settings = {
		listen_addresses: '127.0.0.1',
		port: String(port),
		unix_socket_directories: dir,
		fsync: 'off',
		synchronous_commit: 'off',
		full_page_writes: 'off',
		max_connections: '100',
		shared_buffers: '64MB',
		logging_collector: 'off',
	};
	const child = spawn(path.join(bin, 'postgres'), ['-D', dataDir, ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`])], {
		...asPostgres,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	for (const stream of [child.stdout, child.stderr]) {
		stream?.setEncoding('utf8');
		stream?.on('data', (chunk: string) => (output += chunk));
	}
	// SIGINT: PostgreSQL's "fast" shutdown (clients are disconnected, not waited for).
	const stop = stopper(child, 'SIGINT', 10_000, dir);
	try {
		await waitFor(
			'PostgreSQL to accept connections',
			() => {
				if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}):\n${output}`);
				return spawnSync(path.join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', 'postgres', '-q']).status === 0;
			},
			30_000,
			() => output,
		);
		const created = spawnSync(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', user, database], { encoding: 'utf8' });
		if (created.status !== 0) throw new Error(`createdb failed: ${created.stderr}`);
	} catch (error) {
		await stop();
		throw error;
	}
	return { port, pid: child.pid, database, user, logs: () => output, stop };
}

// ---------------------------------------------------------------------------------------------
// The queue-mode settings, and the README's docker-compose file that must have the same ones
// ---------------------------------------------------------------------------------------------

/** n8n line and database of a queue-mode run. */
export type QueueTopology =
	/** What n8n documents for queue mode: PostgreSQL, binary data in the database (n8n 2.x). */
	| { database: 'postgres'; postgresPort: number }
	/** n8n 1.x on one host: one SQLite file (WAL) and binary data as files, both shared by every process. */
	| { database: 'sqlite' };

/**
 * Queue-mode settings of every n8n process (main and workers). The PostgreSQL topology's are
 * exactly the `x-n8n-queue-env` block of docs/docker-compose.yml, but for the keys in
 * DEPLOYMENT_SPECIFIC (addresses and secrets); test/unit/compose.test.ts compares them.
 *
 * The Bull lock settings are shortened so that a killed worker's job is noticed within about 25 s
 * instead of about 90 s (lock 60 s, checked every 30 s). A worker renews its lock from its event
 * loop: a live worker that cannot run a timer for longer than the lock (a long synchronous stretch
 * on a loaded machine) looks dead too. 20 s keeps that away from this test's executions.
 */
export function queueEnv(redisPort: number, topology: QueueTopology): Record<string, string> {
	const common = {
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: '127.0.0.1',
		QUEUE_BULL_REDIS_PORT: String(redisPort),
		QUEUE_HEALTH_CHECK_ACTIVE: 'false',
		QUEUE_WORKER_LOCK_DURATION: '20000',
		QUEUE_WORKER_LOCK_RENEW_TIME: '4000',
		QUEUE_WORKER_STALLED_INTERVAL: '5000',
	};
	if (topology.database === 'postgres') {
		return {
			...common,
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(topology.postgresPort),
			DB_POSTGRESDB_DATABASE: 'n8n',
			DB_POSTGRESDB_USER: 'n8n',
			DB_POSTGRESDB_PASSWORD: 'trust-authentication-ignores-it',
			// n8n 2.x's default in queue mode, said out loud: the main stores a webhook's upload in
			// PostgreSQL, the worker reads it from there (n8n 2.40 reads it whole: Readable.from(buffer)).
			N8N_DEFAULT_BINARY_DATA_MODE: 'database',
		};
	}
	return {
		...common,
		// n8n 1.x's default, said out loud: a stalled job is run once more (n8n 2.x forces 0).
		QUEUE_WORKER_MAX_STALLED_COUNT: '1',
		DB_SQLITE_ENABLE_WAL: 'true',
		// Binary data as files under <user folder>/.n8n/binaryData: the main writes a webhook's
		// upload there and the worker streams it from the same path.
		N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
	};
}

/** Keys whose value in the compose file is the deployment's own (service names, ports, secrets). */
export const DEPLOYMENT_SPECIFIC = ['QUEUE_BULL_REDIS_HOST', 'QUEUE_BULL_REDIS_PORT', 'DB_POSTGRESDB_HOST', 'DB_POSTGRESDB_PORT', 'DB_POSTGRESDB_PASSWORD', 'N8N_ENCRYPTION_KEY'];

export const COMPOSE_FILE = path.resolve(__dirname, '..', '..', 'docs', 'docker-compose.yml');

/** `n8n worker --concurrency=` of the test and of the compose file (n8n warns below 5). */
export const WORKER_CONCURRENCY = 5;

/**
 * The `x-n8n-queue-env: &n8n-queue-env` mapping of the compose file (KEY: value lines, quotes
 * removed) and each worker's `--concurrency`. A small reader of this one file's layout, not YAML.
 */
export function readCompose(text: string): { env: Record<string, string>; workerConcurrency: number[] } {
	const env: Record<string, string> = {};
	const lines = text.split('\n');
	const start = lines.findIndex((line) => /^x-n8n-queue-env:/.test(line));
	if (start < 0) throw new Error('no x-n8n-queue-env block in the compose file');
	for (const line of lines.slice(start + 1)) {
		if (/^\S/.test(line)) break;
		const match = /^\s+([A-Z0-9_]+):\s*(.*?)\s*$/.exec(line);
		if (!match) continue;
		env[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
	}
	const workerConcurrency = [...text.matchAll(/command:\s*\[?\s*"?worker"?,?\s*"?--concurrency=(\d+)/g)].map((m) => Number(m[1]));
	return { env, workerConcurrency };
}

/**
 * CPU seconds of a process and of every process below it (n8n 2.x starts a task runner, a child
 * Node process, in each main and worker), or undefined once it is gone.
 */
export function treeCpuSeconds(pid: number | undefined): number | undefined {
	const own = cpuSeconds(pid);
	if (own === undefined || pid === undefined) return own;
	const children = new Map<number, number[]>();
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
		} catch {
			// gone meanwhile
		}
	}
	let total = own;
	const stack = [...(children.get(pid) ?? [])];
	while (stack.length > 0) {
		const child = stack.pop() as number;
		total += cpuSeconds(child) ?? 0;
		stack.push(...(children.get(child) ?? []));
	}
	return total;
}
