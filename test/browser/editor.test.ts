/**
 * The package in the n8n editor, driven as a user would with a real browser (Debian's Chromium
 * through playwright-core) against a real `n8n start` on 127.0.0.1 and the sandbox:
 *   - each node is found by searching its name in the nodes panel, with its icon, and opens with
 *     its defaults;
 *   - the credential form shows each platform's own fields, and saving it runs its test: a clear
 *     failure with a wrong key, success with the sandbox's key;
 *   - a workflow built in the editor (Manual Trigger -> Import Items) executes and shows one
 *     result per item; the sandbox received the entry.
 * Each step leaves a screenshot in test-artifacts/browser/ (gitignored). With
 * UPDATE_SCREENSHOTS=1 the ones the README shows are also written to docs/screenshots/.
 *
 *   node --import tsx --test test/browser/editor.test.ts   (after npm run build; needs chromium:
 *   apt-get install chromium, or CHROMIUM_PATH; N8N_BIN / N8N_NODE for another n8n)
 *
 * Selectors are the editor's data-test-id attributes, the same on n8n 1.123 and 2.40 where
 * they exist on both; where the two editors differ (the credential picker of a node that has
 * none yet, saving a workflow, the sign-in's landing page) each step does what works on both.
 *   npm run test:browser          n8n 1.x (e2e/n8n)
 *   npm run test:browser:n8n2     n8n 2.x on Node 24 (e2e/n8n2)
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import type { Browser, Locator, Page } from 'playwright-core';

import { AYONA_KEY, AYONA_SOURCE_ID } from '../../sandbox/defaults';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, DEFAULT_N8N_BIN, PACKAGE_NAME, REPO_ROOT, type N8nInstance } from '../e2e/harness';
import { setUpOwner } from '../e2e/owner';
import { findSecrets, sandboxGet } from '../e2e/setup';
import { launchChromium, restGet as restGetFrom, signIn } from './browser';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'browser');
/** The major version of the n8n under test (N8N_BIN, as the harness picks it). */
const N8N_MAJOR = Number(
	(JSON.parse(fs.readFileSync(path.join(path.dirname(path.dirname(fs.realpathSync(process.env.N8N_BIN || DEFAULT_N8N_BIN))), 'package.json'), 'utf8')) as { version: string }).version.split('.')[0],
);
/** The README's screenshots: n8n 1.x's in docs/screenshots/, n8n 2.x's in docs/screenshots/n8n2/. */
const DOCS_SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots', ...(N8N_MAJOR >= 2 ? ['n8n2'] : []));
const OWNER = { email: 'owner@example.com', firstName: 'Test', lastName: 'Owner', password: 'Sandbox-Owner-1' };
const WRONG_KEY = 'wrong-key-browser-0d4c';

let sandbox: Sandbox;
let n8n: N8nInstance;
let baseUrl: string;
let browser: Browser;
let page: Page;
let shotCounter = 0;
const consoleErrors: string[] = [];

const NDV = '[data-test-id=ndv]';
/** What the page functions read of an element (the project compiles without the DOM's types). */
interface Shown {
	offsetParent: unknown;
	innerText?: string;
}
const CREDENTIAL = '[data-test-id=credential-edit-dialog]';

interface DocsShot {
	/** File name under docs/screenshots/. */
	file: string;
	/** What to show: the union of these elements' boxes (default: the whole page). */
	around?: Locator[];
	pad?: number;
	maxHeight?: number;
}

/** A full-page screenshot in test-artifacts/; with UPDATE_SCREENSHOTS=1 also `docs`, cropped. */
async function shot(name: string, docs?: DocsShot): Promise<string> {
	const file = path.join(ARTIFACTS, `${String(++shotCounter).padStart(2, '0')}-${name}.png`);
	await page.screenshot({ path: file });
	if (docs && process.env.UPDATE_SCREENSHOTS === '1') {
		fs.mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
		const target = path.join(DOCS_SCREENSHOTS, docs.file);
		const boxes = [];
		for (const locator of docs.around ?? []) {
			for (const element of await locator.all()) {
				const box = await element.boundingBox();
				if (box) boxes.push(box);
			}
		}
		if (boxes.length === 0) {
			await page.screenshot({ path: target });
		} else {
			const pad = docs.pad ?? 0;
			const viewport = page.viewportSize() ?? { width: 1440, height: 900 };
			const x = Math.max(0, Math.min(...boxes.map((box) => box.x)) - pad);
			const y = Math.max(0, Math.min(...boxes.map((box) => box.y)) - pad);
			const right = Math.min(viewport.width, Math.max(...boxes.map((box) => box.x + box.width)) + pad);
			const bottom = Math.min(viewport.height, Math.max(...boxes.map((box) => box.y + box.height)) + pad);
			const height = Math.min(bottom - y, docs.maxHeight ?? Infinity);
			await page.screenshot({ path: target, clip: { x, y, width: right - x, height } });
		}
	}
	return file;
}

/** Picks `option` in the select of parameter `param` inside `scope`. */
async function pick(scope: string, param: string, option: string) {
	await page.click(`${scope} [data-test-id=parameter-input-${param}]`);
	await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click();
	await waitForValue(scope, param, option);
}

async function valueOf(scope: string, param: string): Promise<string> {
	return await page.locator(`${scope} [data-test-id=parameter-input-${param}] input`).first().inputValue();
}

async function waitForValue(scope: string, param: string, expected: string) {
	const deadline = Date.now() + 5000;
	let value = '';
	while (Date.now() < deadline) {
		value = await valueOf(scope, param);
		if (value === expected) return;
		await page.waitForTimeout(100);
	}
	assert.equal(value, expected, `${param} shows "${expected}"`);
}

/** Names of the parameters the credential form shows. */
async function visibleCredentialFields(): Promise<string[]> {
	return await page.$$eval(`${CREDENTIAL} [data-test-id^=parameter-input-]`, (elements) =>
		elements
			.filter((element) => (element as unknown as Shown).offsetParent !== null)
			.map((element) => (element.getAttribute('data-test-id') ?? '').replace('parameter-input-', ''))
			.filter((name) => name !== 'field'),
	);
}

async function visibleCredentialLabels(): Promise<string[]> {
	return await page.$$eval(`${CREDENTIAL} [data-test-id=input-label] label, ${CREDENTIAL} label`, (elements) =>
		elements
			.filter((element) => (element as unknown as Shown).offsetParent !== null)
			.map((element) => ((element as unknown as Shown).innerText ?? '').split('\n')[0].trim())
			.filter((text) => text !== '' && text !== 'Fixed' && text !== 'Expression'),
	);
}

/**
 * Types `query` into the open nodes panel's search: the names it lists once `expected` shows.
 * The codex aliases make a node findable by its platforms and file formats.
 */
async function listedFor(query: string, expected: string[]): Promise<string[]> {
	await page.fill('[data-test-id=node-creator-search-bar]', query);
	const names = page.locator('[data-test-id=node-creator-item-name]');
	for (const name of expected) {
		await names.filter({ hasText: name }).first().waitFor().catch(async (error: unknown) => {
			await shot(`alias-not-found-${query.toLowerCase()}`);
			throw new Error(`searching "${query}" does not list ${name}: ${(await names.allInnerTexts()).join(', ')}`, { cause: error });
		});
	}
	return (await names.allInnerTexts()).map((text) => text.trim());
}

/** The node's credential picker: "create new", whether the node has a credential list or none. */
async function openNewCredential() {
	// n8n 2.x shows a "Connect to …" button while no credential of the type exists; 1.x a select.
	const empty = page.locator(`${NDV} [data-test-id=node-credentials-empty-state] button`);
	const select = page.locator(`${NDV} [data-test-id=node-credentials-select]`);
	await empty.or(select).first().waitFor();
	if (await empty.count()) {
		await empty.first().click();
	} else {
		await select.click();
		await page.click('[data-test-id=node-credentials-select-item-new]');
	}
	await page.waitForSelector(CREDENTIAL);
}

/** GET on n8n's REST API from the signed-in page. */
async function restGet(restPath: string): Promise<{ status: number; body: unknown }> {
	return await restGetFrom(page, baseUrl, restPath);
}

/** Saves the open workflow (Ctrl+S on both lines); resolves once n8n's REST API holds `nodes` (among others). */
async function saveWorkflow(nodes: string[]): Promise<void> {
	await page.locator('[data-test-id=canvas-node]').first().click();
	await page.keyboard.press('Escape');
	await page.keyboard.press('Control+s');
	await page.waitForURL((url) => /\/workflow\/[^/]+$/.test(url.pathname) && !url.pathname.endsWith('/new'));
	const id = new URL(page.url()).pathname.split('/').pop() ?? '';
	const deadline = Date.now() + 15_000;
	let seen = '';
	for (;;) {
		const answer = await restGet(`/workflows/${id}`);
		seen = `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
		if (answer.status === 200) {
			const saved = (answer.body as { data: { nodes: Array<{ name: string }> } }).data.nodes.map((node) => node.name).sort();
			if (nodes.every((node) => saved.includes(node))) return;
			seen = `nodes ${saved.join(', ')}`;
		}
		if (Date.now() > deadline) throw new Error(`workflow ${id} was not saved with ${nodes.join(', ')}: ${seen}`);
		await page.waitForTimeout(250);
	}
}

/**
 * Searches `name` in the open nodes panel: that node is listed, with its icon (an image
 * of this package that loaded); then opens it (Enter), and adds it from its details panel.
 */
async function searchAndAdd(name: string, description: string, screenshotName: string, docsFile?: string, action?: string) {
	await page.fill('[data-test-id=node-creator-search-bar]', name);
	// The nodes panel lists a trigger without its " Trigger" suffix ("Job Status").
	const listedAs = name.replace(/ Trigger$/, '');
	const item = page.locator('[data-test-id=item-iterator-item]', { hasText: listedAs }).first();
	await item.waitFor().catch(async (error: unknown) => {
		await shot(`not-found-${screenshotName}`);
		throw error;
	});
	const names = await page.locator('[data-test-id=node-creator-item-name]').allInnerTexts();
	assert.ok(names.map((text) => text.trim()).includes(listedAs), `the nodes panel lists ${listedAs}: ${names.join(', ')}`);
	const icon = item.locator('img').first();
	await icon.waitFor();
	const src = (await icon.getAttribute('src')) ?? '';
	assert.match(src, new RegExp(`${PACKAGE_NAME}.*\\.svg`), `${name}'s icon is the package's own: ${src}`);
	await page.waitForFunction((element) => {
		const image = element as unknown as { complete: boolean; naturalWidth: number };
		return image.complete && image.naturalWidth > 0;
	}, await icon.elementHandle());
	await shot(
		`search-${screenshotName}`,
		docsFile ? { file: docsFile, around: [page.locator('[data-test-id=node-creator-search-bar]'), item], pad: 24 } : undefined,
	);

	await page.keyboard.press('Enter');
	// A community node opens its details panel first: description, "Installed", and either its
	// actions (a trigger's events: `action`) or an "Add to workflow" button.
	await page.getByText(description).first().waitFor();
	const add = action ? page.getByText(action, { exact: true }).first() : page.getByRole('button', { name: 'Add to workflow' });
	await add.waitFor();
	await shot(`details-${screenshotName}`);
	await add.click();
	await page.waitForSelector(NDV);
}

async function closeNdv() {
	// Escape, unless a field being edited keeps it: then the panel's own button ("Back to canvas"
	// on n8n 1.x, the close button on 2.x).
	await page.keyboard.press('Escape');
	if (await page.waitForSelector(NDV, { state: 'hidden', timeout: 2000 }).then(() => true, () => false)) return;
	await page.locator('[data-test-id=back-to-canvas]:visible, [data-test-id=ndv-close-button]:visible').first().click();
	await page.waitForSelector(NDV, { state: 'hidden' });
}

before(async () => {
	fs.rmSync(ARTIFACTS, { recursive: true, force: true });
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	sandbox = await startSandbox({ jobStepMs: 50 });
	n8n = await createN8n();
	assert.ok(n8n.packageInstalled, 'the package is built (npm run build) and installed into n8n');
	({ baseUrl } = await n8n.start());
	assert.equal(await setUpOwner(baseUrl, OWNER), 'created');
	browser = await launchChromium();
	page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
	page.setDefaultTimeout(30_000);
	page.on('console', (message) => {
		if (message.type() === 'error') consoleErrors.push(message.text());
	});
});

after(async () => {
	if (page && process.exitCode) await shot('failure').catch(() => undefined);
	await browser?.close().catch(() => undefined);
	if (n8n) fs.writeFileSync(path.join(ARTIFACTS, 'n8n.log'), n8n.logs().replaceAll(AYONA_KEY, '<redacted>'));
	await n8n?.dispose();
	await sandbox?.close();
});

test('the owner signs in', async () => {
	await signIn(page, baseUrl, OWNER, () => shot('signin'));
});

test('Job Status Trigger: found in the nodes panel with its icon, opens with its defaults', async () => {
	await page.goto(`${baseUrl}/workflow/new`);
	await page.click('[data-test-id=canvas-add-button]');
	await searchAndAdd('Job Status Trigger', 'Starts a workflow when', 'job-status-trigger', undefined, 'On job completed');
	await waitForValue(NDV, 'platform', 'Userpilot');
	await waitForValue(NDV, 'jobsToWatch', 'All Jobs');
	await waitForValue(NDV, 'mode', 'Every Minute');
	// The event picked in the nodes panel is the one it triggers on.
	assert.match(await page.locator(`${NDV} [data-test-id=parameter-input-events]`).innerText(), /Job Completed/);
	await shot('ndv-job-status-trigger', {
		file: 'job-status-trigger.png',
		around: [page.locator(`${NDV} [data-test-id=node-title-container]`), page.locator(`${NDV} [data-test-id=parameter-input-jobsToWatch]`)],
		pad: 16,
	});
	await closeNdv();
});

test('Bulk File Import: found in the nodes panel with its icon, opens with its defaults', async () => {
	await page.click('[data-test-id=node-creator-plus-button]');
	// Found by the platforms and formats it imports (codex aliases), not only by its name.
	for (const query of ['NDJSON', 'CSV', 'Userpilot', 'Ayona']) {
		const listed = await listedFor(query, query === 'Ayona' || query === 'Userpilot' ? ['Bulk File Import', 'Import Items'] : ['Bulk File Import']);
		assert.ok(listed.includes('Bulk File Import'), `"${query}" lists Bulk File Import: ${listed.join(', ')}`);
	}
	await shot('search-alias-ayona', {
		file: 'search-alias.png',
		around: [page.locator('[data-test-id=node-creator-search-bar]'), page.locator('[data-test-id=item-iterator-item]').filter({ hasText: /Bulk File Import|Import Items/ })],
		pad: 24,
	});
	await searchAndAdd('Bulk File Import', 'Stream a CSV or NDJSON file', 'bulk-file-import');
	await waitForValue(NDV, 'platform', 'Rimdian');
	await waitForValue(NDV, 'binaryPropertyName', 'data');
	await waitForValue(NDV, 'fileFormat', 'Auto-Detect');
	await waitForValue(NDV, 'onInvalid', 'Skip and Report Them');
	await shot('ndv-bulk-file-import');
	await closeNdv();
	// Both nodes on the canvas, each with its icon.
	const icons = page.locator('[data-test-id=canvas-node] img');
	assert.ok((await icons.count()) >= 2, 'both nodes show an icon on the canvas');
	await shot('canvas-trigger-and-bulk-import', { file: 'canvas.png', around: [page.locator('[data-test-id=canvas-node]')], pad: 48 });
	await saveWorkflow(['Bulk File Import', 'Job Status Trigger']);
});

test('Import Items: found in the nodes panel with its icon, added after a Manual Trigger, opens with its defaults', async () => {
	await page.goto(`${baseUrl}/workflow/new`);
	await page.click('[data-test-id=canvas-add-button]');
	await page.fill('[data-test-id=node-creator-search-bar]', 'Manual Trigger');
	await page.locator('[data-test-id=node-creator-item-name]', { hasText: 'Manual Trigger' }).first().waitFor();
	await page.keyboard.press('Enter');
	await page.click('[data-test-id=canvas-handle-plus]');
	await searchAndAdd('Import Items', 'Validate, batch and send items', 'import-items', 'search.png');
	await waitForValue(NDV, 'platform', 'Rimdian');
	await waitForValue(NDV, 'rimdianKind', 'User');
	await waitForValue(NDV, 'dataMode', 'Use Input Fields As They Are');
	await waitForValue(NDV, 'onInvalid', 'Stop Before Sending Anything');
	await shot('ndv-import-items-defaults', {
		file: 'import-items.png',
		around: [page.locator(`${NDV} [data-test-id=node-title-container]`), page.locator(`${NDV} [data-test-id=parameter-input-onInvalid]`)],
		pad: 16,
	});
});

test('the credential form shows the fields of each platform', async () => {
	await openNewCredential();
	await waitForValue(CREDENTIAL, 'platform', 'Rimdian');

	const expectations: Array<{ platform: string; fields: string[]; labels: string[]; absent: string[] }> = [
		{ platform: 'Rimdian', fields: ['rimdianAuthentication', 'rimdianRegion', 'workspaceId'], labels: ['Workspace ID', 'Authentication', 'Endpoint'], absent: [] },
		{ platform: 'Userpilot', fields: ['userpilotRegion', 'apiKey'], labels: ['Endpoint', 'API Key'], absent: ['workspaceId', 'rimdianAuthentication'] },
		{ platform: 'Ayona', fields: ['baseUrl', 'apiKey'], labels: ['Base URL', 'API Key'], absent: ['workspaceId', 'userpilotRegion', 'rimdianRegion'] },
	];
	for (const { platform, fields, labels, absent } of expectations) {
		if ((await valueOf(CREDENTIAL, 'platform')) !== platform) await pick(CREDENTIAL, 'platform', platform);
		await page.waitForTimeout(200);
		const shown = await visibleCredentialFields();
		for (const field of fields) assert.ok(shown.includes(field), `${platform}: the form shows ${field} (${shown.join(', ')})`);
		for (const field of absent) assert.ok(!shown.includes(field), `${platform}: the form hides ${field}`);
		const shownLabels = await visibleCredentialLabels();
		for (const label of labels) assert.ok(shownLabels.includes(label), `${platform}: label "${label}" (${shownLabels.join(', ')})`);
		await shot(`credential-${platform.toLowerCase()}`, platform === 'Rimdian' ? { file: 'credential-rimdian.png', around: [page.locator(CREDENTIAL)], maxHeight: 640 } : undefined);
	}
	// Userpilot's custom endpoint asks for a base URL.
	await pick(CREDENTIAL, 'platform', 'Userpilot');
	await pick(CREDENTIAL, 'userpilotRegion', 'Custom Base URL');
	assert.ok((await visibleCredentialFields()).includes('baseUrl'), 'Userpilot, Custom Base URL: the form shows Base URL');
	await shot('credential-userpilot-custom');
	await pick(CREDENTIAL, 'platform', 'Ayona');
});

test('saving the credential tests it: a wrong key fails clearly, the right one succeeds', async () => {
	await page.fill(`${CREDENTIAL} [data-test-id=parameter-input-baseUrl] input`, sandbox.url);
	await page.fill(`${CREDENTIAL} [data-test-id=parameter-input-apiKey] input`, WRONG_KEY);
	const requestsBefore = sandbox.stats().ayona.requests;
	await page.click('[data-test-id=credential-save-button]');
	await page.getByText('Couldn’t connect with these settings').first().waitFor();
	const details = page.getByText('More details');
	if (await details.count()) await details.first().click();
	const failure = page.getByText(/Ayona refused the API key \(401\)/).first();
	await failure.waitFor();
	const said = await failure.innerText();
	assert.equal(said.match(/refused/g)?.length, 1, `"refused" once: ${said}`);
	assert.match(said, /Settings → API Keys/, 'says where to get a key');
	assert.ok(sandbox.stats().ayona.requests > requestsBefore, 'the test called the sandbox');
	await shot('credential-test-wrong-key', { file: 'credential-wrong-key.png', around: [page.locator(CREDENTIAL)], maxHeight: 520 });

	await page.fill(`${CREDENTIAL} [data-test-id=parameter-input-apiKey] input`, AYONA_KEY);
	const acceptedBefore = sandbox.stats().ayona.requests;
	await page.click('[data-test-id=credential-save-button]');
	// n8n 1.x shows "Connection tested successfully" in the dialog; n8n 2.x closes a credential
	// created from a node as soon as its test succeeds (and only then: a failed test keeps it open,
	// as above), back in the node with the credential picked.
	const success = page.locator(CREDENTIAL).getByText('Connection tested successfully').first();
	const deadline = Date.now() + 30_000;
	let closed = false;
	for (;;) {
		if (await success.isVisible()) break;
		if (!(await page.locator(CREDENTIAL).isVisible())) {
			closed = true;
			break;
		}
		assert.ok(Date.now() < deadline, 'the credential test neither succeeded in the dialog nor closed it');
		await page.waitForTimeout(200);
	}
	assert.ok(sandbox.stats().ayona.requests > acceptedBefore, 'the test called the sandbox again');
	if (closed) {
		assert.ok(N8N_MAJOR >= 2, 'only n8n 2.x closes the dialog on success');
		await page.locator(`${NDV} [data-test-id=node-credentials-select]`).first().waitFor();
		await shot('credential-test-success-closed', { file: 'credential-success.png', around: [page.locator(`${NDV} [data-test-id=node-credentials-select]`), page.locator(`${NDV} [data-test-id=parameter-input-platform]`)], pad: 16 });
	} else {
		await page.locator(CREDENTIAL).getByText(/Ayona refused the API key/).first().waitFor({ state: 'hidden' });
		await shot('credential-test-success', { file: 'credential-success.png', around: [page.locator(CREDENTIAL)], maxHeight: 520 });
		await page.keyboard.press('Escape');
		await page.waitForSelector(CREDENTIAL, { state: 'hidden' });
	}
	// Either way the node now uses the new credential.
	const picker = page.locator(`${NDV} [data-test-id=node-credentials-select]`).first();
	const inputs = picker.locator('input');
	const shown = `${await picker.innerText()} ${(await inputs.count()) ? await inputs.first().inputValue() : ''}`;
	assert.match(shown, /Data Import account/, `the node's credential: ${shown}`);
});

test('Manual Trigger -> Import Items, built in the editor, executes and shows a result per item', async () => {
	await pick(NDV, 'platform', 'Ayona');
	await page.fill(`${NDV} [data-test-id=parameter-input-sourceId] input`, AYONA_SOURCE_ID);
	await pick(NDV, 'dataMode', 'Define Fields Below');
	const fields: Array<[string, string]> = [
		['date', '2024-03-08 10:00:00'],
		['name', 'Editor user'],
		['content', 'Built in the n8n editor'],
	];
	for (let i = 0; i < fields.length; i++) {
		await page.getByRole('button', { name: 'Add Field' }).click();
		await page.locator(`${NDV} [data-test-id=parameter-input-name] input`).nth(i).fill(fields[i][0]);
		await page.locator(`${NDV} [data-test-id=parameter-input-value] input`).nth(i).fill(fields[i][1]);
	}
	// Saved first, as a user would: n8n 1.x refuses to run a new workflow that has no ID yet
	// ("You cannot execute a workflow without an ID") when its automatic save has not happened.
	await closeNdv();
	await saveWorkflow(['Import Items']);
	await page.locator('[data-test-id=canvas-node]').filter({ hasText: 'Import Items' }).first().dblclick();
	await page.waitForSelector(NDV);
	await sandbox.reset();
	await page.click(`${NDV} [data-test-id=node-execute-button]`);
	const output = page.locator('[data-test-id=output-panel]');
	await output.getByText('accepted', { exact: true }).first().waitFor({ timeout: 60_000 });
	const text = await output.innerText();
	assert.match(text, /1 item/);
	for (const column of ['status', 'platform']) assert.match(text, new RegExp(column));
	assert.match(text, /ayona/);
	await shot('executed-import-items', { file: 'executed.png', around: [page.locator(NDV)], maxHeight: 400 });

	const records = await sandboxGet<{ entries: Array<{ date: string; name: string; content: string }> }>(sandbox, '/__sandbox/records/ayona');
	assert.deepEqual(
		records.entries.map((entry) => [entry.date, entry.name, entry.content]),
		[['2024-03-08 10:00:00', 'Editor user', 'Built in the n8n editor']],
	);
	await closeNdv();
	await shot('canvas-executed');
});

test('no secret in the logs; the editor logged no error about the package', () => {
	assert.deepEqual(findSecrets(n8n.logs()), []);
	assert.ok(!n8n.logs().includes(WRONG_KEY));
	const ours = consoleErrors.filter((message) => message.includes(PACKAGE_NAME));
	assert.deepEqual(ours, []);
});
