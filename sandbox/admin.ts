/**
 * Admin API under /__sandbox/ (no auth, never subject to faults).
 *
 *   GET  /__sandbox/health                 → {ok: true}
 *   POST /__sandbox/reset                  → clears records, jobs, logs, counters; faults → none
 *   GET  /__sandbox/config                 → the running config
 *   POST /__sandbox/config                 → apply a partial config (400 on a bad value)
 *   GET  /__sandbox/stats                  → counters
 *   GET  /__sandbox/records/rimdian        → unique items as stored (?offset=&limit=&kind=)
 *   GET  /__sandbox/records/userpilot      → jobs + kept rows (?offset=&limit=&job_id=)
 *   GET  /__sandbox/records/ayona          → stored entries (?offset=&limit=)
 *   POST /__sandbox/userpilot/fail-next    → {"reason": "..."}: the next job fails with it
 *   POST /__sandbox/rimdian/settle         → waits until queued items are in the data log
 */
import { BodyError, type Ctx, isPlainObject, parseJson, readBody } from './http';
import { ConfigError } from './state';
import { jobView } from './userpilot';

export interface AdminHooks {
	reset(): Promise<void>;
	configure(patch: unknown): void;
	settled(): Promise<void>;
}

function page(ctx: Ctx, total: number): { offset: number; limit: number } | null {
	const o = ctx.query.get('offset');
	const l = ctx.query.get('limit');
	const offset = o === null || o === '' ? 0 : Number(o);
	const limit = l === null || l === '' ? 100 : Number(l);
	if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 0 || limit > 100_000) {
		ctx.json(400, { error: 'offset must be an integer >= 0 and limit an integer 0..100000' });
		return null;
	}
	return { offset: Math.min(offset, total), limit };
}

async function jsonBody(ctx: Ctx): Promise<Record<string, unknown> | null> {
	let buf: Buffer;
	try {
		buf = await readBody(ctx, 1024 * 1024);
	} catch (e) {
		ctx.json(e instanceof BodyError && e.kind === 'too_large' ? 413 : 400, { error: (e as Error).message });
		return null;
	}
	if (buf.toString('utf8').trim() === '') return {};
	const p = parseJson(buf);
	if (!p.ok || !isPlainObject(p.value)) {
		ctx.json(400, { error: 'body must be a JSON object' });
		return null;
	}
	return p.value;
}

export async function handleAdmin(ctx: Ctx, hooks: AdminHooks): Promise<void> {
	const method = ctx.req.method ?? 'GET';
	const route = ctx.path.slice('/__sandbox'.length);
	const core = ctx.core;
	const state = core.state;

	if (route === '/health' && method === 'GET') return ctx.json(200, { ok: true });

	if (route === '/reset' && method === 'POST') {
		await hooks.reset();
		return ctx.json(200, { ok: true });
	}

	if (route === '/config') {
		if (method === 'GET') return ctx.json(200, core.config);
		if (method === 'POST') {
			const body = await jsonBody(ctx);
			if (body === null) return;
			try {
				hooks.configure(body);
			} catch (e) {
				if (e instanceof ConfigError) return ctx.json(400, { error: e.message });
				throw e;
			}
			return ctx.json(200, core.config);
		}
	}

	if (route === '/stats' && method === 'GET') return ctx.json(200, state.stats());

	if (route === '/records/rimdian' && method === 'GET') {
		const kind = ctx.query.get('kind');
		const all = kind ? state.rimdian.order.filter((r) => r.kind === kind) : state.rimdian.order;
		const p = page(ctx, all.length);
		if (p === null) return;
		const items = all.slice(p.offset, p.offset + p.limit).map((r) => {
			return {
				id: r.id,
				kind: r.kind,
				received: r.received,
				processed: r.processed,
				has_error: r.processed ? r.has_error : null,
				error: r.error ?? null,
				item: JSON.parse(r.raw) as unknown,
				first_received_at: new Date(r.first_received_at).toISOString(),
				last_received_at: new Date(r.last_received_at).toISOString(),
			};
		});
		return ctx.json(200, { total: all.length, offset: p.offset, limit: p.limit, items });
	}

	if (route === '/records/userpilot' && method === 'GET') {
		const up = state.userpilot;
		const jobs = [...up.jobs.values()];
		const jobId = ctx.query.get('job_id');
		const rows: Record<string, unknown>[] = [];
		let total = 0;
		for (const j of jobs) {
			if (jobId && j.job_id !== jobId) continue;
			if (j.status === 'completed' && j.rows) total += j.rows.length;
		}
		const p = page(ctx, total);
		if (p === null) return;
		let skip = p.offset;
		for (const j of jobs) {
			if (rows.length >= p.limit) break;
			if (jobId && j.job_id !== jobId) continue;
			if (j.status !== 'completed' || !j.rows) continue;
			if (skip >= j.rows.length) {
				skip -= j.rows.length;
				continue;
			}
			for (let i = skip; i < j.rows.length && rows.length < p.limit; i++) rows.push(j.rows[i]);
			skip = 0;
		}
		return ctx.json(200, {
			jobs: jobs
				.slice()
				.reverse()
				.map((j) => ({
					...jobView(j),
					key_id: j.keyHash.slice(0, 8),
					format: j.format,
					rows_kept: j.rows !== null,
					row_count: j.rowCount,
					sha256: j.sha256 ?? null,
				})),
			rows: { total, offset: p.offset, limit: p.limit, items: rows },
		});
	}

	if (route === '/records/ayona' && method === 'GET') {
		const all = state.ayona.entries;
		const p = page(ctx, all.length);
		if (p === null) return;
		return ctx.json(200, { total: all.length, offset: p.offset, limit: p.limit, entries: all.slice(p.offset, p.offset + p.limit) });
	}

	if (route === '/userpilot/fail-next' && method === 'POST') {
		const body = await jsonBody(ctx);
		if (body === null) return;
		const reason = body.reason;
		if (reason !== undefined && typeof reason !== 'string') return ctx.json(400, { error: 'reason must be a string' });
		state.userpilot.failNext.push(reason || 'Import failed (forced by the sandbox)');
		return ctx.json(200, { ok: true, queued: state.userpilot.failNext.length });
	}

	if (route === '/rimdian/settle' && method === 'POST') {
		await hooks.settled();
		return ctx.json(200, { ok: true, dataLogs: state.rimdian.log.length });
	}

	ctx.json(404, { error: `unknown admin route: ${method} ${ctx.path}` });
}
