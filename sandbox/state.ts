/**
 * Configuration and in-memory state of the sandbox.
 *
 * Everything the sandbox accepted lives here (and only here): the admin API and the in-process
 * `sandbox.state` read it, `reset()` clears it.
 */
import { createHash } from 'node:crypto';
import { USERPILOT_KEY, USERPILOT_READ_KEY } from './defaults';

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

export interface FaultConfig {
	/** Probability (0..1) that a data request is answered 500/502/503 without being processed. */
	rate5xx: number;
	/** Probability (0..1) that a data request is answered 429 with Retry-After, not processed. */
	rate429: number;
	/** Value of the Retry-After header of injected 429s (seconds). */
	retryAfterSeconds: number;
	/** Probability (0..1) that the socket is destroyed before the request is processed. */
	rateReset: number;
	/** Probability (0..1) that the request is processed fully, then the socket destroyed. */
	rateLostAnswer: number;
	/** Fixed delay added before every answer of a data request (ms). */
	latencyMs: number;
	/** Probability (0..1) of an extra latency spike. */
	latencySpikeRate: number;
	/** Size of a latency spike (ms). */
	latencySpikeMs: number;
	/** Seed of the PRNG that decides faults (same seed + same request order = same faults). */
	seed: number;
	/** When set, only requests whose path starts with one of these are subject to faults. */
	paths?: string[];
}

/** Data endpoints a `processedThen502` count applies to. */
export const READING_PLATFORMS = ['userpilot', 'rimdian', 'ayona'] as const;
export type ReadingPlatform = (typeof READING_PLATFORMS)[number];

/**
 * Readings of the platforms' pages other than the package's own, each behind a switch, so the
 * package can be tried against a service that answers the other way. Counts are used up one
 * request at a time; reset() turns every reading off.
 */
export interface ReadingsConfig {
	/** 'documented': only section 3's GET /api/background_jobs/:id; the `links` path answers 404. */
	userpilotJobPath: 'both' | 'documented';
	/** The service names each job itself (`<date>.<ext>`, as the page's examples), not the upload's name. */
	userpilotServerFileNames: boolean;
	/** `total_rows` as a string, as the OpenAPI types it. */
	userpilotTotalRowsAsString: boolean;
	/** The next this many uploads are answered 409 for an export job (which the import list does not show). */
	userpilotExportConflicts: number;
	/** The next this many uploads are read whole, then answered 401. */
	userpilot401AfterBody: number;
	/** Per platform: the next this many data requests are processed (stored), then answered 502. */
	processedThen502: Record<ReadingPlatform, number>;
}

export function defaultReadings(): ReadingsConfig {
	return {
		userpilotJobPath: 'both',
		userpilotServerFileNames: false,
		userpilotTotalRowsAsString: false,
		userpilotExportConflicts: 0,
		userpilot401AfterBody: 0,
		processedThen502: { userpilot: 0, rimdian: 0, ayona: 0 },
	};
}

export const JOB_STATUSES = ['queued', 'validating', 'processing', 'pending_refresh', 'completed', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface SandboxConfig {
	/** Port to listen on (0 = random). Host is always 127.0.0.1. Start-up only. */
	port: number;
	/** Directory for uploaded files (default: a fresh dir under os.tmpdir()). Start-up only. */
	tmpDir: string | null;
	/** Lifetime of access tokens issued by account.login / refreshAccessToken (default 8 h). */
	tokenTtlSeconds: number;
	/** Lifetime of refresh tokens (default 7 days). */
	refreshTokenTtlSeconds: number;
	/** Delay before queued Rimdian items are processed into the data log (0 = next tick). */
	rimdianProcessDelayMs: number;
	/** Largest accepted JSON body (Rimdian, Ayona, admin) in bytes; larger → 413. */
	maxJsonBodyBytes: number;
	/** Duration of each step of a Userpilot job's life cycle (ms). */
	jobStepMs: number;
	/** Largest accepted Userpilot upload (file bytes). */
	userpilotMaxFileBytes: number;
	/** When true (default), a Userpilot row without `source` fails the job. */
	userpilotRequireSource: boolean;
	/** When set, a job reaching this status stays in it until the setting is cleared (null). */
	userpilotHoldAt: JobStatus | null;
	/** Userpilot write keys accepted (jobs are kept per key). */
	userpilotKeys: string[];
	/** Userpilot read-only keys: may read jobs, POST /v1/imports answers 403. */
	userpilotReadKeys: string[];
	/** Files up to this size keep their parsed rows in the records (bigger: count only). */
	keepRowsUpTo: number;
	/** Largest Ayona payload (entries) per request; more → 413. */
	ayonaMaxBatch: number;
	/**
	 * Strict reading of Ayona's object model (a closed shape): an entry with a key other than
	 * date, name, content is refused (400). Default false: the keys are ignored.
	 */
	ayonaRejectExtraFields: boolean;
	/** Strict reading of Ayona's `name` (the user is known): an empty name is refused (400). */
	ayonaRequireName: boolean;
	/**
	 * Rimdian rules no page states, enforced as the package once read them (each item failing one
	 * ends in the data log with has_error 2): a currency outside the known exchange-rate list, a
	 * language that is not a two-letter ISO 639-1 code, an id over 255 characters, a user id of
	 * `none`/`nil`/`null`/`id`/`undefined`, a date before 1900. Default false.
	 */
	rimdianStrictValues: boolean;
	/** Fault injection on the data endpoints. */
	faults: FaultConfig;
	/** The other readings of the pages, each off by default. */
	readings: ReadingsConfig;
	/** Log one line per request (method, path, status, ms; never headers or bodies). */
	verbose: boolean;
}

export function noFaults(): FaultConfig {
	return {
		rate5xx: 0,
		rate429: 0,
		retryAfterSeconds: 1,
		rateReset: 0,
		rateLostAnswer: 0,
		latencyMs: 0,
		latencySpikeRate: 0,
		latencySpikeMs: 0,
		seed: 1,
	};
}

export function defaultConfig(): SandboxConfig {
	return {
		port: 0,
		tmpDir: null,
		tokenTtlSeconds: 8 * 3600,
		refreshTokenTtlSeconds: 7 * 24 * 3600,
		rimdianProcessDelayMs: 0,
		maxJsonBodyBytes: 32 * 1024 * 1024,
		jobStepMs: 300,
		userpilotMaxFileBytes: 1024 * 1024 * 1024,
		userpilotRequireSource: true,
		userpilotHoldAt: null,
		userpilotKeys: [USERPILOT_KEY],
		userpilotReadKeys: [USERPILOT_READ_KEY],
		keepRowsUpTo: 50 * 1024 * 1024,
		ayonaMaxBatch: 1000,
		ayonaRejectExtraFields: false,
		ayonaRequireName: false,
		rimdianStrictValues: false,
		faults: noFaults(),
		readings: defaultReadings(),
		verbose: false,
	};
}

export class ConfigError extends Error {}

function isObj(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(key: string, v: unknown, min: number, max = Number.POSITIVE_INFINITY): number {
	if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
		throw new ConfigError(`${key} must be a number between ${min} and ${max}`);
	}
	return v;
}

function bool(key: string, v: unknown): boolean {
	if (typeof v !== 'boolean') throw new ConfigError(`${key} must be a boolean`);
	return v;
}

function strList(key: string, v: unknown): string[] {
	if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) {
		throw new ConfigError(`${key} must be an array of non-empty strings`);
	}
	return [...(v as string[])];
}

const FAULT_RATES = ['rate5xx', 'rate429', 'rateReset', 'rateLostAnswer', 'latencySpikeRate'] as const;
const FAULT_NUMBERS = ['retryAfterSeconds', 'latencyMs', 'latencySpikeMs', 'seed'] as const;

/** Merge a partial fault config into `base` (validated). */
export function mergeFaults(base: FaultConfig, patch: unknown): FaultConfig {
	if (!isObj(patch)) throw new ConfigError('faults must be an object');
	const out: FaultConfig = { ...base };
	for (const [k, v] of Object.entries(patch)) {
		if ((FAULT_RATES as readonly string[]).includes(k)) {
			(out as unknown as Record<string, number>)[k] = num(`faults.${k}`, v, 0, 1);
		} else if ((FAULT_NUMBERS as readonly string[]).includes(k)) {
			(out as unknown as Record<string, number>)[k] = num(`faults.${k}`, v, 0);
		} else if (k === 'paths') {
			if (v === null || v === undefined) delete out.paths;
			else out.paths = strList('faults.paths', v);
		} else {
			throw new ConfigError(`unknown fault setting: ${k}`);
		}
	}
	return out;
}

function count(key: string, v: unknown): number {
	const n = num(key, v, 0);
	if (!Number.isInteger(n)) throw new ConfigError(`${key} must be an integer`);
	return n;
}

/** Merge a partial readings config into `base` (validated). */
export function mergeReadings(base: ReadingsConfig, patch: unknown): ReadingsConfig {
	if (!isObj(patch)) throw new ConfigError('readings must be an object');
	const out: ReadingsConfig = { ...base, processedThen502: { ...base.processedThen502 } };
	for (const [k, v] of Object.entries(patch)) {
		const key = `readings.${k}`;
		if (k === 'userpilotJobPath') {
			if (v !== 'both' && v !== 'documented') throw new ConfigError(`${key} must be 'both' or 'documented'`);
			out.userpilotJobPath = v;
		} else if (k === 'userpilotServerFileNames' || k === 'userpilotTotalRowsAsString') out[k] = bool(key, v);
		else if (k === 'userpilotExportConflicts' || k === 'userpilot401AfterBody') out[k] = count(key, v);
		else if (k === 'processedThen502') {
			if (!isObj(v)) throw new ConfigError(`${key} must be an object`);
			for (const [platform, n] of Object.entries(v)) {
				if (!(READING_PLATFORMS as readonly string[]).includes(platform)) {
					throw new ConfigError(`${key}: unknown platform ${platform} (${READING_PLATFORMS.join(', ')})`);
				}
				out.processedThen502[platform as ReadingPlatform] = count(`${key}.${platform}`, n);
			}
		} else throw new ConfigError(`unknown reading: ${k}`);
	}
	return out;
}

/** Settings that may change while the sandbox runs (POST /__sandbox/config). */
const RUNTIME_KEYS = new Set([
	'tokenTtlSeconds',
	'refreshTokenTtlSeconds',
	'rimdianProcessDelayMs',
	'maxJsonBodyBytes',
	'jobStepMs',
	'userpilotMaxFileBytes',
	'userpilotRequireSource',
	'ayonaRejectExtraFields',
	'ayonaRequireName',
	'rimdianStrictValues',
	'userpilotHoldAt',
	'userpilotKeys',
	'userpilotReadKeys',
	'keepRowsUpTo',
	'ayonaMaxBatch',
	'faults',
	'readings',
	'verbose',
]);

/**
 * Apply a partial config to `config` in place (validated first: nothing changes on error).
 * `startup` also allows port and tmpDir.
 */
export function applyConfigPatch(config: SandboxConfig, patch: unknown, startup = false): void {
	if (!isObj(patch)) throw new ConfigError('config must be a JSON object');
	const next: SandboxConfig = { ...config };
	for (const [k, v] of Object.entries(patch)) {
		if (v === undefined) continue;
		if (!RUNTIME_KEYS.has(k) && !(startup && (k === 'port' || k === 'tmpDir'))) {
			throw new ConfigError(`unknown or read-only setting: ${k}`);
		}
		switch (k) {
			case 'port':
				next.port = num(k, v, 0, 65535);
				if (!Number.isInteger(next.port)) throw new ConfigError('port must be an integer');
				break;
			case 'tmpDir':
				if (v !== null && (typeof v !== 'string' || v === '')) throw new ConfigError('tmpDir must be a path');
				next.tmpDir = v as string | null;
				break;
			case 'tokenTtlSeconds':
			case 'refreshTokenTtlSeconds':
				next[k] = num(k, v, 0.001);
				break;
			case 'rimdianProcessDelayMs':
			case 'jobStepMs':
				next[k] = num(k, v, 0);
				break;
			case 'maxJsonBodyBytes':
			case 'userpilotMaxFileBytes':
			case 'keepRowsUpTo':
				next[k] = Math.floor(num(k, v, 0));
				break;
			case 'ayonaMaxBatch':
				next.ayonaMaxBatch = Math.floor(num(k, v, 1));
				break;
			case 'userpilotRequireSource':
			case 'ayonaRejectExtraFields':
			case 'ayonaRequireName':
			case 'rimdianStrictValues':
			case 'verbose':
				next[k] = bool(k, v);
				break;
			case 'userpilotHoldAt':
				if (v !== null && !(JOB_STATUSES as readonly unknown[]).includes(v)) {
					throw new ConfigError(`userpilotHoldAt must be null or one of ${JOB_STATUSES.join(', ')}`);
				}
				next.userpilotHoldAt = v as JobStatus | null;
				break;
			case 'userpilotKeys':
			case 'userpilotReadKeys':
				next[k] = strList(k, v);
				break;
			case 'faults':
				next.faults = mergeFaults(config.faults, v);
				break;
			case 'readings':
				next.readings = mergeReadings(config.readings, v);
				break;
		}
	}
	Object.assign(config, next);
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

/** One unique Rimdian item (by task id) and its data-log entry once processed. */
export interface RimdianRecord {
	/** Task id = data log id: HMAC-SHA256 of `<origin>_<raw item bytes>` (hex). */
	id: string;
	/** Insertion sequence number (stable tie-breaker). */
	seq: number;
	workspace_id: string;
	origin: number;
	origin_id: string;
	kind: string;
	/** The item exactly as received (its raw JSON text). */
	raw: string;
	/** How many times this exact item was received (1 + duplicates). */
	received: number;
	first_received_at: number;
	last_received_at: number;
	/** False until the asynchronous processing has written the data-log fields below. */
	processed: boolean;
	has_error: 0 | 1 | 2;
	error?: string;
	/** Epoch ms of the item's own date (updated_at / created_at), or of processing. */
	event_at: number;
	/** Epoch ms of the data-log entry's creation (processing time). */
	created_at: number;
}

export interface IssuedToken {
	kind: 'access' | 'refresh';
	accountId: string;
	expiresAt: number;
}

export interface UserpilotJob {
	job_id: string;
	/** sha256 of the API key (the key itself is never kept in records). */
	keyHash: string;
	filename: string;
	/** Shown as a string (the readings switch in force when the job was created). */
	totalRowsAsString: boolean;
	file_size: number;
	start: number;
	end: number | null;
	status: JobStatus;
	total_rows: number;
	completed_rows: number | null;
	reason_for_failure: string[] | null;
	format: 'csv' | 'ndjson' | null;
	/** Rows accepted (parsed), kept only when the file is at most keepRowsUpTo bytes. */
	rows: Record<string, unknown>[] | null;
	rowCount: number;
	/** Path of the stored upload until the job ends. */
	filePath: string | null;
	/** Reason forced by /__sandbox/userpilot/fail-next. */
	forcedFailure: string | null;
	/** SHA-256 (hex) of the uploaded file's bytes, shown by the admin records (what was received). */
	sha256?: string;
}

export interface AyonaEntry {
	source_id: string;
	date: string;
	name: string;
	content: string;
	received_at: string;
}

export type FaultKind = '5xx' | '429' | 'reset' | 'lostAnswer' | 'latency';

export class SandboxState {
	rimdian = {
		/** task id → record (unique items). */
		records: new Map<string, RimdianRecord>(),
		/** Records in insertion order (records API). */
		order: [] as RimdianRecord[],
		/** Processed records sorted by (created_at, id): the data log. */
		log: [] as RimdianRecord[],
		/** Records waiting for asynchronous processing, with their parsed item. */
		pending: [] as { rec: RimdianRecord; item: Record<string, unknown> }[],
		/** Issued (login / refresh) tokens. Not cleared by reset. */
		tokens: new Map<string, IssuedToken>(),
		seq: 0,
		requests: 0,
		requestsAccepted: 0,
		itemsReceived: 0,
		duplicatesReceived: 0,
		byKind: {} as Record<string, number>,
		logErrors: 0,
	};

	userpilot = {
		jobs: new Map<string, UserpilotJob>(),
		/** keyHash → job ids, oldest first. */
		jobsByKey: new Map<string, string[]>(),
		/** Reasons queued by fail-next (one per future job). */
		failNext: [] as string[],
		uploads: 0,
		bytes: 0,
		rowsImported: 0,
		rejected413: 0,
		rejected409: 0,
	};

	ayona = {
		entries: [] as AyonaEntry[],
		requests: 0,
		requestsAccepted: 0,
	};

	faults: Record<FaultKind, number> = { '5xx': 0, '429': 0, reset: 0, lostAnswer: 0, latency: 0 };
	/** Requests answered by a reading switch rather than as usual. */
	readings = { processedThen502: 0 };
	requestsByStatus: Record<string, number> = {};

	/** Clear everything except issued tokens. */
	clear(): void {
		const tokens = this.rimdian.tokens;
		const fresh = new SandboxState();
		this.rimdian = fresh.rimdian;
		this.rimdian.tokens = tokens;
		this.userpilot = fresh.userpilot;
		this.ayona = fresh.ayona;
		this.faults = fresh.faults;
		this.readings = fresh.readings;
		this.requestsByStatus = fresh.requestsByStatus;
	}

	countStatus(status: number | string): void {
		const k = String(status);
		this.requestsByStatus[k] = (this.requestsByStatus[k] ?? 0) + 1;
	}

	stats(): SandboxStats {
		const jobs: Record<JobStatus, number> = {
			queued: 0,
			validating: 0,
			processing: 0,
			pending_refresh: 0,
			completed: 0,
			failed: 0,
		};
		for (const j of this.userpilot.jobs.values()) jobs[j.status]++;
		const r = this.rimdian;
		return {
			rimdian: {
				requests: r.requests,
				requestsAccepted: r.requestsAccepted,
				itemsReceived: r.itemsReceived,
				itemsStored: r.records.size,
				duplicatesReceived: r.duplicatesReceived,
				byKind: { ...r.byKind },
				pending: r.pending.length,
				dataLogs: r.log.length,
				dataLogErrors: r.logErrors,
			},
			userpilot: {
				uploads: this.userpilot.uploads,
				bytes: this.userpilot.bytes,
				jobs,
				rowsImported: this.userpilot.rowsImported,
				rejected413: this.userpilot.rejected413,
				rejected409: this.userpilot.rejected409,
			},
			ayona: {
				requests: this.ayona.requests,
				requestsAccepted: this.ayona.requestsAccepted,
				entriesStored: this.ayona.entries.length,
			},
			faults: { ...this.faults },
			readings: { ...this.readings },
			requestsByStatus: { ...this.requestsByStatus },
		};
	}
}

export interface SandboxStats {
	rimdian: {
		requests: number;
		requestsAccepted: number;
		itemsReceived: number;
		itemsStored: number;
		duplicatesReceived: number;
		byKind: Record<string, number>;
		pending: number;
		dataLogs: number;
		dataLogErrors: number;
	};
	userpilot: {
		uploads: number;
		bytes: number;
		jobs: Record<JobStatus, number>;
		rowsImported: number;
		rejected413: number;
		rejected409: number;
	};
	ayona: { requests: number; requestsAccepted: number; entriesStored: number };
	faults: Record<FaultKind, number>;
	readings: { processedThen502: number };
	requestsByStatus: Record<string, number>;
}

export function hashKey(key: string): string {
	return createHash('sha256').update(key).digest('hex');
}
