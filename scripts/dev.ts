/**
 * `npm run dev`: a real n8n editor on 127.0.0.1 with this package loaded, the sandbox of the
 * three platforms' APIs running, a credential for each sandbox platform, the templates of
 * examples/ imported and the owner account set up; it prints the address and the login.
 *
 *   npm run dev      (= bash scripts/bootstrap.sh && npm run build && exec node --import tsx scripts/dev.ts)
 *
 * `exec`: npm passes a SIGTERM on to the shell of the script, which dies of it without passing it
 * on; exec'd, node is that process and gets it (seen: without exec, n8n and the watcher stayed).
 * Should its parent die all the same (npm killed), the script notices it is orphaned and stops.
 *
 * Run by node with tsx as its loader, not by the `tsx` command: that one runs the script in a
 * child process and, when a SIGTERM or SIGINT sent to it alone is not acknowledged by the child
 * within 30 ms (a busy machine), SIGKILLs the child, which then cannot stop n8n and the watcher
 * (seen: exit 143 and both orphaned).
 *
 * n8n's user folder is kept in .dev/n8n (gitignored), so a second start keeps the workflows made
 * in the first; the owner, the credentials and the templates are set up once (the credentials
 * again only when the sandbox's address changed; a template only if it was never imported, so
 * one deleted or edited in the editor stays as the user left it).
 * `tsc --watch` rebuilds dist/ on a change to the sources; each good rebuild is laid out again
 * in n8n's nodes folder and n8n restarts (it loads nodes only at start-up).
 * Ctrl-C (SIGINT) or SIGTERM stops everything it started: n8n, the watcher, the sandbox.
 *
 * Environment: N8N_PORT (default 5678), SANDBOX_PORT (default 8787), DEV_FOLDER (default .dev),
 * DEV_WATCH=0 (no watcher); N8N_BIN / N8N_NODE as for the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

import { DEFAULT_CLI_PORT } from '../sandbox/defaults';
import { startSandbox, type Sandbox } from '../sandbox/server';
import { createN8n, REPO_ROOT, type N8nInstance } from '../test/e2e/harness';
import { setUpOwner, type Owner } from '../test/e2e/owner';
import { loadExample, sandboxCredentials } from '../test/e2e/setup';

/** The login `npm run dev` sets up (printed; a local sandbox-only account). */
export const DEV_OWNER: Owner = { email: 'dev@example.com', firstName: 'Dev', lastName: 'User', password: 'Dev-Sandbox-1' };

const started = Date.now();
const DEV_FOLDER = path.resolve(process.env.DEV_FOLDER || path.join(REPO_ROOT, '.dev'));
const USER_FOLDER = path.join(DEV_FOLDER, 'n8n');
const STATE_FILE = path.join(DEV_FOLDER, 'state.json');
const N8N_LOG = path.join(DEV_FOLDER, 'n8n.log');
const FILES = path.join(DEV_FOLDER, 'files');
const WATCH = process.env.DEV_WATCH !== '0';

/** What was set up in DEV_FOLDER by an earlier start. */
interface DevState {
	/** The sandbox address the imported credentials point at. */
	sandboxUrl?: string;
	/** Ids of the templates imported so far. */
	templates: string[];
}

function say(text = ''): void {
	process.stdout.write(`${text}\n`);
}

function portFrom(name: string, fallback: number): number {
	const value = process.env[name];
	if (value === undefined || value === '') return fallback;
	if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new Error(`${name} must be a port number, not "${value}"`);
	return Number(value);
}

async function portIsFree(port: number): Promise<boolean> {
	return await new Promise((resolve) => {
		const server = net.createServer();
		server.once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});
}

function readState(): DevState {
	try {
		const state = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as Partial<DevState>;
		return { sandboxUrl: state.sandboxUrl, templates: Array.isArray(state.templates) ? state.templates : [] };
	} catch {
		return { templates: [] };
	}
}

function writeState(state: DevState): void {
	fs.writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * The key n8n encrypts the credentials with: the one n8n saved in the kept folder's settings
 * file at its first start, else a new one (which n8n then saves there).
 */
function encryptionKeyOf(userFolder: string): string | undefined {
	try {
		const settings = JSON.parse(fs.readFileSync(path.join(userFolder, '.n8n', 'config'), 'utf8')) as { encryptionKey?: string };
		return settings.encryptionKey || undefined;
	} catch {
		return undefined;
	}
}

/**
 * The templates as shipped, with their files read from DEV_FOLDER/files (a sample of each
 * platform's export) instead of /data/exports/, so that every file template runs as it is.
 */
function templates(): Array<ReturnType<typeof loadExample>> {
	fs.mkdirSync(FILES, { recursive: true });
	const events = path.join(FILES, 'events.csv');
	const users = path.join(FILES, 'users.csv');
	if (!fs.existsSync(events)) fs.copyFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'userpilot-sample.csv'), events);
	if (!fs.existsSync(users)) {
		let text = 'external_id,is_authenticated,created_at,email\n';
		for (let i = 1; i <= 20; i++) text += `dev-user-${i},${i % 2 === 0},2024-02-${String(i).padStart(2, '0')}T08:00:00Z,user${i}@example.com\n`;
		fs.writeFileSync(users, text);
	}
	const local: Record<string, string> = { '/data/exports/events.csv': events, '/data/exports/users.csv': users };
	const files = fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((file) => file.endsWith('.json')).sort();
	return files.map((file) => {
		const workflow = loadExample(file);
		for (const node of workflow.nodes) {
			const selector = node.parameters.fileSelector;
			if (typeof selector === 'string' && local[selector]) node.parameters.fileSelector = local[selector];
		}
		return workflow;
	});
}

let sandbox: Sandbox | undefined;
let n8n: N8nInstance | undefined;
let watcher: ChildProcess | undefined;
let stopping = false;
let restarting: Promise<void> | undefined;
let n8nPid: number | undefined;

/**
 * The parent's pid now: process.ppid is the one at start-up (a value, not read again), so an
 * orphan still sees it; Linux's /proc tells the current one (init or a subreaper once orphaned).
 */
function currentParent(): number {
	try {
		const stat = fs.readFileSync('/proc/self/stat', 'utf8');
		return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
	} catch {
		return process.ppid;
	}
}

class Stopped extends Error {}
function checkStop(): void {
	if (stopping) throw new Stopped('stopped');
}

/** Stops whatever was started, once; exits. */
async function shutdown(reason: string, exitCode: number): Promise<never> {
	if (stopping) return await new Promise<never>(() => undefined);
	stopping = true;
	say(`\n[dev] ${reason}: stopping n8n, the sandbox${watcher ? ' and the watcher' : ''}…`);
	const watcherGone = watcher && watcher.exitCode === null && watcher.signalCode === null ? new Promise((resolve) => watcher?.once('close', resolve)) : undefined;
	watcher?.kill('SIGTERM');
	await n8n?.dispose().catch((error: Error) => say(`[dev] stopping n8n: ${error.message}`));
	await sandbox?.close().catch((error: Error) => say(`[dev] stopping the sandbox: ${error.message}`));
	if (watcherGone) await Promise.race([watcherGone, new Promise((resolve) => setTimeout(resolve, 5000))]);
	if (watcher && watcher.exitCode === null && watcher.signalCode === null) watcher.kill('SIGKILL');
	say('[dev] stopped.');
	process.exit(exitCode);
}

/** n8n loads nodes at start-up only: a rebuild is laid out again and n8n restarts. */
async function restartN8n(port: number): Promise<void> {
	if (!n8n || stopping) return;
	const instance = n8n;
	say('[dev] dist/ rebuilt: restarting n8n to load it…');
	const t0 = Date.now();
	n8nPid = undefined;
	await instance.stop();
	checkStop();
	await instance.reinstallPackage();
	const server = await instance.start({ port, timeoutMs: 180_000 });
	n8nPid = server.pid;
	say(`[dev] n8n is back on ${server.baseUrl} (${((Date.now() - t0) / 1000).toFixed(0)} s): reload the page.`);
}

function startWatcher(port: number): void {
	const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
	watcher = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--watch', '--preserveWatchOutput'], {
		cwd: REPO_ROOT,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let compilations = 0;
	let pending = '';
	const onLine = (line: string) => {
		if (/error TS\d+/.test(line)) say(`[tsc] ${line}`);
		const found = /Found (\d+) errors?\. Watching for file changes/.exec(line);
		if (!found) return;
		compilations++;
		if (compilations === 1) return; // the watcher's own first compilation: dist/ is already that build
		if (found[1] !== '0') {
			say(`[dev] tsc found ${found[1]} error(s): n8n keeps the last good build.`);
			return;
		}
		const previous = restarting ?? Promise.resolve();
		restarting = previous
			.then(() => restartN8n(port))
			.catch((error: Error) => {
				if (!(error instanceof Stopped)) void shutdown(`n8n did not come back after the rebuild (${error.message.split('\n')[0]}; see ${N8N_LOG})`, 1);
			});
	};
	for (const stream of [watcher.stdout, watcher.stderr]) {
		stream?.setEncoding('utf8');
		stream?.on('data', (chunk: string) => {
			pending += chunk;
			const lines = pending.split('\n');
			pending = lines.pop() ?? '';
			for (const line of lines) onLine(line.trim());
		});
	}
	watcher.once('exit', (code, signal) => {
		if (!stopping) say(`[dev] the tsc watcher exited (${code ?? signal}); n8n keeps running without it.`);
		watcher = undefined;
	});
}

async function main(): Promise<void> {
	process.on('SIGINT', () => void shutdown('SIGINT', 0));
	process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
	process.stdout.on('error', () => undefined);
	// n8n stopping on its own (a crash, a kill) stops the rest: nothing half-running stays; so
	// does this script's parent dying (npm or a terminal killed): it is then orphaned.
	const parent = currentParent();
	const monitor = setInterval(() => {
		if (stopping) return;
		if (currentParent() !== parent) {
			clearInterval(monitor);
			void shutdown('its parent process is gone', 0);
			return;
		}
		if (n8nPid === undefined) return;
		try {
			process.kill(n8nPid, 0);
		} catch {
			clearInterval(monitor);
			void shutdown(`n8n exited on its own (see ${N8N_LOG})`, 1);
		}
	}, 2000);

	const port = portFrom('N8N_PORT', 5678);
	const sandboxPort = portFrom('SANDBOX_PORT', DEFAULT_CLI_PORT);
	for (const [what, value, variable] of [
		['n8n', port, 'N8N_PORT'],
		['the sandbox', sandboxPort, 'SANDBOX_PORT'],
	] as const) {
		if (!(await portIsFree(value))) throw new Error(`port ${value} (for ${what}) is in use on 127.0.0.1: is another \`npm run dev\` or n8n running? Pick another with ${variable}=…`);
	}
	fs.mkdirSync(DEV_FOLDER, { recursive: true });
	const state = readState();
	const firstStart = !fs.existsSync(path.join(USER_FOLDER, '.n8n', 'database.sqlite'));
	const shown = path.relative(process.cwd(), USER_FOLDER);
	say(`[dev] ${firstStart ? 'first start: setting up' : 'using'} ${shown && !shown.startsWith('..') ? shown : USER_FOLDER} (n8n's log: ${N8N_LOG})`);

	sandbox = await startSandbox({ port: sandboxPort });
	checkStop();
	const log = fs.createWriteStream(N8N_LOG); // this session's only: it does not grow start after start
	log.write(`\n===== npm run dev ${new Date().toISOString()} =====\n`);
	n8n = await createN8n({ userFolder: USER_FOLDER, encryptionKey: encryptionKeyOf(USER_FOLDER), log: (text) => log.write(text) });
	checkStop();
	if (!n8n.packageInstalled) throw new Error('the package is not built: run `npm run build` first (npm run dev does)');

	if (state.sandboxUrl !== sandbox.url) {
		say(`[dev] credentials for the sandbox on ${sandbox.url}…`);
		await n8n.importCredentials(sandboxCredentials(sandbox));
		checkStop();
		state.sandboxUrl = sandbox.url;
		writeState(state);
	}
	const toImport = templates().filter((workflow) => !state.templates.includes(workflow.id as string));
	if (toImport.length > 0) {
		say(`[dev] importing ${toImport.length} template(s) from examples/…`);
		await n8n.importWorkflows(toImport);
		checkStop();
		state.templates.push(...toImport.map((workflow) => workflow.id as string));
		writeState(state);
	}

	say('[dev] starting n8n…');
	const server = await n8n.start({ port, timeoutMs: 180_000 });
	n8nPid = server.pid;
	checkStop();
	const owner = await setUpOwner(server.baseUrl, DEV_OWNER);
	checkStop();

	const seconds = ((Date.now() - started) / 1000).toFixed(0);
	const credentialNames = sandboxCredentials(sandbox).map((credential) => credential.name);
	say();
	say(`n8n with n8n-nodes-data-import is ready (${seconds} s):`);
	say();
	say(`  Editor:       ${server.baseUrl}`);
	say(`  Login:        ${DEV_OWNER.email} / ${DEV_OWNER.password}${owner === 'existing' ? '   (set up at the first start)' : ''}`);
	say(`  Sandbox:      ${sandbox.url}  (local Rimdian, Userpilot and Ayona APIs; data kept in memory until Ctrl-C)`);
	say(`  Credentials:  ${credentialNames.join(', ')}`);
	say(`  Templates:    ${state.templates.length} workflows from examples/ (Overview → Workflows); open one and click "Execute workflow"`);
	say(`  Kept in:      ${DEV_FOLDER} (delete it to start afresh)`);
	say(
		WATCH
			? '  Watching:     nodes/, credentials/, core/, platforms/: tsc rebuilds dist/ and n8n restarts to load it (about 15 s); then reload the page'
			: '  Not watching: after changing the nodes, run `npm run build` and restart `npm run dev` (n8n loads nodes at start-up)',
	);
	say();
	say('Ctrl-C stops n8n, the sandbox and the watcher.');

	if (WATCH) startWatcher(port);
}

main().catch((error: Error) => {
	// Stopped by a signal meanwhile (an n8n command it interrupted fails too): shutdown() reports.
	if (error instanceof Stopped || stopping) return;
	process.stderr.write(`[dev] ${error.stack ?? error.message}\n`);
	void shutdown('failed', 1);
});
