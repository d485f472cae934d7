/**
 * bench:concurrency — the package's batch sender (core/delivery/batch sendBatches over
 * core/transport PlatformTransport, Rimdian items prepared by core/rows/prepare) in this process, against
 * the receiver (bench/receiver.ts, its own process: a peer that only reads and counts), at concurrency 1, 2, 4, 8, 16 and batch sizes 25, 50, 100.
 *
 * Two transports, alternating at every point:
 *   - "n8n helper": the transport with its kept-alive connections off, so requests go through
 *     n8n-core's own httpRequest (from the n8n that `npm run e2e:setup` installs), as
 *     httpRequestWithAuthentication does inside n8n: a new http.Agent, so a new TCP connection,
 *     for every request;
 *   - "keep-alive": the transport as the nodes use it, batches on its own kept-alive connections.
 * Then one n8n run of Import Items at its defaults (batch 100, concurrency 4) on the same items,
 * to compare the in-process figure with the node in n8n (BENCH_CONCURRENCY_N8N=0 skips it).
 *
 *   npm run bench:concurrency
 *   BENCH_ITEMS=20000 BENCH_CONCURRENCY=1,2,4,8,16 BENCH_BATCH=25,50,100 BENCH_REPS=1
 */
import * as diagnostics from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

import type { ICredentialDataDecryptedObject, IHttpRequestOptions } from 'n8n-workflow';

import { sendBatches, toBatches, type PreparedItem } from '../core/delivery/batch';
import { compilePreparer } from '../core/rows/prepare';
import { PlatformTransport, type RequestContext } from '../core/transport';
import { rimdian } from '../platforms/rimdian';
import type { BatchDelivery, PlatformItemOptions } from '../core/platform';
import {
	chain,
	importItemsNode,
	envList,
	envNumber,
	fatal,
	itemSourceNodes,
	loadNow,
	log,
	median,
	nodeTime,
	num,
	printMachine,
	receiverHeadroom,
	receiverMax,
	REPO_ROOT,
	RIMDIAN_TOKEN,
	RIMDIAN_WORKSPACE,
	rimdianUser,
	rimdianUsersJson,
	saveResults,
	startN8n,
	startReceiverProcess,
	summaryLine,
	table,
	type ReceiverProcess,
} from './lib';

type Send = (options: IHttpRequestOptions) => Promise<unknown>;
type TransportName = 'n8n helper' | 'keep-alive';

/** n8n-core's httpRequest, from the n8n the end-to-end tests run. */
function n8nHttpRequest(): Send {
	const file = path.join(
		REPO_ROOT,
		'e2e/n8n/node_modules/n8n-core/dist/execution-engine/node-execution-context/utils/request-helper-functions.js',
	);
	if (!fs.existsSync(file)) fatal(`n8n-core is not installed (${file}): run \`npm run e2e:setup\``);
	return (require(file) as { httpRequest: Send }).httpRequest;
}

/** A minimal stand-in for httpRequest (full response, status errors ignored) over a keep-alive agent. */
function keepAliveRequest(agent: http.Agent): Send {
	return (options) =>
		new Promise((resolve, reject) => {
			const body = typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body ?? '');
			const request = http.request(
				options.url,
				{ method: options.method, agent, headers: { ...(options.headers as Record<string, string>), 'Content-Length': Buffer.byteLength(body) } },
				(response) => {
					let text = '';
					response.setEncoding('utf8');
					response.on('data', (chunk: string) => (text += chunk));
					response.on('end', () => resolve({ statusCode: response.statusCode, body: text, headers: response.headers }));
				},
			);
			request.on('error', reject);
			request.end(body);
		});
}

/** Enough of n8n's execute context for PlatformTransport: the authenticated request helper. */
function contextFor(send: Send, credentials: ICredentialDataDecryptedObject): RequestContext {
	const headers = rimdian.authHeaders(credentials);
	return {
		helpers: {
			httpRequestWithAuthentication: async (_type: string, options: IHttpRequestOptions) =>
				await send({ ...options, headers: { ...(options.headers ?? {}), ...headers } }),
		},
	} as unknown as RequestContext;
}

/** n8n-core's httpRequest, set in main: the one Send that keeps the transport on n8n's helper. */
let helperSend: Send | undefined;

/** TCP connections this process opened (Node's net.client.socket diagnostics channel). */
let socketsOpened = 0;
diagnostics.subscribe('net.client.socket', () => {
	socketsOpened++;
});

async function sendAll(
	receiver: ReceiverProcess,
	send: Send,
	prepared: PreparedItem[],
	batch: number,
	concurrency: number,
	credentials: ICredentialDataDecryptedObject,
	itemOptions: PlatformItemOptions,
): Promise<{ ms: number; sockets: number }> {
	await receiver.reset();
	const sockets0 = socketsOpened;
	// The keep-alive arm is the transport's own connections (its helper is then not called).
	const transport = new PlatformTransport(contextFor(send, credentials), rimdian, credentials, undefined, {
		keepAlive: send !== helperSend,
	});
	let accepted = 0;
	const started = process.hrtime.bigint();
	const fatalError = await sendBatches(
		transport,
		rimdian.delivery as BatchDelivery,
		toBatches(prepared, batch),
		{ concurrency, stopOnFailure: true, credentials, itemOptions },
		(_item, result) => {
			if (result.status === 'accepted') accepted++;
		},
	);
	const ms = Number(process.hrtime.bigint() - started) / 1e6;
	if (fatalError) fatal(`batch ${batch}, concurrency ${concurrency}: ${fatalError.message}`);
	const stats = await receiver.stats();
	if (accepted !== prepared.length || stats.items !== prepared.length) {
		fatal(`batch ${batch}, concurrency ${concurrency}: ${accepted} accepted, the receiver counted ${stats.items} of ${prepared.length}`);
	}
	transport.close();
	return { ms, sockets: socketsOpened - sockets0 };
}

interface Point {
	batch: number;
	concurrency: number;
	transport: TransportName;
	ms: number[];
	/** TCP connections opened for the run (last round). */
	sockets: number;
	requests: number;
}

async function main(): Promise<void> {
	const items = Math.round(envNumber('BENCH_ITEMS', 20_000));
	const concurrencies = envList('BENCH_CONCURRENCY', [1, 2, 4, 8, 16]).map(Math.round);
	const batches = envList('BENCH_BATCH', [25, 50, 100]).map(Math.round);
	const reps = Math.round(envNumber('BENCH_REPS', 1));
	const withN8n = process.env.BENCH_CONCURRENCY_N8N !== '0';
	const info = printMachine(
		`bench:concurrency — ${num(items)} Rimdian users through the package's batch sender, concurrency ${concurrencies.join('/')} x batch ${batches.join('/')}, ${reps} round(s)`,
	);

	const receiver = await startReceiverProcess();
	try {
		const credentials: ICredentialDataDecryptedObject = {
			platform: 'rimdian',
			rimdianAuthentication: 'accessToken',
			rimdianRegion: 'custom',
			baseUrl: receiver.url,
			apiKey: RIMDIAN_TOKEN,
			workspaceId: RIMDIAN_WORKSPACE,
		};
		const itemOptions: PlatformItemOptions = { timezone: 'UTC', rimdianKind: 'user' };
		const prepare = compilePreparer(rimdian, itemOptions);
		const prepared: PreparedItem[] = [];
		for (let i = 0; i < items; i++) {
			const outcome = prepare(rimdianUser(i), i);
			if (!outcome.ok) fatal(`item ${i} is invalid: ${outcome.result.message}`);
			prepared.push(outcome.item);
		}
		const viaN8n = n8nHttpRequest();
		helperSend = viaN8n;
		const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...concurrencies) });
		const viaKeepAlive = keepAliveRequest(agent);

		const points: Point[] = [];
		for (const batch of batches) {
			for (const concurrency of concurrencies) {
				points.push({ batch, concurrency, transport: 'n8n helper', ms: [], sockets: 0, requests: Math.ceil(items / batch) });
				points.push({ batch, concurrency, transport: 'keep-alive', ms: [], sockets: 0, requests: Math.ceil(items / batch) });
			}
		}
		// Warm-up (JIT, the receiver's first requests), not counted.
		await sendAll(receiver, viaN8n, prepared.slice(0, 2000), 100, 4, credentials, itemOptions);
		await sendAll(receiver, viaKeepAlive, prepared.slice(0, 2000), 100, 4, credentials, itemOptions);
		for (let round = 1; round <= reps; round++) {
			for (const [index, point] of points.entries()) {
				// Pairs (n8n helper, keep-alive) of the same setting run back to back; which goes first alternates.
				const pairIndex = Math.floor(index / 2);
				const swap = (pairIndex + round) % 2 === 1;
				const target = swap ? points[index % 2 === 0 ? index + 1 : index - 1] : point;
				const { ms, sockets } = await sendAll(
					receiver,
					target.transport === 'n8n helper' ? viaN8n : viaKeepAlive,
					prepared,
					target.batch,
					target.concurrency,
					credentials,
					itemOptions,
				);
				target.ms.push(ms);
				target.sockets = sockets;
			}
			log(`round ${round} done, load ${loadNow()}`);
		}
		agent.destroy();

		const rate = (point: Point) => items / (median(point.ms) / 1000);
		for (const transport of ['n8n helper', 'keep-alive'] as const) {
			log('');
			log(`${transport === 'n8n helper' ? "n8n's request helper (a new connection per request), as the node sends today" : 'keep-alive agent (connections reused)'}: items/s`);
			table(
				['batch \\ concurrency', ...concurrencies.map(String)],
				batches.map((batch) => [
					String(batch),
					...concurrencies.map((concurrency) => {
						const point = points.find((p) => p.batch === batch && p.concurrency === concurrency && p.transport === transport) as Point;
						return num(rate(point));
					}),
				]),
			);
		}
		const helperPoints = points.filter((point) => point.transport === 'n8n helper');
		const best = helperPoints.reduce((a, b) => (rate(b) > rate(a) ? b : a));
		const current = helperPoints.find((point) => point.batch === 100 && point.concurrency === 4);
		const keepAliveCurrent = points.find((point) => point.batch === 100 && point.concurrency === 4 && point.transport === 'keep-alive');
		log('');
		log(`best with n8n's helper: batch ${best.batch}, concurrency ${best.concurrency}: ${num(rate(best))} items/s`);
		if (current) {
			log(`node defaults (batch 100, concurrency 4): ${num(rate(current))} items/s = ${(rate(current) / rate(best)).toFixed(2)}x of the best point`);
		}
		if (current && keepAliveCurrent) {
			log(`same defaults with keep-alive: ${num(rate(keepAliveCurrent))} items/s (${(rate(keepAliveCurrent) / rate(current)).toFixed(2)}x)`);
			log(
				`TCP connections opened at the defaults: ${num(current.sockets)} through n8n's helper, ${num(keepAliveCurrent.sockets)} with keep-alive, ` +
					`for ${num(current.requests)} requests`,
			);
		}

		// The receiver's own maximum with batch-100 bodies as the sender builds them.
		await sendAll(receiver, viaKeepAlive, prepared.slice(0, 6400), 100, 4, credentials, itemOptions);
		const max = await receiverMax(receiver, await receiver.samples());
		const fastest = points.reduce((a, b) => (rate(b) > rate(a) ? b : a));
		const headroom = receiverHeadroom(max, rate(fastest), `the fastest point (${fastest.transport}, batch ${fastest.batch}, concurrency ${fastest.concurrency})`);

		let n8nMs: number | undefined;
		if (withN8n) {
			const file = await rimdianUsersJson(items);
			const bench = await startN8n(receiver.url);
			try {
				const workflow = chain(`bench concurrency import ${items}`, [
					...itemSourceNodes(file),
					importItemsNode(),
				]);
				await bench.importWorkflows([workflow]);
				await receiver.reset();
				const run = await bench.run(workflow.id);
				n8nMs = nodeTime(run, 'Import Items', 'Import Items in n8n');
				const stats = await receiver.stats();
				if (stats.items !== items) fatal(`Import Items in n8n: the receiver counted ${stats.items} of ${items}`);
				log(
					`Import Items inside n8n, defaults: ${num(items / (n8nMs / 1000))} items/s (node time ${num(n8nMs)} ms; ` +
						`mapping and validation included, which the in-process figures leave out)`,
				);
			} finally {
				await bench.dispose();
			}
		}
		log(`load at end: ${loadNow()}`);
		saveResults('concurrency', {
			machine: info,
			config: { items, concurrencies, batches, reps },
			points: points.map((point) => ({ ...point, itemsPerSecond: rate(point) })),
			best: { batch: best.batch, concurrency: best.concurrency, itemsPerSecond: rate(best) },
			importItemsInN8nMs: n8nMs,
			receiverMax: max,
			receiverHeadroom: headroom,
		});
		summaryLine(
			`bench:concurrency (best: batch ${best.batch}, concurrency ${best.concurrency})`,
			rate(best),
			'items/s',
			current ? rate(best) / rate(current) : Number.NaN,
			`the defaults (batch 100, concurrency 4); receiver max ${num(max.itemsPerSecond)} items/s = ${headroom.ratio.toFixed(1)}x${headroom.valid ? '' : ' INVALID'}`,
		);
	} finally {
		await receiver.stop();
	}
}

main().catch((error: unknown) => fatal((error as Error)?.stack ?? String(error)));
