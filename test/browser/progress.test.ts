/**
 * Progress of a long import as the user sees it in the editor: a workflow run from the editor
 * (a manual execution) gets Import Items' progress lines through n8n's sendMessageToUI, which the
 * editor prints in the browser's console. Real `n8n start`, real Chromium, the sandbox.
 *   node --import tsx --test test/browser/progress.test.ts   (after npm run build; needs chromium)
 * The lines come every DATA_IMPORT_PROGRESS_INTERVAL_MS (500 ms here, 10 s by default).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, REPO_ROOT, type N8nInstance } from '../e2e/harness';
import { setUpOwner } from '../e2e/owner';
import { findSecrets, loadExample, sandboxCredentials, variant } from '../e2e/setup';
import { launchChromium, signIn } from './browser';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'browser-progress');
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

before(async () => {
	fs.rmSync(ARTIFACTS, { recursive: true, force: true });
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	sandbox = await startSandbox({ jobStepMs: 50 });
	n8n = await createN8n({ env: { DATA_IMPORT_PROGRESS_INTERVAL_MS: '500' } });
	assert.ok(n8n.packageInstalled, 'the package is built (npm run build) and installed into n8n');
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflows([workflow]);
	({ baseUrl } = await n8n.start());
	assert.equal(await setUpOwner(baseUrl, OWNER), 'created');
	browser = await launchChromium();
	page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
	page.setDefaultTimeout(30_000);
	page.on('console', (message) => consoleLines.push(message.text()));
});

after(async () => {
	if (page && process.exitCode) await page.screenshot({ path: path.join(ARTIFACTS, 'failure.png') }).catch(() => undefined);
	await browser?.close().catch(() => undefined);
	if (n8n) fs.writeFileSync(path.join(ARTIFACTS, 'n8n.log'), n8n.logs());
	await n8n?.dispose();
	await sandbox?.close();
});

test('a manual run from the editor shows Import Items progress in the browser, at a steady pace, and the final line', async () => {
	const t0 = Date.now();
	const mark = (what: string) => console.log(`${what}: ${Date.now() - t0} ms`);
	await signIn(page, baseUrl, OWNER);
	mark('signed in');
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
