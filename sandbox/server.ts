/**
 * Local sandbox serving the Rimdian, Userpilot and Ayona import APIs on one origin
 * (http://127.0.0.1:<port>), with fault injection and an admin API under /__sandbox/.
 *
 *   const sandbox = await startSandbox({ jobStepMs: 20 });
 *   await fetch(`${sandbox.url}/data`, ...);
 *   await sandbox.close();
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleAdmin } from './admin';
import * as ayona from './ayona';
import { FaultInjector } from './faults';
import { type Core, Ctx, type Platform } from './http';
import * as rimdian from './rimdian';
import {
	applyConfigPatch,
	defaultConfig,
	type FaultConfig,
	type ReadingsConfig,
	defaultReadings,
	noFaults,
	type SandboxConfig,
	SandboxState,
	type SandboxStats,
} from './state';
import * as userpilot from './userpilot';

export type { FaultConfig, ReadingsConfig, SandboxConfig, SandboxStats } from './state';
export { SandboxState } from './state';
export {
	AYONA_KEY,
	AYONA_SOURCE_ID,
	DEFAULT_CLI_PORT,
	RIMDIAN_ACCOUNT_ID,
	RIMDIAN_DOMAINS,
	RIMDIAN_SERVICE_EMAIL,
	RIMDIAN_SERVICE_PASSWORD,
	RIMDIAN_TOKEN,
	RIMDIAN_WORKSPACE,
	USERPILOT_KEY,
	USERPILOT_READ_KEY,
} from './defaults';
export { ConfigError } from './state';

export const HOST = '127.0.0.1';

/** Options of startSandbox: any config field; `faults` may be partial. */
export type SandboxOptions = Partial<Omit<SandboxConfig, 'faults' | 'readings'>> & {
	faults?: Partial<FaultConfig>;
	readings?: Partial<Omit<ReadingsConfig, 'processedThen502'>> & {
		processedThen502?: Partial<ReadingsConfig['processedThen502']>;
	};
};

export interface Sandbox {
	/** Base URL, e.g. http://127.0.0.1:8787 (no trailing slash). */
	url: string;
	port: number;
	/** Live state (records, jobs, data log, counters): read it, do not replace it. */
	state: SandboxState;
	/** Live config (change it with configure() so faults are re-seeded). */
	config: SandboxConfig;
	/** Apply a partial config (same as POST /__sandbox/config). Throws ConfigError. */
	configure(patch: SandboxOptions): void;
	/** Same as POST /__sandbox/reset. */
	reset(): Promise<void>;
	/** Same as GET /__sandbox/stats. */
	stats(): SandboxStats;
	/** Resolves once every queued Rimdian item is in the data log. */
	settled(): Promise<void>;
	close(): Promise<void>;
}

type Handler = (ctx: Ctx) => void | Promise<void>;

interface Route {
	platform: Platform;
	method: string;
	handler: Handler;
}

const ROUTES: Record<string, Route> = {
	'/data': { platform: 'rimdian', method: 'POST', handler: rimdian.postData },
	'/api/account.login': { platform: 'rimdian-api', method: 'POST', handler: rimdian.login },
	'/api/account.refreshAccessToken': { platform: 'rimdian-api', method: 'POST', handler: rimdian.refreshAccessToken },
	'/api/dataLog.list': { platform: 'rimdian-api', method: 'GET', handler: rimdian.dataLogList },
	'/v1/imports': { platform: 'userpilot', method: 'POST', handler: userpilot.postImport },
	'/v1/background_jobs': { platform: 'userpilot', method: 'GET', handler: userpilot.listJobs },
	'/api/v1/source/import': { platform: 'ayona', method: 'POST', handler: ayona.postImport },
};

const JOB_PREFIXES = ['/v1/background_jobs/', '/api/background_jobs/'];

function resolveRoute(path: string): Route | null {
	const r = ROUTES[path];
	if (r) return r;
	for (const p of JOB_PREFIXES) {
		if (path.startsWith(p) && path.length > p.length) {
			const id = path.slice(p.length);
			return { platform: 'userpilot', method: 'GET', handler: (ctx) => userpilot.getJob(ctx, id) };
		}
	}
	return null;
}

/** Answer with the platform's own error shape. */
function platformError(ctx: Ctx, status: number, message: string, headers?: Record<string, string | number>): void {
	switch (ctx.platform) {
		case 'rimdian':
			return ctx.text(status, message, headers);
		case 'rimdian-api':
			return ctx.json(status, { code: status, message }, headers);
		case 'userpilot':
			return userpilot.sendError(ctx, status, message, headers);
		default:
			return ctx.json(status, { message }, headers);
	}
}

function injectFault(ctx: Ctx, status: number, retryAfter: number): void {
	userpilot.answerEarly(ctx);
	if (status === 429) {
		const headers = { 'retry-after': String(retryAfter) };
		if (ctx.platform === 'rimdian') return ctx.text(429, 'too many requests', headers);
		return platformError(ctx, 429, ctx.platform === 'userpilot' ? 'Rate limit exceeded (injected)' : 'Too many requests (injected)', headers);
	}
	if (ctx.platform === 'rimdian') return ctx.text(status, 'task error: injected');
	return platformError(ctx, status, 'Internal error (injected)');
}

/** Reading "processed, then 502": the request was handled (stored); a gateway loses the answer. */
function answer502AfterProcessing(ctx: Ctx): boolean {
	const platform = ctx.platform;
	if (platform !== 'userpilot' && platform !== 'rimdian' && platform !== 'ayona') return false;
	const counts = ctx.core.config.readings.processedThen502;
	if (counts[platform] <= 0) return false;
	counts[platform]--;
	ctx.core.state.readings.processedThen502++;
	if (platform === 'rimdian') ctx.text(502, 'Bad Gateway');
	else platformError(ctx, 502, 'Bad Gateway (after the request was processed)');
	return true;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
	const config = defaultConfig();
	applyConfigPatch(config, options, true);
	const state = new SandboxState();
	const faults = new FaultInjector(config.faults);

	const ownTmp = config.tmpDir === null;
	let tmpDir: string;
	if (config.tmpDir === null) tmpDir = await mkdtemp(join(tmpdir(), 'import-sandbox-'));
	else {
		tmpDir = config.tmpDir;
		await mkdir(tmpDir, { recursive: true });
	}

	const timers = new Set<NodeJS.Timeout>();
	const core: Core = {
		config,
		state,
		faults,
		tmpDir,
		timers,
		closing: false,
		log: (line) => process.stdout.write(`[sandbox] ${line}\n`),
		later(ms, fn) {
			const t = setTimeout(() => {
				timers.delete(t);
				fn();
			}, ms);
			timers.add(t);
			return t;
		},
	};

	const configure = (patch: unknown): void => {
		applyConfigPatch(config, patch);
		if (typeof patch === 'object' && patch !== null && 'faults' in patch) faults.reseed(config.faults);
	};

	const reset = async (): Promise<void> => {
		await userpilot.cancelAllJobs(core);
		state.clear();
		config.faults = noFaults();
		config.readings = defaultReadings();
		faults.reseed(config.faults);
		rimdian.releaseWaiters(core);
	};

	const settled = (): Promise<void> => rimdian.whenProcessed(core);

	const onRequest = (req: IncomingMessage, res: ServerResponse, expectContinue = false): void => {
		const started = Date.now();
		const url = req.url ?? '/';
		const qi = url.indexOf('?');
		const path = qi < 0 ? url : url.slice(0, qi);
		const rawQuery = qi < 0 ? '' : url.slice(qi + 1);
		const method = req.method ?? 'GET';

		if (path.startsWith('/__sandbox/')) {
			const ctx = new Ctx(core, req, res, path, rawQuery, 'admin', started);
			ctx.expectContinue = expectContinue;
			run(ctx, (c) => handleAdmin(c, { reset, configure, settled }));
			return;
		}

		const route = resolveRoute(path);
		if (route === null) {
			const ctx = new Ctx(core, req, res, path, rawQuery, 'none', started);
			ctx.expectContinue = expectContinue;
			if (path === '/' && method === 'GET') return ctx.text(200, 'import sandbox: Rimdian, Userpilot, Ayona');
			userpilot.answerEarly(ctx);
			return ctx.json(404, { message: `Not found: ${method} ${path}` });
		}
		const ctx = new Ctx(core, req, res, path, rawQuery, route.platform, started);
		ctx.expectContinue = expectContinue;
		if (method !== route.method) {
			userpilot.answerEarly(ctx);
			return platformError(ctx, 405, `Method ${method} not allowed`, { allow: route.method });
		}

		if (route.method === 'POST') ctx.replaceSuccess = () => answer502AfterProcessing(ctx);

		if (faults.active && faults.applies(path)) {
			const d = faults.decide();
			if (d.action === 'reset') {
				state.faults.reset++;
				state.countStatus('reset');
				ctx.destroy();
				return;
			}
			if (d.delayMs > 0) {
				state.faults.latency++;
				ctx.delayMs = d.delayMs;
			}
			if (d.action === '5xx' || d.action === '429') {
				state.faults[d.action]++;
				return injectFault(ctx, d.status, faults.retryAfterSeconds);
			}
			if (d.action === 'lostAnswer') {
				state.faults.lostAnswer++;
				ctx.lostAnswer = true;
			}
		}
		run(ctx, route.handler);
	};

	const run = (ctx: Ctx, handler: Handler): void => {
		try {
			const p = handler(ctx);
			if (p && typeof (p as Promise<void>).then === 'function') {
				(p as Promise<void>).catch((err: Error) => internalError(ctx, err));
			}
		} catch (err) {
			internalError(ctx, err as Error);
		}
	};

	const internalError = (ctx: Ctx, err: Error): void => {
		process.stderr.write(`[sandbox] internal error on ${ctx.req.method} ${ctx.path}: ${err?.stack ?? String(err)}\n`);
		if (!ctx.answered) {
			if (ctx.platform === 'admin') ctx.json(500, { error: err?.message ?? 'internal error' });
			else platformError(ctx, 500, 'Internal server error');
		}
	};

	const server: Server = createServer({ requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => onRequest(req, res));
	// `Expect: 100-continue` (curl does it for big uploads): answer auth errors, 409 and 413
	// before the client sends its body; handlers send `100 Continue` when they start reading.
	server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => onRequest(req, res, true));
	server.keepAliveTimeout = 30_000;
	server.on('clientError', (_err, socket) => {
		if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
		else socket.destroy();
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(config.port, HOST, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const port = (server.address() as AddressInfo).port;

	let closed: Promise<void> | null = null;
	const close = (): Promise<void> => {
		closed ??= (async () => {
			core.closing = true;
			const done = new Promise<void>((resolve) => server.close(() => resolve()));
			server.closeAllConnections();
			for (const t of timers) clearTimeout(t);
			timers.clear();
			rimdian.releaseWaiters(core);
			await userpilot.cancelAllJobs(core);
			await done;
			if (ownTmp) await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
		})();
		return closed;
	};

	return {
		url: `http://${HOST}:${port}`,
		port,
		state,
		config,
		configure,
		reset,
		stats: () => state.stats(),
		settled,
		close,
	};
}
