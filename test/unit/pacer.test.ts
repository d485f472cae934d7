import assert from 'node:assert/strict';

import type { ICredentialDataDecryptedObject, IExecuteFunctions } from 'n8n-workflow';

import { pacerFor, RequestPacer, type PacerClock } from '../../core/pacer';
import { ExecutionCancelledError, PlatformTransport } from '../../core/transport';
import { rimdian } from '../../platforms/rimdian';

/** A clock that moves only when told to or waited on; each wait is recorded, and returns at once. */
function fakeClock(): PacerClock & { time: number; waits: number[] } {
	const clock = {
		time: 1_000,
		waits: [] as number[],
		now: () => clock.time,
		async pause(ms: number, signal?: AbortSignal) {
			if (signal?.aborted) throw new ExecutionCancelledError();
			clock.waits.push(ms);
			clock.time += ms;
		},
	};
	return clock;
}

test('no limit: 0 or nothing makes no pacer', () => {
	assert.equal(pacerFor(0, fakeClock()), undefined);
	assert.equal(pacerFor(undefined, fakeClock()), undefined);
	assert.ok(pacerFor(60, fakeClock()) instanceof RequestPacer);
});

test('requests asked for at once start one interval apart, the first at once', async () => {
	const clock = fakeClock();
	const pacer = new RequestPacer(120, clock);
	// Concurrent callers take turns: each waits one interval after the one before started.
	await Promise.all([0, 1, 2, 3].map(() => pacer.take()));
	assert.deepEqual(clock.waits, [500, 500, 500]);
	assert.equal(clock.now(), 2_500);
});

test('a request asked for after a quiet spell starts at once', async () => {
	const clock = fakeClock();
	const pacer = new RequestPacer(60, clock);
	await pacer.take();
	clock.time += 5_000;
	await pacer.take();
	assert.deepEqual(clock.waits, []);
	clock.time += 400;
	await pacer.take();
	assert.deepEqual(clock.waits, [600]);
});

test('a cancelled execution stops a wait for a slot', async () => {
	const clock = fakeClock();
	const pacer = new RequestPacer(1, clock);
	const controller = new AbortController();
	await pacer.take(controller.signal);
	controller.abort();
	await assert.rejects(pacer.take(controller.signal), ExecutionCancelledError);
});

const credentials: ICredentialDataDecryptedObject = {
	platform: 'rimdian',
	rimdianAuthentication: 'accessToken',
	rimdianRegion: 'custom',
	baseUrl: 'http://127.0.0.1:9',
	apiKey: 'secret-token',
	workspaceId: 'ws',
};

/** An execute context whose HTTP helper answers from a script and notes when each call came. */
function timedContext(statuses: number[]) {
	const controller = new AbortController();
	const times: number[] = [];
	const context = {
		getExecutionCancelSignal: () => controller.signal,
		helpers: {
			async httpRequestWithAuthentication() {
				times.push(performance.now());
				const status = statuses.shift() ?? 200;
				return { statusCode: status, body: 'queued', headers: { 'retry-after': '0' } };
			},
		},
	} as unknown as IExecuteFunctions;
	return { context, controller, times };
}

const policy = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 1000 };

test('the transport spaces every attempt, retries included', async () => {
	const { context, times } = timedContext([429, 200, 200]);
	// 1200 a minute: 50 ms apart.
	const transport = new PlatformTransport(context, rimdian, credentials, {
		...policy,
		maxRequestsPerMinute: 1200,
	});
	await Promise.all([
		transport.request({ method: 'POST', url: '/data' }, 'batch 1'),
		transport.request({ method: 'POST', url: '/data' }, 'batch 2'),
	]);
	assert.equal(times.length, 3);
	for (let i = 1; i < times.length; i++) {
		// Timers may fire a millisecond early.
		assert.ok(
			times[i] - times[i - 1] >= 48,
			`attempt ${i + 1} came ${times[i] - times[i - 1]} ms after`,
		);
	}
});

test('a cancelled execution stops the transport waiting for a slot', async () => {
	const { context, controller, times } = timedContext([]);
	const transport = new PlatformTransport(context, rimdian, credentials, {
		...policy,
		maxRequestsPerMinute: 1,
	});
	await transport.request({ method: 'POST', url: '/data' }, 'batch 1');
	const started = performance.now();
	setTimeout(() => controller.abort(), 20);
	await assert.rejects(
		transport.request({ method: 'POST', url: '/data' }, 'batch 2'),
		ExecutionCancelledError,
	);
	assert.ok(performance.now() - started < 5_000);
	assert.equal(times.length, 1);
});
