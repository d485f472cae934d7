/**
 * Ayona REST source import: POST /api/v1/source/import with `X-API-KEY`.
 * Any malformed entry rejects the whole request (400, message naming the entry and the field).
 * The page types date, name and content as strings and says no more: other keys are ignored and
 * an empty name is an anonymous entry, unless a strict-reading switch is on
 * (`ayonaRejectExtraFields`, `ayonaRequireName`).
 */
import { AYONA_KEY, AYONA_SOURCE_ID } from './defaults';
import { BodyError, type Ctx, isPlainObject, parseJson, readBody } from './http';

const SOURCES = new Set([AYONA_SOURCE_ID]);
const FIELDS = new Set(['date', 'name', 'content']);
const DATE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export function isAyonaDate(s: string): boolean {
	const m = DATE.exec(s);
	if (!m) return false;
	const y = +m[1];
	const mo = +m[2];
	const d = +m[3];
	if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return false;
	return +m[4] <= 23 && +m[5] <= 59 && +m[6] <= 59;
}

function msg(ctx: Ctx, status: number, message: string): void {
	ctx.json(status, { message });
}

export async function postImport(ctx: Ctx): Promise<void> {
	const core = ctx.core;
	const st = core.state.ayona;
	st.requests++;
	const key = ctx.req.headers['x-api-key'];
	if (key === undefined || key === '') {
		if (!ctx.req.complete) ctx.closeAfter = Number(ctx.req.headers['content-length'] ?? 1e9) > 64 * 1024;
		return msg(ctx, 401, 'Missing X-API-KEY header');
	}
	if (key !== AYONA_KEY) {
		if (!ctx.req.complete) ctx.closeAfter = Number(ctx.req.headers['content-length'] ?? 1e9) > 64 * 1024;
		return msg(ctx, 401, 'Invalid API key');
	}
	let body: Buffer;
	try {
		body = await readBody(ctx, core.config.maxJsonBodyBytes);
	} catch (e) {
		if (e instanceof BodyError && e.kind === 'too_large') {
			ctx.closeAfter = true;
			return msg(ctx, 413, 'Request body too large');
		}
		return msg(ctx, 400, 'Could not read the request body');
	}
	if (body.toString('utf8').trim() === '') return msg(ctx, 400, 'Request body is empty');
	const parsed = parseJson(body);
	if (!parsed.ok) return msg(ctx, 400, `Request body is not valid JSON: ${parsed.error}`);
	const b = parsed.value;
	if (!isPlainObject(b)) return msg(ctx, 400, 'Request body must be a JSON object');

	const sourceId = b.source_id;
	if (sourceId === undefined || sourceId === null || sourceId === '') return msg(ctx, 400, 'source_id is required');
	if (typeof sourceId !== 'string') return msg(ctx, 400, 'source_id must be a string');
	if (!SOURCES.has(sourceId)) return msg(ctx, 400, `Unknown source_id: ${sourceId} (no REST source with this id)`);

	const payload = b.payload;
	if (payload === undefined || payload === null) return msg(ctx, 400, 'payload is required');
	if (!Array.isArray(payload)) return msg(ctx, 400, 'payload must be an array');
	if (payload.length === 0) return msg(ctx, 400, 'payload must not be empty');
	const maxBatch = core.config.ayonaMaxBatch;
	if (payload.length > maxBatch) {
		return msg(ctx, 413, `payload has ${payload.length} entries, at most ${maxBatch} are accepted per request`);
	}
	for (let i = 0; i < payload.length; i++) {
		const e: unknown = payload[i];
		const at = `payload[${i}]`;
		if (!isPlainObject(e)) return msg(ctx, 400, `${at} must be an object`);
		if (e.date === undefined || e.date === null) return msg(ctx, 400, `${at}.date is required (format YYYY-MM-DD HH:mm:ss)`);
		if (typeof e.date !== 'string' || !isAyonaDate(e.date)) {
			return msg(ctx, 400, `${at}.date must be in format YYYY-MM-DD HH:mm:ss, got ${JSON.stringify(e.date)}`);
		}
		if (e.name === undefined || e.name === null) return msg(ctx, 400, `${at}.name is required`);
		if (typeof e.name !== 'string') return msg(ctx, 400, `${at}.name must be a string`);
		if (core.config.ayonaRequireName && e.name.trim() === '') return msg(ctx, 400, `${at}.name must not be empty`);
		if (e.content === undefined || e.content === null) return msg(ctx, 400, `${at}.content is required`);
		if (typeof e.content !== 'string') return msg(ctx, 400, `${at}.content must be a string`);
		if (core.config.ayonaRejectExtraFields) {
			const extra = Object.keys(e).find((k) => !FIELDS.has(k));
			if (extra !== undefined) return msg(ctx, 400, `${at}.${extra} is not a field of an entry (date, name, content)`);
		}
	}
	const receivedAt = new Date().toISOString();
	for (const e of payload as Array<Record<string, string>>) {
		st.entries.push({ source_id: sourceId, date: e.date, name: e.name, content: e.content, received_at: receivedAt });
	}
	st.requestsAccepted++;
	msg(ctx, 200, 'REST import started successfully');
}
