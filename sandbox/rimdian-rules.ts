/**
 * Rimdian item rules applied by the sandbox's asynchronous "pipeline" (an independent oracle:
 * written from /work/shared/specs/field-rules.md, sharing no code with core/ or platforms/).
 *
 * An item failing a rule ends in the data log with has_error 2 (not retryable) and the first
 * error found.
 */

export interface ItemVerdict {
	has_error: 0 | 2;
	error?: string;
	/** Epoch ms of the item's own date (kind object's updated_at, else created_at), or null. */
	event_at: number | null;
}

const KNOWN_KINDS = new Set([
	'user',
	'user_alias',
	'device',
	'session',
	'pageview',
	'order',
	'cart',
	'postview',
	'custom_event',
	'subscription_list_user',
	'message',
]);

const APP_KIND = /^appx?_[a-z0-9_]+$/;

/** Values refused as a user's external_id (template placeholders left unresolved). */
function isPlaceholderId(s: string): boolean {
	const t = s.trim();
	return t === '' || t === 'user_id' || /^\{\{.*\}\}$/.test(t) || /^\$\{.*\}$/.test(t);
}

function isObj(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function present(v: unknown): boolean {
	return v !== undefined && v !== null;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, m: number): number {
	if (m === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0)) return 29;
	return DAYS[m - 1];
}

/** Value of `len` ASCII digits at s[i..], or -1. */
function digits(s: string, i: number, len: number): number {
	let v = 0;
	for (let k = 0; k < len; k++) {
		const c = s.charCodeAt(i + k) - 48;
		if (c < 0 || c > 9) return -1;
		v = v * 10 + c;
	}
	return v;
}

/**
 * Epoch ms of an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)`), or null.
 * Hand-written (no regex): it runs for every date of every item.
 */
export function parseRfc3339(s: string): number | null {
	const n = s.length;
	if (n < 20) return null;
	const y = digits(s, 0, 4);
	const mo = digits(s, 5, 2);
	const d = digits(s, 8, 2);
	const h = digits(s, 11, 2);
	const mi = digits(s, 14, 2);
	const sec = digits(s, 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return null;
	if (s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':') return null;
	if (d > daysInMonth(y, mo)) return null;
	let i = 19;
	let frac = 0;
	if (s[i] === '.') {
		i++;
		let scale = 100;
		const from = i;
		while (i < n) {
			const c = s.charCodeAt(i) - 48;
			if (c < 0 || c > 9) break;
			frac += c * scale;
			scale /= 10;
			i++;
		}
		if (i === from || i - from > 9) return null;
	}
	let offsetMin = 0;
	if (s[i] === 'Z' && i + 1 === n) {
		// UTC
	} else if ((s[i] === '+' || s[i] === '-') && i + 6 === n && s[i + 3] === ':') {
		const oh = digits(s, i + 1, 2);
		const om = digits(s, i + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59) return null;
		offsetMin = (oh * 60 + om) * (s[i] === '-' ? -1 : 1);
	} else return null;
	return Date.UTC(y, mo - 1, d, h, mi, sec) + frac - offsetMin * 60_000;
}

const PSEUDO_REGIONS = new Set(['EU', 'EZ', 'UN', 'QO', 'XA', 'XB', 'ZZ']);
let regionNames: Intl.DisplayNames | null = null;
let languageNames: Intl.DisplayNames | null = null;
const tzCache = new Map<string, boolean>();

function isCountry(s: string): boolean {
	if (!/^[A-Z]{2}$/.test(s) || PSEUDO_REGIONS.has(s)) return false;
	regionNames ??= new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
	const name = regionNames.of(s);
	return name !== undefined && name !== s;
}

/** A known language code in any case, with or without a region: the pages do not fix the form. */
function isLanguage(s: string): boolean {
	const m = /^([A-Za-z]{2,3})(?:[-_][A-Za-z]{2,4})?$/.exec(s);
	if (!m) return false;
	languageNames ??= new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });
	try {
		const code = m[1].toLowerCase();
		const name = languageNames.of(code);
		return name !== undefined && name !== code;
	} catch {
		return false;
	}
}

function isTimezone(s: string): boolean {
	let ok = tzCache.get(s);
	if (ok === undefined) {
		try {
			new Intl.DateTimeFormat('en', { timeZone: s });
			ok = s.includes('/') || s === 'UTC' || s === 'GMT';
		} catch {
			ok = false;
		}
		if (tzCache.size < 10_000) tzCache.set(s, ok);
	}
	return ok;
}

function isDateOnly(s: string): boolean {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
	if (!m) return false;
	const y = +m[1];
	const mo = +m[2];
	const d = +m[3];
	return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

function isHttpUrl(s: string): boolean {
	try {
		const u = new URL(s);
		return u.protocol === 'http:' || u.protocol === 'https:';
	} catch {
		return false;
	}
}

class RuleError extends Error {}

function fail(msg: string): never {
	throw new RuleError(msg);
}

function reqString(obj: Record<string, unknown>, field: string, path: string): string {
	const v = obj[field];
	if (!present(v)) fail(`${path}.${field} is required`);
	if (typeof v !== 'string') fail(`${path}.${field} must be a string`);
	if (v.trim() === '') fail(`${path}.${field} is required`);
	return v;
}

function reqInt(obj: Record<string, unknown>, field: string, path: string): void {
	const v = obj[field];
	if (!present(v)) fail(`${path}.${field} is required`);
	if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
		fail(`${path}.${field} must be an integer >= 0 (cents), got ${JSON.stringify(v)}`);
	}
}

/**
 * Check every `*_at` key of `obj` that has a value: RFC 3339; created_at / updated_at / status_at
 * must not be in the future. `created_at` is required when `requireCreated`.
 */
function checkDates(obj: Record<string, unknown>, path: string, now: number, requireCreated: boolean): void {
	if (requireCreated && !present(obj.created_at)) fail(`${path}.created_at is required`);
	for (const k in obj) {
		const n = k.length;
		if (n < 3 || k.charCodeAt(n - 1) !== 116 || k.charCodeAt(n - 2) !== 97 || k.charCodeAt(n - 3) !== 95) continue; // '_at'
		const v = obj[k];
		if (!present(v)) continue;
		if (typeof v !== 'string') fail(`${path}.${k} must be an RFC 3339 date-time string`);
		const t = parseRfc3339(v);
		if (t === null) fail(`${path}.${k} is not a valid RFC 3339 date-time: ${JSON.stringify(v)}`);
		if ((k === 'created_at' || k === 'updated_at' || k === 'status_at') && t > now) {
			fail(`${path}.${k} is in the future: ${v}`);
		}
	}
}

function checkDomain(obj: Record<string, unknown>, path: string, domains: ReadonlySet<string>, required: boolean): void {
	const v = obj.domain_id;
	if (!present(v)) {
		if (required) fail(`${path}.domain_id is required`);
		return;
	}
	if (typeof v !== 'string' || v === '') fail(`${path}.domain_id must be a string`);
	if (!domains.has(v)) fail(`${path}.domain_id "${v}" is not a domain of the workspace`);
}

const HASHES: ReadonlyArray<readonly [string, RegExp, number]> = [
	['email_md5', /^[a-fA-F0-9]{32}$/, 32],
	['email_sha1', /^[a-fA-F0-9]{40}$/, 40],
	['email_sha256', /^[a-fA-F0-9]{64}$/, 64],
];

/** An optional string field: null when absent, the string, or a failure when not a string. */
function optStr(obj: Record<string, unknown>, path: string, k: string): string | null {
	const v = obj[k];
	if (!present(v)) return null;
	if (typeof v !== 'string') fail(`${path}.${k} must be a string`);
	return v;
}

function checkUser(user: Record<string, unknown>, path: string, now: number): void {
	const id = user.external_id;
	if (!present(id)) fail(`${path}.external_id is required`);
	if (typeof id !== 'string') fail(`${path}.external_id must be a string`);
	if (isPlaceholderId(id)) fail(`${path}.external_id is not a valid id: ${JSON.stringify(id)}`);
	if (!present(user.is_authenticated)) fail(`${path}.is_authenticated is required`);
	if (typeof user.is_authenticated !== 'boolean') fail(`${path}.is_authenticated must be a boolean`);
	checkDates(user, path, now, true);

	const email = optStr(user, path, 'email');
	if (email !== null && email !== '' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
		fail(`${path}.email is not a valid email: ${JSON.stringify(email)}`);
	}
	for (let h = 0; h < HASHES.length; h++) {
		const [k, re, len] = HASHES[h];
		const v = optStr(user, path, k);
		if (v !== null && v !== '' && !re.test(v)) fail(`${path}.${k} must be a hex digest of ${len} characters`);
	}
	const tel = optStr(user, path, 'telephone');
	if (tel !== null && tel !== '' && !/^\+[1-9]\d{1,14}$/.test(tel)) {
		fail(`${path}.telephone must be in E.164 format (+ and up to 15 digits): ${JSON.stringify(tel)}`);
	}
	const country = optStr(user, path, 'country');
	if (country !== null && country !== '' && !isCountry(country)) {
		fail(`${path}.country is not an ISO 3166-1 alpha-2 code: ${JSON.stringify(country)}`);
	}
	const language = optStr(user, path, 'language');
	if (language !== null && language !== '' && !isLanguage(language)) {
		fail(`${path}.language is not a known language code: ${JSON.stringify(language)}`);
	}
	const tz = optStr(user, path, 'timezone');
	if (tz !== null && tz !== '' && !isTimezone(tz)) {
		fail(`${path}.timezone is not a known IANA time zone: ${JSON.stringify(tz)}`);
	}
	const gender = optStr(user, path, 'gender');
	if (gender !== null && gender !== '' && gender !== 'male' && gender !== 'female') {
		fail(`${path}.gender must be "male" or "female"`);
	}
	const birthday = optStr(user, path, 'birthday');
	if (birthday !== null && birthday !== '' && !isDateOnly(birthday)) {
		fail(`${path}.birthday must be a date YYYY-MM-DD: ${JSON.stringify(birthday)}`);
	}
	const photo = optStr(user, path, 'photo_url');
	if (photo !== null && photo !== '' && !isHttpUrl(photo)) fail(`${path}.photo_url is not a valid URL`);
}

function checkSession(s: Record<string, unknown>, path: string, now: number, domains: ReadonlySet<string>): void {
	reqString(s, 'external_id', path);
	checkDates(s, path, now, true);
	checkDomain(s, path, domains, true);
	reqString(s, 'utm_source', path);
	reqString(s, 'utm_medium', path);
}

function checkDevice(d: Record<string, unknown>, path: string, now: number): void {
	reqString(d, 'external_id', path);
	checkDates(d, path, now, true);
}

function checkLineItems(obj: Record<string, unknown>, path: string): void {
	const items = obj.items;
	if (!present(items)) return;
	if (!Array.isArray(items)) fail(`${path}.items must be an array`);
	for (let i = 0; i < items.length; i++) {
		const li: unknown = items[i];
		const p = `${path}.items[${i}]`;
		if (!isObj(li)) fail(`${p} must be an object`);
		reqString(li, 'external_id', p);
		reqString(li, 'name', p);
		reqString(li, 'product_external_id', p);
		reqInt(li, 'price', p);
		if (!present(li.quantity)) fail(`${p}.quantity is required`);
		if (typeof li.quantity !== 'number' || !Number.isInteger(li.quantity) || li.quantity < 0) {
			fail(`${p}.quantity must be an integer >= 0`);
		}
	}
}

/** Currencies of Rimdian's exchange-rate list, as the package once read it (strict switch only). */
const KNOWN_CURRENCIES = new Set(
	'USD EUR GBP CAD AUD SGD JPY BGN CZK DKK HUF PLN RON SEK CHF ISK NOK HRK RUB TRY BRL CNY HKD IDR ILS INR KRW MXN MYR NZD PHP THB ZAR'.split(' '),
);
const GUESSED_PLACEHOLDERS = new Set(['none', 'nil', 'null', 'id', 'undefined']);

/** The pages say only that the currency is required; the strict reading takes the known list. */
function checkCurrency(obj: Record<string, unknown>, path: string, strict: boolean): void {
	const c = reqString(obj, 'currency', path);
	if (strict && !KNOWN_CURRENCIES.has(c)) fail(`${path}.currency ${JSON.stringify(c)} is not a currency Rimdian converts`);
}

/**
 * The package's former inferences, played by the strict switch: ids over 255 characters,
 * placeholder-looking user ids, a language that is not two letters, dates before 1900.
 */
function checkStrictValues(value: unknown, path: string): void {
	if (Array.isArray(value)) {
		value.forEach((v, i) => checkStrictValues(v, `${path}[${i}]`));
		return;
	}
	if (!isObj(value)) return;
	for (const k in value) {
		const v = value[k];
		const at = `${path}.${k}`;
		if (typeof v === 'string') {
			if ((k === 'external_id' || k.endsWith('_external_id') || k.endsWith('_id')) && v.length > 255) fail(`${at} is longer than 255 characters`);
			if (k === 'external_id' && path === 'user' && GUESSED_PLACEHOLDERS.has(v.trim().toLowerCase())) fail(`${at} is not a valid id: ${JSON.stringify(v)}`);
			if (k === 'language' && v !== '' && !/^[a-z]{2}$/.test(v)) fail(`${at} must be a two-letter language code: ${JSON.stringify(v)}`);
			if (k.endsWith('_at') && /^\d{4}-/.test(v) && Number(v.slice(0, 4)) < 1900) fail(`${at} is before 1900: ${v}`);
		} else checkStrictValues(v, at);
	}
}

/** Validate one item (already known to be an object with a string `kind`). */
export function checkItem(item: Record<string, unknown>, now: number, domains: ReadonlySet<string>, strict = false): ItemVerdict {
	const kind = item.kind as string;
	const obj = item[kind];
	let eventAt: number | null = null;
	if (isObj(obj)) {
		for (const k of ['updated_at', 'created_at']) {
			const v = obj[k];
			if (typeof v === 'string') {
				const t = parseRfc3339(v);
				if (t !== null) {
					eventAt = t;
					break;
				}
			}
		}
	}
	try {
		if (!KNOWN_KINDS.has(kind) && !APP_KIND.test(kind)) fail(`unknown kind: ${JSON.stringify(kind)}`);
		if (!isObj(obj)) fail(`${kind} object is required for kind "${kind}"`);
		if (strict) for (const part of new Set([kind, 'user', 'session', 'device'])) checkStrictValues(item[part], part);

		if (kind !== 'user') {
			if (!isObj(item.user)) fail(`user object is required for kind "${kind}"`);
			checkUser(item.user, 'user', now);
		}
		if (present(item.session) && kind !== 'session') {
			if (!isObj(item.session)) fail('session must be an object');
			checkSession(item.session, 'session', now, domains);
		}
		if (present(item.device) && kind !== 'device') {
			if (!isObj(item.device)) fail('device must be an object');
			checkDevice(item.device, 'device', now);
		}

		switch (kind) {
			case 'user':
				checkUser(obj, 'user', now);
				break;
			case 'user_alias':
				reqString(obj, 'from_user_external_id', kind);
				reqString(obj, 'to_user_external_id', kind);
				checkDates(obj, kind, now, false);
				break;
			case 'device':
				checkDevice(obj, kind, now);
				break;
			case 'session':
				checkSession(obj, kind, now, domains);
				break;
			case 'pageview':
				if (!isObj(item.session)) fail('session object is required for kind "pageview"');
				reqString(obj, 'external_id', kind);
				reqString(obj, 'page_id', kind);
				reqString(obj, 'title', kind);
				checkDates(obj, kind, now, true);
				checkDomain(obj, kind, domains, true);
				break;
			case 'order':
				reqString(obj, 'external_id', kind);
				checkDates(obj, kind, now, true);
				checkDomain(obj, kind, domains, true);
				checkCurrency(obj, kind, strict);
				if ((item.user as Record<string, unknown>).is_authenticated !== true) {
					fail('an order requires an authenticated user (user.is_authenticated true)');
				}
				reqInt(obj, 'subtotal_price', kind);
				reqInt(obj, 'total_price', kind);
				checkLineItems(obj, kind);
				break;
			case 'cart':
				reqString(obj, 'external_id', kind);
				checkDates(obj, kind, now, true);
				checkDomain(obj, kind, domains, true);
				checkCurrency(obj, kind, strict);
				checkLineItems(obj, kind);
				break;
			case 'postview':
				reqString(obj, 'external_id', kind);
				checkDates(obj, kind, now, true);
				reqString(obj, 'utm_source', kind);
				reqString(obj, 'utm_medium', kind);
				checkDomain(obj, kind, domains, false);
				break;
			case 'custom_event':
				reqString(obj, 'external_id', kind);
				reqString(obj, 'label', kind);
				checkDates(obj, kind, now, true);
				checkDomain(obj, kind, domains, true);
				break;
			case 'subscription_list_user':
				reqString(obj, 'subscription_list_id', kind);
				checkDates(obj, kind, now, true);
				if (!present(obj.status)) fail(`${kind}.status is required`);
				if (typeof obj.status !== 'number' || !Number.isFinite(obj.status)) fail(`${kind}.status must be a number`);
				break;
			case 'message':
				reqString(obj, 'external_id', kind);
				checkDates(obj, kind, now, true);
				reqString(obj, 'channel', kind);
				if (present(obj.status) && !present(obj.status_at)) fail(`${kind}.status_at is required when status is set`);
				break;
			default:
				// app_* / appx_*: custom tables; only dates and domain are checked.
				checkDates(obj, kind, now, false);
				checkDomain(obj, kind, domains, false);
		}
		return { has_error: 0, event_at: eventAt };
	} catch (e) {
		if (e instanceof RuleError) return { has_error: 2, error: e.message, event_at: eventAt };
		throw e;
	}
}
