import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
	AYONA_KEY,
	AYONA_SOURCE_ID,
	RIMDIAN_SERVICE_EMAIL,
	RIMDIAN_SERVICE_PASSWORD,
	RIMDIAN_TOKEN,
	RIMDIAN_WORKSPACE,
	USERPILOT_KEY,
	USERPILOT_READ_KEY,
} from '../../sandbox/defaults';
import { computeTaskId } from '../../sandbox/rimdian';
import { type Sandbox, startSandbox } from '../../sandbox/server';

let sb: Sandbox;

beforeAll(async () => {
	sb = await startSandbox({ jobStepMs: 15 });
});

afterAll(async () => {
	await sb.close();
});

beforeEach(async () => {
	await sb.reset();
	sb.configure({ jobStepMs: 15, tokenTtlSeconds: 8 * 3600, userpilotMaxFileBytes: 1024 ** 3, userpilotRequireSource: true });
	sb.configure({ userpilotHoldAt: null, ayonaMaxBatch: 1000, userpilotKeys: [USERPILOT_KEY] });
	sb.configure({ ayonaRejectExtraFields: false, ayonaRequireName: false, rimdianStrictValues: false });
});

// ------------------------------------------------------------------------------------------------
// helpers

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function user(id = 'user-1'): Record<string, unknown> {
	return { external_id: id, is_authenticated: true, created_at: '2024-01-01T00:00:00Z' };
}

function userItem(id = 'user-1'): Record<string, unknown> {
	return { kind: 'user', user: user(id) };
}

function eventItem(id: string, domain = 'web'): Record<string, unknown> {
	return {
		kind: 'custom_event',
		custom_event: { external_id: id, label: 'signup', created_at: '2024-02-01T10:00:00Z', domain_id: domain },
		user: user(),
	};
}

async function postData(body: string | object, token = RIMDIAN_TOKEN, query = ''): Promise<Response> {
	return fetch(`${sb.url}/data${query}`, {
		method: 'POST',
		headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
		body: typeof body === 'string' ? body : JSON.stringify(body),
	});
}

async function admin(path: string, body?: unknown): Promise<any> {
	const r = await fetch(`${sb.url}/__sandbox${path}`, {
		method: body === undefined ? 'GET' : 'POST',
		headers: { 'content-type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return r.json();
}

async function upload(content: string | Uint8Array, filename: string, key = USERPILOT_KEY): Promise<Response> {
	const fd = new FormData();
	fd.append('file', new Blob([content]), filename);
	return fetch(`${sb.url}/v1/imports`, { method: 'POST', headers: { authorization: `Token ${key}` }, body: fd });
}

async function waitJob(jobId: string, statuses: string[], key = USERPILOT_KEY): Promise<any> {
	const deadline = Date.now() + 5000;
	for (;;) {
		const r = await fetch(`${sb.url}/v1/background_jobs/${jobId}`, { headers: { authorization: `Token ${key}` } });
		const job = (await r.json()) as any;
		if (statuses.includes(job.status)) return job;
		if (Date.now() > deadline) throw new Error(`job stuck in ${job.status}`);
		await sleep(10);
	}
}

async function ayona(body: unknown, key = AYONA_KEY): Promise<Response> {
	return fetch(`${sb.url}/api/v1/source/import`, {
		method: 'POST',
		headers: { 'x-api-key': key, 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
}

const CSV_SAMPLE = [
	'event_type,event_name,source,user_id,company_id,hostname,pathname,country_code,screen_width,screen_height,operating_system,browser,browser_language,user_agent,device_type,inserted_at,metadata',
	'identify_user,,web-client,User-7320-001,Company-607-001,campfire-example.userpilot.io,/profile/settings/,DE,1086,696,Mac,Edge,de-DE,Edge - Mozilla/5.0 (Mac) AppleWebKit/537.36,Mobile,2023-12-26 14:36:15.453703,"{""created_at"": ""1694172975"", ""name"": ""User-Alice"", ""prop_0"": ""value_743"", ""prop_1"": ""value_927""}"',
	'page_view,,web-client,User-9491-002,Company-973-002,campfire-example.userpilot.io,/home/,DE,832,809,iOS,Chrome,fr-FR,Chrome - Mozilla/5.0 (iOS) AppleWebKit/537.36,Mobile,2024-04-13 14:36:15.453788,"{}"',
	'track,created_project,web-client,User-6267-003,Company-584-003,campfire-example.userpilot.io,/profile/settings/,PS,1114,704,iOS,Safari,en-US,Safari - Mozilla/5.0 (iOS) AppleWebKit/537.36,Mobile,2024-05-05 14:36:15.453813,"{""created_at"": ""1730810175"", ""name"": ""User-Bob"", ""prop_0"": ""value_17""}"',
].join('\r\n');

const NDJSON_SAMPLE = [
	'{"event_type": "identify_user", "user_id": "user_123", "inserted_at": "2024-07-28T08:55:35.874555", "metadata": { "name": "John Doe", "email": "john.doe@example.com", "location": "Dublin, Ireland" },"user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36"}',
	'{"event_type": "identify_company","company_id": "company_123","inserted_at": "2024-07-28T08:55:35.874555","metadata": {"name": "Acme Labs Inc.","industry": "Software","size": "200-500","location": "San Francisco, CA"}}',
	'',
].join('\n');

// ------------------------------------------------------------------------------------------------
// auth

test('auth failures per platform', async () => {
	// Rimdian: missing → 401, malformed header → 406, unknown token → 401 JSON {code, message}
	let r = await fetch(`${sb.url}/data`, { method: 'POST', body: '{}' });
	assert.equal(r.status, 401);
	let j = (await r.json()) as any;
	assert.equal(j.code, 401);
	assert.equal(typeof j.message, 'string');
	r = await fetch(`${sb.url}/data`, { method: 'POST', headers: { authorization: `Token ${RIMDIAN_TOKEN}` }, body: '{}' });
	assert.equal(r.status, 406);
	r = await postData({ workspace_id: RIMDIAN_WORKSPACE, items: [userItem()] }, 'v4.local.nope');
	assert.equal(r.status, 401);
	assert.equal(((await r.json()) as any).code, 401);

	// Userpilot: wrong / missing → 401 with the error body
	for (const headers of [{}, { authorization: 'Token wrong' }, { authorization: `Bearer ${USERPILOT_KEY}` }] as Array<Record<string, string>>) {
		r = await fetch(`${sb.url}/v1/background_jobs`, { headers });
		assert.equal(r.status, 401);
		j = await r.json();
		assert.equal(j.errors[0].error, 'Unauthorized');
		assert.equal(j.errors[0].error_code, '401');
		assert.equal(typeof j.errors[0].details, 'string');
		assert.equal(typeof j.errors[0].message, 'string');
	}
	r = await upload('x', 'a.csv', 'wrong-key');
	assert.equal(r.status, 401);
	// a read-only key may not import
	r = await upload('x', 'a.csv', USERPILOT_READ_KEY);
	assert.equal(r.status, 403);

	// Ayona
	r = await fetch(`${sb.url}/api/v1/source/import`, { method: 'POST', body: '{}' });
	assert.equal(r.status, 401);
	assert.equal(typeof ((await r.json()) as any).message, 'string');
	r = await ayona({ source_id: AYONA_SOURCE_ID, payload: [] }, 'bad-key');
	assert.equal(r.status, 401);

	// nothing was stored
	const stats = await admin('/stats');
	assert.equal(stats.rimdian.itemsStored, 0);
	assert.equal(stats.userpilot.uploads, 0);
});

// ------------------------------------------------------------------------------------------------
// Rimdian

test('rimdian POST /data answers the documented 400 texts', async () => {
	const cases: Array<[string | object, RegExp, string?]> = [
		['', /^empty body$/],
		['   ', /^empty body$/],
		['{nope', /invalid JSON/],
		[{ items: [userItem()] }, /^workspace_id is required$/],
		[{ workspace_id: 'other_ws', items: [userItem()] }, /workspace.*other_ws/],
		[{ workspace_id: RIMDIAN_WORKSPACE }, /^items is required$/],
		[{ workspace_id: RIMDIAN_WORKSPACE, items: [] }, /^items is empty$/],
		[{ workspace_id: RIMDIAN_WORKSPACE, items: Array.from({ length: 101 }, (_, i) => userItem(`u${i}`)) }, /^items max 100, got 101$/],
		[{ workspace_id: RIMDIAN_WORKSPACE, items: [userItem(), 'x'] }, /items\[1\]/],
		[{ workspace_id: RIMDIAN_WORKSPACE, items: [userItem(), { user: user() }] }, /items\[1\]\.kind/],
		[{ workspace_id: RIMDIAN_WORKSPACE, items: [{ kind: 42 }] }, /items\[0\]\.kind/],
	];
	for (const [body, re] of cases) {
		const r = await postData(body);
		assert.equal(r.status, 400, `status for ${JSON.stringify(body).slice(0, 60)}`);
		assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
		assert.match(await r.text(), re);
	}
	// workspace_id as a query parameter; 100 items is fine
	const r = await postData(
		{ items: Array.from({ length: 100 }, (_, i) => userItem(`u${i}`)) },
		RIMDIAN_TOKEN,
		`?workspace_id=${RIMDIAN_WORKSPACE}`,
	);
	assert.equal(r.status, 200);
	assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
	assert.equal(await r.text(), 'queued');
	assert.equal(sb.stats().rimdian.itemsStored, 100);
});

test('rimdian de-duplicates byte-identical items', async () => {
	const a = JSON.stringify(userItem('dup'));
	const b = '{ "kind": "user", "user": {"external_id":"dup","is_authenticated":true,"created_at":"2024-01-01T00:00:00Z"}}';
	const body = `{"workspace_id":"${RIMDIAN_WORKSPACE}","items":[ ${a} , ${a}]}`;
	assert.equal((await postData(body)).status, 200);
	assert.equal((await postData(body)).status, 200);
	// same value, different bytes: a different task id
	assert.equal((await postData(`{"workspace_id":"${RIMDIAN_WORKSPACE}","items":[${b}]}`)).status, 200);
	const s = sb.stats().rimdian;
	assert.equal(s.itemsReceived, 5);
	assert.equal(s.itemsStored, 2);
	assert.equal(s.duplicatesReceived, 3);
	const rec = await admin('/records/rimdian');
	assert.equal(rec.total, 2);
	const first = rec.items.find((x: any) => x.id === computeTaskId(a));
	assert.ok(first, 'task id is the HMAC of the raw item bytes');
	assert.equal(first.received, 4);
	assert.ok(rec.items.some((x: any) => x.id === computeTaskId(b) && x.received === 1));
});

test('rimdian data log records asynchronous item errors (bad domain_id)', async () => {
	const items = [userItem(), eventItem('ev-good'), eventItem('ev-bad', 'not-a-domain'), { kind: 'mystery', mystery: {}, user: user() }];
	const future = eventItem('ev-future');
	(future.custom_event as any).created_at = '2999-01-01T00:00:00Z';
	const notRfc = eventItem('ev-date');
	(notRfc.custom_event as any).created_at = '2024-02-01 10:00:00';
	items.push(future, notRfc);
	assert.equal((await postData({ workspace_id: RIMDIAN_WORKSPACE, items })).status, 200);
	await sb.settled();

	const list = async (q: string): Promise<any> => {
		const r = await fetch(`${sb.url}/api/dataLog.list?workspace_id=${RIMDIAN_WORKSPACE}&${q}`, {
			headers: { authorization: `Bearer ${RIMDIAN_TOKEN}` },
		});
		assert.equal(r.status, 200);
		return r.json();
	};
	const all = await list('limit=100');
	assert.equal(all.data_logs.length, 6);
	assert.equal(all.next_token, undefined);
	const bad = all.data_logs.find((d: any) => d.item.custom_event?.external_id === 'ev-bad');
	assert.equal(bad.has_error, 2);
	assert.match(bad.error, /domain_id/);
	assert.equal(bad.kind, 'custom_event');
	assert.equal(bad.origin_id.length > 0, true);
	assert.equal(bad.event_at, '2024-02-01T10:00:00.000Z');
	const good = all.data_logs.find((d: any) => d.item.custom_event?.external_id === 'ev-good');
	assert.equal(good.has_error, 0);
	assert.equal(good.error, undefined);

	const errors = await list('has_error=2&limit=100');
	assert.equal(errors.data_logs.length, 4);
	assert.ok(errors.data_logs.some((d: any) => /unknown kind/.test(d.error)));
	assert.ok(errors.data_logs.some((d: any) => /future/.test(d.error)));
	assert.ok(errors.data_logs.some((d: any) => /RFC 3339/.test(d.error)));
	assert.equal((await list('kind=user')).data_logs.length, 1);

	// pagination: stable order, next_token
	const p1 = await list('limit=4');
	assert.equal(p1.data_logs.length, 4);
	assert.ok(p1.next_token);
	const p2 = await list(`limit=4&next_token=${p1.next_token}`);
	assert.equal(p2.data_logs.length, 2);
	assert.equal(p2.next_token, undefined);
	assert.deepEqual(
		[...p1.data_logs, ...p2.data_logs].map((d: any) => d.id),
		all.data_logs.map((d: any) => d.id),
	);
	// bad limit
	for (const q of ['limit=0', 'limit=101', 'limit=x']) {
		const r = await fetch(`${sb.url}/api/dataLog.list?workspace_id=${RIMDIAN_WORKSPACE}&${q}`, {
			headers: { authorization: `Bearer ${RIMDIAN_TOKEN}` },
		});
		assert.equal(r.status, 400);
	}
});

test('rimdian login, token expiry and refresh', async () => {
	sb.configure({ tokenTtlSeconds: 1 });
	let r = await fetch(`${sb.url}/api/account.login`, {
		method: 'POST',
		body: JSON.stringify({ email: RIMDIAN_SERVICE_EMAIL, password: 'wrong-password-123' }),
	});
	assert.equal(r.status, 400);
	assert.equal(typeof ((await r.json()) as any).message, 'string');

	r = await fetch(`${sb.url}/api/account.login`, {
		method: 'POST',
		body: JSON.stringify({ email: RIMDIAN_SERVICE_EMAIL, password: RIMDIAN_SERVICE_PASSWORD }),
	});
	assert.equal(r.status, 200);
	const login = (await r.json()) as any;
	assert.match(login.access_token, /^v4\.local\./);
	assert.match(login.refresh_token, /^v4\.local\./);
	const ttl = Date.parse(login.access_token_expires_at) - Date.now();
	assert.ok(ttl > 0 && ttl <= 1000, `ttl ${ttl}`);
	assert.ok(Date.parse(login.refresh_token_expires_at) > Date.now() + 86400_000);

	const body = { workspace_id: RIMDIAN_WORKSPACE, items: [userItem()] };
	assert.equal((await postData(body, login.access_token)).status, 200);
	// a refresh token is not an access token
	assert.equal((await postData(body, login.refresh_token)).status, 401);
	await sleep(1100);
	r = await postData(body, login.access_token);
	assert.equal(r.status, 401);
	assert.match(((await r.json()) as any).message, /expired/);

	r = await fetch(`${sb.url}/api/account.refreshAccessToken`, {
		method: 'POST',
		body: JSON.stringify({ refresh_token: login.refresh_token }),
	});
	assert.equal(r.status, 200);
	const fresh = (await r.json()) as any;
	assert.match(fresh.access_token, /^v4\.local\./);
	assert.equal((await postData(body, fresh.access_token)).status, 200);
	// the refresh token also works as a Bearer
	r = await fetch(`${sb.url}/api/account.refreshAccessToken`, {
		method: 'POST',
		headers: { authorization: `Bearer ${login.refresh_token}` },
	});
	assert.equal(r.status, 200);
	r = await fetch(`${sb.url}/api/account.refreshAccessToken`, {
		method: 'POST',
		body: JSON.stringify({ refresh_token: 'v4.local.bogus' }),
	});
	assert.equal(r.status, 401);
});

// ------------------------------------------------------------------------------------------------
// Userpilot

test('userpilot job life cycle to completed (CSV sample)', async () => {
	const r = await upload(CSV_SAMPLE, 'file.csv');
	assert.equal(r.status, 200);
	const job = (await r.json()) as any;
	assert.deepEqual(Object.keys(job), ['end_time', 'file_size', 'filename', 'job_id', 'links', 'start_time', 'status', 'total_rows']);
	assert.equal(job.status, 'queued');
	assert.equal(job.end_time, null);
	assert.equal(job.total_rows, 0);
	assert.equal(job.filename, 'file.csv');
	assert.equal(job.file_size, Buffer.byteLength(CSV_SAMPLE));
	assert.match(job.job_id, /^imports:jobs:NX-[0-9a-f]{8}:[0-9a-f-]{36}$/);
	assert.equal(job.links, `/v1/background_jobs/${job.job_id}`);
	assert.match(job.start_time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);

	const seen = new Set<string>();
	const deadline = Date.now() + 5000;
	let last: any;
	while (Date.now() < deadline) {
		last = await (await fetch(`${sb.url}${job.links}`, { headers: { authorization: `Token ${USERPILOT_KEY}` } })).json();
		seen.add(last.status);
		if (last.status === 'completed' || last.status === 'failed') break;
		await sleep(3);
	}
	assert.equal(last.status, 'completed', JSON.stringify(last));
	assert.ok(seen.has('validating') || seen.has('processing') || seen.has('pending_refresh'));
	assert.equal(last.total_rows, 3);
	assert.equal(last.completed_rows, 3);
	assert.equal(typeof last.elapsed_time, 'number');
	assert.match(last.end_time, /^\d{4}-\d{2}-\d{2}T/);

	// the /api/ path and the list agree
	const viaApi = await (await fetch(`${sb.url}/api/background_jobs/${job.job_id}`, { headers: { authorization: `Token ${USERPILOT_KEY}` } })).json();
	assert.equal((viaApi as any).status, 'completed');
	const rec = await admin('/records/userpilot');
	assert.equal(rec.rows.total, 3);
	assert.deepEqual(rec.rows.items[0].metadata, { created_at: '1694172975', name: 'User-Alice', prop_0: 'value_743', prop_1: 'value_927' });
	assert.equal(rec.rows.items[2].event_name, 'created_project');
	assert.equal(sb.stats().userpilot.rowsImported, 3);
	// the job's record names the bytes it received
	const received = rec.jobs.find((j: { job_id: string }) => j.job_id === job.job_id);
	assert.equal(received.sha256, createHash('sha256').update(CSV_SAMPLE).digest('hex'));
});

test('userpilot NDJSON sample: completes without required source, fails with it', async () => {
	sb.configure({ userpilotRequireSource: false });
	let r = await upload(NDJSON_SAMPLE, '2024-10-28.ndjson');
	assert.equal(r.status, 200);
	let job = await waitJob(((await r.json()) as any).job_id, ['completed', 'failed']);
	assert.equal(job.status, 'completed', JSON.stringify(job));
	assert.equal(job.total_rows, 2);
	const rec = await admin('/records/userpilot');
	// identify_company keeps only its keys; metadata kept as an object
	assert.deepEqual(Object.keys(rec.rows.items[1]).sort(), ['company_id', 'event_type', 'inserted_at', 'metadata']);

	sb.configure({ userpilotRequireSource: true });
	r = await upload(NDJSON_SAMPLE, 'upload.bin'); // format sniffed from the first byte
	job = await waitJob(((await r.json()) as any).job_id, ['completed', 'failed']);
	assert.equal(job.status, 'failed');
	assert.equal(job.reason_for_failure.length, 2);
	assert.match(job.reason_for_failure[0], /^Required field `source` not provided in the row: %\{/);
});

test('userpilot: a row missing user_id fails the whole job', async () => {
	const rows = [
		{ event_type: 'track', user_id: 'u1', event_name: 'x', source: 'backend-http', inserted_at: '2024-07-28 08:55:35.874555' },
		{ event_type: 'identify_user', event_name: '', source: 'backend-http', inserted_at: '2024-07-28T08:55:35Z', metadata: { tickets_created: '15' } },
	];
	const r = await upload(rows.map((x) => JSON.stringify(x)).join('\n'), 'rows.ndjson');
	const job = await waitJob(((await r.json()) as any).job_id, ['completed', 'failed']);
	assert.equal(job.status, 'failed');
	assert.equal(job.total_rows, 0);
	assert.deepEqual(job.reason_for_failure, [
		'Required field `user_id` not provided in the row: %{"event_name" => "", "event_type" => "identify_user", "inserted_at" => "2024-07-28T08:55:35Z", "metadata" => %{"tickets_created" => "15"}, "source" => "backend-http"}',
	]);
	assert.equal(typeof job.elapsed_time, 'number');
	assert.equal((await admin('/records/userpilot')).rows.total, 0);
});

test('userpilot: 409 while a job is in progress, per key; fail-next', async () => {
	sb.configure({ userpilotHoldAt: 'processing' });
	let r = await upload(CSV_SAMPLE, 'a.csv');
	assert.equal(r.status, 200);
	const first = (await r.json()) as any;
	await waitJob(first.job_id, ['processing']);
	r = await upload(CSV_SAMPLE, 'b.csv');
	assert.equal(r.status, 409);
	const body = (await r.json()) as any;
	assert.deepEqual(body.errors[0], {
		details: 'There is already an import job in progress, you can only have one import job in progress at a time.',
		error: 'Conflict',
		error_code: '409',
		message: 'The request could not be completed due to a conflict with the current state of the target resource.',
	});
	// another key has its own slot and its own job list
	sb.configure({ userpilotKeys: [USERPILOT_KEY, 'second-key'] });
	r = await upload(CSV_SAMPLE, 'c.csv', 'second-key');
	assert.equal(r.status, 200);
	const other = (await r.json()) as any;
	const mine = (await (await fetch(`${sb.url}/v1/background_jobs`, { headers: { authorization: `Token ${USERPILOT_KEY}` } })).json()) as any[];
	assert.deepEqual(
		mine.map((j) => j.job_id),
		[first.job_id],
	);
	r = await fetch(`${sb.url}/v1/background_jobs/${other.job_id}`, { headers: { authorization: `Token ${USERPILOT_KEY}` } });
	assert.equal(r.status, 404);
	assert.equal(((await r.json()) as any).errors[0].error_code, '404');

	sb.configure({ userpilotHoldAt: null });
	await waitJob(first.job_id, ['completed']);
	await admin('/userpilot/fail-next', { reason: 'Injected failure' });
	r = await upload(CSV_SAMPLE, 'd.csv');
	assert.equal(r.status, 200);
	const forced = await waitJob(((await r.json()) as any).job_id, ['completed', 'failed']);
	assert.equal(forced.status, 'failed');
	assert.deepEqual(forced.reason_for_failure, ['Injected failure']);
	// newest first
	const list = (await (await fetch(`${sb.url}/v1/background_jobs`, { headers: { authorization: `Token ${USERPILOT_KEY}` } })).json()) as any[];
	assert.deepEqual(
		list.map((j) => j.job_id),
		[forced.job_id, first.job_id],
	);
});

test('userpilot: 413 past the size limit (declared and streamed), 400 without file', async () => {
	sb.configure({ userpilotMaxFileBytes: 1000 });
	const big = 'x'.repeat(50_000);
	let r = await upload(big, 'big.csv');
	assert.equal(r.status, 413);
	assert.equal(((await r.json()) as any).errors[0].error_code, '413');

	// streamed (chunked, no Content-Length): the limit is found while reading
	const boundary = 'sandboxboundary';
	const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n`;
	const enc = new TextEncoder();
	let sent = 0;
	const stream = new ReadableStream<Uint8Array>({
		pull(c) {
			if (sent === 0) c.enqueue(enc.encode(head));
			if (sent > 200) {
				c.enqueue(enc.encode(`\r\n--${boundary}--\r\n`));
				c.close();
				return;
			}
			sent++;
			c.enqueue(enc.encode('y'.repeat(1000)));
		},
	});
	r = await fetch(`${sb.url}/v1/imports`, {
		method: 'POST',
		headers: { authorization: `Token ${USERPILOT_KEY}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
		body: stream,
		duplex: 'half',
	} as RequestInit);
	assert.equal(r.status, 413);
	assert.equal(((await r.json()) as any).errors[0].error, 'Payload Too Large');
	assert.equal(sb.stats().userpilot.uploads, 0);
	assert.equal(sb.stats().userpilot.rejected413, 2);

	// under the limit works
	r = await upload('event_type,user_id\n', 'small.csv');
	assert.equal(r.status, 200);
	await waitJob(((await r.json()) as any).job_id, ['completed', 'failed']);

	const fd = new FormData();
	fd.append('other', 'x');
	r = await fetch(`${sb.url}/v1/imports`, { method: 'POST', headers: { authorization: `Token ${USERPILOT_KEY}` }, body: fd });
	assert.equal(r.status, 400);
	assert.match(((await r.json()) as any).errors[0].details, /file/);
});

// ------------------------------------------------------------------------------------------------
// Ayona

test('ayona ignores keys other than date, name, content; ayonaRejectExtraFields refuses them', async () => {
	const sheetRow = { row_number: 2, date: '2024-03-08 00:29:00', name: 'User 1', content: 'Feedback 1' };
	let r = await ayona({ source_id: AYONA_SOURCE_ID, payload: [sheetRow] });
	assert.equal(r.status, 200);
	assert.deepEqual(Object.keys((await admin('/records/ayona')).entries[0]).sort(), ['content', 'date', 'name', 'received_at', 'source_id']);

	sb.configure({ ayonaRejectExtraFields: true });
	r = await ayona({ source_id: AYONA_SOURCE_ID, payload: [{ ...sheetRow, row_number: undefined }, sheetRow] });
	assert.equal(r.status, 400);
	assert.equal(((await r.json()) as any).message, 'payload[1].row_number is not a field of an entry (date, name, content)');
	assert.equal((await admin('/records/ayona')).total, 1, 'nothing of a refused request is kept');
});

test('ayona takes an anonymous entry (empty name); ayonaRequireName refuses it', async () => {
	const anonymous = { date: '2024-03-08 00:29:00', name: '', content: 'Feedback' };
	let r = await ayona({ source_id: AYONA_SOURCE_ID, payload: [anonymous] });
	assert.equal(r.status, 200);
	sb.configure({ ayonaRequireName: true });
	r = await ayona({ source_id: AYONA_SOURCE_ID, payload: [{ ...anonymous, name: ' ' }] });
	assert.equal(r.status, 400);
	assert.equal(((await r.json()) as any).message, 'payload[0].name must not be empty');
	r = await ayona({ source_id: AYONA_SOURCE_ID, payload: [{ ...anonymous, name: 'User 1' }] });
	assert.equal(r.status, 200);
	assert.equal((await admin('/records/ayona')).total, 2);
});

test('rimdian processes values no page rules out; rimdianStrictValues refuses them in the data log', async () => {
	const order = (id: string, fields: Record<string, unknown>, userFields: Record<string, unknown> = {}) => ({
		kind: 'order',
		order: { external_id: id, created_at: '2024-01-01T00:00:00Z', domain_id: 'web', currency: 'EUR', subtotal_price: 100, total_price: 100, ...fields },
		user: { ...user(), ...userFields },
	});
	const unusual = [
		order('o-currency', { currency: 'VND' }),
		order('o-language', {}, { language: 'en-US' }),
		order('o-language-upper', {}, { language: 'EN' }),
		order('o-long-id', { external_id: 'o'.repeat(300) }),
		order('o-placeholder', {}, { external_id: 'none' }),
		order('o-1850', { created_at: '1850-01-01T00:00:00Z' }),
	];
	const list = async (): Promise<any[]> => {
		const r = await fetch(`${sb.url}/api/dataLog.list?workspace_id=${RIMDIAN_WORKSPACE}&limit=100`, { headers: { authorization: `Bearer ${RIMDIAN_TOKEN}` } });
		return ((await r.json()) as any).data_logs;
	};
	assert.equal((await postData({ workspace_id: RIMDIAN_WORKSPACE, items: unusual })).status, 200);
	await sb.settled();
	const lenient = await list();
	assert.equal(lenient.length, 6);
	assert.deepEqual(lenient.map((d) => [d.error, d.has_error]), Array(6).fill([undefined, 0]));

	await sb.reset();
	sb.configure({ rimdianStrictValues: true });
	assert.equal((await postData({ workspace_id: RIMDIAN_WORKSPACE, items: [...unusual, order('o-good', {})] })).status, 200);
	await sb.settled();
	const strict = await list();
	const errorOf = (id: string) => strict.find((d) => d.item.order.external_id === id);
	assert.match(errorOf('o-currency').error, /order\.currency "VND" is not a currency Rimdian converts/);
	assert.match(errorOf('o-language').error, /user\.language must be a two-letter language code/);
	assert.match(errorOf('o'.repeat(300)).error, /order\.external_id is longer than 255 characters/);
	assert.match(errorOf('o-placeholder').error, /user\.external_id is not a valid id: "none"/);
	assert.match(errorOf('o-1850').error, /order\.created_at is before 1900/);
	assert.match(errorOf('o-language-upper').error, /user\.language must be a two-letter language code: "EN"/);
	assert.equal(strict.filter((d) => d.has_error === 2).length, 6);
	assert.equal(errorOf('o-good').has_error, 0);
});

test('ayona accepts good payloads and rejects malformed ones', async () => {
	const good = {
		source_id: AYONA_SOURCE_ID,
		payload: [
			{ date: '2024-03-08 00:29:00', name: 'User 1', content: 'Feedback 1' },
			{ date: '2024-03-08 00:29:00', name: 'User 2', content: 'Feedback 2' },
		],
	};
	let r = await ayona(good);
	assert.equal(r.status, 200);
	assert.deepEqual(await r.json(), { message: 'REST import started successfully' });

	const entry = { date: '2024-03-08 00:29:00', name: 'n', content: 'c' };
	const bad: Array<[unknown, RegExp]> = [
		[{ source_id: 'nope', payload: [entry] }, /source_id/],
		[{ payload: [entry] }, /source_id is required/],
		[{ source_id: AYONA_SOURCE_ID }, /payload is required/],
		[{ source_id: AYONA_SOURCE_ID, payload: {} }, /payload must be an array/],
		[{ source_id: AYONA_SOURCE_ID, payload: [] }, /payload must not be empty/],
		[{ source_id: AYONA_SOURCE_ID, payload: [entry, { ...entry, date: '2024-03-08T00:29:00Z' }] }, /payload\[1\]\.date .*YYYY-MM-DD HH:mm:ss/],
		[{ source_id: AYONA_SOURCE_ID, payload: [{ ...entry, date: '2024-02-30 00:00:00' }] }, /payload\[0\]\.date/],
		[{ source_id: AYONA_SOURCE_ID, payload: [{ date: entry.date, content: 'c' }] }, /payload\[0\]\.name is required/],
		[{ source_id: AYONA_SOURCE_ID, payload: [{ date: entry.date, name: 'n' }] }, /payload\[0\]\.content is required/],
		[{ source_id: AYONA_SOURCE_ID, payload: [{ ...entry, content: 5 }] }, /payload\[0\]\.content must be a string/],
	];
	for (const [body, re] of bad) {
		r = await ayona(body);
		assert.equal(r.status, 400, JSON.stringify(body));
		assert.match(((await r.json()) as any).message, re);
	}
	r = await fetch(`${sb.url}/api/v1/source/import`, { method: 'POST', headers: { 'x-api-key': AYONA_KEY }, body: '{bad' });
	assert.equal(r.status, 400);

	sb.configure({ ayonaMaxBatch: 2 });
	r = await ayona({ source_id: AYONA_SOURCE_ID, payload: [entry, entry, entry] });
	assert.equal(r.status, 413);

	const rec = await admin('/records/ayona');
	assert.equal(rec.total, 2);
	assert.equal(rec.entries[1].content, 'Feedback 2');
	assert.equal(sb.stats().ayona.entriesStored, 2);
});

// ------------------------------------------------------------------------------------------------
// faults

test('fault injection: 5xx, 429, reset, lost answer, latency', async () => {
	const body = { workspace_id: RIMDIAN_WORKSPACE, items: [userItem('f1')] };

	await admin('/config', { faults: { rate5xx: 1 } });
	let r = await postData(body);
	assert.ok([500, 502, 503].includes(r.status));
	assert.equal(await r.text(), 'task error: injected');
	r = await upload(CSV_SAMPLE, 'a.csv');
	assert.ok([500, 502, 503].includes(r.status));
	assert.ok(((await r.json()) as any).errors[0].error_code.startsWith('5'));
	r = await ayona({ source_id: AYONA_SOURCE_ID, payload: [] });
	assert.ok([500, 502, 503].includes(r.status));
	assert.equal(typeof ((await r.json()) as any).message, 'string');
	// admin is never faulted
	assert.deepEqual(await admin('/health'), { ok: true });
	assert.equal(sb.stats().rimdian.itemsStored, 0);

	await admin('/config', { faults: { rate5xx: 0, rate429: 1, retryAfterSeconds: 7 } });
	r = await postData(body);
	assert.equal(r.status, 429);
	assert.equal(r.headers.get('retry-after'), '7');
	await r.text();
	r = await fetch(`${sb.url}/v1/background_jobs`, { headers: { authorization: `Token ${USERPILOT_KEY}` } });
	assert.equal(r.status, 429);
	assert.equal(((await r.json()) as any).errors[0].error_code, '429');

	await admin('/config', { faults: { rate429: 0, rateReset: 1 } });
	await assert.rejects(postData(body));
	assert.equal(sb.stats().rimdian.itemsStored, 0);

	await admin('/config', { faults: { rateReset: 0, rateLostAnswer: 1 } });
	await assert.rejects(postData(body));
	assert.equal(sb.stats().rimdian.itemsStored, 1, 'a lost answer still processes the request');

	await admin('/config', { faults: { rateLostAnswer: 0, latencyMs: 150 } });
	const t0 = Date.now();
	r = await postData(body);
	assert.equal(r.status, 200);
	assert.ok(Date.now() - t0 >= 140);

	// paths restricts faults
	await admin('/config', { faults: { latencyMs: 0, rate5xx: 1, paths: ['/v1/'] } });
	assert.equal((await postData(body)).status, 200);
	assert.ok((await fetch(`${sb.url}/v1/background_jobs`, { headers: { authorization: `Token ${USERPILOT_KEY}` } })).status >= 500);

	const stats = await admin('/stats');
	assert.deepEqual(stats.faults, { '5xx': 4, '429': 2, reset: 1, lostAnswer: 1, latency: 1 });
	assert.equal(stats.rimdian.duplicatesReceived, 2);

	// same seed, same schedule
	const schedule = async (): Promise<number[]> => {
		await admin('/config', { faults: { paths: null, rate5xx: 0.5, seed: 42 } });
		const out: number[] = [];
		for (let i = 0; i < 12; i++) {
			const x = await postData(body);
			await x.text();
			out.push(x.status);
		}
		return out;
	};
	const s1 = await schedule();
	const s2 = await schedule();
	assert.deepEqual(s1, s2);
	assert.ok(s1.includes(200) && s1.some((s) => s >= 500));
});

test('reset clears records, counters and faults; config is validated', async () => {
	await postData({ workspace_id: RIMDIAN_WORKSPACE, items: [userItem()] });
	await ayona({ source_id: AYONA_SOURCE_ID, payload: [{ date: '2024-03-08 00:29:00', name: 'n', content: 'c' }] });
	await admin('/config', { faults: { rate429: 1 } });
	assert.deepEqual(await admin('/reset', {}), { ok: true });
	const stats = await admin('/stats');
	assert.equal(stats.rimdian.itemsStored, 0);
	assert.equal(stats.ayona.entriesStored, 0);
	assert.deepEqual(stats.requestsByStatus, {});
	const cfg = await admin('/config');
	assert.equal(cfg.faults.rate429, 0);
	assert.equal((await postData({ workspace_id: RIMDIAN_WORKSPACE, items: [userItem()] })).status, 200);

	const r = await fetch(`${sb.url}/__sandbox/config`, { method: 'POST', body: JSON.stringify({ faults: { rate5xx: 2 } }) });
	assert.equal(r.status, 400);
	const r2 = await fetch(`${sb.url}/__sandbox/config`, { method: 'POST', body: JSON.stringify({ nope: 1 }) });
	assert.equal(r2.status, 400);
});

// ------------------------------------------------------------------------------------------------
// readings: the other answers the pages allow, each behind a switch

const userpilotGet = (path: string) => fetch(`${sb.url}${path}`, { headers: { authorization: `Token ${USERPILOT_KEY}` } });

test('reading "documented job path": /api/background_jobs/:id answers, the links path is 404', async () => {
	sb.configure({ readings: { userpilotJobPath: 'documented' } });
	const job = (await (await upload(CSV_SAMPLE, 'a.csv')).json()) as any;
	assert.equal(job.links, `/v1/background_jobs/${job.job_id}`, 'the upload still points at the links path, as the page shows');
	assert.equal((await userpilotGet(job.links)).status, 404);
	const documented = await userpilotGet(`/api/background_jobs/${encodeURIComponent(job.job_id)}`);
	assert.equal(documented.status, 200);
	assert.equal(((await documented.json()) as any).job_id, job.job_id);
	assert.equal((await userpilotGet('/v1/background_jobs')).status, 200, 'the list is still there');
	await sb.reset();
	assert.equal(sb.config.readings.userpilotJobPath, 'both', 'reset turns the reading off');
});

test('reading "server file names" and "total_rows as a string"', async () => {
	sb.configure({ readings: { userpilotServerFileNames: true, userpilotTotalRowsAsString: true } });
	const r = await upload(NDJSON_SAMPLE.replace('"user_id"', '"source": "web-client", "user_id"'), 'import_data.ndjson');
	const job = (await r.json()) as any;
	assert.match(job.filename, /^\d{4}-\d{2}-\d{2}\.ndjson$/);
	assert.equal(job.total_rows, '0');
	const done = await waitJob(job.job_id, ['completed', 'failed']);
	assert.equal(typeof done.total_rows, 'string');
	assert.equal(done.filename, job.filename);
});

test('reading "export job conflicts": the next N uploads get the page\'s export 409, which the import list does not show', async () => {
	sb.configure({ readings: { userpilotExportConflicts: 2 } });
	for (let i = 0; i < 2; i++) {
		const r = await upload(CSV_SAMPLE, `a${i}.csv`);
		assert.equal(r.status, 409);
		assert.match(((await r.json()) as any).errors[0].details, /already an export job in progress/);
	}
	assert.deepEqual(await (await userpilotGet('/v1/background_jobs')).json(), []);
	assert.equal((await upload(CSV_SAMPLE, 'a2.csv')).status, 200, 'the count is used up');
	assert.equal(sb.stats().userpilot.rejected409, 2);
});

test('reading "401 after the body": the whole upload is read, then refused; no job', async () => {
	sb.configure({ readings: { userpilot401AfterBody: 1 } });
	const r = await upload(CSV_SAMPLE, 'a.csv');
	assert.equal(r.status, 401);
	assert.equal(sb.stats().userpilot.uploads, 0);
	assert.equal((await upload(CSV_SAMPLE, 'a.csv')).status, 200);
	assert.equal(sb.stats().userpilot.uploads, 1);
});

test('reading "processed, then 502": upload and batches are stored, then answered 502', async () => {
	sb.configure({ readings: { processedThen502: { userpilot: 1, rimdian: 1, ayona: 1 } } });
	const up = await upload(CSV_SAMPLE, 'a.csv');
	assert.equal(up.status, 502);
	assert.equal(((await up.json()) as any).errors[0].error_code, '502');
	const jobs = (await (await userpilotGet('/v1/background_jobs')).json()) as any[];
	assert.equal(jobs.length, 1, 'the job was created before the 502');

	const rim = await postData({ workspace_id: RIMDIAN_WORKSPACE, items: [userItem()] });
	assert.equal(rim.status, 502);
	assert.equal(sb.stats().rimdian.itemsStored, 1);

	const entry = { date: '2024-03-08 00:29:00', name: 'n', content: 'c' };
	const ay = await ayona({ source_id: AYONA_SOURCE_ID, payload: [entry] });
	assert.equal(ay.status, 502);
	assert.equal(sb.stats().ayona.entriesStored, 1);

	assert.equal(sb.stats().readings.processedThen502, 3);
	assert.equal((await ayona({ source_id: AYONA_SOURCE_ID, payload: [entry] })).status, 200, 'the count is used up');
});

test('readings config: bad values are refused and change nothing', async () => {
	for (const readings of [
		{ userpilotJobPath: 'links' },
		{ userpilotExportConflicts: -1 },
		{ userpilotExportConflicts: 1.5 },
		{ processedThen502: { hubspot: 1 } },
		{ nope: true },
	]) {
		const r = await fetch(`${sb.url}/__sandbox/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ readings }) });
		assert.equal(r.status, 400, JSON.stringify(readings));
	}
	assert.deepEqual(sb.config.readings.processedThen502, { userpilot: 0, rimdian: 0, ayona: 0 });
	const set = await admin('/config', { readings: { processedThen502: { ayona: 2 } } });
	assert.deepEqual(set.readings.processedThen502, { userpilot: 0, rimdian: 0, ayona: 2 });
});
