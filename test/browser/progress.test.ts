/**
 * Progress of a long import as the user sees it in the editor: a workflow run from the editor
 * (a manual execution) gets Import Items' progress lines through n8n's sendMessageToUI, which the
 * editor prints in the browser's console. Real `n8n start`, real Chromium, the sandbox.
 *   node --import tsx --test test/browser/progress.test.ts   (after npm run build; needs chromium)
 * The lines come every DATA_IMPORT_PROGRESS_INTERVAL_MS (500 ms here, 10 s by default).
 * The same n8n then shows, in the node's output panel, "Validate Only (Send Nothing)" (valid and
 * invalid items with their request bodies; the sandbox gets nothing) and "One Summary Item" under
 * "Max Requests per Minute". Screenshots docs/screenshots/[n8n2/]validate-only.png and
 * one-summary-item.png with UPDATE_SCREENSHOTS=1.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, DEFAULT_N8N_BIN, REPO_ROOT, type N8nInstance } from '../e2e/harness';
import { setUpOwner } from '../e2e/owner';
import { findSecrets, loadExample, sandboxCredentials, sandboxGet, variant } from '../e2e/setup';
import { launchChromium, signIn } from './browser';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'browser-progress');
const N8N_MAJOR = Number(
	(JSON.parse(fs.readFileSync(path.join(path.dirname(path.dirname(fs.realpathSync(process.env.N8N_BIN || DEFAULT_N8N_BIN))), 'package.json'), 'utf8')) as { version: string }).version.split('.')[0],
);
const DOCS_SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots', ...(N8N_MAJOR >= 2 ? ['n8n2'] : []));
const NDV = '[data-test-id=ndv]';
const OWNER = { email: 'owner@example.com', firstName: 'Test', lastName: 'Owner', password: 'Sandbox-Owner-1' };

let sandbox: Sandbox;
let n8n: N8nInstance;
let baseUrl: string;
let browser: Browser;
let page: Page;
const consoleLines: string[] = [];

// 2,000 users in 20 requests at 600 a minute: about 2 s, over several 500 ms intervals.
const workflow = variant(loadExample('rimdian-users.json'), 'browserProgress', {
	'Import Items': { options: { maxRequestsPerMinute: 600 } },
});

// Two CRM users, the second without the external_id Rimdian requires: checked, never sent.
const twoUsers =
	"return [{ json: { external_id: 'crm-1', is_authenticated: true, created_at: '2024-01-01T10:00:00Z', email: 'ana@example.com' } }, " +
	"{ json: { is_authenticated: true, created_at: '2024-01-02T10:00:00Z', email: 'bob@example.com' } }];";
const dryRun = variant(loadExample('rimdian-users.json'), 'browserDryRun', {
	'Source Records': { jsCode: twoUsers },
	'Import Items': { options: { validateOnly: true } },
});
// 250 users, three requests, one summary item; the throttle (30 a minute) starts one every 2 s.
const summary = variant(loadExample('rimdian-users.json'), 'browserSummary', {
	'Source Records': {
		jsCode:
			"return Array.from({ length: 250 }, (_, i) => ({ json: { external_id: `crm-${i}`, is_authenticated: true, created_at: '2024-01-01T10:00:00Z' } }));",
	},
	// Its two options are set in the editor by the test, as a user would.
	'Import Items': { onInvalid: 'skip', options: {} },
});

// Ayona's three feedback entries with the Timezone option left empty: the workflow's timezone
// applies, which the test sets to Asia/Tokyo in the workflow's settings (n8n's default here is UTC).
const timezone = variant(loadExample('ayona-feedback.json'), 'browserTimezone', {
	'Import Items': { options: {} },
});
// A small export: one good row, three rejected for a bad date, each carrying a cell a spreadsheet
// would run as a formula.
const rejectsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'browser-rejects-'));
const rejectsCsv = path.join(rejectsDir, 'crm-export.csv');
fs.writeFileSync(
	rejectsCsv,
	'external_id,is_authenticated,created_at,email\n' +
		'r-1,true,2024-02-01T08:00:00Z,r1@example.com\n' +
		'r-2,true,31/12/2023,"=HYPERLINK(""http://x.example"")"\n' +
		'r-3,true,31/12/2023,+1+1\n' +
		'r-4,true,31/12/2023,@SUM(A1)\n',
);
const rejects = variant(loadExample('rimdian-file.json'), 'browserRejects', {
	'Read Export File': { fileSelector: rejectsCsv },
	'Bulk File Import': { options: { rejectedRowsFile: true } },
});

/** A screenshot in test-artifacts/; with UPDATE_SCREENSHOTS=1 also docs/, cropped to the node's panel. */
async function shot(name: string, docsFile?: string): Promise<void> {
	await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
	if (!docsFile || process.env.UPDATE_SCREENSHOTS !== '1') return;
	const box = await page.locator(NDV).first().boundingBox();
	fs.mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
	await page.screenshot({ path: path.join(DOCS_SCREENSHOTS, docsFile), ...(box ? { clip: { x: box.x, y: box.y, width: box.width, height: Math.min(box.height, 760) } } : {}) });
}

/** Opens the workflow's node `name` (Import Items unless said) in its panel. */
async function openImportItems(id: string, name = 'Import Items'): Promise<void> {
	await page.goto(`${baseUrl}/workflow/${id}`);
	await page.locator('[data-test-id=canvas-node]').filter({ hasText: name }).first().dblclick();
	await page.waitForSelector(NDV);
}

/** Sets the open workflow's timezone in its settings (workflow menu, Settings), and saves them. */
async function setWorkflowTimezone(zone: string): Promise<void> {
	await page.locator('[data-test-id=workflow-menu]').first().click();
	await page.locator('[data-test-id=workflow-menu-item-settings]').first().click();
	const dialog = page.locator('[data-test-id=workflow-settings-dialog]');
	await dialog.waitFor();
	await dialog.locator('[data-test-id=workflow-settings-timezone] input').first().click();
	await page.keyboard.type(zone.split('/')[1]);
	await page.locator('.el-select-dropdown__item:visible', { hasText: zone }).first().click();
	// The save button sits in the modal's footer, outside the settings' own element.
	await page.locator('[data-test-id=workflow-settings-save-button] button, button[data-test-id=workflow-settings-save-button]').first().click();
	await dialog.waitFor({ state: 'hidden' });
}

/** Adds the option `label` from the panel's "Add Option" list (a select in 1.x, a menu in 2.x). */
async function addOption(label: string): Promise<void> {
	const panel = page.locator(NDV);
	await panel.getByPlaceholder('Add Option').or(panel.getByText('Add Option', { exact: true })).last().click();
	const item = '.el-select-dropdown__item:visible, [role=menuitem]:visible, [role=option]:visible';
	await page.locator(item, { hasText: label }).first().click();
}

/** Runs the open node from its panel; the output panel's text once `waitFor` shows. */
async function runFromPanel(waitFor: string): Promise<string> {
	await page.click(`${NDV} [data-test-id=node-execute-button]`);
	const output = page.locator(`${NDV} [data-test-id=output-panel]`);
	await output.getByText(waitFor, { exact: true }).first().waitFor({ timeout: 60_000 });
	return await output.innerText();
}

before(async () => {
	fs.rmSync(ARTIFACTS, { recursive: true, force: true });
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	sandbox = await startSandbox({ jobStepMs: 50 });
	n8n = await createN8n({ env: { DATA_IMPORT_PROGRESS_INTERVAL_MS: '500' } });
	assert.ok(n8n.packageInstalled, 'the package is built (npm run build) and installed into n8n');
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflows([workflow, dryRun, summary, timezone, rejects]);
	({ baseUrl } = await n8n.start());
	assert.equal(await setUpOwner(baseUrl, OWNER), 'created');
	browser = await launchChromium();
	page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
	page.setDefaultTimeout(30_000);
	page.on('console', (message) => consoleLines.push(message.text()));
	await signIn(page, baseUrl, OWNER);
});

after(async () => {
	if (page && process.exitCode) await page.screenshot({ path: path.join(ARTIFACTS, 'failure.png') }).catch(() => undefined);
	await browser?.close().catch(() => undefined);
	if (n8n) fs.writeFileSync(path.join(ARTIFACTS, 'n8n.log'), n8n.logs());
	await n8n?.dispose();
	await sandbox?.close();
	fs.rmSync(rejectsDir, { recursive: true, force: true });
});

test('a manual run from the editor shows Import Items progress in the browser, at a steady pace, and the final line', async () => {
	const t0 = Date.now();
	const mark = (what: string) => console.log(`${what}: ${Date.now() - t0} ms`);
	await page.goto(`${baseUrl}/workflow/${workflow.id as string}`);
	await page.locator('[data-test-id=canvas-node]').filter({ hasText: 'Import Items' }).first().waitFor();
	mark('editor shown');
	await page.locator('[data-test-id=execute-workflow-button]').first().click();
	mark('clicked');
	const progress = () => consoleLines.filter((line) => /Import Items: 2000 items read, \d+\/2000 sent/.test(line));
	const deadline = Date.now() + 30_000;
	while (!progress().some((line) => /done in/.test(line)) && Date.now() < deadline) {
		await page.waitForTimeout(250);
	}
	mark('final line');
	const lines = progress();
	assert.ok(lines.some((line) => /done in/.test(line)), `the final line reached the browser:\n${consoleLines.slice(-20).join('\n')}`);
	assert.ok(lines.length >= 2, `a steady line before the final one:\n${lines.join('\n')}`);
	assert.ok(lines.length <= 12, `not per item nor per batch: ${lines.length} lines`);
	assert.match(lines[lines.length - 1], /2000\/2000 sent, 2000 accepted, 20 requests/);
	assert.equal(sandbox.stats().rimdian.itemsStored, 2000);
	assert.deepEqual(findSecrets(consoleLines.join('\n')), []);
	mark('checked');
});

test('Validate Only, run from the editor: valid and invalid items with their request bodies, nothing sent', async () => {
	const t0 = Date.now();
	await sandbox.reset();
	await openImportItems(dryRun.id as string);
	const text = await runFromPanel('invalid');
	assert.match(text, /2 items/);
	assert.match(text, /\bvalid\b/);
	assert.match(text, /requestBody/);
	assert.match(text, /external_id/, 'the invalid item says which field');
	await shot('validate-only', 'validate-only.png');
	const stats = sandbox.stats();
	assert.equal(stats.rimdian.requests, 0, 'the sandbox received nothing');
	assert.equal(stats.rimdian.itemsStored, 0);
	console.log(`validate only: ${Date.now() - t0} ms`);
});

test('One Summary Item and Max Requests per Minute, set in the editor and run from it: one item with the counts', async () => {
	const t0 = Date.now();
	await sandbox.reset();
	await openImportItems(summary.id as string);
	await addOption('Max Requests per Minute');
	await page.fill(`${NDV} [data-test-id=parameter-input-maxRequestsPerMinute] input`, '30');
	// Leave the field, so that its tip does not cover "Add Option".
	await page.locator(NDV).getByText('Parameters', { exact: true }).first().click();
	await addOption('Output');
	await page.click(`${NDV} [data-test-id=parameter-input-output]`);
	await page.locator('.el-select-dropdown__item:visible', { hasText: 'One Summary Item' }).first().click();
	const started = Date.now();
	const text = await runFromPanel('completed');
	// Three requests 2 s apart: 4 s at least from the click.
	assert.ok(Date.now() - started >= 4000, `the throttle spaced the requests: ${Date.now() - started} ms`);
	assert.match(text, /1 item/);
	assert.match(text, /accepted/);
	assert.match(text, /250/);
	await shot('one-summary-item', 'one-summary-item.png');
	assert.equal(sandbox.stats().rimdian.itemsStored, 250);
	assert.equal(sandbox.stats().rimdian.requests, 3);
	assert.deepEqual(findSecrets(n8n.logs()), []);
	console.log(`one summary item: ${Date.now() - t0} ms`);
});

test("Timezone left empty reads dates in the workflow's timezone, set in its settings; Include Input Fields keeps the input beside the result", async () => {
	const t0 = Date.now();
	await sandbox.reset();
	await page.goto(`${baseUrl}/workflow/${timezone.id as string}`);
	await page.locator('[data-test-id=canvas-node]').filter({ hasText: 'Import Items' }).first().waitFor();
	await setWorkflowTimezone('Asia/Tokyo');
	await page.locator('[data-test-id=canvas-node]').filter({ hasText: 'Import Items' }).first().dblclick();
	await page.waitForSelector(NDV);
	await addOption('Output');
	await page.click(`${NDV} [data-test-id=parameter-input-output]`);
	await page.locator('.el-select-dropdown__item:visible', { hasText: 'Include Input Fields' }).first().click();
	const text = await runFromPanel('importResult');
	assert.match(text, /3 items/);
	assert.match(text, /User 1/, 'the input fields are kept');
	assert.match(text, /accepted/);
	await shot('include-input-fields', 'include-input-fields.png');
	// 2024-03-08T00:29:00Z is 09:29 in Tokyo; the date without a zone is read there and stays 12:00.
	const records = await sandboxGet<{ entries: Array<{ date: string; name: string }> }>(sandbox, '/__sandbox/records/ayona');
	assert.deepEqual(
		records.entries.map((entry) => [entry.name, entry.date]),
		[
			['User 1', '2024-03-08 09:29:00'],
			['User 2', '2024-03-08 16:15:30'],
			['User 3', '2024-03-09 12:00:00'],
		],
	);
	console.log(`timezone and include input fields: ${Date.now() - t0} ms`);
});

test('Rejected-rows file: downloaded from Bulk File Import\'s output panel, every rejected row with its reason, formulas escaped', async () => {
	const t0 = Date.now();
	await sandbox.reset();
	await openImportItems(rejects.id as string, 'Bulk File Import');
	await page.click(`${NDV} [data-test-id=node-execute-button]`);
	const output = page.locator(`${NDV} [data-test-id=output-panel]`);
	// The output panel offers the file under "Binary" (a display mode next to Table and JSON).
	await output.getByText('Binary', { exact: true }).first().click({ timeout: 60_000 });
	await output.getByText('crm-export.rejected.csv').first().waitFor();
	await shot('rejected-rows', 'rejected-rows.png');
	const [download] = await Promise.all([page.waitForEvent('download'), output.locator('[data-test-id=ndv-download-binary-data]').first().click()]);
	const file = path.join(ARTIFACTS, 'crm-export.rejected.csv');
	await download.saveAs(file);
	const lines = fs.readFileSync(file, 'utf8').split('\r\n');
	assert.equal(lines[0], '_row,_line,_reason,external_id,is_authenticated,created_at,email');
	assert.equal(lines.length, 5, `the header, three rejected rows and the last line break:\n${lines.join('\n')}`);
	assert.match(lines[1], /^2,3,.*created_at.*,r-2,true,31\/12\/2023,"'=HYPERLINK\(""http:\/\/x\.example""\)"$/);
	assert.match(lines[2], /^3,4,.*,r-3,true,31\/12\/2023,'\+1\+1$/);
	assert.match(lines[3], /^4,5,.*,r-4,true,31\/12\/2023,'@SUM\(A1\)$/);
	assert.equal(sandbox.stats().rimdian.itemsStored, 1, 'the good row was imported');
	console.log(`rejected rows: ${Date.now() - t0} ms`);
});

test('Bulk File Import, Validate Only set in the editor: the file checked row by row, its first rows as sent, nothing sent, progress shown', async () => {
	const t0 = Date.now();
	await sandbox.reset();
	consoleLines.length = 0;
	await openImportItems(rejects.id as string, 'Bulk File Import');
	await addOption('Validate Only (Send Nothing)');
	await page.locator(`${NDV} [data-test-id=parameter-input-validateOnly]`).locator('.el-switch, [role=switch]').first().click();
	await page.click(`${NDV} [data-test-id=node-execute-button]`);
	const output = page.locator(`${NDV} [data-test-id=output-panel]`);
	// The panel picks its own view when the run's output arrives (Binary, for an output with a
	// file): choose JSON until the summary shows in it, not once before the run has ended.
	const shown = output.getByText('firstRowsAsSent').first();
	const shownBy = Date.now() + 60_000;
	while (!(await shown.isVisible())) {
		assert.ok(Date.now() < shownBy, 'the summary shows in the JSON view within 60 s');
		await output.getByText('JSON', { exact: true }).first().click({ timeout: 5_000 }).catch(() => undefined);
		await shown.waitFor({ timeout: 2_000 }).catch(() => undefined);
	}
	// The JSON view puts each key and its value on lines of their own.
	const text = (await output.innerText()).replace(/\s+/g, ' ');
	assert.match(text, /"status": "validated"/);
	assert.match(text, /"valid": 1,/);
	assert.match(text, /"invalid": 3,/);
	assert.match(text, /r-1/, 'the first row as it would be sent');
	await shot('file-validate-only', 'file-validate-only.png');
	const stats = sandbox.stats();
	assert.equal(stats.rimdian.requests, 0, 'the sandbox received nothing');
	assert.equal(stats.rimdian.itemsStored, 0);
	// The final progress line reached the browser too.
	const deadline = Date.now() + 10_000;
	const final = () => consoleLines.find((line) => /Bulk File Import \(crm-export\.csv\): 4 rows read, 0 sent.* done in/.test(line));
	while (!final() && Date.now() < deadline) await page.waitForTimeout(200);
	assert.ok(final(), `Bulk File Import's progress in the browser:\n${consoleLines.slice(-10).join('\n')}`);
	console.log(`file validate only: ${Date.now() - t0} ms`);
});
