/** The time and a cancellable wait, handed in so that tests can run the pacer without sleeping. */
export interface PacerClock {
	now(): number;
	/** Rejects when `signal` aborts first. */
	pause(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Spaces request starts evenly, at most `perMinute` a minute however many requests are in
 * flight: callers take turns, and each starts a fixed interval after the previous one actually
 * started (a timer that fires late for one request does not bring the next one closer). Even
 * spacing rather than a burst allowance: a platform may count its own limit over less than a
 * minute.
 */
export class RequestPacer {
	private readonly intervalMs: number;

	private lastStart = -Infinity;

	/** The turn of the caller before: callers start in the order they asked. */
	private previousTurn: Promise<void> = Promise.resolve();

	constructor(
		perMinute: number,
		private readonly clock: PacerClock,
	) {
		this.intervalMs = 60_000 / perMinute;
	}

	/** Waits for this request's turn; a cancelled wait rejects and takes no slot. */
	async take(signal?: AbortSignal): Promise<void> {
		const turn = this.previousTurn.then(async () => await this.waitForSlot(signal));
		this.previousTurn = turn.catch(() => undefined);
		return await turn;
	}

	private async waitForSlot(signal?: AbortSignal): Promise<void> {
		// A loop, as a timer may fire a little early.
		for (;;) {
			const wait = this.lastStart + this.intervalMs - this.clock.now();
			if (wait <= 0) break;
			await this.clock.pause(wait, signal);
		}
		this.lastStart = this.clock.now();
	}
}

/** A pacer for a limit read from the node, or none when the limit is 0 (no limit). */
export function pacerFor(
	perMinute: number | undefined,
	clock: PacerClock,
): RequestPacer | undefined {
	return perMinute !== undefined && perMinute > 0 ? new RequestPacer(perMinute, clock) : undefined;
}
