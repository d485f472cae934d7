/**
 * "Map Each Field Manually" in the n8n editor, driven with a real browser against a real
 * `n8n start`: Import Items lists the platform's fields (from the package's rules, no request),
 * required ones marked, the list follows the Rimdian kind, and n8n's own "Map Automatically",
 * "Remove All" and "Add All" work on it. Screenshot: docs/screenshots/[n8n2/]mapper.png with
 * UPDATE_SCREENSHOTS=1.
 *   npm run build && node --import tsx --test test/browser/mapper.test.ts
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { rimdian } from '../../platforms/rimdian';
import { createN8n, DEFAULT_N8N_BIN, REPO_ROOT, type N8nInstance } from '../e2e/harness';
import { setUpOwner } from '../e2e/owner';
import { loadExample, variant } from '../e2e/setup';
import { launchChromium, signIn } from './browser';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'browser-mapper');
const N8N_MAJOR = Number(
	(JSON.parse(fs.readFileSync(path.join(path.dirname(path.dirname(fs.realpathSync(process.env.N8N_BIN || DEFAULT_N8N_BIN))), 'package.json'), 'utf8')) as { version: string }).version.split('.')[0],
);
const DOCS_SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots', ...(N8N_MAJOR >= 2 ? ['n8n2'] : []));
const OWNER = { email: 'owner@example.com', firstName: 'Test', lastName: 'Owner', password: 'Sandbox-Owner-1' };
const NDV = '[data-test-id=ndv]';
const MAPPER = `${NDV} [data-test-id=resource-mapper-container]`;
const FIELDS = `${NDV} [data-test-id=mapping-fields-container]`;

/** CRM users: the rows a user maps onto Rimdian's user fields. */
const workflow = variant(loadExample('rimdian-users.json'), 'browserMapper', {
	'Source Records': { jsCode: "return [{ json: { external_id: 'crm-1', email: 'ana@example.com', created_at: '2024-01-01T10:00:00Z' } }];" },
});

/** POST on n8n's REST API from the signed-in page (no extra n8n process); returns `data.id`. */
async function restCreate(route: string, body: object): Promise<string> {
	const answer = await page.evaluate(
		async ([url, body]) => {
			const storage = (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage;
			const response = await fetch(url, {
				method: 'POST',
				headers: { 'content-type': 'application/json', 'browser-id': storage.getItem('n8n-browserId') ?? '' },
				body,
			});
			return { status: response.status, text: await response.text() };
		},
		[`${baseUrl}/rest/${route}`, JSON.stringify(body)] as const,
	);
	assert.equal(answer.status, 200, answer.text);
	return (JSON.parse(answer.text) as { data: { id: string } }).data.id;
}

/** The workflow, with a credential of its own (never used: the list needs no request). */
async function createWorkflow(): Promise<string> {
	const credential = { name: 'Rimdian', type: 'dataImportApi' };
	const id = await restCreate('credentials', {
		...credential,
		data: { platform: 'rimdian', rimdianAuthentication: 'accessToken', rimdianRegion: 'custom', baseUrl: 'http://127.0.0.1:9', apiKey: 'unused', workspaceId: 'demo' },
	});
	for (const node of workflow.nodes) if (node.credentials) node.credentials = { dataImportApi: { id, name: credential.name } };
	const { name, nodes, connections, settings } = workflow;
	return await restCreate('workflows', { name, nodes, connections, settings, active: false });
}

let n8n: N8nInstance;
let baseUrl: string;
let browser: Browser;
let page: Page;

async function shot(name: string, docsFile?: string): Promise<void> {
	await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
	if (docsFile && process.env.UPDATE_SCREENSHOTS === '1') {
		const box = await page.locator(NDV).locator('[data-test-id=node-parameters]').first().boundingBox();
		fs.mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
		await page.screenshot({ path: path.join(DOCS_SCREENSHOTS, docsFile), ...(box ? { clip: { x: box.x, y: box.y, width: box.width, height: Math.min(box.height, 760) } } : {}) });
	}
}

/** Picks `option` in the select of parameter `param` (or the element `selector`) in the panel. */
async function pick(selector: string, option: string) {
	await page.click(selector);
	await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click();
}

/**
 * The fields the mapper shows, and the required ones: n8n gives every field a remove button but
 * the required ones ("mandatory field").
 */
async function listedFields(): Promise<{ all: string[]; required: string[] }> {
	// Each field's label is for `value["<id>"]`, the key of the value n8n saves.
	const all = await page.locator(`${FIELDS} label[for^="value["]`).evaluateAll((labels) =>
		labels.map((label) => JSON.parse((label.getAttribute('for') ?? '').slice('value['.length, -1)) as string),
	);
	const removable = await page.locator(`${FIELDS} [data-test-id^=remove-field-button-]`).evaluateAll((buttons) =>
		buttons.map((button) => (button.getAttribute('data-test-id') ?? '').replace('remove-field-button-', '')),
	);
	return { all, required: all.filter((id) => !removable.includes(id)) };
}

/** What the package's rules list for a Rimdian kind: ids, and the required ones. */
function rulesOf(kind: string): { all: string[]; required: string[] } {
	const fields = rimdian.mappingFields({ timezone: 'UTC', rimdianKind: kind });
	return { all: fields.map((field) => field.id), required: fields.filter((field) => field.required).map((field) => field.id) };
}

/** Waits until the mapper lists `expected` (it reloads the list when a field it depends on changes). */
async function waitForList(expected: { all: string[]; required: string[] }): Promise<void> {
	const deadline = Date.now() + 10_000;
	let shown = await listedFields();
	while (JSON.stringify(shown) !== JSON.stringify(expected) && Date.now() < deadline) {
		await page.waitForTimeout(200);
		shown = await listedFields();
	}
	assert.deepEqual(shown, expected);
}

before(async () => {
	fs.rmSync(ARTIFACTS, { recursive: true, force: true });
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	n8n = await createN8n();
	({ baseUrl } = await n8n.start());
	assert.equal(await setUpOwner(baseUrl, OWNER), 'created');
	browser = await launchChromium();
	page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
	page.setDefaultTimeout(20_000);
	await signIn(page, baseUrl, OWNER);
});

after(async () => {
	if (page && process.exitCode) await shot('failure').catch(() => undefined);
	await browser?.close().catch(() => undefined);
	if (n8n) fs.writeFileSync(path.join(ARTIFACTS, 'n8n.log'), n8n.logs());
	await n8n?.dispose();
});

test("Map Each Field Manually lists the kind's fields, required ones marked", async () => {
	await page.goto(`${baseUrl}/workflow/${await createWorkflow()}`);
	await page.locator('[data-test-id=canvas-node]').filter({ hasText: 'Import Items' }).first().dblclick();
	await page.waitForSelector(NDV);
	await pick(`${NDV} [data-test-id=parameter-input-dataMode]`, 'Map Each Field Manually');
	await page.waitForSelector(FIELDS);
	await waitForList(rulesOf('user'));
	// Types shown as inputs: a date-time picker for a timestamp, a switch for a boolean.
	assert.equal(await page.locator(`${FIELDS} input[placeholder="Select date and time"]`).count() > 0, true);
	await shot('mapper-user');
});

test('the list follows the Rimdian kind: orders list their own fields and the user object, dotted', async () => {
	await pick(`${NDV} [data-test-id=parameter-input-rimdianKind]`, 'Order');
	await waitForList(rulesOf('order'));
	await page.locator(`${FIELDS} input`).first().fill('order-1');
	// Leave the field, so that its tip does not cover the next one in the screenshot.
	await page.locator(`${MAPPER} label[for=columns]`).click();
	await shot('mapper-order', 'mapper.png');
});

test("n8n's own Remove All / Add All and Map Automatically work on the list", async () => {
	const menu = page.locator(`${MAPPER} [data-test-id=columns-parameter-input-options-container] [data-test-id=action-toggle] [role=button]`);
	await menu.click();
	await page.locator('.el-dropdown-menu__item:visible, [role=menuitem]:visible', { hasText: /Remove All/ }).first().click();
	const order = rulesOf('order');
	await waitForList({ all: order.required, required: order.required });
	await menu.click();
	await page.locator('.el-dropdown-menu__item:visible, [role=menuitem]:visible', { hasText: /Add All/ }).first().click();
	await waitForList(order);
	await pick(`${MAPPER} [data-test-id=mapping-mode-select]`, 'Map Automatically');
	await page.waitForSelector(FIELDS, { state: 'detached' });
	await shot('mapper-auto');
});
