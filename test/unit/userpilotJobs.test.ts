/**
 * Userpilot's job decisions against a scripted stand-in of its API (no sandbox): where one job's
 * status is read, what an upload whose answer was lost becomes, how a 409 is waited out.
 *   npx jest test/unit/userpilotJobs.test.ts
 */
import assert from 'node:assert/strict';

import type { ICredentialDataDecryptedObject, IExecuteFunctions, IHttpRequestOptions } from 'n8n-workflow';

import { multipartFile } from '../../core/delivery/multipart';
import { PlatformRequestError, PlatformTransport } from '../../core/transport';
import { userpilot } from '../../platforms/userpilot';
import {
	conflictWaitSchedule,
	createImportJob,
	findUpload,
	getJob,
	MAX_CONFLICT_WAIT_MS,
	rowsOf,
	waitForJob,
	type StatusSourceMemory,
	type UserpilotJob,
} from '../../platforms/userpilot/jobs';

const credentials: ICredentialDataDecryptedObject = {
	platform: 'userpilot',
	userpilotRegion: 'custom',
	baseUrl: 'http://127.0.0.1:9',
	apiKey: 'secret-token',
};

type Answer = { status: number; body?: unknown };
type Route = (options: IHttpRequestOptions) => Answer;

/** A stand-in for n8n's execute context: each request goes to `route`, and is logged. */
function fakeUserpilot(route: Route) {
	const log: string[] = [];
	const context = {
		getExecutionCancelSignal: () => new AbortController().signal,
		helpers: {
			async httpRequestWithAuthentication(_type: string, options: IHttpRequestOptions) {
				log.push(`${options.method ?? 'GET'} ${new URL(options.url).pathname}`);
				const answer = route(options);
				return { statusCode: answer.status, body: answer.body, headers: {} };
			},
		},
	} as unknown as IExecuteFunctions;
	const policy = { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 1000 };
	return { transport: new PlatformTransport(context, userpilot, credentials, policy), log };
}

const notFound: Answer = { status: 404, body: { errors: [{ details: 'Not Found' }] } };

/** Naive UTC with microseconds, as Userpilot writes times. */
const naive = (ms: number) => `${new Date(ms).toISOString().slice(0, 23)}000`;

function job(id: string, extra: Partial<UserpilotJob> = {}): UserpilotJob {
	return {
		job_id: id,
		status: 'completed',
		links: `/v1/background_jobs/${id}`,
		filename: `${id}.ndjson`,
		file_size: 10,
		start_time: naive(Date.now()),
		end_time: null,
		total_rows: 1,
		...extra,
	};
}

test('status: the links path first; when it 404s, the documented path, remembered for the next polls', async () => {
	const { transport, log } = fakeUserpilot((options) =>
		options.url.includes('/api/background_jobs/') ? { status: 200, body: job('j1') } : notFound,
	);
	const memory: StatusSourceMemory = {};
	const first = await getJob(transport, job('j1', { status: 'queued' }), memory);
	assert.equal(first.status, 'completed');
	assert.equal(memory.source, 'documented');
	assert.deepEqual(log, ['GET /v1/background_jobs/j1', 'GET /api/background_jobs/j1']);
	log.length = 0;
	await getJob(transport, job('j1'), memory);
	assert.deepEqual(log, ['GET /api/background_jobs/j1'], 'the path that answered is used from then on');
});

test('status: when neither path knows the job, the job list does; no such job anywhere is a 404', async () => {
	const { transport, log } = fakeUserpilot((options) =>
		options.url.endsWith('/v1/background_jobs') ? { status: 200, body: [job('j2'), job('j1', { status: 'processing' })] } : notFound,
	);
	const memory: StatusSourceMemory = {};
	assert.equal((await getJob(transport, job('j1'), memory)).status, 'processing');
	assert.equal(memory.source, 'list');
	assert.equal(log.length, 3);
	await assert.rejects(getJob(transport, job('gone')), (error: unknown) => {
		assert.ok(error instanceof PlatformRequestError);
		assert.equal(error.status, 404);
		assert.match(error.message, /neither its own link, nor \/api\/background_jobs\/, nor the job list/);
		return true;
	});
});

test('status: a failure other than a missing job stops at once (not hidden by the next source)', async () => {
	const { transport, log } = fakeUserpilot(() => ({ status: 403, body: { errors: [{ details: 'Forbidden' }] } }));
	await assert.rejects(getJob(transport, job('j1')), /403/);
	assert.equal(log.length, 1);
});

test('waitForJob: a job still pending_refresh when the wait runs out has landed and is returned', async () => {
	const { transport } = fakeUserpilot(() => ({ status: 200, body: job('j1', { status: 'pending_refresh' }) }));
	const last = await waitForJob(transport, job('j1', { status: 'processing' }), { pollMs: 5, timeoutMs: 30 });
	assert.equal(last.status, 'pending_refresh');

	const stuck = fakeUserpilot(() => ({ status: 200, body: job('j1', { status: 'processing' }) }));
	await assert.rejects(
		waitForJob(stuck.transport, job('j1', { status: 'processing' }), { pollMs: 5, timeoutMs: 30 }),
		/still "processing" after 0 s of waiting/,
	);
});

test('total_rows as a number or a string', () => {
	assert.equal(rowsOf({ total_rows: 3 }), 3);
	assert.equal(rowsOf({ total_rows: '3' }), 3);
	assert.equal(rowsOf({ total_rows: '' }), undefined);
	assert.equal(rowsOf({ total_rows: null }), undefined);
	assert.equal(rowsOf({ total_rows: 'many' }), undefined);
});

test('findUpload: by name; else by size and a start since the upload began; else it cannot tell', () => {
	const began = Date.parse('2025-05-19T07:22:54Z');
	const upload = { filename: 'n8n-x1-part1.ndjson', fileSize: 757, beganAt: began };
	const ours = job('ours', { filename: '2024-10-28.ndjson', file_size: 757, start_time: naive(began + 500) });
	const earlier = job('earlier', {
		filename: '2024-10-28.ndjson',
		file_size: 757,
		start_time: naive(began - 3_600_000),
		end_time: naive(began - 3_500_000),
	});
	const otherSize = job('other', { filename: '2024-10-28.ndjson', file_size: 416, start_time: naive(began + 100) });

	assert.equal(findUpload([job('named', { filename: upload.filename })], upload).found?.job_id, 'named');
	const bySize = findUpload([earlier, otherSize, ours], upload);
	assert.equal(bySize.found?.job_id, 'ours');
	assert.equal(bySize.found && bySize.by, 'size and start time');
	assert.deepEqual(findUpload([earlier, otherSize], upload), { found: undefined, candidates: [] }, 'it did not land');

	const twin = { ...ours, job_id: 'twin' };
	const twins = findUpload([ours, twin], upload);
	assert.equal(twins.found, undefined);
	assert.equal(!twins.found && twins.candidates.length, 2);

	const unsized = findUpload([ours], { ...upload, fileSize: undefined });
	assert.equal(unsized.found, undefined, 'with no size to compare, a job with another name is not taken for ours');
	assert.equal(!unsized.found && unsized.candidates.length, 1);
});

/** A Userpilot that keeps jobs; `onUpload` decides each upload's answer after (or instead of) creating its job. */
function statefulUserpilot(onUpload: (attempt: number, create: () => UserpilotJob) => Answer) {
	const jobs: UserpilotJob[] = [];
	let uploads = 0;
	let nextId = 0;
	const fake = fakeUserpilot((options) => {
		if (options.method === 'POST') {
			const create = () => {
				const created = job(`job${++nextId}`, { filename: '2024-10-28.ndjson', file_size: 4, status: 'queued' });
				jobs.push(created);
				return created;
			};
			return onUpload(++uploads, create);
		}
		return { status: 200, body: jobs };
	});
	return { ...fake, jobs, uploads: () => uploads };
}

const waitOptions = { pollMs: 5, timeoutMs: 200, whenJobRunning: 'wait' as const };
const fileOf = () => multipartFile('file', 'n8n-x1-part1.ndjson', 'application/x-ndjson', Buffer.from('{}\n\n'));

test('upload: a 502 after the job was created (server-chosen name) is found in the list, not sent again', async () => {
	const fake = statefulUserpilot((_attempt, create) => {
		create();
		return { status: 502, body: 'Bad Gateway' };
	});
	const created = await createImportJob(fake.transport, fileOf(), 'n8n-x1-part1.ndjson', waitOptions);
	assert.equal(created.job.job_id, 'job1');
	assert.equal(fake.uploads(), 1);
	assert.equal(fake.jobs.length, 1);
	assert.equal(created.retries, 1, 'the look-up is counted as the retry it replaced');
});

test('upload: a 502 with no job created is sent again, and lands once', async () => {
	const fake = statefulUserpilot((attempt, create) =>
		attempt === 1 ? { status: 502, body: 'Bad Gateway' } : { status: 200, body: create() },
	);
	const created = await createImportJob(fake.transport, fileOf(), 'n8n-x1-part1.ndjson', waitOptions);
	assert.equal(created.job.job_id, 'job1');
	assert.equal(fake.uploads(), 2);
	assert.equal(fake.jobs.length, 1);
});

test('upload: when the list holds two jobs that could each be this upload, it stops and sends nothing more', async () => {
	const fake = statefulUserpilot((_attempt, create) => {
		create();
		create();
		return { status: 502, body: 'Bad Gateway' };
	});
	await assert.rejects(createImportJob(fake.transport, fileOf(), 'n8n-x1-part1.ndjson', waitOptions), (error: unknown) => {
		assert.ok(error instanceof PlatformRequestError);
		assert.equal(error.possiblyDelivered, true);
		assert.match(error.message, /cannot tell/);
		assert.match(error.message, /job1, job2/);
		assert.match(error.message, /GET \/v1\/background_jobs/);
		assert.doesNotMatch(error.message, /secret-token/);
		return true;
	});
	assert.equal(fake.uploads(), 1);
});

test('upload: retries run out on 502s that did create a job: the last look-up finds it (not reported failed)', async () => {
	const fake = statefulUserpilot((attempt, create) => {
		if (attempt === 3) create();
		return { status: 502, body: 'Bad Gateway' };
	});
	const created = await createImportJob(fake.transport, fileOf(), 'n8n-x1-part1.ndjson', waitOptions);
	assert.equal(created.job.job_id, 'job1');
	assert.equal(fake.uploads(), 3);
});

const exportConflict: Answer = {
	status: 409,
	body: { errors: [{ details: 'There is already an export job in progress, you can only have one export job in progress at a time.', error: 'Conflict', error_code: '409' }] },
};

test('409 schedule: waits double from the poll interval, each capped, all within the wait timeout', () => {
	assert.deepEqual(conflictWaitSchedule(10, 100), [10, 20, 40]);
	assert.deepEqual(conflictWaitSchedule(10, 5), []);
	const long = conflictWaitSchedule(2000, 60 * 60_000);
	assert.ok(long.every((wait, i) => i === 0 || wait >= long[i - 1]), 'never shrinks');
	assert.equal(Math.max(...long), MAX_CONFLICT_WAIT_MS);
	assert.ok(long.reduce((a, b) => a + b, 0) <= 60 * 60_000);
});

test('409 the list does not explain: waited out with growing waits (counted as retries), then the upload lands', async () => {
	const fake = statefulUserpilot((attempt, create) => (attempt <= 2 ? exportConflict : { status: 200, body: create() }));
	const started = Date.now();
	const created = await createImportJob(fake.transport, fileOf(), 'n8n-x1-part1.ndjson', waitOptions);
	assert.equal(created.job.job_id, 'job1');
	assert.equal(created.retries, 2);
	assert.equal(fake.uploads(), 3);
	assert.ok(Date.now() - started >= 5 + 10, 'it paused between the uploads');
	assert.equal(fake.transport.stats.retryReasons['409'], 2);
});

test('409 the list does not explain, for good: fails with the 409s own message after the bounded waits', async () => {
	const fake = statefulUserpilot(() => exportConflict);
	await assert.rejects(createImportJob(fake.transport, fileOf(), 'n8n-x1-part1.ndjson', { ...waitOptions, timeoutMs: 40 }), (error: unknown) => {
		assert.ok(error instanceof PlatformRequestError);
		assert.equal(error.status, 409);
		assert.match(error.message, /already an export job in progress/);
		assert.match(error.message, /still refused after 3 growing waits/);
		assert.equal(error.retries, 4);
		return true;
	});
	assert.equal(fake.uploads(), 1 + conflictWaitSchedule(5, 40).length);
});

test('409 with "fail at once": no wait, no second upload', async () => {
	const fake = statefulUserpilot(() => exportConflict);
	await assert.rejects(createImportJob(fake.transport, fileOf(), 'n8n-x1-part1.ndjson', { ...waitOptions, whenJobRunning: 'fail' }), /409/);
	assert.equal(fake.uploads(), 1);
});
