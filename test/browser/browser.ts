/**
 * What the browser tests share: Debian's Chromium through playwright-core, signing in to n8n's
 * editor, and n8n's REST API called from the signed-in page.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';

import { chromium, type Browser, type Page } from 'playwright-core';

import type { Owner } from '../e2e/owner';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
	assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
	return await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
	});
}

/**
 * GET on n8n's REST API as the editor does it, from the page: with its session cookie and the
 * `browser-id` header n8n binds the session to (a request without it is refused, and the
 * refusal clears the cookie).
 */
export async function restGet(page: Page, baseUrl: string, restPath: string): Promise<{ status: number; body: unknown }> {
	return await page.evaluate(async (url) => {
		const storage = (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage;
		const answer = await fetch(url, { headers: { 'browser-id': storage.getItem('n8n-browserId') ?? '' } });
		const text = await answer.text();
		let body: unknown = text;
		try {
			body = JSON.parse(text);
		} catch {
			// not JSON: kept as text for the failure message
		}
		return { status: answer.status, body };
	}, `${baseUrl}/rest${restPath}`);
}

/**
 * Signs in on the editor's sign-in page; resolves once n8n's REST API knows the session's user.
 * `beforeSubmit` runs with the form filled (e.g. a screenshot).
 */
export async function signIn(page: Page, baseUrl: string, owner: Pick<Owner, 'email' | 'password'>, beforeSubmit?: () => Promise<unknown>): Promise<void> {
	await page.goto(`${baseUrl}/signin`);
	await page.fill('input[name=emailOrLdapLoginId]', owner.email);
	await page.fill('input[name=password]', owner.password);
	await beforeSubmit?.();
	await page.click('[data-test-id=form-submit-button]');
	await page.waitForURL((url) => !url.pathname.includes('signin'));
	// Signed in: n8n's REST API knows the session's user (the landing page differs between lines).
	const me = await restGet(page, baseUrl, '/login');
	assert.equal(me.status, 200, JSON.stringify(me.body));
	assert.equal((me.body as { data: { email: string } }).data.email, owner.email);
}
