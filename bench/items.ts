/**
 * bench:items — Import Items throughput into a Rimdian API, 50,000 items (BENCH_ITEMS), inside a
 * real n8n, all posting to the receiver (bench/receiver.ts: a peer that only reads and counts,
 * answering Rimdian's `queued`), against:
 *   (a) the ceiling: a plain Node client (http.Agent keepAlive), the same 100-item batches (the
 *       node's bodies, built beforehand and checked byte for byte against what the node sent),
 *       4 in flight (the node's defaults), to the same receiver; in a new process for each pass
 *       (bench/workers/client.ts), cold as the node's code is in each new `n8n execute`;
 *   (b) Import Items (default options: batch 100, concurrency 4): the node's own time;
 *   (c) what users build today: a Code node cutting the items into 100-item bodies -> the HTTP
 *       Request node (v4.2, POST, header auth credential): Code time + HTTP Request time;
 *   (d) the naive one: the HTTP Request node, one request per item, on 2,000 items, time x50;
 *   (e) the floor: the ceiling's client (a new process too) serializing each item just before it posts it
 *       (JSON.stringify of items whose keys are already in order, so the bytes are the
 *       ceiling's: checked), and nothing else: no n8n items to read, no mapping, validation or
 *       results. What any importer that serializes must spend at least; its ratio to the ceiling
 *       is as close as a node can come.
 * (b), (c) and (d) are three branches of one workflow fed by the same items, run one after the
 * other (n8n's v1 order: top branch first); each round puts them in another order, and (a) runs
 * before the n8n run in odd rounds and after it in even ones. BENCH_REPS rounds (2), medians.
 * Each round also drives the receiver as hard as it goes with the very same bytes (its maximum);
 * a maximum under 3x the fastest contender makes the figures invalid (loudly, exit code 1).
 *
 *   npm run bench:items
 *   BENCH_ITEMS=10000 BENCH_REPS=1 npm run bench:items
 *   BENCH_HTTP_BODY=json|raw  (c)'s body: an object from the Code node sent as JSON, or a string
 *                             sent raw as application/json (default raw: the faster one here)
 *   BENCH_NAIVE_ITEMS=5000
 */
import {
	chain,
	clientPass,
	importItemsNode,
	envNumber,
	fatal,
	HEADER_AUTH_CREDENTIAL,
	itemSourceNodes,
	loadNow,
	log,
	mb,
	median,
	nodeTime,
	num,
	printMachine,
	receiverHeadroom,
	receiverMax,
	rimdianBodies,
	rimdianUser,
	rimdianUsersJson,
	RIMDIAN_WORKSPACE,
	saveResults,
	startN8n,
	startReceiverProcess,
	summaryLine,
	table,
	type BenchRun,
	type ReceiverMax,
	type ReceiverSample,
	type Workflow,
} from './lib';

const BATCH = 100;
const CONCURRENCY = 4;

type Contender = 'b' | 'c' | 'd';
const LABEL: Record<'a' | 'e' | Contender, string> = {
	a: '(a) plain Node client, keep-alive (ceiling)',
	b: '(b) Import Items',
	c: '(c) Code -> HTTP Request (100-item bodies)',
	d: '(d) HTTP Request per item (x scaled)',
	e: '(e) floor: serialize + send, nothing else',
};

/** One workflow: the item source, then the three branches in the given top-to-bottom order. */
function workflowFor(order: Contender[], file: string, receiverUrl: string, naiveItems: number, rawBody: boolean): Workflow {
	const base = chain(`bench items ${order.join('')}`, itemSourceNodes(file));
	const httpNode = (name: string, body: Record<string, unknown>) => ({
		name,
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		credentials: { httpHeaderAuth: { id: HEADER_AUTH_CREDENTIAL, name: HEADER_AUTH_CREDENTIAL } },
		parameters: {
			method: 'POST',
			url: `${receiverUrl}/data`,
			authentication: 'genericCredentialType',
			genericAuthType: 'httpHeaderAuth',
			sendBody: true,
			...body,
			options: {},
		},
	});
	const chunkCode = rawBody
		? `const all = $input.all();\nconst out = [];\nfor (let i = 0; i < all.length; i += ${BATCH}) {\n  const items = all.slice(i, i + ${BATCH}).map((item) => ({ kind: 'user', user: item.json }));\n  out.push({ json: { body: JSON.stringify({ workspace_id: '${RIMDIAN_WORKSPACE}', items }) } });\n}\nreturn out;`
		: `const all = $input.all();\nconst out = [];\nfor (let i = 0; i < all.length; i += ${BATCH}) {\n  const items = all.slice(i, i + ${BATCH}).map((item) => ({ kind: 'user', user: item.json }));\n  out.push({ json: { body: { workspace_id: '${RIMDIAN_WORKSPACE}', items } } });\n}\nreturn out;`;
	const lastX = 660;
	const branches: Record<Contender, Array<Record<string, unknown>>> = {
		b: [
			importItemsNode(),
		],
		c: [
			{ name: 'Code: 100-item bodies', type: 'n8n-nodes-base.code', typeVersion: 2, parameters: { jsCode: chunkCode } },
			httpNode(
				'HTTP Request (bodies)',
				rawBody
					? { contentType: 'raw', rawContentType: 'application/json', body: '={{ $json.body }}' }
					: { specifyBody: 'json', jsonBody: '={{ $json.body }}' },
			),
		],
		d: [
			{ name: `First ${naiveItems}`, type: 'n8n-nodes-base.limit', typeVersion: 1, parameters: { maxItems: naiveItems } },
			httpNode(
				'HTTP Request (per item)',
				{ specifyBody: 'json', jsonBody: `={{ { workspace_id: '${RIMDIAN_WORKSPACE}', items: [{ kind: 'user', user: $json }] } }}` },
			),
		],
	};
	const connections = base.connections as Record<string, { main: Array<Array<{ node: string; type: string; index: number }>> }>;
	connections.Items = { main: [[]] };
	order.forEach((contender, row) => {
		const nodes = branches[contender];
		nodes.forEach((node, column) => {
			node.position = [lastX + column * 220, row * 200];
			base.nodes.push(node);
			if (column === 0) connections.Items.main[0].push({ node: node.name as string, type: 'main', index: 0 });
			else connections[nodes[column - 1].name as string] = { main: [[{ node: node.name as string, type: 'main', index: 0 }]] };
		});
	});
	return base;
}

/**
 * The ceiling must post the bytes the node posts: the first bodies Import Items sent (kept by the
 * receiver) must each be one of the ceiling's bodies. Says loudly when not (the comparison would
 * then be between different work).
 */
function checkSameBytes(samples: ReceiverSample[], bodies: string[]): void {
	const ceiling = new Set(bodies);
	// Import Items runs first in this round: the first bodies received are its own.
	const nodeBodies = samples.slice(0, bodies.length);
	const differing = nodeBodies.filter((sample) => !ceiling.has(sample.body.toString('utf8')));
	if (nodeBodies.length === 0 || differing.length > 0) {
		fatal(
			`Import Items did not send the ceiling's bytes: ${differing.length} of its first ${nodeBodies.length} bodies differ ` +
				`(first: ${differing[0]?.body.toString('utf8').slice(0, 300)})`,
		);
	}
	log(`same bytes: Import Items' first ${nodeBodies.length} bodies are each byte for byte one of the ceiling's bodies`);
}

interface Round {
	round: number;
	order: string;
	ms: Record<'a' | 'e' | Contender, number>;
	detail: Record<string, number>;
	connections: Record<string, number>;
	n8nWallMs: number;
	n8nPeakBytes: number;
	receiverMax: ReceiverMax;
}

async function main(): Promise<void> {
	const items = Math.round(envNumber('BENCH_ITEMS', 50_000));
	const naiveItems = Math.min(items, Math.round(envNumber('BENCH_NAIVE_ITEMS', 2_000)));
	const reps = Math.round(envNumber('BENCH_REPS', 2));
	const rawBody = (process.env.BENCH_HTTP_BODY ?? 'raw') !== 'json';
	const scale = items / naiveItems;
	const info = printMachine(`bench:items — ${num(items)} Rimdian users: Import Items vs a keep-alive client, Code -> HTTP Request, HTTP Request per item; ${reps} rounds`);
	const file = await rimdianUsersJson(items);
	const users = Array.from({ length: items }, (_, i) => rimdianUser(i));
	const bodies = rimdianBodies(users, BATCH);

	const receiver = await startReceiverProcess();
	const bench = await startN8n(receiver.url);
	try {
		const orders: Contender[][] = [
			['b', 'c', 'd'],
			['c', 'd', 'b'],
			['d', 'b', 'c'],
		];
		const workflows = orders.map((order) => workflowFor(order, file, receiver.url, naiveItems, rawBody));
		await bench.importWorkflows(workflows);

		const rounds: Round[] = [];
		for (let round = 1; round <= reps; round++) {
			const workflow = workflows[(round - 1) % workflows.length];
			const order = orders[(round - 1) % orders.length];
			const row: Partial<Round> = { round, ms: {} as Round['ms'], detail: {}, connections: {} };
			const ceiling = async () => {
				await receiver.reset();
				const result = await clientPass('ceiling', receiver.url, items, BATCH, CONCURRENCY);
				const stats = await receiver.stats();
				if (stats.items !== items || stats.accepted !== bodies.length) fatal(`(a) the receiver counted ${stats.items} items in ${stats.accepted} requests, expected ${items} in ${bodies.length}`);
				(row.ms as Round['ms']).a = result.ms;
				(row.connections as Record<string, number>).a = result.sockets;
				// The receiver's maximum right after the ceiling, under the same load, with its bytes.
				row.receiverMax = await receiverMax(receiver, await receiver.samples());
				await receiver.reset();
				const floor = await clientPass('floor', receiver.url, items, BATCH, CONCURRENCY);
				const floorStats = await receiver.stats();
				if (floorStats.items !== items) fatal(`(e) the receiver counted ${floorStats.items} items, expected ${items}`);
				(row.ms as Round['ms']).e = floor.ms;
			};
			const inN8n = async () => {
				await receiver.reset();
				const run: BenchRun = await bench.run(workflow.id, 1_200_000);
				const time = (node: string) => nodeTime(run, node, `round ${round}, node ${node}`);
				const ms = row.ms as Round['ms'];
				const detail = row.detail as Record<string, number>;
				ms.b = time('Import Items');
				detail.code = time('Code: 100-item bodies');
				detail.httpBodies = time('HTTP Request (bodies)');
				ms.c = detail.code + detail.httpBodies;
				detail.naive = time('HTTP Request (per item)');
				ms.d = detail.naive * scale;
				detail.source = time('Extract From File') + time('Items') + time('Read File');
				row.n8nWallMs = run.wallMs;
				row.n8nPeakBytes = run.process.peakBytes;
				// The branches must have run one after the other, in the order of this round.
				const first: Record<Contender, string> = { b: 'Import Items', c: 'Code: 100-item bodies', d: `First ${naiveItems}` };
				const starts = order.map((contender) => run.nodes[first[contender]]?.startTime ?? Number.NaN);
				if (!starts.every((start, i) => i === 0 || start > starts[i - 1])) log(`note: branches did not run in the order ${order.join(',')}: ${starts.join(', ')}`);
				// Everything must have arrived: b and c send every item, d one request per item.
				const counts = {
					importItems: run.nodes['Import Items']?.items,
					httpBodies: run.nodes['HTTP Request (bodies)']?.items,
					naive: run.nodes['HTTP Request (per item)']?.items,
				};
				const stats = await receiver.stats();
				if (order[0] === 'b') checkSameBytes(await receiver.samples(), bodies);
				const expectedItems = items * 2 + naiveItems;
				const expectedRequests = Math.ceil(items / BATCH) * 2 + naiveItems;
				if (
					stats.items !== expectedItems ||
					stats.accepted !== expectedRequests ||
					stats.refused > 0 ||
					stats.badBodies > 0 ||
					counts.importItems !== items ||
					counts.httpBodies !== Math.ceil(items / BATCH) ||
					counts.naive !== naiveItems
				) {
					fatal(
						`round ${round}: not everything arrived: the receiver counted ${stats.items} items in ${stats.accepted} ` +
							`accepted requests (expected ${expectedItems} in ${expectedRequests}), ${stats.refused} refused, ${stats.badBodies} without items, ` +
							`node outputs ${JSON.stringify(counts)}`,
					);
				}
			};
			if (round % 2 === 1) {
				await ceiling();
				await inN8n();
			} else {
				await inN8n();
				await ceiling();
			}
			row.order = order.join('');
			rounds.push(row as Round);
			const ms = row.ms as Round['ms'];
			log(
				`round ${round} (n8n branch order ${order.join(',')}): a ${num(ms.a)} ms, e ${num(ms.e)} ms, b ${num(ms.b)} ms, c ${num(ms.c)} ms, d ${num(ms.d)} ms (x${num(scale, 1)}), load ${loadNow()}`,
			);
		}

		const med = (contender: 'a' | 'e' | Contender) => median(rounds.map((r) => r.ms[contender]));
		const ceilingMs = med('a');
		const maxRate = median(rounds.map((r) => r.receiverMax.itemsPerSecond));
		log('');
		table(
			['contender', 'median ms', 'items/s', 'x of ceiling (rate)', 'receiver max / rate', 'rounds ms'],
			(['a', 'e', 'b', 'c', 'd'] as const).map((contender) => [
				LABEL[contender],
				num(med(contender)),
				num(items / (med(contender) / 1000)),
				(ceilingMs / med(contender)).toFixed(2),
				`${(maxRate / (items / (med(contender) / 1000))).toFixed(1)}x`,
				rounds.map((r) => num(r.ms[contender])).join(' / '),
			]),
		);
		log('');
		const detail = (key: string) => num(median(rounds.map((r) => r.detail[key])));
		log(`(c) split: Code ${detail('code')} ms + HTTP Request ${detail('httpBodies')} ms; (d) measured ${detail('naive')} ms on ${num(naiveItems)} items`);
		log(`item source (Read File + Extract From File + Split Out), not counted: ${detail('source')} ms`);
		log(`TCP connections opened by (a): ${num(median(rounds.map((r) => r.connections.a)))} for ${num(bodies.length)} requests (n8n's helpers open one per request: see bench:concurrency)`);
		log(`n8n run: wall ${num(median(rounds.map((r) => r.n8nWallMs)))} ms, peak RSS ${num(mb(median(rounds.map((r) => r.n8nPeakBytes))))} MiB`);
		const ratio = ceilingMs / med('b');
		const fastest = Math.max(items / (ceilingMs / 1000), items / (med('b') / 1000));
		const headroom = receiverHeadroom(
			{ ...rounds[0].receiverMax, itemsPerSecond: maxRate, requestsPerSecond: median(rounds.map((r) => r.receiverMax.requestsPerSecond)) },
			fastest,
			'the fastest contender',
		);
		log(`receiver max per round: ${rounds.map((r) => num(r.receiverMax.itemsPerSecond)).join(' / ')} items/s`);
		log(
			`goal: Import Items >= 0.8x of the ceiling: ${ratio >= 0.8 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x); ` +
				`vs (c) ${(med('c') / med('b')).toFixed(2)}x faster, vs (d) ${(med('d') / med('b')).toFixed(2)}x faster`,
		);
		const floorRatio = ceilingMs / med('e');
		log(
			`floor: serializing and sending alone reach ${floorRatio.toFixed(2)}x of the ceiling; Import Items (${ratio.toFixed(2)}x) also reads n8n's items, ` +
				`maps, validates and returns one result per item, in ${num(med('b') - med('e'))} ms more than the floor (${num(((med('b') - med('e')) * 1000) / items, 2)} µs an item)`,
		);
		log(`load at end: ${loadNow()}`);
		saveResults('items', {
			machine: info,
			config: { items, naiveItems, reps, batch: BATCH, concurrency: CONCURRENCY, httpBody: rawBody ? 'raw' : 'json' },
			rounds,
			medians: { a: ceilingMs, b: med('b'), c: med('c'), d: med('d'), e: med('e'), receiverMaxItemsPerSecond: maxRate },
			receiverHeadroom: headroom,
		});
		summaryLine(
			`bench:items (${num(items)} items, Import Items)`,
			items / (med('b') / 1000),
			'items/s',
			ratio,
			`plain keep-alive client; receiver max ${num(maxRate)} items/s = ${headroom.ratio.toFixed(1)}x${headroom.valid ? '' : ' INVALID'}`,
		);
	} finally {
		await bench.dispose();
		await receiver.stop();
	}
}

main().catch((error: unknown) => fatal((error as Error)?.stack ?? String(error)));
