/** The time and a cancellable wait, handed in so that tests can run the pacer without sleeping. */
export interface PacerClock {
	now(): number;
	/** Rejects when `signal` aborts first. */
	pause(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Spaces request starts evenly, at most `perMinute` a minute however many requests are in
 * flight: each start takes the next free slot, a fixed interval after the one before. A slot is
 * reserved as soon as it is asked for, so callers waiting at once start in turn. Even spacing
 * rather than a burst allowance: a platform may count its own limit over less than a minute.
 */
export class RequestPacer {
	private readonly intervalMs: number;

	private nextSlot = -Infinity;

	constructor(
		perMinute: number,
		private readonly clock: PacerClock,
	) {
		this.intervalMs = 60_000 / perMinute;
	}

	/** Waits for this request's slot; a cancelled wait rejects (its slot stays spent). */
	async take(signal?: AbortSignal): Promise<void> {
		const now = this.clock.now();
		const slot = Math.max(now, this.nextSlot);
		this.nextSlot = slot + this.intervalMs;
		if (slot > now) await this.clock.pause(slot - now, signal);
	}
}

/** A pacer for a limit read from the node, or none when the limit is 0 (no limit). */
export function pacerFor(perMinute: number | undefined, clock: PacerClock): RequestPacer | undefined {
	return perMinute !== undefined && perMinute > 0 ? new RequestPacer(perMinute, clock) : undefined;
}
