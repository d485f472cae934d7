import type {
	IAdditionalCredentialOptions,
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	IPollFunctions,
	Logger,
} from 'n8n-workflow';
import { setTimeout as sleep } from 'node:timers/promises';

import { authenticateRequest } from './authenticate';
import { KeepAliveConnections, keepAliveAllowed, plainRequestUrl } from './keepAlive';
import { pacerFor, type RequestPacer } from './pacer';
import type { Endpoints, Platform } from './platform';

export const CREDENTIAL_TYPE = 'dataImportApi';

export type RequestContext = IExecuteFunctions | IPollFunctions;

export interface RetryPolicy {
	/** Attempts after the first one. */
	maxRetries: number;
	/** First back-off; doubled at each retry, with jitter. */
	baseDelayMs: number;
	/** Ceiling of one wait, Retry-After included. */
	maxDelayMs: number;
	/** Per attempt. */
	timeoutMs: number;
	/**
	 * Attempts started per minute at most, retries included, spaced evenly; 0 or absent: no
	 * limit. Comes on top of the 429 handling, for platforms whose limit is known in advance.
	 */
	maxRequestsPerMinute?: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	maxRetries: 5,
	baseDelayMs: 500,
	maxDelayMs: 30_000,
	timeoutMs: 60_000,
};

/** Counts kept across a whole execution, reported in the node's output. */
export class TransportStats {
	requests = 0;
	retries = 0;
	retryReasons: Record<string, number> = {};

	countRetry(reason: string) {
		this.retries++;
		this.retryReasons[reason] = (this.retryReasons[reason] ?? 0) + 1;
	}
}

export interface PlatformResponse {
	status: number;
	body: unknown;
	headers: Record<string, unknown>;
	/** Retries this one request took. */
	retries: number;
	/**
	 * True when an earlier attempt may have reached the platform although its answer was lost
	 * (a reset or time-out after sending): the data may have been received twice.
	 */
	possiblyDuplicated: boolean;
}

/** A request that failed for good: an error answer, or retries exhausted. Carries no secrets. */
/** What is known of a failed request besides its message; what is left out is 0 or false. */
export interface PlatformRequestErrorOptions {
	/** HTTP status of the answer, when there was one. */
	status?: number;
	/** Retries spent before giving up. */
	retries?: number;
	/** The request may have reached the platform: sending it again could duplicate it. */
	possiblyDelivered?: boolean;
	/** Another attempt later could succeed. */
	retryable?: boolean;
}

export class PlatformRequestError extends Error {
	readonly status: number | undefined;
	readonly retries: number;
	readonly possiblyDelivered: boolean;
	readonly retryable: boolean;

	constructor(message: string, options: PlatformRequestErrorOptions = {}) {
		super(message);
		this.name = 'PlatformRequestError';
		this.status = options.status;
		this.retries = options.retries ?? 0;
		this.possiblyDelivered = options.possiblyDelivered ?? false;
		this.retryable = options.retryable ?? false;
	}
}

export class ExecutionCancelledError extends Error {
	constructor() {
		super('The execution was cancelled');
		this.name = 'ExecutionCancelledError';
	}
}

interface AxiosLikeError {
	name?: string;
	code?: string;
	message?: string;
	response?: { status: number; data?: unknown; headers?: Record<string, unknown> };
	cause?: AxiosLikeError;
}

/** Connection-level failures worth another attempt. */
const RETRYABLE_CODES = new Set([
	'ECONNRESET',
	'ECONNREFUSED',
	'ECONNABORTED',
	'ETIMEDOUT',
	'ESOCKETTIMEDOUT',
	'EPIPE',
	'EAI_AGAIN',
	'ENETUNREACH',
	'EHOSTUNREACH',
	'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** After these, the request may have been processed although no answer came back. */
const MAYBE_DELIVERED_CODES = new Set([
	'ECONNRESET',
	'ECONNABORTED',
	'ETIMEDOUT',
	'ESOCKETTIMEDOUT',
	'EPIPE',
]);

function unwrap(error: unknown): AxiosLikeError {
	let current = error as AxiosLikeError;
	// n8n wraps the HTTP client's error in NodeApiError (cause); look through the wrapping.
	for (let depth = 0; depth < 4 && current; depth++) {
		if (current.response || (current.code && RETRYABLE_CODES.has(current.code))) return current;
		if (!current.cause) break;
		current = current.cause;
	}
	return (error as AxiosLikeError) ?? {};
}

function isAbort(error: AxiosLikeError, signal?: AbortSignal): boolean {
	return (
		signal?.aborted === true ||
		error.code === 'ERR_CANCELED' ||
		error.name === 'CanceledError' ||
		error.name === 'AbortError'
	);
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
	const text = Array.isArray(value) ? value[0] : value;
	if (typeof text !== 'string' && typeof text !== 'number') return undefined;
	const seconds = Number(text);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
	const date = Date.parse(String(text));
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function backoffDelay(attempt: number, policy: RetryPolicy, random = Math.random): number {
	const exponential = policy.baseDelayMs * 2 ** attempt;
	// Full jitter keeps parallel batches from retrying in lock-step.
	return Math.min(policy.maxDelayMs, exponential / 2 + random() * (exponential / 2));
}

function headerOf(headers: Record<string, unknown> | undefined, name: string): unknown {
	if (!headers) return undefined;
	if (name in headers) return headers[name];
	const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
	return key ? headers[key] : undefined;
}

/**
 * Sends requests to one platform, retrying 429 (honouring Retry-After), 5xx and connection
 * failures with bounded exponential back-off. Batches (a text or bytes body, plain options) go out on
 * connections kept alive for the execution, authenticated by the credential's own code; all else
 * goes through n8n's authenticated request helper, which opens a connection per request: job
 * polls, look-ups, Userpilot's multipart upload (one request per job, its stream body made anew
 * each attempt: keep-alive buys nothing there), the re-send after a 401 (n8n renews the token),
 * the first request that needs a token n8n has not fetched yet, and every request when a proxy
 * or n8n's SSRF protection is configured. Call `close` when the execution's work is done.
 */
export class PlatformTransport {
	readonly stats = new TransportStats();

	readonly endpoints: Endpoints;

	private readonly signal?: AbortSignal;

	private readonly logger?: Logger;

	private readonly pacer?: RequestPacer;

	/**
	 * The credential read once per execution and handed to n8n's helper with every request:
	 * without it n8n reloads and decrypts the credential from its database for each request
	 * (10-12% of a batch import's time). n8n's token renewal (preAuthentication) writes the new
	 * token into this same object, so later requests use it.
	 */
	private readonly credentialOptions: IAdditionalCredentialOptions;

	/** Undefined when n8n's helper must send everything (a proxy, SSRF protection). */
	private readonly connections?: KeepAliveConnections;

	/** The credentials are exchanged for a short-lived token (n8n's preAuthentication). */
	private readonly usesToken: boolean;

	constructor(
		private readonly context: RequestContext,
		readonly platform: Platform,
		readonly credentials: ICredentialDataDecryptedObject,
		readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY,
		/** `keepAlive: false` sends everything through n8n's helper (a benchmark's baseline). */
		options: { keepAlive?: boolean } = {},
	) {
		this.endpoints = platform.resolveEndpoints(credentials);
		const ctx = context as Partial<IExecuteFunctions>;
		this.signal =
			typeof ctx.getExecutionCancelSignal === 'function'
				? ctx.getExecutionCancelSignal()
				: undefined;
		this.logger = (context as { logger?: Logger }).logger;
		this.pacer = pacerFor(policy.maxRequestsPerMinute, { now: Date.now, pause });
		this.usesToken = platform.login?.(credentials, this.endpoints) !== undefined;
		if (options.keepAlive !== false && keepAliveAllowed()) {
			this.connections = new KeepAliveConnections();
			// A cancelled execution leaves no socket behind, even before the node's code unwinds.
			this.signal?.addEventListener('abort', this.close, { once: true });
		}
		const ref = (
			context as {
				getNode?: () => { credentials?: Record<string, { id: string | null; name: string }> };
			}
		).getNode?.().credentials?.[CREDENTIAL_TYPE];
		this.credentialOptions = {
			credentialsDecrypted: {
				id: ref?.id ?? '',
				name: ref?.name ?? '',
				type: CREDENTIAL_TYPE,
				data: credentials,
			},
		};
	}

	/** Closes the kept-alive connections (idempotent); a later batch would go out as cancelled. */
	readonly close = (): void => {
		this.connections?.close();
		this.signal?.removeEventListener('abort', this.close);
	};

	/** Sockets held open now (for tests). */
	get openSockets(): number {
		return this.connections?.openSockets ?? 0;
	}

	/**
	 * `options` may be a factory, for bodies (streams) that must be made anew for each attempt.
	 * `beforeRetry` runs before a re-send that follows a possibly delivered attempt: it may find
	 * that the first attempt did land, and return its result instead of sending again (or throw
	 * when it cannot tell). A 5xx counts as possibly delivered, as a broken connection does: a
	 * gateway may answer 502 after the platform acted. Where nothing can be looked up (a batch),
	 * the result says so (`possiblyDuplicated`).
	 */
	async request(
		options: IHttpRequestOptions | (() => IHttpRequestOptions),
		label: string,
		beforeRetry?: () => Promise<PlatformResponse | undefined>,
	): Promise<PlatformResponse> {
		let retries = 0;
		let possiblyDuplicated = false;
		for (;;) {
			if (this.signal?.aborted) throw new ExecutionCancelledError();
			if (retries > 0 && possiblyDuplicated && beforeRetry) {
				const landed = await beforeRetry();
				if (landed) return { ...landed, retries, possiblyDuplicated: false };
			}
			this.stats.requests++;
			const attempt = typeof options === 'function' ? options() : options;
			let outcome: RetryableFailure | Error;
			try {
				const response = await this.send(attempt, false);
				if (response.statusCode >= 200 && response.statusCode < 300) {
					return {
						status: response.statusCode,
						body: response.body,
						headers: response.headers,
						retries,
						possiblyDuplicated,
					};
				}
				outcome = this.classifyAnswer(response);
			} catch (error) {
				outcome = this.classify(error, label);
			}
			if (outcome instanceof AuthenticationRefused) {
				const again = await this.resendAfter401(options, attempt, label);
				if ('statusCode' in again) {
					return {
						status: again.statusCode,
						body: again.body,
						headers: again.headers,
						retries,
						possiblyDuplicated,
					};
				}
				outcome = again;
			}
			if (outcome instanceof Error) {
				if (outcome instanceof PlatformRequestError) {
					throw new PlatformRequestError(outcome.message, {
						status: outcome.status,
						retries,
						possiblyDelivered: possiblyDuplicated,
					});
				}
				throw outcome;
			}
			const failure = outcome;
			possiblyDuplicated ||= failure.maybeDelivered || isServerError(failure.status);
			if (retries >= this.policy.maxRetries) {
				throw new PlatformRequestError(
					`${failure.message} (gave up after ${retries} ${retries === 1 ? 'retry' : 'retries'})`,
					{
						status: failure.status,
						retries,
						possiblyDelivered: possiblyDuplicated,
						retryable: true,
					},
				);
			}
			const wait = Math.min(
				this.policy.maxDelayMs,
				failure.waitMs ?? backoffDelay(retries, this.policy),
			);
			retries++;
			this.stats.countRetry(failure.reason);
			this.logger?.warn(
				`${this.platform.displayName} ${label}: ${failure.reason}, retry ${retries}/${this.policy.maxRetries} in ${Math.round(wait)} ms`,
			);
			await pause(wait, this.signal);
		}
	}

	/**
	 * One more attempt after a 401. In n8n's throwing mode n8n renews an expired token
	 * (preAuthentication) and retries once by itself, with the same request object. A platform
	 * without renewal gets one plain re-send instead, so that n8n never re-sends a body from a
	 * stream it already read.
	 */
	private async resendAfter401(
		options: IHttpRequestOptions | (() => IHttpRequestOptions),
		used: IHttpRequestOptions,
		label: string,
	): Promise<RawResponse | RetryableFailure | Error> {
		const again = freshAttempt(options, used, label);
		const renews = this.platform.preAuthenticate !== undefined;
		let response: RawResponse;
		try {
			response = await this.send(again, renews);
		} catch (error) {
			return this.classify(error, label);
		}
		if (response.statusCode >= 200 && response.statusCode < 300) return response;
		const answer = this.classifyAnswer(response);
		return answer instanceof AuthenticationRefused
			? new PlatformRequestError(answer.message, { status: 401 })
			: answer;
	}

	/**
	 * Error answers come back as answers (with their headers: Retry-After) rather than as n8n's
	 * NodeApiError, which keeps the status but drops the headers.
	 */
	private async send(attempt: IHttpRequestOptions, throwOnError: boolean): Promise<RawResponse> {
		// Every attempt goes through here (a retry, the re-send after a 401), so each takes a slot.
		await this.pacer?.take(this.signal);
		const url = throwOnError ? undefined : this.keepAliveUrl(attempt);
		if (url && this.connections) {
			const answer = await this.sendKeptAlive(this.connections, attempt, url);
			// A redirect is left to n8n's helper, which follows it by n8n's rules.
			if (answer.statusCode < 300 || answer.statusCode >= 400) return answer;
		}
		const response = (await this.context.helpers.httpRequestWithAuthentication.call(
			this.context,
			CREDENTIAL_TYPE,
			{
				timeout: this.policy.timeoutMs,
				...attempt,
				returnFullResponse: true,
				ignoreHttpStatusErrors: !throwOnError,
			},
			this.credentialOptions,
		)) as RawResponse;
		return {
			statusCode: response.statusCode,
			body: response.body,
			headers: response.headers ?? {},
		};
	}

	/** The URL when this attempt can go out on a kept-alive connection. */
	private keepAliveUrl(attempt: IHttpRequestOptions): URL | undefined {
		if (!this.connections) return undefined;
		// n8n fetches a missing token (preAuthentication) before sending: let it, once.
		if (this.usesToken && !this.credentials.sessionToken) return undefined;
		return plainRequestUrl(attempt);
	}

	/** One attempt on a kept-alive connection, authenticated as the credential type does it. */
	private async sendKeptAlive(
		connections: KeepAliveConnections,
		attempt: IHttpRequestOptions,
		url: URL,
	): Promise<RawResponse> {
		const authenticated = authenticateRequest(this.platform, this.credentials, attempt);
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(authenticated.headers ?? {})) {
			if (value !== undefined) headers[name] = String(value);
		}
		return await connections.send({
			url,
			method: attempt.method ?? 'GET',
			headers,
			body: attempt.body as string | Buffer,
			timeoutMs: attempt.timeout ?? this.policy.timeoutMs,
			signal: this.signal,
		});
	}

	private classifyAnswer(response: RawResponse): RetryableFailure | Error {
		const status = response.statusCode;
		const contentType = String(headerOf(response.headers, 'content-type') ?? '');
		const message = this.platform.describeError({ status, body: response.body, contentType });
		if (status === 401) return new AuthenticationRefused(message);
		if (status === 429) {
			const waitMs = parseRetryAfter(headerOf(response.headers, 'retry-after'));
			return { reason: '429', status, message, waitMs, maybeDelivered: false };
		}
		if (status >= 500 && status !== 501)
			return { reason: String(status), status, message, maybeDelivered: false };
		return new PlatformRequestError(message, { status });
	}

	/** Sorts a failed attempt into one worth retrying, or an error to give up with. */
	private classify(error: unknown, label: string): RetryableFailure | Error {
		const wrapped = error as {
			httpCode?: string | null;
			context?: { data?: unknown };
			messages?: string[];
		};
		const code = typeof wrapped?.httpCode === 'string' ? wrapped.httpCode : undefined;
		// n8n's NodeApiError keeps the HTTP status (or the socket error code) in httpCode.
		if (code && /^\d{3}$/.test(code)) {
			const answer = this.classifyAnswer({
				statusCode: Number(code),
				body: wrapped.context?.data ?? '',
				headers: {},
			});
			return answer instanceof AuthenticationRefused
				? new PlatformRequestError(answer.message, { status: 401 })
				: answer;
		}
		if (code && RETRYABLE_CODES.has(code)) {
			return {
				reason: code,
				message: `${label}: connection failed (${code})`,
				maybeDelivered: MAYBE_DELIVERED_CODES.has(code),
			};
		}
		const cause = unwrap(error);
		if (isAbort(cause, this.signal)) return new ExecutionCancelledError();
		const response = cause.response;
		if (response) {
			const status = response.status;
			const contentType = String(headerOf(response.headers, 'content-type') ?? '');
			const message = this.platform.describeError({ status, body: response.data, contentType });
			if (status === 429) {
				const waitMs = parseRetryAfter(headerOf(response.headers, 'retry-after'));
				return { reason: '429', status, message, waitMs, maybeDelivered: false };
			}
			if (status >= 500 && status !== 501)
				return { reason: String(status), status, message, maybeDelivered: false };
			return new PlatformRequestError(message, { status });
		}
		if (cause.code && RETRYABLE_CODES.has(cause.code)) {
			return {
				reason: cause.code,
				message: `${label}: connection failed (${cause.code})`,
				maybeDelivered: MAYBE_DELIVERED_CODES.has(cause.code),
			};
		}
		// Not an HTTP exchange at all (a refused URL, a bad option): report the root cause.
		let root = error as AxiosLikeError | undefined;
		while (root?.cause) root = root.cause;
		const text = root?.message ?? (error as Error)?.message ?? String(error);
		return new PlatformRequestError(`${label}: ${text}`);
	}
}

function isServerError(status: number | undefined): boolean {
	return status !== undefined && status >= 500;
}

/**
 * The request for one more attempt: made anew by the factory, or the same one when its body can
 * be sent again. A stream already read would go out empty or cut: refused instead.
 */
function freshAttempt(
	options: IHttpRequestOptions | (() => IHttpRequestOptions),
	used: IHttpRequestOptions,
	label: string,
): IHttpRequestOptions {
	if (typeof options === 'function') return options();
	const body = used.body as { readableDidRead?: boolean; readableEnded?: boolean } | undefined;
	if (body && (body.readableDidRead === true || body.readableEnded === true)) {
		throw new PlatformRequestError(
			`${label}: the platform refused the credentials (401) after the body was sent, and that body cannot be sent again; run the node again`,
			{ status: 401 },
		);
	}
	return used;
}

interface RawResponse {
	statusCode: number;
	body: unknown;
	headers: Record<string, unknown>;
}

/** A 401: worth one more attempt through n8n's token renewal, then final. */
class AuthenticationRefused extends Error {}

interface RetryableFailure {
	reason: string;
	waitMs?: number;
	status?: number;
	message: string;
	maybeDelivered: boolean;
}

/**
 * Waits, unless the execution is cancelled first. Not n8n-workflow's sleepWithAbort, which n8n
 * 2.x's n8n-workflow no longer exports.
 */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
	let failed = false;
	let failure: unknown;
	try {
		await sleep(ms, undefined, { signal });
	} catch (error) {
		failed = true;
		failure = error;
	}
	if (!failed) return;
	// Node rejects with an AbortError; callers know a cancelled execution by this class.
	if (signal?.aborted) throw new ExecutionCancelledError();
	throw failure;
}
