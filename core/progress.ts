// Progress of a long import, told at a steady pace (a timer, never per item) and once at the end.
// The node says where the lines go (n8n's logger, the editor); this part knows nothing of n8n.

/** The request counters of the transport (read, never changed here). */
export interface RequestCounts {
	requests: number;
	retries: number;
}

export interface ProgressOptions {
	/** What is imported, first word of every line: "Import Items", "Bulk File Import (users.csv)". */
	label: string;
	/** What one unit is called: "items", "rows". */
	unit: string;
	/** How many units are to be sent, when known beforehand: gives the time left. */
	total?: number;
	/** Milliseconds between two lines. */
	intervalMs: number;
	stats: RequestCounts;
	emit: (line: string) => void;
	now?: () => number;
}

/** Default milliseconds between two progress lines; DATA_IMPORT_PROGRESS_INTERVAL_MS changes it. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 10_000;

/** The interval from the environment knob (tests set it short), else the default. */
export function progressIntervalMs(raw: string | undefined): number {
	const value = Number(raw);
	return Number.isFinite(value) && value >= 100 ? value : DEFAULT_PROGRESS_INTERVAL_MS;
}

function size(bytes: number): string {
	if (bytes < 1000) return `${bytes} B`;
	if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
	return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

function duration(ms: number): string {
	const seconds = Math.round(ms / 1000);
	if (seconds < 60) return `${seconds}s`;
	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
	return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

export class ProgressReporter {
	read = 0;
	sent = 0;
	accepted = 0;
	/** Bytes uploaded so far (a job platform's file parts); shown once some are. */
	bytes = 0;
	/** Where a job stands ("job 42 processing, poll 3"), shown when set. */
	status?: string;
	private readonly started: number;
	private timer?: ReturnType<typeof setInterval>;
	private readonly now: () => number;

	constructor(private readonly options: ProgressOptions) {
		this.now = options.now ?? Date.now;
		this.started = this.now();
	}

	/** Starts the steady lines; the timer does not keep the process alive. */
	start(): this {
		this.timer = setInterval(() => this.options.emit(this.line(false)), this.options.intervalMs);
		this.timer.unref?.();
		return this;
	}

	/** Stops the lines and tells the final one. Safe to call twice (only the first speaks). */
	finish(): void {
		if (this.timer === undefined) return;
		clearInterval(this.timer);
		this.timer = undefined;
		this.options.emit(this.line(true));
	}

	/** One line: what is read, sent, accepted, retried, the rate and, when known, the time left. */
	line(final: boolean): string {
		const { label, unit, total, stats } = this.options;
		const elapsed = Math.max(1, this.now() - this.started);
		const rate = (this.sent * 1000) / elapsed;
		const parts = [
			`${this.read} ${unit} read`,
			total === undefined ? `${this.sent} sent` : `${this.sent}/${total} sent`,
			`${this.accepted} accepted`,
			`${stats.requests} requests`,
			`${stats.retries} retried`,
			`${rate.toFixed(1)} ${unit}/s`,
		];
		if (this.bytes > 0) parts.push(`${size(this.bytes)} uploaded`);
		if (this.status !== undefined) parts.push(this.status);
		if (final) parts.push(`done in ${duration(elapsed)}`);
		else if (total !== undefined && rate > 0) {
			parts.push(`about ${duration(((total - this.sent) / rate) * 1000)} left`);
		}
		return `${label}: ${parts.join(', ')}`;
	}
}
