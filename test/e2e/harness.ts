/**
 * End-to-end harness: runs a real n8n (the one in e2e/n8n, installed by scripts/install-n8n.sh)
 * against this package, through n8n's own CLI.
 *
 *   const n8n = await createN8n();
 *   await n8n.importCredentials([{ id: 'cred1', name: 'Sandbox', type: 'dataImportApi', data: { … } }]);
 *   const result = await n8n.executeFile(workflow);       // import:workflow + execute
 *   assert.equal(result.status, 'success');
 *   result.nodeOutput('Import Items');                     // the json of each output item
 *   await n8n.dispose();
 *
 * The package is installed the way n8n installs a community package: a folder
 * `<userFolder>/.n8n/nodes/node_modules/n8n-nodes-data-import` with the package.json (dev, peer and
 * optional dependencies stripped, as n8n does) and a copy of the built files (`files`, i.e.
 * dist/), its runtime dependencies linked from the repo's node_modules and its peer dependencies
 * (n8n-workflow) linked to the copy that the n8n under test ships. Node types are then
 * `n8n-nodes-data-import.<nodeName>`, as in a user's n8n.
 *   (A plain symlink to the repo root would make the package's `require('n8n-workflow')`
 *   resolve, through the real path, to the repo's devDependency: a second, differently
 *   versioned n8n-workflow next to n8n's own, which a real install never has.)
 * The user folder lives in os.tmpdir() (override: N8N_E2E_TMP), outside the repo, so a
 * `require` of something that is not a runtime dependency fails here as it would for a user.
 * `createN8n({ userFolder, encryptionKey })` uses a folder that stays instead (npm run dev's
 * .dev/n8n): its database is kept, the package laid out again, nothing removed by `dispose()`.
 *
 * Environment: N8N_BIN / N8N_NODE point at another n8n bin/n8n and Node binary (e.g. n8n 2.x on
 * Node 24: `npm run test:e2e:n8n2`); N8N_E2E_TMP picks the folder for user folders; KEEP_N8N_FOLDER=1 keeps them;
 * N8N_E2E_COMMAND_TIMEOUT_MS bounds each CLI command (default 180000).
 *
 * Node built-ins only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DEFAULT_N8N_BIN = path.join(REPO_ROOT, 'e2e', 'n8n', 'node_modules', 'n8n', 'bin', 'n8n');

const rootPackageJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
/** The npm name of this package; node types are `${PACKAGE_NAME}.<nodeName>`. */
export const PACKAGE_NAME: string = rootPackageJson.name;

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/** A JSON object, as in n8n's IDataObject. */
export interface JsonObject {
	[key: string]: unknown;
}

export interface CreateN8nOptions {
	/** Extra environment for every n8n command of this instance (wins over the defaults). */
	env?: Record<string, string>;
	/**
	 * Install this package into the instance. Default: when the files that package.json's
	 * `n8n` section names exist (i.e. after `npm run build`).
	 */
	installPackage?: boolean;
	/** The built files to install as the package's dist/ (e.g. a build of a modified copy). Default: the repo's dist/. */
	distDir?: string;
	/**
	 * A user folder to keep (e.g. `npm run dev`'s .dev/n8n): created if missing, used as it is
	 * when it holds a database (no template copied over it), never removed by `dispose()`.
	 * Default: a new temporary folder, removed by `dispose()`.
	 */
	userFolder?: string;
	/** N8N_ENCRYPTION_KEY; a kept user folder needs the same one every time. Default: a new one. */
	encryptionKey?: string;
	/** Where n8n's output goes (instead of being kept in memory for `logs()`). */
	log?: (text: string) => void;
}

export interface CredentialInput {
	id: string;
	name: string;
	/** Credential type name, e.g. the `name` of a credentials class. */
	type: string;
	/** The plain (not encrypted) fields; n8n encrypts them on import. */
	data: JsonObject;
}

export interface CommandResult {
	args: string[];
	stdout: string;
	stderr: string;
	/** null when the process was killed (see `signal`, `timedOut`). */
	exitCode: number | null;
	signal: NodeJS.Signals | null;
	timedOut: boolean;
	wallMs: number;
}

export interface NodeErrorInfo {
	message: string;
	description?: string | null;
	/** e.g. 'NodeOperationError', 'NodeApiError' when n8n serialised it. */
	name?: string;
	httpCode?: string | null;
	/** The node that failed (execution-level errors). */
	node?: string;
	/** The error object as n8n printed it. */
	raw: JsonObject;
}

/** One run of a node: n8n's ITaskData, loosely typed. */
export interface TaskData {
	startTime?: number;
	executionTime?: number;
	executionStatus?: string;
	executionIndex?: number;
	source?: unknown[];
	hints?: unknown[];
	data?: Record<string, Array<Array<ExecutionItem> | null>>;
	error?: JsonObject;
	[key: string]: unknown;
}

/** One item of a node's output: n8n's INodeExecutionData, loosely typed. */
export interface ExecutionItem {
	json: JsonObject;
	binary?: Record<string, JsonObject>;
	pairedItem?: unknown;
	error?: JsonObject;
	[key: string]: unknown;
}

export interface ExecutionResult {
	/**
	 * n8n's execution status ('success', 'error', 'canceled', 'crashed', …), or 'no-output'
	 * when n8n printed no execution JSON at all (unknown workflow id, crash at start-up, timeout).
	 */
	status: string;
	/** The whole execution (IRun) that `n8n execute --rawOutput` printed; undefined if none. */
	raw: JsonObject | undefined;
	/** raw.data.resultData.runData: node name -> its runs. */
	runData: Record<string, TaskData[]>;
	/** The execution-level error (raw.data.resultData.error), if the execution failed. */
	error: NodeErrorInfo | undefined;
	lastNodeExecuted: string | undefined;
	/** The json of each item a node put out on `outputIndex` in run `runIndex`. */
	nodeOutput(nodeName: string, outputIndex?: number, runIndex?: number): JsonObject[];
	/** The whole items (json, binary, pairedItem, …) of that output. */
	nodeItems(nodeName: string, outputIndex?: number, runIndex?: number): ExecutionItem[];
	/** The error a node stopped with (first run that has one), or undefined. */
	nodeError(nodeName: string): NodeErrorInfo | undefined;
	/** Milliseconds n8n measured for the node, summed over its runs; undefined if it did not run. */
	executionTime(nodeName: string): number | undefined;
	/** Names of the nodes that ran, in n8n's order. */
	nodesRun(): string[];
	stdout: string;
	stderr: string;
	exitCode: number | null;
	/** Wall time of the whole `n8n execute` process (start-up included). */
	wallMs: number;
}

export interface ExecuteOptions {
	/** Kill n8n after this many ms (default N8N_E2E_COMMAND_TIMEOUT_MS or 180000). */
	timeoutMs?: number;
	/** Extra environment for this one command. */
	env?: Record<string, string>;
}

export interface ImportWorkflowOptions {
	/** Activate after import (for trigger workflows, then `start()`). Default: `workflow.active === true`. */
	activate?: boolean;
}

export interface StartOptions {
	port?: number;
	/** How long to wait for n8n to be up (default 120000 ms). */
	timeoutMs?: number;
	env?: Record<string, string>;
}

export interface StartedN8n {
	port: number;
	/** http://127.0.0.1:<port> */
	baseUrl: string;
	/** Production webhook URL of a path: `${baseUrl}/webhook/${path}`. */
	webhookUrl(webhookPath: string): string;
	pid: number | undefined;
}

export interface N8nInstance {
	/** N8N_USER_FOLDER of this instance (n8n's own files are in `<userFolder>/.n8n`). */
	readonly userFolder: string;
	readonly encryptionKey: string;
	/** The environment every command gets (before per-command additions). */
	readonly env: Readonly<Record<string, string>>;
	readonly n8nBin: string;
	readonly nodeBin: string;
	/** Whether this package was installed into the instance. */
	readonly packageInstalled: boolean;
	/** Folder n8n loads the package from, if installed. */
	readonly packageDir: string | undefined;
	/** Lays the package out again from the built files (after a rebuild); n8n sees it at its next start. */
	reinstallPackage(): Promise<void>;

	/** Runs `n8n <args…>` with the instance's environment. Never throws on a non-zero exit. */
	run(args: string[], options?: ExecuteOptions): Promise<CommandResult>;
	importCredentials(credentials: CredentialInput[]): Promise<void>;
	/** Imports one workflow; returns its id (one is generated if it has none). */
	importWorkflow(workflow: object, options?: ImportWorkflowOptions): Promise<string>;
	/** Imports several workflows in one n8n process (one start-up instead of many). */
	importWorkflows(workflows: object[]): Promise<string[]>;
	/** Marks a workflow active; it takes effect at the next `start()`. */
	activateWorkflow(workflowId: string): Promise<void>;
	/** `n8n execute --id=… --rawOutput`. Never throws on a failed execution. */
	execute(workflowId: string, options?: ExecuteOptions): Promise<ExecutionResult>;
	/** importWorkflow + execute. */
	executeFile(workflow: object, options?: ExecuteOptions): Promise<ExecutionResult>;
	/** `n8n export:nodes`: the node type descriptions n8n loaded. */
	exportNodeTypes(): Promise<JsonObject[]>;
	/** `n8n start` on 127.0.0.1; resolves once /healthz answers and active workflows are up. */
	start(options?: StartOptions): Promise<StartedN8n>;
	/** SIGTERM to the started n8n, then waits for it to exit (SIGKILL after a grace period). */
	stop(): Promise<void>;
	/** Everything n8n printed so far (stdout and stderr of every command, with a header line each). */
	logs(): string;
	/** Kills whatever still runs and removes the user folder (unless KEEP_N8N_FOLDER=1). */
	dispose(): Promise<void>;
}

interface PackageJson {
	name: string;
	version?: string;
	files?: string[];
	n8n?: { nodes?: string[]; credentials?: string[] };
	dependencies?: Record<string, string>;
	devDependencies?: Record<string, string>;
	peerDependencies?: Record<string, string>;
	optionalDependencies?: Record<string, string>;
	[key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** VmRSS and VmHWM (peak RSS) of a process in bytes, or undefined once it is gone. */
export function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		const rss = /VmRSS:\s+(\d+) kB/.exec(status);
		const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
		if (!rss || !hwm) return undefined;
		return { rss: Number(rss[1]) * 1024, hwm: Number(hwm[1]) * 1024 };
	} catch {
		return undefined;
	}
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function findFreePort(): Promise<number> {
	return await new Promise<number>((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
		});
	});
}

const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** An id shaped like n8n's own (16 alphanumerics). */
export function newN8nId(): string {
	const bytes = randomBytes(16);
	let id = '';
	for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
	return id;
}

function commandTimeoutMs(): number {
	const fromEnv = Number(process.env.N8N_E2E_COMMAND_TIMEOUT_MS);
	return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 180_000;
}

function isObject(value: unknown): value is JsonObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Variables of the parent environment that would change how n8n runs: all of n8n's own (N8N_*,
 * DB_*, EXECUTIONS_*, …), Node's (NODE_OPTIONS, NODE_ENV=test makes n8n refuse to load nodes,
 * NODE_PATH, the test runner's context, coverage), and npm's (when run by `npm test`).
 */
const LEAKY_PREFIXES = [
	'N8N_',
	'DB_',
	'EXECUTIONS_',
	'QUEUE_',
	'WEBHOOK_',
	'GENERIC_',
	'CREDENTIALS_',
	'NODES_',
	'NODE_FUNCTION_',
	'VUE_APP_',
	'CODE_',
	'npm_',
];
const LEAKY_NAMES = new Set([
	'NODE_OPTIONS',
	'NODE_ENV',
	'NODE_PATH',
	'NODE_CONFIG_DIR',
	'NODE_TEST_CONTEXT',
	'NODE_V8_COVERAGE',
	'NODE_DEBUG',
	'NODE_INSPECT_RESUME_ON_START',
	'E2E_TESTS',
	'ENVIRONMENT',
	'EXTERNAL_HOOK_FILES',
	'EXTERNAL_FRONTEND_HOOKS_URLS',
	'OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS',
	'FORCE_COLOR',
	'TZ',
	'KEEP_N8N_FOLDER',
]);

function cleanParentEnv(): Record<string, string> {
	const env: Record<string, string> = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (value === undefined) continue;
		if (LEAKY_NAMES.has(key) || LEAKY_PREFIXES.some((prefix) => key.startsWith(prefix))) continue;
		env[key] = value;
	}
	return env;
}

/**
 * The environment of every n8n command (n8n 1.123.81; all of these exist in that version).
 * DB_PING_INTERVAL_SECONDS: n8n pings SQLite every 2 s by default; a ping stuck 5 s behind a long
 * synchronous stretch (a big execution) prints "Database connection timed out" (the stray line
 * before the JSON that the notes mention) and marks the database as disconnected.
 */
function defaultN8nEnv(userFolder: string, encryptionKey: string): Record<string, string> {
	return {
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: encryptionKey,
		// The default 'vm' engine needs isolated-vm, which is not built (installed with --ignore-scripts).
		N8N_EXPRESSION_ENGINE: 'legacy',
		N8N_RUNNERS_ENABLED: 'false',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
		// `execute --rawOutput` prints the execution through n8n's logger at level info, as plain text.
		N8N_LOG_LEVEL: 'info',
		N8N_LOG_OUTPUT: 'console',
		N8N_LOG_FORMAT: 'text',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		// n8n 2.x lets nodes that read or write files (Read/Write Files from Disk) reach only
		// ~/.n8n-files by default ("Access to the file is not allowed."); n8n 1.x reaches anything.
		// Both lines get the same list: the repository (fixtures) and the temporary folders the
		// tests write their files to.
		N8N_RESTRICT_FILE_ACCESS_TO: fileAccessFolders().join(';'),
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '10',
		DB_PING_INTERVAL_SECONDS: '3600',
		GENERIC_TIMEZONE: 'UTC',
		TZ: 'UTC',
		NO_COLOR: '1',
	};
}

/** Folders a workflow under test may read and write files in (N8N_RESTRICT_FILE_ACCESS_TO). */
function fileAccessFolders(): string[] {
	const folders = [REPO_ROOT, os.tmpdir(), process.env.N8N_E2E_TMP].filter((folder): folder is string => !!folder);
	const real = folders.map((folder) => {
		try {
			return fs.realpathSync(folder);
		} catch {
			return path.resolve(folder);
		}
	});
	return [...new Set(real)];
}

/**
 * Finds the first complete top-level JSON object that starts on a line of its own ("{"), skipping
 * whatever n8n printed before it ("Database connection timed out", "Execution was NOT
 * successful…") and after it (the error summary of a failed execution).
 */
export function parseExecutionJson(stdout: string): JsonObject | undefined {
	const lines = stdout.split('\n');
	for (let start = 0; start < lines.length; start++) {
		if (lines[start].replace(/\r$/, '') !== '{') continue;
		for (let end = start + 1; end < lines.length; end++) {
			if (lines[end].replace(/\r$/, '') !== '}') continue;
			try {
				const parsed: unknown = JSON.parse(lines.slice(start, end + 1).join('\n'));
				if (isObject(parsed)) return parsed;
			} catch {
				// not this closing brace; keep looking
			}
		}
	}
	return undefined;
}

function toErrorInfo(error: unknown): NodeErrorInfo | undefined {
	if (!isObject(error)) return undefined;
	const node = isObject(error.node) && typeof error.node.name === 'string' ? error.node.name : undefined;
	return {
		message: typeof error.message === 'string' ? error.message : String(error.message ?? ''),
		description: (error.description as string | null | undefined) ?? null,
		name: typeof error.name === 'string' ? error.name : undefined,
		httpCode: (error.httpCode as string | null | undefined) ?? undefined,
		node,
		raw: error,
	};
}

export function toExecutionResult(command: CommandResult): ExecutionResult {
	const raw = parseExecutionJson(command.stdout);
	const data = raw && isObject(raw.data) ? raw.data : undefined;
	const resultData = data && isObject(data.resultData) ? data.resultData : undefined;
	const runData = (resultData && isObject(resultData.runData) ? resultData.runData : {}) as Record<string, TaskData[]>;
	const runsOf = (nodeName: string): TaskData[] => (Array.isArray(runData[nodeName]) ? runData[nodeName] : []);
	const itemsOf = (nodeName: string, outputIndex = 0, runIndex = 0): ExecutionItem[] => {
		const run = runsOf(nodeName)[runIndex];
		const output = run?.data?.main?.[outputIndex];
		return Array.isArray(output) ? output : [];
	};
	const lastNodeExecuted = typeof resultData?.lastNodeExecuted === 'string' ? resultData.lastNodeExecuted : undefined;
	// n8n 2.x serialises some node errors (the Code node's WrappedExecutionError) without their
	// `node`; the execution stopped at the last node executed, which is the one that failed.
	const executionError = toErrorInfo(resultData?.error);
	if (executionError && executionError.node === undefined && lastNodeExecuted) executionError.node = lastNodeExecuted;
	return {
		status: raw && typeof raw.status === 'string' ? raw.status : 'no-output',
		raw,
		runData,
		error: executionError,
		lastNodeExecuted,
		nodeOutput: (nodeName, outputIndex = 0, runIndex = 0) => itemsOf(nodeName, outputIndex, runIndex).map((item) => item.json),
		nodeItems: itemsOf,
		nodeError: (nodeName) => {
			for (const run of runsOf(nodeName)) {
				const info = toErrorInfo(run.error);
				if (info) return { ...info, node: info.node ?? nodeName };
			}
			return undefined;
		},
		executionTime: (nodeName) => {
			const runs = runsOf(nodeName);
			if (runs.length === 0) return undefined;
			return runs.reduce((sum, run) => sum + (typeof run.executionTime === 'number' ? run.executionTime : 0), 0);
		},
		nodesRun: () => Object.keys(runData),
		stdout: command.stdout,
		stderr: command.stderr,
		exitCode: command.exitCode,
		wallMs: command.wallMs,
	};
}

async function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
	return await new Promise((resolve, reject) => {
		const request = http.get(url, { timeout: timeoutMs }, (response) => {
			let body = '';
			response.setEncoding('utf8');
			response.on('data', (chunk: string) => (body += chunk));
			response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
		});
		request.on('timeout', () => request.destroy(new Error('timeout')));
		request.on('error', reject);
	});
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The folder of package `name` as Node would find it from `fromDir` (node_modules lookup). */
function resolvePackageDir(fromDir: string, name: string): string | undefined {
	for (let dir = path.resolve(fromDir); ; dir = path.dirname(dir)) {
		const candidate = path.join(dir, 'node_modules', name);
		if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
		if (path.dirname(dir) === dir) return undefined;
	}
}

/** Lays the package out as n8n's community-package installer would (see the file comment). */
async function installPackage(nodesDir: string, n8nBin: string, distDir?: string): Promise<string> {
	const packageDir = path.join(nodesDir, 'node_modules', PACKAGE_NAME);
	// A kept user folder holds the previous layout: replaced whole (old files and links go).
	await fsp.rm(packageDir, { recursive: true, force: true });
	await fsp.mkdir(packageDir, { recursive: true });

	// n8n drops these from an installed package's package.json before `npm install`ing it.
	const { devDependencies, peerDependencies, optionalDependencies, ...installed } = rootPackageJson;
	await fsp.writeFile(path.join(packageDir, 'package.json'), JSON.stringify(installed, null, 2));
	for (const entry of rootPackageJson.files ?? ['dist']) {
		const from = entry === 'dist' && distDir ? distDir : path.join(REPO_ROOT, entry);
		if (fs.existsSync(from)) await fsp.cp(from, path.join(packageDir, entry), { recursive: true });
	}

	const links = path.join(packageDir, 'node_modules');
	await fsp.mkdir(links, { recursive: true });
	const link = async (name: string, target: string) => {
		const at = path.join(links, name);
		await fsp.mkdir(path.dirname(at), { recursive: true });
		await fsp.symlink(target, at, 'dir');
	};
	for (const name of Object.keys(rootPackageJson.dependencies ?? {})) {
		const target = resolvePackageDir(REPO_ROOT, name);
		if (!target) throw new Error(`runtime dependency ${name} is not installed in ${REPO_ROOT}/node_modules`);
		await link(name, target);
	}
	// Peer dependencies (n8n-workflow): the copy the n8n under test uses, as in a real install.
	const n8nPackageDir = path.dirname(path.dirname(fs.realpathSync(n8nBin)));
	for (const name of Object.keys(peerDependencies ?? {})) {
		const target = resolvePackageDir(n8nPackageDir, name);
		if (target) await link(name, target);
	}

	await fsp.writeFile(
		path.join(nodesDir, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: { [PACKAGE_NAME]: rootPackageJson.version ?? '0.0.0' } }, null, 2),
	);
	return packageDir;
}

/**
 * A new user folder costs n8n about 2 s of database migrations on its first command. The first
 * instance (per n8n build and database settings) migrates a throw-away folder with `n8n
 * list:workflow` and keeps the fresh database as a template; every instance then starts from a
 * copy. The template holds no secrets (credentials are encrypted with each instance's own key and
 * only added later). N8N_E2E_DB_TEMPLATE=0 turns this off.
 */
async function seedDatabase(options: {
	tmpRoot: string;
	userFolder: string;
	env: Record<string, string>;
	n8nBin: string;
	nodeBin: string;
	log: (text: string) => void;
}): Promise<void> {
	if (process.env.N8N_E2E_DB_TEMPLATE === '0') return;
	const { tmpRoot, userFolder, env, n8nBin, nodeBin, log } = options;
	const n8nPackageJson = path.join(path.dirname(path.dirname(fs.realpathSync(n8nBin))), 'package.json');
	const n8nVersion = (JSON.parse(fs.readFileSync(n8nPackageJson, 'utf8')) as { version: string }).version;
	const keyParts = [fs.realpathSync(n8nBin), n8nVersion, String(fs.statSync(n8nPackageJson).mtimeMs)];
	for (const name of Object.keys(env).sort()) {
		if (name.startsWith('DB_') || name === 'N8N_DISABLED_MODULES' || name === 'N8N_ENABLED_MODULES') keyParts.push(`${name}=${env[name]}`);
	}
	const key = `${n8nVersion}-${createHash('sha256').update(keyParts.join('\n')).digest('hex').slice(0, 16)}`;
	const templateDir = path.join(tmpRoot, 'n8n-e2e-db-templates', key);
	const template = path.join(templateDir, 'database.sqlite');
	const target = path.join(userFolder, '.n8n', 'database.sqlite');
	if (fs.existsSync(target)) return; // a kept user folder: its database stays

	if (!fs.existsSync(template)) {
		const builder = await fsp.mkdtemp(path.join(tmpRoot, 'n8n-e2e-template-'));
		try {
			const builderEnv = { ...env, N8N_USER_FOLDER: builder, N8N_ENCRYPTION_KEY: randomBytes(24).toString('base64url') };
			const result = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
				const child = spawn(nodeBin, [n8nBin, 'list:workflow'], { cwd: builder, env: builderEnv, stdio: ['ignore', 'pipe', 'pipe'] });
				const timer = setTimeout(() => child.kill('SIGKILL'), commandTimeoutMs());
				let output = '';
				child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
				child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
				child.once('error', (error) => {
					clearTimeout(timer);
					reject(error);
				});
				child.once('close', (code) => {
					clearTimeout(timer);
					resolve({ code, output });
				});
			});
			log(`\n$ n8n list:workflow   (migrating a template database in ${builder})\n${result.output}`);
			const built = path.join(builder, '.n8n', 'database.sqlite');
			const walLeft = fs.existsSync(`${built}-wal`) && fs.statSync(`${built}-wal`).size > 0;
			if (result.code === 0 && fs.existsSync(built)) {
				// n8n 2.x keeps SQLite in WAL mode and exits with its last transactions still in
				// database.sqlite-wal: the template keeps that file beside the database, and SQLite
				// replays it when a copy is opened. Both appear at once (a folder renamed into place).
				await fsp.mkdir(path.dirname(templateDir), { recursive: true });
				const partial = `${templateDir}.${process.pid}.${randomBytes(4).toString('hex')}`;
				await fsp.mkdir(partial);
				await fsp.copyFile(built, path.join(partial, 'database.sqlite'));
				if (walLeft) await fsp.copyFile(`${built}-wal`, path.join(partial, 'database.sqlite-wal'));
				try {
					await fsp.rename(partial, templateDir);
				} catch {
					// a concurrent builder was first: its template is as good
					await fsp.rm(partial, { recursive: true, force: true });
				}
			}
		} finally {
			await fsp.rm(builder, { recursive: true, force: true });
		}
	}
	if (fs.existsSync(template)) {
		await fsp.mkdir(path.dirname(target), { recursive: true });
		await fsp.copyFile(template, target);
		if (fs.existsSync(`${template}-wal`)) await fsp.copyFile(`${template}-wal`, `${target}-wal`);
	}
}

function packageIsBuilt(): boolean {
	const files = [...(rootPackageJson.n8n?.nodes ?? []), ...(rootPackageJson.n8n?.credentials ?? [])];
	return files.length > 0 && files.every((file) => fs.existsSync(path.join(REPO_ROOT, file)));
}

// ---------------------------------------------------------------------------------------------
// createN8n
// ---------------------------------------------------------------------------------------------

export async function createN8n(options: CreateN8nOptions = {}): Promise<N8nInstance> {
	const n8nBin = process.env.N8N_BIN || DEFAULT_N8N_BIN;
	const nodeBin = process.env.N8N_NODE || process.execPath;
	if (!fs.existsSync(n8nBin)) {
		throw new Error(`n8n is not installed at ${n8nBin}: run \`bash scripts/install-n8n.sh\` (or set N8N_BIN)`);
	}

	const tmpRoot = process.env.N8N_E2E_TMP || os.tmpdir();
	await fsp.mkdir(tmpRoot, { recursive: true });
	const keepFolder = options.userFolder !== undefined;
	const userFolder = keepFolder ? path.resolve(options.userFolder as string) : await fsp.mkdtemp(path.join(tmpRoot, 'n8n-e2e-'));
	const encryptionKey = options.encryptionKey ?? randomBytes(24).toString('base64url');
	const env: Record<string, string> = {
		...cleanParentEnv(),
		...defaultN8nEnv(userFolder, encryptionKey),
		...(options.env ?? {}),
	};

	const memoryLog: string[] = [];
	const logChunks = { push: options.log ?? ((text: string) => void memoryLog.push(text)) };
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	const scratch = path.join(userFolder, 'e2e');
	let packageDir: string | undefined;
	try {
		await fsp.mkdir(nodesDir, { recursive: true });
		// Scratch files are numbered from 1 by each instance: a kept folder's previous ones go.
		await fsp.rm(scratch, { recursive: true, force: true });
		await fsp.mkdir(scratch, { recursive: true });
		const wantPackage = options.installPackage ?? (options.distDir !== undefined || packageIsBuilt());
		if (wantPackage) packageDir = await installPackage(nodesDir, n8nBin, options.distDir);
		await seedDatabase({ tmpRoot, userFolder, env, n8nBin, nodeBin, log: (text) => logChunks.push(text) });
	} catch (error) {
		if (!keepFolder) await fsp.rm(userFolder, { recursive: true, force: true });
		throw error;
	}
	let scratchCounter = 0;
	const scratchPath = (name: string) => path.join(scratch, `${++scratchCounter}-${name}`);

	const running = new Set<ChildProcess>();
	let server: { child: ChildProcess; exited: Promise<void> } | undefined;
	let disposed = false;

	const spawnN8n = (args: string[], extraEnv: Record<string, string> = {}, stdout: 'pipe' | number = 'pipe') => {
		if (disposed) throw new Error('this n8n instance was disposed');
		const child = spawn(nodeBin, [n8nBin, ...args], {
			cwd: userFolder, // n8n reads a .env from its working directory
			env: { ...env, ...extraEnv },
			stdio: ['ignore', stdout, 'pipe'],
		});
		running.add(child);
		child.once('exit', () => running.delete(child));
		logChunks.push(`\n$ n8n ${args.join(' ')}\n`);
		return child;
	};

	// n8n 2.x always runs a task broker (N8N_RUNNERS_ENABLED=false is ignored there), on 5679 by
	// default: two n8n processes at once (a test's `start` and another's `execute`, or two suites)
	// would collide ("Task Broker's port 5679 is already in use"). Each command gets a free port.
	const brokerEnv = async (): Promise<Record<string, string>> => ({ N8N_RUNNERS_BROKER_PORT: String(await findFreePort()) });

	const run = async (args: string[], runOptions: ExecuteOptions = {}): Promise<CommandResult> => {
		const started = process.hrtime.bigint();
		// stdout goes to a file, not a pipe: n8n exits as soon as it has written the execution's JSON,
		// and under load a pipe's reader lagged and the end of a large JSON was lost (exit code 0).
		const stdoutFile = path.join(userFolder, `stdout-${randomBytes(6).toString('hex')}.txt`);
		const stdoutFd = fs.openSync(stdoutFile, 'w');
		let child: ChildProcess;
		try {
			child = spawnN8n(args, { ...(await brokerEnv()), ...(runOptions.env ?? {}) }, stdoutFd);
		} finally {
			fs.closeSync(stdoutFd);
		}
		const stderr: string[] = [];
		child.stderr?.setEncoding('utf8');
		child.stderr?.on('data', (chunk: string) => {
			stderr.push(chunk);
			logChunks.push(chunk);
		});
		let timedOut = false;
		const timeoutMs = runOptions.timeoutMs ?? commandTimeoutMs();
		const timer = setTimeout(() => {
			timedOut = true;
			child.kill('SIGTERM');
			setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 5000).unref();
		}, timeoutMs);
		const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
			child.once('error', reject);
			child.once('close', (code, sig) => resolve([code, sig]));
		}).finally(() => clearTimeout(timer));
		const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
		const stdout = await fsp.readFile(stdoutFile, 'utf8');
		await fsp.rm(stdoutFile, { force: true });
		logChunks.push(stdout);
		if (timedOut) logChunks.push(`\n[harness] n8n ${args[0]} killed after ${timeoutMs} ms\n`);
		return { args, stdout, stderr: stderr.join(''), exitCode, signal, timedOut, wallMs };
	};

	const runOrThrow = async (args: string[], what: string): Promise<CommandResult> => {
		const result = await run(args);
		if (result.exitCode !== 0) {
			throw new Error(
				`${what} failed (n8n ${args.join(' ')}; exit ${result.exitCode ?? result.signal}):\n${result.stdout.slice(-4000)}${result.stderr.slice(-4000)}`,
			);
		}
		return result;
	};

	const prepareWorkflow = (workflow: object): JsonObject => {
		if (!isObject(workflow)) throw new Error('a workflow must be an object');
		const copy = structuredClone(workflow) as JsonObject;
		if (typeof copy.id !== 'string' || copy.id === '') copy.id = newN8nId();
		if (typeof copy.name !== 'string' || copy.name === '') copy.name = `e2e ${copy.id}`;
		if (!Array.isArray(copy.nodes)) throw new Error(`workflow ${copy.id} has no nodes`);
		for (const node of copy.nodes) if (isObject(node) && typeof node.id !== 'string') node.id = randomUUID();
		if (!isObject(copy.connections)) copy.connections = {};
		if (!isObject(copy.settings)) copy.settings = {};
		return copy;
	};

	const instance: N8nInstance = {
		userFolder,
		encryptionKey,
		env,
		n8nBin,
		nodeBin,
		packageInstalled: packageDir !== undefined,
		packageDir,

		async reinstallPackage() {
			if (packageDir) await installPackage(nodesDir, n8nBin, options.distDir);
		},

		run,

		async importCredentials(credentials) {
			const file = scratchPath('credentials.json');
			await fsp.writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
			try {
				await runOrThrow(['import:credentials', `--input=${file}`], 'import:credentials');
			} finally {
				await fsp.rm(file, { force: true });
			}
		},

		async importWorkflow(workflow, importOptions = {}) {
			const prepared = prepareWorkflow(workflow);
			const file = scratchPath('workflow.json');
			await fsp.writeFile(file, JSON.stringify(prepared));
			await runOrThrow(['import:workflow', `--input=${file}`], 'import:workflow');
			const activate = importOptions.activate ?? (workflow as JsonObject).active === true;
			if (activate) await instance.activateWorkflow(prepared.id as string);
			return prepared.id as string;
		},

		async importWorkflows(workflows) {
			const dir = scratchPath('workflows');
			await fsp.mkdir(dir);
			const prepared = workflows.map(prepareWorkflow);
			await Promise.all(prepared.map((wf, i) => fsp.writeFile(path.join(dir, `${i}.json`), JSON.stringify(wf))));
			await runOrThrow(['import:workflow', '--separate', `--input=${dir}`], 'import:workflow');
			// As importWorkflow does; one by one (n8n 2.x no longer publishes with --all).
			for (const wf of prepared) if (wf.active === true) await instance.activateWorkflow(wf.id as string);
			return prepared.map((wf) => wf.id as string);
		},

		async activateWorkflow(workflowId) {
			await runOrThrow(['update:workflow', `--id=${workflowId}`, '--active=true'], 'update:workflow');
		},

		async execute(workflowId, executeOptions = {}) {
			const command = await run(['execute', `--id=${workflowId}`, '--rawOutput'], executeOptions);
			return toExecutionResult(command);
		},

		async executeFile(workflow, executeOptions = {}) {
			const id = await instance.importWorkflow(workflow, { activate: false });
			return await instance.execute(id, executeOptions);
		},

		async exportNodeTypes() {
			const file = scratchPath('nodes.json');
			await runOrThrow(['export:nodes', `--output=${file}`], 'export:nodes');
			const parsed: unknown = JSON.parse(await fsp.readFile(file, 'utf8'));
			return Array.isArray(parsed) ? (parsed as JsonObject[]) : [];
		},

		async start(startOptions = {}) {
			if (server) throw new Error('n8n is already started on this instance');
			const port = startOptions.port ?? (await findFreePort());
			const baseUrl = `http://127.0.0.1:${port}`;
			const child = spawnN8n(['start'], {
				...(await brokerEnv()),
				N8N_PORT: String(port),
				N8N_LISTEN_ADDRESS: '127.0.0.1',
				N8N_HOST: '127.0.0.1',
				N8N_PROTOCOL: 'http',
				N8N_EDITOR_BASE_URL: `${baseUrl}/`,
				WEBHOOK_URL: `${baseUrl}/`,
				N8N_SECURE_COOKIE: 'false',
				...(startOptions.env ?? {}),
			});
			let output = '';
			for (const stream of [child.stdout, child.stderr]) {
				stream?.setEncoding('utf8');
				stream?.on('data', (chunk: string) => {
					output += chunk;
					logChunks.push(chunk);
				});
			}
			const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
			server = { child, exited };

			// /healthz answers once the HTTP server listens; active workflows are registered after
			// that, and then n8n prints "Editor is now accessible via" (n8n 1.x and 2.x). n8n 2.x
			// listens (and answers /healthz) before its migrations and REST routes ("Cannot POST
			// /rest/owner/setup" meanwhile), so the fallback, should a version print something
			// else, is 60 s of answering /healthz plus /healthz/readiness answering 200.
			const deadline = Date.now() + (startOptions.timeoutMs ?? 120_000);
			let healthySince: number | undefined;
			while (Date.now() < deadline) {
				if (child.exitCode !== null || child.signalCode !== null) {
					server = undefined;
					throw new Error(`n8n start exited (${child.exitCode ?? child.signalCode}) before it was up:\n${output.slice(-4000)}`);
				}
				if (healthySince === undefined) {
					try {
						const response = await httpGet(`${baseUrl}/healthz`, 1000);
						if (response.status === 200) healthySince = Date.now();
					} catch {
						// not listening yet
					}
				}
				let up = healthySince !== undefined && output.includes('Editor is now accessible via');
				if (!up && healthySince !== undefined && Date.now() - healthySince > 60_000) {
					up = await httpGet(`${baseUrl}/healthz/readiness`, 1000).then(
						(response) => response.status === 200,
						() => false,
					);
				}
				if (up) {
					return { port, baseUrl, webhookUrl: (p) => `${baseUrl}/webhook/${p.replace(/^\//, '')}`, pid: child.pid };
				}
				await sleep(200);
			}
			await instance.stop();
			throw new Error(`n8n start was not up within ${startOptions.timeoutMs ?? 120_000} ms:\n${output.slice(-4000)}`);
		},

		async stop() {
			const current = server;
			if (!current) return;
			server = undefined;
			const { child, exited } = current;
			if (child.exitCode === null && child.signalCode === null) {
				child.kill('SIGTERM');
				const killed = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
				if (!killed) {
					child.kill('SIGKILL');
					await exited;
				}
			}
		},

		logs() {
			return memoryLog.join('');
		},

		async dispose() {
			if (disposed) return;
			await instance.stop().catch(() => undefined);
			disposed = true;
			const waits: Promise<unknown>[] = [];
			for (const child of running) {
				if (child.exitCode === null && child.signalCode === null) {
					waits.push(new Promise((resolve) => child.once('close', resolve)));
					child.kill('SIGKILL');
				}
			}
			await Promise.race([Promise.all(waits), sleep(10_000)]);
			if (keepFolder) {
				// the caller's folder: kept
			} else if (process.env.KEEP_N8N_FOLDER === '1') {
				process.stderr.write(`[harness] kept n8n user folder ${userFolder}\n`);
			} else {
				await fsp.rm(userFolder, { recursive: true, force: true, maxRetries: 3 });
			}
		},
	};
	return instance;
}
