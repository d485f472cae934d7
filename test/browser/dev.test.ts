/**
 * `npm run dev` (scripts/dev.ts) as a newcomer uses it, twice on the same folder:
 *   1. first start: it prints the editor's address and a login; in Chromium that login signs in,
 *      the workflows list shows every template of examples/, the credentials list the sandbox's
 *      Rimdian, Userpilot and Ayona credentials, and a template opened and executed in the
 *      editor reaches the sandbox; SIGINT then stops n8n, the sandbox and the tsc watcher (every
 *      process it started is gone, both ports closed);
 *   2. second start: owner, credentials and templates are not set up again (none twice), the
 *      workflow the user made in the first session is still there; SIGTERM stops it all;
 *   3. its parent killed (SIGKILL, no signal reaches it: npm or a terminal killed), the orphaned
 *      script stops n8n, the watcher and the sandbox all the same.
 * Its folder (DEV_FOLDER) and ports are the test's own, not the repo's .dev/ and 5678.
 *
 *   node --import tsx --test test/browser/dev.test.ts   (after npm run build; needs chromium)
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { findFreePort, REPO_ROOT } from '../e2e/harness';
import { loadExample } from '../e2e/setup';
import { launchChromium, restGet, signIn } from './browser';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'dev');
const TEMPLATES = fs
	.readdirSync(path.join(REPO_ROOT, 'examples'))
	.filter((file) => file.endsWith('.json'))
	.map((file) => loadExample(file));
const SANDBOX_CREDENTIALS = ['Rimdian (sandbox)', 'Userpilot (sandbox)', 'Ayona (sandbox)'];
const USER_WORKFLOW = 'Made in the first session';

interface Dev {
	child: ChildProcess;
	output(): string;
	editor: string;
	login: { email: string; password: string };
	sandboxUrl: string;
	/** Seconds from spawning scripts/dev.ts to the printed address. */
	readySeconds: number;
}

let devFolder: string;
let n8nPort: number;
let sandboxPort: number;
let browser: Browser | undefined;
let page: Page;
const devs: Dev[] = [];
/** Every process seen under a dev script (pid -> command line): after() kills any one left. */
const seen = new Map<number, string>();

/** Every process below `pid` now (from /proc), with its command line. */
function descendants(pid: number): Map<number, string> {
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
	const found = new Map<number, string>();
	const queue = [pid];
	while (queue.length > 0) {
		for (const child of children.get(queue.shift() as number) ?? []) {
			let command = '';
			try {
				command = fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
			} catch {
				continue;
			}
			found.set(child, command);
			queue.push(child);
		}
	}
	return found;
}

function alive(pid: number): boolean {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
	} catch {
		return false;
	}
}

async function portOpen(port: number): Promise<boolean> {
	return await new Promise((resolve) => {
		const socket = net.connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

/** Kills a dev script that a failed test left running, and everything under it. */
function killDev(dev: Dev): void {
	if (dev.child.exitCode !== null || dev.child.signalCode !== null) return;
	for (const pid of descendants(dev.child.pid as number).keys()) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {
			// gone meanwhile
		}
	}
	dev.child.kill('SIGKILL');
}

/** Spawns `node --import tsx scripts/dev.ts` as `npm run dev` does after its build; resolves at the printed address. */
async function startDev(viaShell = false): Promise<Dev> {
	for (const previous of devs) killDev(previous);
	await new Promise((resolve) => setTimeout(resolve, 500));
	const t0 = Date.now();
	const env: Record<string, string> = { ...(process.env as Record<string, string>), N8N_PORT: String(n8nPort), SANDBOX_PORT: String(sandboxPort), DEV_FOLDER: devFolder };
	delete env.NODE_OPTIONS;
	delete env.NODE_TEST_CONTEXT;
	// viaShell: under a shell that stays its parent (`; true` keeps sh from exec'ing node), as npm's is.
	const child = viaShell
		? spawn('sh', ['-c', `"${process.execPath}" --import tsx scripts/dev.ts; true`], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
		: spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
	let text = '';
	for (const stream of [child.stdout, child.stderr]) {
		stream.setEncoding('utf8');
		stream.on('data', (chunk: string) => (text += chunk));
	}
	const deadline = Date.now() + 240_000;
	while (!text.includes('Ctrl-C stops')) {
		if (child.exitCode !== null) throw new Error(`scripts/dev.ts exited (${child.exitCode}) before printing the address:\n${text}`);
		if (Date.now() > deadline) throw new Error(`no address printed within 240 s:\n${text}`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	const editor = /Editor:\s+(http:\/\/\S+)/.exec(text);
	const login = /Login:\s+(\S+@\S+) \/ (\S+)/.exec(text);
	const sandbox = /Sandbox:\s+(http:\/\/\S+)/.exec(text);
	assert.ok(editor && login && sandbox, `address, login and sandbox printed:\n${text}`);
	const dev: Dev = {
		child,
		output: () => text,
		editor: editor[1],
		login: { email: login[1], password: login[2] },
		sandboxUrl: sandbox[1],
		readySeconds: (Date.now() - t0) / 1000,
	};
	devs.push(dev);
	return dev;
}

/** Sends `signal` to the dev script; asserts it exits and leaves no process and no open port behind. */
async function stopDev(dev: Dev, signal: NodeJS.Signals): Promise<void> {
	const started = descendants(dev.child.pid as number);
	for (const [pid, command] of started) seen.set(pid, command);
	const commands = [...started.values()];
	assert.ok(commands.some((command) => /n8n\/bin\/n8n start/.test(command)), `n8n start runs under the dev script: ${commands.join('\n')}`);
	assert.ok(commands.some((command) => /tsc .*--watch/.test(command)), `the tsc watcher runs under the dev script: ${commands.join('\n')}`);
	assert.ok(await portOpen(n8nPort), 'n8n listens before the signal');
	assert.ok(await portOpen(sandboxPort), 'the sandbox listens before the signal');

	const exited = new Promise<number | null>((resolve) => dev.child.once('exit', (code) => resolve(code)));
	dev.child.kill(signal);
	const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000))]);
	assert.notEqual(code, 'timeout', `the dev script exits within 60 s of ${signal}:\n${dev.output().slice(-2000)}`);
	assert.equal(code, 0, dev.output().slice(-2000));
	assert.match(dev.output(), new RegExp(`${signal}: stopping n8n, the sandbox and the watcher`));
	await new Promise((resolve) => setTimeout(resolve, 500));
	const left = [...started].filter(([pid]) => alive(pid)).map(([pid, command]) => `${pid} ${command}`);
	assert.deepEqual(left, [], `no process the dev script started is left after ${signal}`);
	assert.equal(await portOpen(n8nPort), false, `n8n's port ${n8nPort} is closed`);
	assert.equal(await portOpen(sandboxPort), false, `the sandbox's port ${sandboxPort} is closed`);
}

/** POST on n8n's REST API from the signed-in page (as the editor does it). */
async function restPost(baseUrl: string, restPath: string, body: unknown): Promise<{ status: number; text: string }> {
	return await page.evaluate(
		async ([url, json]) => {
			const storage = (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage;
			const answer = await fetch(url, {
				method: 'POST',
				headers: { 'content-type': 'application/json', 'browser-id': storage.getItem('n8n-browserId') ?? '' },
				body: json,
			});
			return { status: answer.status, text: await answer.text() };
		},
		[`${baseUrl}/rest${restPath}`, JSON.stringify(body)] as const,
	);
}

async function listed(baseUrl: string, route: string): Promise<string[]> {
	await page.goto(`${baseUrl}${route}`);
	// n8n 1.123 marks a workflow's card resources-list-item-workflow, a credential's resources-list-item.
	const items = page.locator('[data-test-id=resources-list-item-workflow], [data-test-id=resources-list-item]');
	await items.first().waitFor();
	return (await items.allInnerTexts()).map((text) => text.trim());
}

async function names(baseUrl: string, resource: 'workflows' | 'credentials'): Promise<string[]> {
	const answer = await restGet(page, baseUrl, `/${resource}`);
	assert.equal(answer.status, 200, JSON.stringify(answer.body).slice(0, 500));
	return (answer.body as { data: Array<{ name: string }> }).data.map((item) => item.name).sort();
}

before(async () => {
	fs.rmSync(ARTIFACTS, { recursive: true, force: true });
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	assert.ok(fs.existsSync(path.join(REPO_ROOT, 'dist', 'nodes', 'ImportItems', 'ImportItems.node.js')), 'built: npm run build first');
	devFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-dev-test-'));
	n8nPort = await findFreePort();
	sandboxPort = await findFreePort();
	browser = await launchChromium();
});

after(async () => {
	await browser?.close().catch(() => undefined);
	for (const dev of devs) {
		fs.writeFileSync(path.join(ARTIFACTS, `dev-${devs.indexOf(dev) + 1}.log`), dev.output());
		// A failed test may leave it running: nothing of it may outlive the test.
		killDev(dev);
	}
	for (const [pid, command] of seen) {
		let now = '';
		try {
			now = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
		} catch {
			continue;
		}
		if (now === command && alive(pid)) process.kill(pid, 'SIGKILL');
	}
	const n8nLog = path.join(devFolder, 'n8n.log');
	if (fs.existsSync(n8nLog)) fs.copyFileSync(n8nLog, path.join(ARTIFACTS, 'n8n.log'));
	fs.rmSync(devFolder, { recursive: true, force: true });
});

/** Runs a test's steps; on a failure, a screenshot of the page first. */
function screenshotOnFailure(name: string, steps: () => Promise<void>): () => Promise<void> {
	return async () => {
		try {
			await steps();
		} catch (error) {
			if (page && !page.isClosed()) await page.screenshot({ path: path.join(ARTIFACTS, `failure-${name}.png`) }).catch(() => undefined);
			throw error;
		}
	};
}

test('first start: the printed login signs in, the templates and sandbox credentials are there, a template runs; SIGINT stops everything', screenshotOnFailure('first', async () => {
	const dev = await startDev();
	process.stdout.write(`# first start: address printed after ${dev.readySeconds.toFixed(1)} s\n`);
	assert.equal(dev.editor, `http://127.0.0.1:${n8nPort}`);
	assert.equal(dev.sandboxUrl, `http://127.0.0.1:${sandboxPort}`);
	assert.match(dev.output(), /first start/);
	assert.match(dev.output(), new RegExp(`importing ${TEMPLATES.length} template`));

	page = await (browser as Browser).newPage({ viewport: { width: 1440, height: 900 } });
	page.setDefaultTimeout(30_000);
	await signIn(page, dev.editor, dev.login);

	const workflows = await listed(dev.editor, '/home/workflows');
	for (const template of TEMPLATES) {
		assert.ok(workflows.some((text) => text.includes(template.name)), `the workflows list shows "${template.name}": ${workflows.join(' | ')}`);
	}
	await page.screenshot({ path: path.join(ARTIFACTS, '01-workflows.png') });
	const credentials = await listed(dev.editor, '/home/credentials');
	for (const name of SANDBOX_CREDENTIALS) {
		assert.ok(credentials.some((text) => text.includes(name)), `the credentials list shows "${name}": ${credentials.join(' | ')}`);
	}
	await page.screenshot({ path: path.join(ARTIFACTS, '02-credentials.png') });

	// A template as a newcomer runs it: opened from the list, "Execute workflow".
	const ayona = TEMPLATES.find((template) => template.id === 'dataImportAyonaFeedback');
	assert.ok(ayona, 'examples/ayona-feedback.json');
	await listed(dev.editor, '/home/workflows');
	await page.locator('[data-test-id=resources-list-item-workflow]', { hasText: ayona.name }).first().click();
	await page.waitForURL((url) => url.pathname.endsWith(`/workflow/${ayona.id}`));
	const importItems = page.locator('[data-test-id=canvas-node]', { hasText: 'Import Items' }).first();
	await importItems.waitFor();
	await page.locator('[data-test-id=execute-workflow-button]').first().click();
	await importItems.locator('[data-test-id=canvas-node-status-success]').waitFor({ timeout: 60_000 });
	await page.screenshot({ path: path.join(ARTIFACTS, '03-template-executed.png') });
	const records = (await (await fetch(`${dev.sandboxUrl}/__sandbox/records/ayona`)).json()) as { entries: Array<{ name: string }> };
	assert.deepEqual(
		records.entries.map((entry) => entry.name),
		['User 1', 'User 2', 'User 3'],
		'the sandbox received the template\'s three entries through the sandbox credential',
	);

	// Something of the user's own, to find again at the next start.
	const created = await restPost(dev.editor, '/workflows', { name: USER_WORKFLOW, nodes: [], connections: {}, active: false, settings: {} });
	assert.equal(created.status, 200, created.text.slice(0, 500));
	await page.close();

	await stopDev(dev, 'SIGINT');
}));

test('second start: nothing set up twice, the user\'s workflow kept; SIGTERM stops everything', screenshotOnFailure('second', async () => {
	const dev = await startDev();
	process.stdout.write(`# second start: address printed after ${dev.readySeconds.toFixed(1)} s\n`);
	assert.doesNotMatch(dev.output(), /\[dev\] first start|importing|credentials for the sandbox/, 'nothing imported again');
	assert.match(dev.output(), /set up at the first start/);

	page = await (browser as Browser).newPage({ viewport: { width: 1440, height: 900 } });
	page.setDefaultTimeout(30_000);
	await signIn(page, dev.editor, dev.login);
	const workflows = await names(dev.editor, 'workflows');
	assert.deepEqual(workflows, [...TEMPLATES.map((template) => template.name), USER_WORKFLOW].sort(), 'each template once, and the user\'s workflow');
	const credentials = await names(dev.editor, 'credentials');
	assert.equal(credentials.length, new Set(credentials).size, `no credential twice: ${credentials.join(', ')}`);
	for (const name of SANDBOX_CREDENTIALS) assert.ok(credentials.includes(name), `${name}: ${credentials.join(', ')}`);
	await page.close();

	await stopDev(dev, 'SIGTERM');
}));

test('its parent killed: the orphaned dev script stops everything all the same', screenshotOnFailure('orphan', async () => {
	const dev = await startDev(true);
	const node = [...descendants(dev.child.pid as number)].find(([, command]) => command.includes('scripts/dev.ts'));
	assert.ok(node, 'node runs scripts/dev.ts under the shell');
	const started = descendants(node[0]);
	for (const [pid, command] of [node, ...started]) seen.set(pid, command);
	assert.ok([...started.values()].some((command) => /n8n\/bin\/n8n start/.test(command)), 'n8n start runs');
	dev.child.kill('SIGKILL');
	const deadline = Date.now() + 60_000;
	for (;;) {
		const left = [node, ...started].filter(([pid]) => alive(pid)).map(([pid, command]) => `${pid} ${command}`);
		if (left.length === 0) break;
		assert.ok(Date.now() < deadline, `60 s after its parent died, still running:\n${left.join('\n')}\n${dev.output().slice(-1000)}`);
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
	assert.match(dev.output(), /its parent process is gone: stopping n8n, the sandbox and the watcher/);
	assert.equal(await portOpen(n8nPort), false, `n8n's port ${n8nPort} is closed`);
	assert.equal(await portOpen(sandboxPort), false, `the sandbox's port ${sandboxPort} is closed`);
}));
