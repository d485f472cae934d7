/**
 * The benchmarks' receiver (bench/receiver.ts): it must count every item the nodes send and answer
 * what the platforms' own answer checks accept, else a benchmark against it would measure errors.
 */
import type { AddressInfo } from 'node:net';

import { startReceiver, type Receiver, type ReceiverStats } from '../../bench/receiver';
import { canonicalJson } from '../../core/canonicalJson';
import { PLATFORMS } from '../../platforms';

let server: Receiver;
let base: string;
let userpilotBase: string;

beforeAll(async () => {
	server = startReceiver(0, false);
	for (const one of [server, server.userpilot]) await new Promise<void>((resolve) => (one.listening ? resolve() : one.once('listening', () => resolve())));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	userpilotBase = `http://127.0.0.1:${(server.userpilot.address() as AddressInfo).port}`;
});
afterAll(async () => await new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(async () => void (await fetch(`${base}/__receiver/reset`, { method: 'POST' })));

const stats = async () => (await (await fetch(`${base}/__receiver/stats`)).json()) as ReceiverStats;
const post = async (path: string, body: string) => await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

function rimdianBody(count: number): string {
	const items = Array.from({ length: count }, (_, i) =>
		canonicalJson({ kind: 'user', user: { external_id: `u${i}`, email: `{"kind":"trap${i}"}@example.com` } }),
	);
	return PLATFORMS.rimdian.delivery.mode === 'batch' ? PLATFORMS.rimdian.delivery.buildBody(items, { workspaceId: 'w' }, { timezone: 'UTC' } as never) : '';
}

describe('bench receiver', () => {
	test("answers Rimdian's /data as Rimdian's checkAnswer accepts, and counts its items", async () => {
		const response = await post('/data', rimdianBody(3));
		const text = await response.text();
		expect(response.status).toBe(200);
		expect(PLATFORMS.rimdian.delivery.mode === 'batch' && PLATFORMS.rimdian.delivery.checkAnswer(text)).toBeUndefined();
		expect(await stats()).toMatchObject({ requests: 1, accepted: 1, items: 3, refused: 0, badBodies: 0 });
	});

	test("answers Ayona's import as Ayona's checkAnswer accepts, and counts its payload", async () => {
		const payload = [0, 1].map((i) => `{"date":"2024-01-0${i + 1}","name":"n${i}","content":{}}`).join(',');
		const response = await post('/api/v1/source/import', `{"source_id":"s","payload":[${payload}]}`);
		expect(response.status).toBe(200);
		const answer = await response.text();
		expect(PLATFORMS.ayona.delivery.mode === 'batch' && PLATFORMS.ayona.delivery.checkAnswer(answer)).toBeUndefined();
		expect((await stats()).items).toBe(2);
	});

	test('parse mode counts the items array, whatever the strings hold', async () => {
		await fetch(`${base}/__receiver/config`, { method: 'POST', body: JSON.stringify({ parse: true }) });
		await post('/data', rimdianBody(5));
		await post('/data', 'not json');
		const counted = await stats();
		await fetch(`${base}/__receiver/config`, { method: 'POST', body: JSON.stringify({ parse: false }) });
		expect(counted).toMatchObject({ parse: true, items: 5, badBodies: 1 });
	});

	test('refuses any other route, and keeps the first bodies byte for byte for the maximum-rate driver', async () => {
		const body = rimdianBody(2);
		expect((await post('/nowhere', '{}')).status).toBe(404);
		await post('/data', body);
		const samples = (await (await fetch(`${base}/__receiver/samples`)).json()) as Array<{ path: string; items: number; body: string }>;
		expect(samples).toHaveLength(1);
		expect(samples[0]).toMatchObject({ path: '/data', items: 2 });
		expect(Buffer.from(samples[0].body, 'base64').toString('utf8')).toBe(body);
		expect(await stats()).toMatchObject({ requests: 2, refused: 1, accepted: 1 });
	});

	describe("Userpilot's import", () => {
		const auth = { authorization: 'Token up-key' };
		const upload = async (file: Buffer, headers: Record<string, string> = auth) => {
			const form = new FormData();
			form.append('file', new Blob([file], { type: 'application/x-ndjson' }), 'rows-1.ndjson');
			return await fetch(`${userpilotBase}/v1/imports`, { method: 'POST', headers, body: form });
		};
		const getJson = async (path: string, headers: Record<string, string> = auth) => {
			const response = await fetch(`${userpilotBase}${path}`, { headers });
			return { status: response.status, body: (await response.json()) as Record<string, unknown> & Array<Record<string, unknown>> };
		};

		test('counts a multipart upload by its file bytes and answers the job as the sandbox does on creation', async () => {
			// Bytes that look like a boundary or a part head inside the file must not matter.
			const file = Buffer.from(Array.from({ length: 5000 }, (_, i) => `{"user_id":"u${i}","x":"\r\n--x\r\n\r\n"}\n`).join(''));
			const response = await upload(file);
			expect(response.status).toBe(200);
			const job = (await response.json()) as Record<string, unknown>;
			expect(Object.keys(job).sort()).toEqual(['end_time', 'file_size', 'filename', 'job_id', 'links', 'start_time', 'status', 'total_rows']);
			expect(job).toMatchObject({ status: 'queued', file_size: file.length, filename: 'rows-1.ndjson', end_time: null, total_rows: 0 });
			expect(job.links).toBe(`/v1/background_jobs/${String(job.job_id)}`);
			expect(await stats()).toMatchObject({ accepted: 1, refused: 0, userpilot: { uploads: 1, bytes: file.length } });

			// Read afterwards by its link, the documented path or the list: completed, same job.
			for (const path of [String(job.links), `/api/background_jobs/${encodeURIComponent(String(job.job_id))}`]) {
				const read = await getJson(path);
				expect(read.status).toBe(200);
				expect(read.body).toMatchObject({ job_id: job.job_id, status: 'completed', file_size: file.length, filename: 'rows-1.ndjson' });
			}
			const list = await getJson('/v1/background_jobs');
			expect(list.status).toBe(200);
			expect(list.body.map((one) => one.job_id)).toEqual([job.job_id]);
			expect((await getJson('/v1/background_jobs', { authorization: 'Token other-key' })).body).toEqual([]);
			expect((await getJson('/v1/background_jobs/nope')).status).toBe(404);
		});

		test('refuses an upload without a token, and reset clears uploads, bytes and jobs', async () => {
			const refused = await upload(Buffer.from('{"a":1}\n'), {});
			expect(refused.status).toBe(401);
			expect(((await refused.json()) as { errors: Array<{ error_code: string }> }).errors[0].error_code).toBe('401');
			expect(await stats()).toMatchObject({ refused: 1, userpilot: { uploads: 0, bytes: 0 } });
			await upload(Buffer.from('{"a":1}\n'));
			await upload(Buffer.from('{"a":22}\n'));
			expect((await stats()).userpilot).toEqual({ uploads: 2, bytes: 17 });
			await fetch(`${base}/__receiver/reset`, { method: 'POST' });
			expect((await stats()).userpilot).toEqual({ uploads: 0, bytes: 0 });
			expect((await getJson('/v1/background_jobs')).body).toEqual([]);
		});
	});
});
