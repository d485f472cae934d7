/**
 * Rimdian: the collector's POST /data and the API's account.login, account.refreshAccessToken and
 * dataLog.list, served on one origin.
 *
 * De-duplication: like Rimdian, each item's task id (= data log id) is
 * HMAC-SHA256(secret, `<origin>_<item raw JSON>`), where the raw JSON is the exact byte slice of
 * the item inside the request body (no re-serialisation; surrounding whitespace excluded). The
 * origin is 1 (Rimdian's "token" origin: the item came with an account token) and origin_id the
 * token's account id. An item whose task id is already known is not stored again; it is counted
 * as a duplicate received.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
	RIMDIAN_ACCOUNT_ID,
	RIMDIAN_DOMAINS,
	RIMDIAN_SERVICE_EMAIL,
	RIMDIAN_SERVICE_PASSWORD,
	RIMDIAN_TOKEN,
	RIMDIAN_WORKSPACE,
} from './defaults';
import { BodyError, type Core, type Ctx, isPlainObject, parseJson, readBody } from './http';
import { checkItem, parseRfc3339 } from './rimdian-rules';
import type { RimdianRecord } from './state';

/** Secret of the task-id HMAC (fixed, so ids are stable across sandbox runs). */
export const RIMDIAN_TASK_SECRET = 'sandbox-rimdian-secret-key';
/** Data log origin of items posted with an account token (Rimdian's DataLogOriginToken). */
export const ORIGIN_TOKEN = 1;
export const MAX_ITEMS = 100;

const DOMAINS = new Set(RIMDIAN_DOMAINS);
const WORKSPACES = new Set([RIMDIAN_WORKSPACE]);
const PROCESS_BATCH = 2000;

/** Task id of an item, given its raw JSON text/bytes as sent. */
export function computeTaskId(raw: string | Buffer, origin = ORIGIN_TOKEN): string {
	return createHmac('sha256', RIMDIAN_TASK_SECRET).update(`${origin}_`).update(raw).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Raw item slicing
// ---------------------------------------------------------------------------------------------

function skipWs(b: Buffer, i: number): number {
	for (;;) {
		const c = b[i];
		if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
		else return i;
	}
}

function skipString(b: Buffer, i: number): number {
	// b[i] is the opening quote
	let from = i + 1;
	for (;;) {
		const q = b.indexOf(0x22, from);
		if (q < 0) return b.length;
		let n = 0;
		for (let k = q - 1; b[k] === 0x5c; k--) n++;
		if ((n & 1) === 0) return q + 1;
		from = q + 1;
	}
}

function skipValue(b: Buffer, i: number): number {
	const c = b[i];
	if (c === 0x22) return skipString(b, i);
	if (c === 0x7b || c === 0x5b) {
		let depth = 0;
		const len = b.length;
		while (i < len) {
			const ch = b[i];
			if (ch === 0x22) {
				i = skipString(b, i);
				continue;
			}
			if (ch === 0x7b || ch === 0x5b) depth++;
			else if (ch === 0x7d || ch === 0x5d) {
				depth--;
				if (depth === 0) return i + 1;
			}
			i++;
		}
		return len;
	}
	// number, true, false, null
	const len = b.length;
	while (i < len) {
		const ch = b[i];
		if (ch === 0x2c || ch === 0x7d || ch === 0x5d || ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09) break;
		i++;
	}
	return i;
}

const ITEMS_KEY = Buffer.from('"items"');

/**
 * Byte spans [start, end) of the elements of the top-level `items` array (the last `items` key
 * wins, as in JSON.parse). The body must already be known to be valid JSON.
 */
export function itemSpans(b: Buffer): Array<[number, number]> | null {
	let i = skipWs(b, 0);
	if (b[i] !== 0x7b) return null;
	i++;
	let result: Array<[number, number]> | null = null;
	for (;;) {
		i = skipWs(b, i);
		if (b[i] !== 0x22) break;
		const ks = i;
		i = skipString(b, i);
		let isItems = i - ks === 7 && b.compare(ITEMS_KEY, 0, 7, ks, i) === 0;
		if (!isItems && b.indexOf(0x5c, ks) !== -1 && b.indexOf(0x5c, ks) < i) {
			isItems = JSON.parse(b.toString('utf8', ks, i)) === 'items';
		}
		i = skipWs(b, i) + 1; // ':'
		i = skipWs(b, i);
		if (isItems && b[i] === 0x5b) {
			const spans: Array<[number, number]> = [];
			i = skipWs(b, i + 1);
			if (b[i] === 0x5d) i++;
			else {
				for (;;) {
					const s = i;
					i = skipValue(b, i);
					spans.push([s, i]);
					i = skipWs(b, i);
					if (b[i] === 0x2c) {
						i = skipWs(b, i + 1);
						continue;
					}
					i++;
					break;
				}
			}
			result = spans;
		} else {
			i = skipValue(b, i);
			if (isItems) result = null;
		}
		i = skipWs(b, i);
		if (b[i] === 0x2c) {
			i++;
			continue;
		}
		break;
	}
	return result;
}

// ---------------------------------------------------------------------------------------------
// Auth
// ---------------------------------------------------------------------------------------------

function newToken(): string {
	return `v4.local.${randomBytes(48).toString('base64url')}`;
}

function jsonError(ctx: Ctx, code: number, message: string): void {
	ctx.json(code, { code, message });
}

/** Extract the Bearer token: null (and answered) when the header is missing or malformed. */
function bearer(ctx: Ctx): string | null {
	const h = ctx.req.headers.authorization;
	if (h === undefined || h.trim() === '') {
		jsonError(ctx, 401, 'an account token is required');
		return null;
	}
	const parts = h.trim().split(/\s+/);
	if (parts.length !== 2 || parts[0].toLowerCase() !== 'bearer') {
		jsonError(ctx, 406, 'invalid token format');
		return null;
	}
	return parts[1];
}

/** Authenticate an access token: returns the account id, or null after answering 401/406. */
function authAccess(ctx: Ctx): string | null {
	const token = bearer(ctx);
	if (token === null) return null;
	if (token === RIMDIAN_TOKEN) return RIMDIAN_ACCOUNT_ID;
	const t = ctx.core.state.rimdian.tokens.get(token);
	if (!t || t.kind !== 'access') {
		jsonError(ctx, 401, 'invalid token');
		return null;
	}
	if (Date.now() >= t.expiresAt) {
		jsonError(ctx, 401, 'this token has expired');
		return null;
	}
	return t.accountId;
}

function issue(core: Core, kind: 'access' | 'refresh', accountId: string): { token: string; expiresAt: number } {
	const ttl = kind === 'access' ? core.config.tokenTtlSeconds : core.config.refreshTokenTtlSeconds;
	const token = newToken();
	const expiresAt = Date.now() + Math.round(ttl * 1000);
	const tokens = core.state.rimdian.tokens;
	// Drop expired tokens now and then so long runs do not accumulate them.
	if (tokens.size > 10_000) {
		const now = Date.now();
		for (const [k, v] of tokens) if (v.expiresAt <= now) tokens.delete(k);
	}
	tokens.set(token, { kind, accountId, expiresAt });
	return { token, expiresAt };
}

export async function login(ctx: Ctx): Promise<void> {
	let body: Buffer;
	try {
		body = await readBody(ctx, 1024 * 1024);
	} catch (e) {
		if (e instanceof BodyError && e.kind === 'too_large') ctx.closeAfter = true;
		return jsonError(ctx, e instanceof BodyError && e.kind === 'too_large' ? 413 : 422, (e as Error).message);
	}
	const parsed = parseJson(body);
	if (!parsed.ok || !isPlainObject(parsed.value)) return jsonError(ctx, 400, 'invalid JSON body');
	const { email, password } = parsed.value;
	if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) {
		return jsonError(ctx, 400, 'email is not valid');
	}
	if (typeof password !== 'string' || password === '') return jsonError(ctx, 400, 'password is required');
	if (email.trim().toLowerCase() !== RIMDIAN_SERVICE_EMAIL || password.trim() !== RIMDIAN_SERVICE_PASSWORD) {
		return jsonError(ctx, 400, 'invalid email or password');
	}
	const core = ctx.core;
	const refresh = issue(core, 'refresh', RIMDIAN_ACCOUNT_ID);
	const access = issue(core, 'access', RIMDIAN_ACCOUNT_ID);
	ctx.json(200, {
		account: {
			id: RIMDIAN_ACCOUNT_ID,
			email: RIMDIAN_SERVICE_EMAIL,
			full_name: 'Sandbox service account',
			is_service_account: true,
		},
		access_token: access.token,
		access_token_expires_at: new Date(access.expiresAt).toISOString(),
		refresh_token: refresh.token,
		refresh_token_expires_at: new Date(refresh.expiresAt).toISOString(),
	});
}

export async function refreshAccessToken(ctx: Ctx): Promise<void> {
	let body: Buffer;
	try {
		body = await readBody(ctx, 1024 * 1024);
	} catch (e) {
		if (e instanceof BodyError && e.kind === 'too_large') ctx.closeAfter = true;
		return jsonError(ctx, e instanceof BodyError && e.kind === 'too_large' ? 413 : 422, (e as Error).message);
	}
	let token: string | null = null;
	if (body.length > 0 && body.toString('utf8').trim() !== '') {
		const parsed = parseJson(body);
		if (!parsed.ok || !isPlainObject(parsed.value)) return jsonError(ctx, 400, 'invalid JSON body');
		const rt = parsed.value.refresh_token;
		if (rt !== undefined && rt !== null) {
			if (typeof rt !== 'string' || rt === '') return jsonError(ctx, 400, 'refresh_token must be a string');
			token = rt;
		}
	}
	if (token === null) {
		if (ctx.req.headers.authorization === undefined) return jsonError(ctx, 400, 'refresh token is required');
		token = bearer(ctx);
		if (token === null) return;
	}
	const t = ctx.core.state.rimdian.tokens.get(token);
	if (!t || t.kind !== 'refresh') return jsonError(ctx, 401, 'invalid refresh token');
	if (Date.now() >= t.expiresAt) return jsonError(ctx, 401, 'this refresh token has expired');
	const access = issue(ctx.core, 'access', t.accountId);
	ctx.json(200, {
		access_token: access.token,
		access_token_expires_at: new Date(access.expiresAt).toISOString(),
	});
}

// ---------------------------------------------------------------------------------------------
// POST /data
// ---------------------------------------------------------------------------------------------

export async function postData(ctx: Ctx): Promise<void> {
	const core = ctx.core;
	const rs = core.state.rimdian;
	rs.requests++;
	const accountId = authAccess(ctx);
	if (accountId === null) {
		// Do not keep the connection busy with a body nobody reads.
		return;
	}
	let body: Buffer;
	try {
		body = await readBody(ctx, core.config.maxJsonBodyBytes);
	} catch (e) {
		if (e instanceof BodyError && e.kind === 'too_large') {
			ctx.closeAfter = true;
			return ctx.text(413, 'request body too large');
		}
		return ctx.text(422, 'cannot read body');
	}
	if (body.length === 0 || body.toString('utf8').trim() === '') return ctx.text(400, 'empty body');
	const parsed = parseJson(body);
	if (!parsed.ok) return ctx.text(400, `invalid JSON body: ${parsed.error}`);
	if (!isPlainObject(parsed.value)) return ctx.text(400, 'body must be a JSON object');
	const payload = parsed.value;

	// workspace_id: query parameter first (as Rimdian reads it), then the body.
	let workspaceId: string | null = null;
	if (ctx.rawQuery !== '') {
		const q = ctx.query.get('workspace_id');
		if (q !== null && q.trim() !== '') workspaceId = q.trim();
	}
	if (workspaceId === null) {
		const w = payload.workspace_id;
		if (w === undefined || w === null) return ctx.text(400, 'workspace_id is required');
		if (typeof w !== 'string') return ctx.text(400, 'workspace_id must be a string');
		if (w.trim() === '') return ctx.text(400, 'workspace_id is required');
		workspaceId = w.trim();
	}
	if (!WORKSPACES.has(workspaceId)) return ctx.text(400, `workspace not found: ${workspaceId}`);

	const items = payload.items;
	if (items === undefined || items === null) return ctx.text(400, 'items is required');
	if (!Array.isArray(items)) return ctx.text(400, 'items must be an array');
	if (items.length === 0) return ctx.text(400, 'items is empty');
	if (items.length > MAX_ITEMS) return ctx.text(400, `items max ${MAX_ITEMS}, got ${items.length}`);
	for (let i = 0; i < items.length; i++) {
		const it: unknown = items[i];
		if (!isPlainObject(it)) return ctx.text(400, `items[${i}] is not an object`);
		if (typeof it.kind !== 'string' || it.kind === '') return ctx.text(400, `items[${i}].kind is required (string)`);
	}

	let spans = itemSpans(body);
	if (spans !== null && spans.length !== items.length) spans = null;
	const now = Date.now();
	let queued = 0;
	for (let i = 0; i < items.length; i++) {
		const item = items[i] as Record<string, unknown>;
		const kind = item.kind as string;
		rs.byKind[kind] = (rs.byKind[kind] ?? 0) + 1;
		let id: string;
		let raw: string | null = null;
		if (spans !== null) {
			const [s, e] = spans[i];
			id = computeTaskId(body.subarray(s, e));
			if (!rs.records.has(id)) raw = body.toString('utf8', s, e);
		} else {
			raw = JSON.stringify(item);
			id = computeTaskId(raw);
		}
		const existing = rs.records.get(id);
		if (existing) {
			existing.received++;
			existing.last_received_at = now;
			rs.duplicatesReceived++;
			continue;
		}
		const rec: RimdianRecord = {
			id,
			seq: rs.seq++,
			workspace_id: workspaceId,
			origin: ORIGIN_TOKEN,
			origin_id: accountId,
			kind,
			raw: raw as string,
			received: 1,
			first_received_at: now,
			last_received_at: now,
			processed: false,
			has_error: 0,
			event_at: now,
			created_at: now,
		};
		rs.records.set(id, rec);
		rs.order.push(rec);
		rs.pending.push({ rec, item });
		queued++;
	}
	rs.itemsReceived += items.length;
	rs.requestsAccepted++;
	if (queued > 0) scheduleProcessing(core);
	ctx.text(200, 'queued');
}

// ---------------------------------------------------------------------------------------------
// Asynchronous processing into the data log
// ---------------------------------------------------------------------------------------------

const scheduled = new WeakSet<Core>();
const idleWaiters = new WeakMap<Core, Array<() => void>>();

export function scheduleProcessing(core: Core): void {
	if (scheduled.has(core) || core.closing) return;
	scheduled.add(core);
	const run = (): void => {
		scheduled.delete(core);
		processBatch(core);
	};
	if (core.config.rimdianProcessDelayMs > 0) core.later(core.config.rimdianProcessDelayMs, run);
	else setImmediate(run);
}

function compareLog(a: RimdianRecord, b: RimdianRecord): number {
	return a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function processBatch(core: Core): void {
	const rs = core.state.rimdian;
	if (core.closing) return;
	const batch = rs.pending.length <= PROCESS_BATCH ? rs.pending.splice(0) : rs.pending.splice(0, PROCESS_BATCH);
	if (batch.length > 0) {
		const log = rs.log;
		const last = log.length > 0 ? log[log.length - 1].created_at : 0;
		const now = Math.max(Date.now(), last);
		const fresh: RimdianRecord[] = [];
		for (const { rec, item } of batch) {
			const v = checkItem(item, now, DOMAINS, core.config.rimdianStrictValues);
			rec.processed = true;
			rec.has_error = v.has_error;
			if (v.error !== undefined) {
				rec.error = v.error;
				rs.logErrors++;
			}
			rec.event_at = v.event_at ?? now;
			rec.created_at = now;
			fresh.push(rec);
		}
		// Keep the log sorted by (created_at, id): merge with the tail created in the same ms.
		let k = log.length;
		while (k > 0 && log[k - 1].created_at === now) k--;
		const group = k < log.length ? log.splice(k).concat(fresh) : fresh;
		group.sort(compareLog);
		for (const r of group) log.push(r);
	}
	if (rs.pending.length > 0) scheduleProcessing(core);
	else {
		const waiters = idleWaiters.get(core);
		if (waiters && waiters.length > 0) {
			idleWaiters.delete(core);
			for (const w of waiters) w();
		}
	}
}

/** Resolves once every queued item has been processed into the data log. */
export function whenProcessed(core: Core): Promise<void> {
	if (core.state.rimdian.pending.length === 0) return Promise.resolve();
	return new Promise((resolve) => {
		const list = idleWaiters.get(core) ?? [];
		list.push(resolve);
		idleWaiters.set(core, list);
		scheduleProcessing(core);
	});
}

/** Release anyone waiting on whenProcessed (used on reset / close). */
export function releaseWaiters(core: Core): void {
	const waiters = idleWaiters.get(core);
	idleWaiters.delete(core);
	if (waiters) for (const w of waiters) w();
}

// ---------------------------------------------------------------------------------------------
// GET /api/dataLog.list
// ---------------------------------------------------------------------------------------------

export function dataLogView(r: RimdianRecord): Record<string, unknown> {
	const out: Record<string, unknown> = {
		id: r.id,
		origin: r.origin,
		origin_id: r.origin_id,
		context: { workspace_id: r.workspace_id, received_at: new Date(r.first_received_at).toISOString() },
		kind: r.kind,
		has_error: r.has_error,
	};
	if (r.error !== undefined) out.error = r.error;
	out.item = JSON.parse(r.raw);
	out.event_at = new Date(r.event_at).toISOString();
	out.created_at = new Date(r.created_at).toISOString();
	return out;
}

function encodeCursor(r: RimdianRecord): string {
	return Buffer.from(`${r.created_at}:${r.id}`).toString('base64url');
}

function decodeCursor(s: string): { created: number; id: string } | null {
	const m = /^(\d+):([0-9a-f]{64})$/.exec(Buffer.from(s, 'base64url').toString('utf8'));
	return m ? { created: Number(m[1]), id: m[2] } : null;
}

export function dataLogList(ctx: Ctx): void {
	if (authAccess(ctx) === null) return;
	const q = ctx.query;
	const ws = q.get('workspace_id');
	if (ws === null || ws.trim() === '') return jsonError(ctx, 400, 'workspace_id is required');
	if (!WORKSPACES.has(ws.trim())) return jsonError(ctx, 400, `workspace not found: ${ws.trim()}`);

	let limit = 25;
	const l = q.get('limit');
	if (l !== null) {
		if (!/^\d+$/.test(l) || +l < 1 || +l > 100) return jsonError(ctx, 400, 'limit must be an integer between 1 and 100');
		limit = +l;
	}
	let origin: number | null = null;
	const o = q.get('origin');
	if (o !== null && o !== '') {
		if (!/^\d+$/.test(o)) return jsonError(ctx, 400, 'origin must be an integer (1 = token)');
		origin = +o;
	}
	let hasError: number | null = null;
	const he = q.get('has_error');
	if (he !== null && he !== '') {
		if (he !== '0' && he !== '1' && he !== '2') return jsonError(ctx, 400, 'has_error must be 0, 1 or 2');
		hasError = +he;
	}
	const dateParam = (name: string): number | null | undefined => {
		const v = q.get(name);
		if (v === null || v === '') return null;
		const t = parseRfc3339(v);
		return t === null ? undefined : t;
	};
	const since = dateParam('event_at_since');
	if (since === undefined) return jsonError(ctx, 400, 'event_at_since must be an RFC 3339 date-time');
	const until = dateParam('event_at_until');
	if (until === undefined) return jsonError(ctx, 400, 'event_at_until must be an RFC 3339 date-time');
	const originId = q.get('origin_id') || null;
	const kind = q.get('kind') || null;
	const id = q.get('id') || null;

	const log = ctx.core.state.rimdian.log;
	let start = 0;
	const nt = q.get('next_token');
	if (nt !== null && nt !== '') {
		const c = decodeCursor(nt);
		if (c === null) return jsonError(ctx, 400, 'invalid next_token');
		// first entry strictly after the cursor
		let lo = 0;
		let hi = log.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			const e = log[mid];
			if (e.created_at < c.created || (e.created_at === c.created && e.id <= c.id)) lo = mid + 1;
			else hi = mid;
		}
		start = lo;
	}
	const out: RimdianRecord[] = [];
	let more = false;
	for (let i = start; i < log.length; i++) {
		const r = log[i];
		if (origin !== null && r.origin !== origin) continue;
		if (originId !== null && r.origin_id !== originId) continue;
		if (hasError !== null && r.has_error !== hasError) continue;
		if (kind !== null && r.kind !== kind) continue;
		if (id !== null && r.id !== id) continue;
		if (since !== null && r.event_at < since) continue;
		if (until !== null && r.event_at > until) continue;
		if (out.length === limit) {
			more = true;
			break;
		}
		out.push(r);
	}
	const result: Record<string, unknown> = { data_logs: out.map(dataLogView) };
	if (more) result.next_token = encodeCursor(out[out.length - 1]);
	ctx.json(200, result);
}
