/**
 * Request context shared by the platform modules: answer helpers that apply the fault decision
 * (latency, lost answer), body reading with a size limit, and the core object handlers use.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultInjector } from './faults';
import type { SandboxConfig, SandboxState } from './state';

export interface Core {
	config: SandboxConfig;
	state: SandboxState;
	faults: FaultInjector;
	/** Directory of uploaded files. */
	tmpDir: string;
	/** Pending timers (answer delays, job steps): cleared on close / reset. */
	timers: Set<NodeJS.Timeout>;
	closing: boolean;
	/** Write a line to stdout when config.verbose (never called with secrets). */
	log(line: string): void;
	/** Schedule fn after ms, tracked in `timers`. */
	later(ms: number, fn: () => void): NodeJS.Timeout;
}

export type Platform = 'rimdian' | 'rimdian-api' | 'userpilot' | 'ayona' | 'admin' | 'none';

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

export class Ctx {
	answered = false;
	/** Fault: process fully, then destroy the socket instead of answering. */
	lostAnswer = false;
	/** Fault: delay before answering (ms). */
	delayMs = 0;
	/** Answer with `Connection: close` and destroy the socket once the answer is flushed. */
	closeAfter = false;
	/**
	 * Reading "processed, then 502": called instead of a success answer; true when it answered
	 * in its place.
	 */
	replaceSuccess: (() => boolean) | null = null;
	/** The client sent `Expect: 100-continue` and waits for `100 Continue` before the body. */
	expectContinue = false;
	private continued = false;
	private queryParams: URLSearchParams | null = null;

	constructor(
		readonly core: Core,
		readonly req: IncomingMessage,
		readonly res: ServerResponse,
		readonly path: string,
		readonly rawQuery: string,
		readonly platform: Platform,
		private readonly started: number,
	) {}

	get query(): URLSearchParams {
		this.queryParams ??= new URLSearchParams(this.rawQuery);
		return this.queryParams;
	}

	/** About to read the body: send `100 Continue` when the client asked for it. */
	beginBody(): void {
		if (this.expectContinue && !this.continued && !this.answered) {
			this.continued = true;
			this.res.writeContinue();
		}
	}

	/** Destroy the connection without answering. */
	destroy(): void {
		this.answered = true;
		this.req.socket.destroy();
	}

	send(status: number, body: string | Buffer, contentType: string, headers?: Record<string, string | number>): void {
		if (this.answered) return;
		const replace = this.replaceSuccess;
		this.replaceSuccess = null;
		if (replace !== null && status >= 200 && status < 300 && replace()) return;
		this.answered = true;
		if (this.delayMs > 0) {
			this.core.later(this.delayMs, () => this.write(status, body, contentType, headers));
		} else {
			this.write(status, body, contentType, headers);
		}
	}

	json(status: number, value: unknown, headers?: Record<string, string | number>): void {
		this.send(status, JSON.stringify(value), JSON_TYPE, headers);
	}

	text(status: number, text: string, headers?: Record<string, string | number>): void {
		this.send(status, text, TEXT_TYPE, headers);
	}

	private write(status: number, body: string | Buffer, contentType: string, headers?: Record<string, string | number>): void {
		const { core, res, req } = this;
		if (this.platform !== 'admin') {
			core.state.countStatus(this.lostAnswer ? 'lost' : status);
		}
		if (this.lostAnswer) {
			req.socket.destroy();
			if (core.config.verbose) core.log(`${req.method} ${this.path} -> (answer lost) ${Date.now() - this.started}ms`);
			return;
		}
		if (res.destroyed || res.headersSent) return;
		const h: Record<string, string | number> = {
			'content-type': contentType,
			'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
			...headers,
		};
		// A client still waiting for `100 Continue` will not send its body: do not wait for it.
		if (this.expectContinue && !this.continued) this.closeAfter = true;
		if (this.closeAfter) h.connection = 'close';
		res.writeHead(status, h);
		if (this.closeAfter) {
			res.end(body, () => {
				// Give the client a moment to read the answer, then drop whatever it still sends.
				const t = setTimeout(() => req.socket.destroy(), 50);
				t.unref();
			});
		} else {
			res.end(body);
		}
		if (core.config.verbose) core.log(`${req.method} ${this.path} -> ${status} ${Date.now() - this.started}ms`);
	}
}

export class BodyError extends Error {
	constructor(readonly kind: 'too_large' | 'unreadable') {
		super(kind === 'too_large' ? 'request body too large' : 'cannot read body');
	}
}

/** Read the whole request body (up to `limit` bytes). */
export function readBody(ctx: Ctx, limit: number): Promise<Buffer> {
	const req = ctx.req;
	const cl = req.headers['content-length'];
	if (cl !== undefined && Number(cl) > limit) return Promise.reject(new BodyError('too_large'));
	ctx.beginBody();
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		let done = false;
		const finish = (err: BodyError | null): void => {
			if (done) return;
			done = true;
			req.removeListener('data', onData);
			req.removeListener('end', onEnd);
			if (err) reject(err);
			else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
		};
		const onData = (c: Buffer): void => {
			size += c.length;
			if (size > limit) {
				chunks.length = 0;
				finish(new BodyError('too_large'));
				return;
			}
			chunks.push(c);
		};
		const onEnd = (): void => finish(null);
		req.on('data', onData);
		req.on('end', onEnd);
		req.on('error', () => finish(new BodyError('unreadable')));
		req.on('close', () => {
			if (!req.complete) finish(new BodyError('unreadable'));
		});
	});
}

/** Parse a JSON body; returns undefined when it is not valid JSON. */
export function parseJson(buf: Buffer): { ok: true; value: unknown } | { ok: false; error: string } {
	try {
		return { ok: true, value: JSON.parse(buf.toString('utf8')) };
	} catch (e) {
		return { ok: false, error: (e as Error).message };
	}
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}
