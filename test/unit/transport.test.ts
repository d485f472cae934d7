import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

import type { ICredentialDataDecryptedObject, IExecuteFunctions, IHttpRequestOptions } from 'n8n-workflow';

import { backoffDelay, parseRetryAfter, PlatformRequestError, PlatformTransport } from '../../core/transport';
import { rimdian } from '../../platforms/rimdian';
import { userpilot } from '../../platforms/userpilot';

const credentials: ICredentialDataDecryptedObject = {
	platform: 'rimdian',
	rimdianAuthentication: 'accessToken',
	rimdianRegion: 'custom',
	baseUrl: 'http://127.0.0.1:9',
	apiKey: 'secret-token',
	workspaceId: 'ws',
};

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | { code: string };

/** A stand-in for n8n's execute context whose HTTP helper plays back scripted answers. */
function fakeContext(answers: Answer[], calls: IHttpRequestOptions[] = []) {
	const controller = new AbortController();
	const context = {
		getExecutionCancelSignal: () => controller.signal,
		helpers: {
			async httpRequestWithAuthentication(_type: string, options: IHttpRequestOptions) {
				calls.push(options);
				const answer = answers.shift() ?? { status: 200, body: 'queued' };
				// As n8n does: socket errors and (unless ignoreHttpStatusErrors) error statuses are thrown
				// as NodeApiError, which keeps the status or error code in httpCode and drops the headers.
				if ('code' in answer) throw Object.assign(new Error('The connection was closed'), { httpCode: answer.code });
				if (answer.status >= 400 && !options.ignoreHttpStatusErrors) {
					throw Object.assign(new Error('Authorization failed - please check your credentials'), {
						httpCode: String(answer.status),
						context: { data: answer.body },
					});
				}
				return { statusCode: answer.status, body: answer.body, headers: answer.headers ?? {} };
			},
		},
	} as unknown as IExecuteFunctions;
	return { context, controller, calls };
}

const fastPolicy = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 20, timeoutMs: 1000 };

test('retries 5xx, 429 and resets, then returns the answer with the retries it took', async () => {
	const { context, calls } = fakeContext([
		{ status: 503, body: 'busy' },
		{ status: 429, headers: { 'retry-after': '0' } },
		{ code: 'ECONNRESET' },
		{ status: 200, body: 'queued' },
	]);
	const transport = new PlatformTransport(context, rimdian, credentials, fastPolicy);
	const response = await transport.request({ method: 'POST', url: '/data', body: '{}' }, 'batch 1');
	assert.equal(response.status, 200);
	assert.equal(response.retries, 3);
	assert.equal(response.possiblyDuplicated, true, 'a reset after sending may have delivered the batch');
	assert.equal(calls.length, 4);
	assert.equal(transport.stats.retries, 3);
	assert.deepEqual(transport.stats.retryReasons, { '503': 1, '429': 1, ECONNRESET: 1 });
});

test('gives up after maxRetries with a message that says so', async () => {
	const { context, calls } = fakeContext([
		{ status: 500, body: 'task error: db down' },
		{ status: 500, body: 'task error: db down' },
		{ status: 500, body: 'task error: db down' },
		{ status: 500, body: 'task error: db down' },
	]);
	const transport = new PlatformTransport(context, rimdian, credentials, fastPolicy);
	await assert.rejects(transport.request({ method: 'POST', url: '/data' }, 'batch 1'), (error: unknown) => {
		assert.ok(error instanceof PlatformRequestError);
		assert.equal(error.status, 500);
		assert.equal(error.retries, 3);
		assert.match(error.message, /task error: db down/);
		assert.match(error.message, /gave up after 3 retries/);
		return true;
	});
	assert.equal(calls.length, 4);
});

test('never retries a 400 and reports the platform message', async () => {
	const { context, calls } = fakeContext([{ status: 400, body: 'workspace_id is required' }]);
	const transport = new PlatformTransport(context, rimdian, credentials, fastPolicy);
	await assert.rejects(transport.request({ method: 'POST', url: '/data' }, 'batch 1'), /Rimdian refused the request \(400\): workspace_id is required/);
	assert.equal(calls.length, 1);
});

test('an HTML page from a proxy becomes a clear message', async () => {
	const { context } = fakeContext([{ status: 403, body: '<!DOCTYPE html><html><body>Forbidden</body></html>', headers: { 'content-type': 'text/html' } }]);
	const transport = new PlatformTransport(context, rimdian, credentials, fastPolicy);
	await assert.rejects(transport.request({ method: 'POST', url: '/data' }, 'batch 1'), /HTML page instead of the API's answer/);
});

test('a cancelled execution stops waiting at once', async () => {
	const { context, controller } = fakeContext([{ status: 429, headers: { 'retry-after': '30' } }]);
	const transport = new PlatformTransport(context, rimdian, credentials, { ...fastPolicy, maxDelayMs: 60_000 });
	const started = Date.now();
	setTimeout(() => controller.abort(), 50);
	await assert.rejects(transport.request({ method: 'POST', url: '/data' }, 'batch 1'), /cancelled/);
	assert.ok(Date.now() - started < 5000, 'did not sit out the 30 s Retry-After');
});

test('a 401 is sent once more through n8n\'s throwing path (token renewal), then reported', async () => {
	const { context, calls } = fakeContext([
		{ status: 401, body: { code: 401, message: 'this token has expired' } },
		{ status: 200, body: 'queued' },
	]);
	const transport = new PlatformTransport(context, rimdian, credentials, fastPolicy);
	const response = await transport.request({ method: 'POST', url: '/data' }, 'batch 1');
	assert.equal(response.status, 200);
	assert.equal(calls[0].ignoreHttpStatusErrors, true);
	assert.equal(calls[1].ignoreHttpStatusErrors, false, 'the second attempt lets n8n renew the token');

	const refused = fakeContext([
		{ status: 401, body: { code: 401, message: 'invalid token' } },
		{ status: 401, body: { code: 401, message: 'invalid token' } },
	]);
	const again = new PlatformTransport(refused.context, rimdian, credentials, fastPolicy);
	await assert.rejects(again.request({ method: 'POST', url: '/data' }, 'batch 1'), /Rimdian refused the access token \(401\): invalid token/);
	assert.equal(refused.calls.length, 2);
});

test('a retry after a possibly delivered attempt asks first whether it landed', async () => {
	const { context, calls } = fakeContext([{ code: 'ECONNRESET' }]);
	const transport = new PlatformTransport(context, rimdian, credentials, fastPolicy);
	const response = await transport.request({ method: 'POST', url: '/upload' }, 'upload', async () => ({
		status: 200,
		body: { job_id: 'j1' },
		headers: {},
		retries: 0,
		possiblyDuplicated: false,
	}));
	assert.deepEqual(response.body, { job_id: 'j1' });
	assert.equal(calls.length, 1, 'the upload was not sent a second time');
});

test('Retry-After in seconds and as a date; back-off grows and is capped', () => {
	assert.equal(parseRetryAfter('3'), 3000);
	const now = Date.parse('2026-01-01T00:00:00Z');
	assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
	assert.equal(parseRetryAfter('soon'), undefined);
	const policy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1000, timeoutMs: 1 };
	assert.equal(backoffDelay(0, policy, () => 1), 100);
	assert.equal(backoffDelay(2, policy, () => 1), 400);
	assert.equal(backoffDelay(8, policy, () => 1), 1000);
	assert.equal(backoffDelay(2, policy, () => 0), 200);
});

const userpilotCredentials: ICredentialDataDecryptedObject = {
	platform: 'userpilot',
	userpilotRegion: 'custom',
	baseUrl: 'http://127.0.0.1:9',
	apiKey: 'secret-token',
};

/** A request factory whose every call makes a new stream, counted. */
function streamedUpload() {
	const bodies: Readable[] = [];
	const options = () => {
		const body = Readable.from([Buffer.from('file')]);
		bodies.push(body);
		return { method: 'POST' as const, url: '/v1/imports', body };
	};
	return { options, bodies };
}

test('a 401 to an upload (no token renewal) is re-sent once with a new body, not through n8n', async () => {
	const { context, calls } = fakeContext([{ status: 401, body: { errors: [{ details: 'Invalid API key' }] } }, { status: 200, body: { job_id: 'j1' } }]);
	const upload = streamedUpload();
	const transport = new PlatformTransport(context, userpilot, userpilotCredentials, fastPolicy);
	const response = await transport.request(upload.options, 'upload');
	assert.equal(response.status, 200);
	assert.equal(calls.length, 2);
	assert.notEqual(calls[1].body, calls[0].body, 'the second attempt has a body of its own');
	assert.equal(calls[1].ignoreHttpStatusErrors, true, "n8n's own 401 retry would re-send the same stream");
});

test('a 401 to a request whose stream body was read, with no way to make it anew, fails clearly', async () => {
	const { context, calls } = fakeContext([{ status: 401, body: { errors: [{ details: 'Invalid API key' }] } }]);
	const body = Readable.from([Buffer.from('file')]);
	for await (const chunk of body) void chunk;
	const transport = new PlatformTransport(context, userpilot, userpilotCredentials, fastPolicy);
	await assert.rejects(transport.request({ method: 'POST', url: '/v1/imports', body }, 'upload'), (error: unknown) => {
		assert.ok(error instanceof PlatformRequestError);
		assert.equal(error.status, 401);
		assert.match(error.message, /cannot be sent again/);
		assert.doesNotMatch(error.message, /secret-token/);
		return true;
	});
	assert.equal(calls.length, 1, 'the read stream was not sent a second time');
});

test('a 5xx counts as possibly delivered: with a look-up, the look-up runs before a re-send; without, the batch is flagged', async () => {
	const { context, calls } = fakeContext([{ status: 502, body: 'bad gateway' }]);
	let lookups = 0;
	const transport = new PlatformTransport(context, userpilot, userpilotCredentials, fastPolicy);
	const response = await transport.request({ method: 'POST', url: '/v1/imports' }, 'upload', async () => {
		lookups++;
		return { status: 200, body: { job_id: 'j1' }, headers: {}, retries: 0, possiblyDuplicated: false };
	});
	assert.deepEqual(response.body, { job_id: 'j1' });
	assert.equal(lookups, 1);
	assert.equal(calls.length, 1, 'the 502 was followed by the look-up, not by a second upload');

	const batch = fakeContext([{ status: 502, body: 'bad gateway' }, { status: 200, body: 'queued' }]);
	const plain = new PlatformTransport(batch.context, rimdian, credentials, fastPolicy);
	const sent = await plain.request({ method: 'POST', url: '/data', body: '{}' }, 'batch 1');
	assert.equal(sent.possiblyDuplicated, true, 'without a look-up, a batch re-sent after a 5xx is flagged: the 5xx may have come after the platform acted');

	const busy = fakeContext([{ status: 429, headers: { 'retry-after': '0' } }, { status: 200, body: 'queued' }]);
	const refused = new PlatformTransport(busy.context, rimdian, credentials, fastPolicy);
	const afterRefusal = await refused.request({ method: 'POST', url: '/data', body: '{}' }, 'batch 1');
	assert.equal(afterRefusal.possiblyDuplicated, false, 'a 429 was not processed: nothing to flag');
});
