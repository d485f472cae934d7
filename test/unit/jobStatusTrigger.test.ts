/**
 * The Job Status Trigger node itself, its poll() driven as n8n drives it (a stand-in poll context
 * whose HTTP helper really talks HTTP, through the credential's own `authenticate`) against the
 * sandbox started in this process.
 *   npx jest test/unit/jobStatusTrigger.test.ts
 */
import assert from 'node:assert/strict';

import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	INodeExecutionData,
	IPollFunctions,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { DataImportApi } from '../../credentials/DataImportApi.credentials';
import { JobStatusTrigger } from '../../nodes/JobStatusTrigger/JobStatusTrigger.node.js';
import {
	AYONA_KEY,
	RIMDIAN_TOKEN,
	RIMDIAN_WORKSPACE,
	startSandbox,
	USERPILOT_KEY,
	type Sandbox,
} from '../../sandbox/server';

let sandbox: Sandbox;
const credentialType = new DataImportApi();

beforeAll(async () => {
	sandbox = await startSandbox({ jobStepMs: 10 });
});

afterAll(async () => {
	await sandbox?.close();
});

beforeEach(async () => {
	await sandbox.reset();
});

function userpilotCredentials(apiKey = USERPILOT_KEY): ICredentialDataDecryptedObject {
	return { platform: 'userpilot', userpilotRegion: 'custom', baseUrl: sandbox.url, apiKey };
}

function rimdianCredentials(): ICredentialDataDecryptedObject {
	return {
		platform: 'rimdian',
		rimdianAuthentication: 'accessToken',
		rimdianRegion: 'custom',
		baseUrl: sandbox.url,
		apiKey: RIMDIAN_TOKEN,
		workspaceId: RIMDIAN_WORKSPACE,
	};
}

/** n8n's request helper, as far as the transport uses it: real HTTP with the credential's headers. */
async function httpRequestWithAuthentication(
	credentials: ICredentialDataDecryptedObject,
	requests: string[],
	options: IHttpRequestOptions,
) {
	const authenticated = await (credentialType.authenticate as (c: ICredentialDataDecryptedObject, o: IHttpRequestOptions) => Promise<IHttpRequestOptions>)(
		credentials,
		options,
	);
	const url = new URL(authenticated.url);
	for (const [key, value] of Object.entries(authenticated.qs ?? {})) {
		if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
	}
	requests.push(`${authenticated.method ?? 'GET'} ${url.pathname}${url.search}`);
	const response = await fetch(url, {
		method: authenticated.method ?? 'GET',
		headers: authenticated.headers as Record<string, string>,
	});
	const text = await response.text();
	let body: unknown = text;
	if (authenticated.json) {
		try {
			body = JSON.parse(text);
		} catch {
			body = text;
		}
	}
	const headers = Object.fromEntries(response.headers.entries());
	if (response.status >= 400 && !authenticated.ignoreHttpStatusErrors) {
		throw Object.assign(new Error(`Request failed with status code ${response.status}`), {
			httpCode: String(response.status),
			context: { data: body },
		});
	}
	return { statusCode: response.status, body, headers };
}

interface Harness {
	context: IPollFunctions;
	staticData: IDataObject;
	logs: string[];
	requests: string[];
	poll(): Promise<INodeExecutionData[][] | null>;
}

/** A poll context like the one n8n gives a polling node of an active workflow (or a manual test). */
function harness(
	parameters: Record<string, unknown>,
	credentials: ICredentialDataDecryptedObject,
	options: { mode?: 'trigger' | 'manual'; staticData?: IDataObject } = {},
): Harness {
	const staticData: IDataObject = options.staticData ?? {};
	const logs: string[] = [];
	const requests: string[] = [];
	const node = {
		id: 'node-1',
		name: 'Job Status Trigger',
		type: 'n8n-nodes-data-import.jobStatusTrigger',
		typeVersion: 1,
		position: [0, 0] as [number, number],
		parameters: parameters as IDataObject,
		credentials: { dataImportApi: { id: 'cred-1', name: 'Sandbox' } },
	};
	const log = (level: string) => (message: string) => logs.push(`${level}: ${message}`);
	const context = {
		getNode: () => node,
		getMode: () => options.mode ?? 'trigger',
		getActivationMode: () => 'activate',
		getWorkflowStaticData: () => staticData,
		getCredentials: async () => credentials,
		getNodeParameter(name: string, fallback?: unknown, opts?: { extractValue?: boolean }) {
			const value = name in parameters ? parameters[name] : fallback;
			if (opts?.extractValue && value && typeof value === 'object' && '__rl' in (value as object)) {
				return (value as { value: unknown }).value;
			}
			return value;
		},
		logger: { warn: log('warn'), info: log('info'), debug: log('debug'), error: log('error') },
		helpers: {
			httpRequestWithAuthentication: (_type: string, requestOptions: IHttpRequestOptions) =>
				httpRequestWithAuthentication(credentials, requests, requestOptions),
			returnJsonArray: (items: IDataObject[]) => items.map((json) => ({ json })),
		},
	} as unknown as IPollFunctions;
	const trigger = new JobStatusTrigger();
	return { context, staticData, logs, requests, poll: () => trigger.poll.call(context) };
}

const items = (result: INodeExecutionData[][] | null) => (result ? result[0].map((item) => item.json) : []);

async function upload(name: string, rows: object[], apiKey = USERPILOT_KEY): Promise<string> {
	const form = new FormData();
	form.append('file', new Blob([rows.map((row) => JSON.stringify(row)).join('\n')]), name);
	const response = await fetch(`${sandbox.url}/v1/imports`, { method: 'POST', headers: { Authorization: `Token ${apiKey}` }, body: form });
	assert.equal(response.status, 200, await response.clone().text());
	return ((await response.json()) as { job_id: string }).job_id;
}

const ROW = { event_type: 'track', user_id: 'u1', event_name: 'signed_up', source: 'backend-http-import', inserted_at: '2024-07-28T08:55:35.874555' };

async function failNext(reason: string): Promise<void> {
	await fetch(`${sandbox.url}/__sandbox/userpilot/fail-next`, { method: 'POST', body: JSON.stringify({ reason }) });
}

async function untilStatus(jobId: string, statuses: string[]): Promise<void> {
	for (let i = 0; i < 400; i++) {
		const status = sandbox.state.userpilot.jobs.get(jobId)?.status;
		if (status !== undefined && statuses.includes(status)) return;
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
	throw new Error(`job ${jobId} did not reach ${statuses.join(' or ')}`);
}

const untilFinal = async (jobId: string) => await untilStatus(jobId, ['completed', 'failed']);

const USERPILOT_ALL = { platform: 'userpilot', events: ['completed', 'failed'], jobsToWatch: 'all' };

describe('Userpilot', () => {
	test('baseline, then each completed and failed job fires once, across a restart (static data saved and reloaded)', async () => {
		const before = await upload('before.ndjson', [ROW]);
		await untilFinal(before);
		const n8n = harness(USERPILOT_ALL, userpilotCredentials());
		assert.equal(await n8n.poll(), null, 'the activation check takes the baseline');
		assert.ok(n8n.staticData.userpilotJobs);

		const emitted: IDataObject[] = [];
		const first = await upload('one.ndjson', [ROW, ROW]);
		// Checks while it runs see queued/validating/processing: nothing fires for those.
		for (let i = 0; i < 3; i++) emitted.push(...items(await n8n.poll()));
		await untilFinal(first);
		emitted.push(...items(await n8n.poll()));
		emitted.push(...items(await n8n.poll()));

		await failNext('Required field `user_id` not provided in the row');
		const second = await upload('two.ndjson', [ROW]);
		await untilFinal(second);
		// n8n stops (the static data was saved with the last emission), the job ends meanwhile,
		// and n8n starts again with the saved state.
		const saved = JSON.parse(JSON.stringify(n8n.staticData)) as IDataObject;
		const third = await upload('three.ndjson', [ROW]);
		await untilFinal(third);
		const restarted = harness(USERPILOT_ALL, userpilotCredentials(), { staticData: saved });
		emitted.push(...items(await restarted.poll()));
		emitted.push(...items(await restarted.poll()));

		assert.deepEqual(
			emitted.map((e) => [e.job_id, e.transition]),
			[
				[first, 'completed'],
				[second, 'failed'],
				[third, 'completed'],
			],
		);
		const failed = emitted[1];
		assert.deepEqual(failed.reason_for_failure, ['Required field `user_id` not provided in the row']);
		assert.equal(failed.status, 'failed');
		assert.equal(failed.previous_status, null, 'first seen already failed');
		const done = emitted[0];
		assert.equal(done.total_rows, 2);
		assert.equal(typeof done.elapsed_time, 'number');
		assert.equal(typeof done.previous_status, 'string');
	});

	test('a manual test run returns the most recent job shaped like an emission, without touching the state', async () => {
		const a = await upload('a.ndjson', [ROW]);
		await untilFinal(a);
		const b = await upload('b.ndjson', [ROW]);
		const manual = harness(USERPILOT_ALL, userpilotCredentials(), { mode: 'manual' });
		const out = items(await manual.poll());
		assert.equal(out.length, 1);
		assert.equal(out[0].job_id, b);
		assert.ok('transition' in out[0] && 'previous_status' in out[0] && 'reason_for_failure' in out[0]);
		assert.deepEqual(manual.staticData, {});
		await untilFinal(b);
	});

	test('a manual test run with no job yet returns nothing', async () => {
		assert.equal(await harness(USERPILOT_ALL, userpilotCredentials(), { mode: 'manual' }).poll(), null);
	});

	test('one job only: other jobs stay quiet; the job ID may come from the list or be typed', async () => {
		const other = await upload('other.ndjson', [ROW]);
		await untilFinal(other);
		sandbox.configure({ userpilotHoldAt: 'processing' });
		const watched = await upload('watched.ndjson', [ROW]);
		await untilStatus(watched, ['processing']);
		const n8n = harness(
			{ ...USERPILOT_ALL, events: ['completed', 'statusChanged'], jobsToWatch: 'one', jobId: { __rl: true, mode: 'id', value: watched } },
			userpilotCredentials(),
		);
		assert.equal(await n8n.poll(), null);
		assert.ok(n8n.requests.every((r) => r.includes(`/v1/background_jobs/${encodeURIComponent(watched)}`)), n8n.requests.join('\n'));
		sandbox.configure({ userpilotHoldAt: null });
		await untilFinal(watched);
		const out = items(await n8n.poll());
		assert.deepEqual(out.map((e) => [e.job_id, e.transition, e.previous_status]), [[watched, 'completed', 'processing']]);
		assert.equal(await n8n.poll(), null);
	});

	test('an unknown job ID fails the activation check with a clear message', async () => {
		const n8n = harness({ ...USERPILOT_ALL, jobsToWatch: 'one', jobId: { __rl: true, mode: 'id', value: 'imports:jobs:nope' } }, userpilotCredentials());
		await assert.rejects(n8n.poll(), (error: Error) => error instanceof NodeOperationError && /no job "imports:jobs:nope"/.test(error.message));
	});

	test('a refused key fails the manual test and the activation with a NodeApiError that says so', async () => {
		for (const mode of ['manual', 'trigger'] as const) {
			const n8n = harness(USERPILOT_ALL, userpilotCredentials('not-the-key'), { mode });
			await assert.rejects(n8n.poll(), (error: Error) => {
				assert.ok(error instanceof NodeApiError, String(error));
				assert.match(error.message, /Userpilot refused the API key \(401\)/);
				assert.equal((error as NodeApiError).httpCode, '401');
				return true;
			});
			assert.deepEqual(n8n.staticData, {});
		}
	});

	test('a wrong endpoint fails with a clear message', async () => {
		const n8n = harness(USERPILOT_ALL, { ...userpilotCredentials(), baseUrl: `${sandbox.url}/nothing-here` }, { mode: 'manual' });
		await assert.rejects(n8n.poll(), (error: Error) => error instanceof NodeApiError && /404/.test(error.message));
	});

	test('passing failures (5xx) once the baseline exists: nothing emitted, state kept, the next check catches up', async () => {
		const n8n = harness(USERPILOT_ALL, userpilotCredentials());
		assert.equal(await n8n.poll(), null);
		const job = await upload('x.ndjson', [ROW]);
		await untilFinal(job);
		const stateBefore = JSON.stringify(n8n.staticData.userpilotJobs);
		sandbox.configure({ faults: { rate5xx: 1, seed: 1 } });
		assert.equal(await n8n.poll(), null);
		assert.equal(JSON.stringify(n8n.staticData.userpilotJobs), stateBefore, 'the state is not advanced');
		assert.ok(n8n.logs.some((line) => line.startsWith('warn: Job Status Trigger:') && /1 failed check in a row/.test(line)), n8n.logs.join('\n'));
		sandbox.configure({ faults: { rate5xx: 0 } });
		assert.deepEqual(items(await n8n.poll()).map((e) => [e.job_id, e.transition]), [[job, 'completed']]);
		assert.equal(n8n.staticData.failures, undefined);
	});

	test('passing failures that go on are raised every tenth check, so n8n records them', async () => {
		const n8n = harness(USERPILOT_ALL, userpilotCredentials());
		await n8n.poll();
		sandbox.configure({ faults: { rate5xx: 1, seed: 1 } });
		n8n.staticData.failures = { count: 8, since: Date.now() };
		assert.equal(await n8n.poll(), null);
		await assert.rejects(n8n.poll(), (error: Error) => error instanceof NodeApiError && /gave up after 2 retries/.test(error.message));
	});

	test('passing failures before any baseline fail the check (the activation says why)', async () => {
		sandbox.configure({ faults: { rate5xx: 1, seed: 1 } });
		const n8n = harness(USERPILOT_ALL, userpilotCredentials());
		await assert.rejects(n8n.poll(), NodeApiError);
		assert.equal(n8n.staticData.userpilotJobs, undefined);
	});

	test('switching the platform drops the state of the one watched before', async () => {
		const n8n = harness(USERPILOT_ALL, userpilotCredentials(), { staticData: { rimdianDataLog: { version: 1 } } });
		assert.equal(await n8n.poll(), null);
		assert.ok(n8n.staticData.userpilotJobs);
		assert.equal(n8n.staticData.rimdianDataLog, undefined);
	});

	test('a credential of another platform is refused', async () => {
		await assert.rejects(harness(USERPILOT_ALL, rimdianCredentials()).poll(), /credential is for Rimdian/);
	});

	test('the job list search lists the jobs, filtered by ID or file name', async () => {
		const a = await upload('march-users.ndjson', [ROW]);
		await untilFinal(a);
		const b = await upload('april-events.ndjson', [ROW]);
		await untilFinal(b);
		const context = { getCredentials: async () => userpilotCredentials(), getNode: () => ({}), helpers: harness(USERPILOT_ALL, userpilotCredentials()).context.helpers } as unknown as ILoadOptionsFunctions;
		const search = new JobStatusTrigger().methods.listSearch.searchJobs;
		const all = await search.call(context);
		assert.deepEqual(all.results.map((r) => r.value), [b, a]);
		assert.match(String(all.results[0].name), /^april-events\.ndjson · completed · \d{4}-/);
		const filtered = await search.call(context, 'MARCH');
		assert.deepEqual(filtered.results.map((r) => r.value), [a]);
	});
});

describe('Ayona', () => {
	test('refuses to run, manual or active, with a clear NodeOperationError', async () => {
		for (const mode of ['manual', 'trigger'] as const) {
			const n8n = harness({ platform: 'ayona' }, { platform: 'ayona', baseUrl: sandbox.url, apiKey: AYONA_KEY }, { mode });
			await assert.rejects(n8n.poll(), (error: Error) => error instanceof NodeOperationError && /Ayona publishes no import status API/.test(error.message));
			assert.deepEqual(n8n.requests, []);
		}
	});
});

describe('Rimdian', () => {
	const user = (id: string) => ({ kind: 'user', user: { external_id: id, is_authenticated: true, created_at: '2024-01-01T10:00:00Z' } });
	const event = (id: string, domain: string) => ({
		kind: 'custom_event',
		custom_event: { external_id: id, label: 'signup', created_at: '2024-01-01T10:00:00Z', domain_id: domain },
		user: { external_id: `u-${id}`, is_authenticated: true, created_at: '2024-01-01T10:00:00Z' },
	});

	async function send(items: object[]): Promise<void> {
		const response = await fetch(`${sandbox.url}/data`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${RIMDIAN_TOKEN}`, 'Content-Type': 'application/json' },
			body: JSON.stringify({ workspace_id: RIMDIAN_WORKSPACE, items }),
		});
		assert.equal(await response.text(), 'queued');
		await sandbox.settled();
	}

	const RIMDIAN = { platform: 'rimdian', includeRetryable: false, options: {} };

	test('items failing a deeper rule fire once each, with the item and the error; accepted ones never', async () => {
		await send([event('old-bad', 'nope'), user('old-ok')]);
		const n8n = harness(RIMDIAN, rimdianCredentials());
		assert.equal(await n8n.poll(), null, 'baseline: the failure from before stays quiet');
		// No pause: entries of the baseline's second (Date headers have whole seconds) count too.
		await send([event('e1', 'web'), event('e2', 'unknown-domain'), user('ok-1'), event('e3', 'nowhere')]);
		const out = items(await n8n.poll());
		assert.deepEqual(out.map((e) => (e.item as { custom_event: { external_id: string } }).custom_event.external_id).sort(), ['e2', 'e3']);
		for (const e of out) {
			assert.equal(e.transition, 'item_failed');
			assert.equal(e.has_error, 2);
			assert.match(String(e.error), /domain_id ".*" is not a domain of the workspace/);
		}
		assert.equal(await n8n.poll(), null, 'each entry fires once');
		const saved = JSON.parse(JSON.stringify(n8n.staticData)) as IDataObject;
		await send([event('e4', 'bad')]);
		const restarted = harness(RIMDIAN, rimdianCredentials(), { staticData: saved });
		assert.deepEqual(items(await restarted.poll()).map((e) => (e.item as { custom_event: { external_id: string } }).custom_event.external_id), ['e4']);
		assert.equal(await restarted.poll(), null);
	});

	test('the kind filter and the workspace go to dataLog.list; a manual run returns the newest failure', async () => {
		await send([event('m1', 'bad'), event('m2', 'worse')]);
		const manual = harness({ ...RIMDIAN, options: { kind: 'custom_event' } }, rimdianCredentials(), { mode: 'manual' });
		const out = items(await manual.poll());
		assert.equal(out.length, 1);
		assert.equal(out[0].transition, 'item_failed');
		assert.ok(manual.requests[0].includes('workspace_id=sandbox_workspace') && manual.requests[0].includes('has_error=2') && manual.requests[0].includes('kind=custom_event'));
		assert.deepEqual(manual.staticData, {});
	});

	test('a refused token fails with a NodeApiError that says so', async () => {
		const n8n = harness(RIMDIAN, { ...rimdianCredentials(), apiKey: 'wrong-token' }, { mode: 'manual' });
		await assert.rejects(n8n.poll(), (error: Error) => error instanceof NodeApiError && /Rimdian refused the access token \(401\)/.test(error.message));
	});

	test('many failures at once are read page by page and each fires once', async () => {
		const n8n = harness(RIMDIAN, rimdianCredentials());
		await n8n.poll();
		for (let batch = 0; batch < 3; batch++) {
			await send(Array.from({ length: 100 }, (_, i) => event(`b${batch}-${i}`, 'bad')));
		}
		const out = items(await n8n.poll());
		assert.equal(out.length, 300);
		assert.equal(new Set(out.map((e) => e.id)).size, 300);
		assert.equal(await n8n.poll(), null);
	});
});
