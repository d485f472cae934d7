/**
 * Fault injection: decides, per data request and with a seeded PRNG, whether to reset the
 * connection, answer 5xx or 429, lose the answer, and how long to wait before answering.
 *
 * Every request subject to faults draws the same six numbers in the same order, so a given seed
 * and a given request order always give the same faults, whatever the rates.
 */
import type { FaultConfig } from './state';

export type FaultAction = 'none' | 'reset' | '5xx' | '429' | 'lostAnswer';

export interface FaultDecision {
	action: FaultAction;
	/** Status for '5xx' (500, 502 or 503) or '429'. */
	status: number;
	/** Delay before answering (ms). */
	delayMs: number;
}

/** mulberry32: small, fast, good enough for test schedules and generated test corpora. */
export function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const STATUS_5XX = [500, 502, 503];

export class FaultInjector {
	private rand: () => number = mulberry32(1);
	private cfg: FaultConfig;

	constructor(cfg: FaultConfig) {
		this.cfg = cfg;
		this.reseed(cfg);
	}

	/** Install a new fault config and restart the PRNG from its seed. */
	reseed(cfg: FaultConfig): void {
		this.cfg = cfg;
		this.rand = mulberry32(Math.floor(cfg.seed));
	}

	get active(): boolean {
		const c = this.cfg;
		return c.rate5xx > 0 || c.rate429 > 0 || c.rateReset > 0 || c.rateLostAnswer > 0 || c.latencyMs > 0 || c.latencySpikeRate > 0;
	}

	applies(path: string): boolean {
		const paths = this.cfg.paths;
		if (!paths || paths.length === 0) return true;
		return paths.some((p) => path === p || path.startsWith(p));
	}

	decide(): FaultDecision {
		const c = this.cfg;
		const rReset = this.rand();
		const r5xx = this.rand();
		const r429 = this.rand();
		const rLost = this.rand();
		const rSpike = this.rand();
		const rWhich = this.rand();
		let delayMs = c.latencyMs;
		if (rSpike < c.latencySpikeRate) delayMs += c.latencySpikeMs;
		let action: FaultAction = 'none';
		let status = 200;
		if (rReset < c.rateReset) action = 'reset';
		else if (r5xx < c.rate5xx) {
			action = '5xx';
			status = STATUS_5XX[Math.floor(rWhich * STATUS_5XX.length)];
		} else if (r429 < c.rate429) {
			action = '429';
			status = 429;
		} else if (rLost < c.rateLostAnswer) action = 'lostAnswer';
		return { action, status, delayMs };
	}

	get retryAfterSeconds(): number {
		return this.cfg.retryAfterSeconds;
	}
}
