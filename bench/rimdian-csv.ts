/**
 * bench:rimdian-csv — a CSV of 200,000 users (BENCH_ROWS) (external_id, is_authenticated, created_at, email,
 * first_name) streamed into a Rimdian API (the receiver, bench/receiver.ts: a peer that only reads
 * and counts) by Bulk File Import inside a real n8n
 * (Manual Trigger -> Read/Write Files from Disk -> Bulk File Import, default options: batches of
 * 100, concurrency 4), against the rate at which csv-parse alone reads the same file in a plain
 * Node process (the ceiling). Alternating: csv-parse, n8n, csv-parse, … (BENCH_REPS n8n runs).
 * Beside them, the floor: a plain Node process (bench/workers/csv-floor.ts) in which csv-parse
 * reads the file and each row is written straight as the item the node sends (checked byte for
 * byte against the node's first bodies) and posted the same way, 4 in flight: what any importer of
 * this file spends at least; its ratio to csv-parse alone is as close as the node can come.
 *
 *   npm run bench:rimdian-csv
 *   BENCH_ROWS=100000 npm run bench:rimdian-csv
 *
 * Rows per second = rows / the node's own execution time (n8n's run data). Checks that the
 * receiver counted every row, then replays the node's own first bodies at the receiver as hard as
 * it goes (its maximum, printed beside the figure; under 3x the node's rate the figure is invalid).
 */
import * as path from 'node:path';

import {
	chain,
	credentialRef,
	csvFloorPass,
	csvPass,
	envNumber,
	fatal,
	loadNow,
	log,
	mb,
	median,
	nodeTime,
	num,
	printMachine,
	readFileNode,
	receiverHeadroom,
	receiverMax,
	rimdianUsersCsv,
	saveResults,
	startN8n,
	startReceiverProcess,
	summaryLine,
	table,
	type CsvPass,
	type ReceiverMax,
	type ReceiverSample,
} from './lib';

const NODE = 'Bulk File Import';
/** Bulk File Import's defaults, which the floor sends with too. */
const BATCH = 100;
const CONCURRENCY = 4;

interface N8nRound {
	round: number;
	nodeMs: number;
	rowsPerSecond: number;
	wallMs: number;
	n8nCpuMs: number;
	n8nPeakBytes: number;
	receiverCpuMs: number;
	requests: number;
	accepted: number;
}

async function main(): Promise<void> {
	const rows = Math.round(envNumber('BENCH_ROWS', 200_000));
	const reps = Math.round(envNumber('BENCH_REPS', 1));
	const info = printMachine(`bench:rimdian-csv — ${num(rows)} user rows, Bulk File Import into Rimdian vs csv-parse alone`);
	const file = await rimdianUsersCsv(rows);
	log(`file: ${path.relative(process.cwd(), file)}`);

	const receiver = await startReceiverProcess();
	const bench = await startN8n(receiver.url);
	try {
		const workflow = chain('bench rimdian csv', [
			readFileNode(file),
			{
				name: NODE,
				type: 'n8n-nodes-data-import.bulkFileImport',
				typeVersion: 1,
				parameters: { platform: 'rimdian', rimdianKind: 'user', binaryPropertyName: 'data', fileFormat: 'auto', onInvalid: 'skip', options: {} },
				credentials: credentialRef('sandboxRimdian'),
			},
		]);
		await bench.importWorkflows([workflow]);

		const ceiling: CsvPass[] = [];
		const runs: N8nRound[] = [];
		const maxima: ReceiverMax[] = [];
		const floors: number[] = [];
		/** The floor's pass; its first bodies must be among the node's first (same bytes). */
		const floorOnce = async (nodeSamples: ReceiverSample[]) => {
			await receiver.reset();
			const pass = await csvFloorPass(file, receiver.url, BATCH, CONCURRENCY);
			const stats = await receiver.stats();
			if (pass.rows !== rows || stats.items !== rows) fatal(`floor: wrote ${pass.rows} rows, the receiver counted ${stats.items}; expected ${rows}`);
			const nodeBodies = new Set(nodeSamples.map((sample) => sample.body.toString('utf8')));
			const differing = (await receiver.samples()).slice(0, 48).filter((sample) => !nodeBodies.has(sample.body.toString('utf8')));
			if (differing.length > 0) fatal(`floor: ${differing.length} of its first 48 bodies are not the node's; first: ${differing[0].body.toString('utf8').slice(0, 300)}`);
			floors.push(pass.ms);
			log(`floor: ${num(pass.ms)} ms, ${num(rows / (pass.ms / 1000))} rows/s (same bytes as the node's), load ${loadNow()}`);
		};
		const parseOnce = async () => {
			const pass = await csvPass('csv-parse', file);
			if (pass.rows !== rows) fatal(`csv-parse read ${pass.rows} rows, expected ${rows}`);
			ceiling.push(pass);
			log(`csv-parse: ${num(pass.ms)} ms, ${num(rows / (pass.ms / 1000))} rows/s, load ${loadNow()}`);
		};
		await parseOnce();
		for (let round = 1; round <= reps; round++) {
			await receiver.reset();
			const cpu0 = receiver.cpuMs();
			const run = await bench.run(workflow.id, 1_800_000);
			const nodeMs = nodeTime(run, NODE, `Bulk File Import (round ${round})`);
			const stats = await receiver.stats();
			const summary = run.result?.nodeOutput(NODE)[0] ?? {};
			if (stats.items !== rows || stats.refused > 0 || stats.badBodies > 0) {
				fatal(
					`the receiver counted ${stats.items} Rimdian items (${stats.refused} requests refused, ${stats.badBodies} without items), ` +
						`expected ${rows} (node summary: ${JSON.stringify(summary).slice(0, 1000)})`,
				);
			}
			const receiverCpuMs = receiver.cpuMs() - cpu0;
			const nodeSamples = await receiver.samples();
			maxima.push(await receiverMax(receiver, nodeSamples));
			const result: N8nRound = {
				round,
				nodeMs,
				rowsPerSecond: rows / (nodeMs / 1000),
				wallMs: run.wallMs,
				n8nCpuMs: run.process.cpuMs,
				n8nPeakBytes: run.process.peakBytes,
				receiverCpuMs,
				requests: stats.accepted,
				accepted: Number(summary.accepted ?? Number.NaN),
			};
			runs.push(result);
			log(
				`n8n round ${round}: node ${num(nodeMs)} ms, ${num(result.rowsPerSecond)} rows/s, the receiver counted ${num(stats.items)} in ` +
					`${num(stats.accepted)} requests; receiver max ${num(maxima[maxima.length - 1].itemsPerSecond)} rows/s; load ${loadNow()}`,
			);
			await floorOnce(nodeSamples);
			await parseOnce();
		}

		const ceilingRate = median(ceiling.map((pass) => rows / (pass.ms / 1000)));
		const nodeRate = median(runs.map((run) => run.rowsPerSecond));
		log('');
		table(
			['n8n round', 'node ms', 'rows/s', 'n8n wall ms', 'n8n CPU ms', 'n8n peak MiB', 'receiver CPU ms', 'requests'],
			runs.map((run) => [
				run.round,
				num(run.nodeMs),
				num(run.rowsPerSecond),
				num(run.wallMs),
				num(run.n8nCpuMs),
				num(mb(run.n8nPeakBytes)),
				num(run.receiverCpuMs),
				num(run.requests),
			]),
		);
		log('');
		log(`csv-parse alone (plain Node, ${ceiling.length} passes): median ${num(ceilingRate)} rows/s; peak RSS growth ${num(mb(median(ceiling.map((p) => p.rssPeakBytes - p.rssBaseBytes))))} MiB`);
		log('n8n CPU ms includes its start-up (about 3-4 s); CPU close to the node time means the node is CPU-bound in n8n.');
		const maxRate = median(maxima.map((max) => max.itemsPerSecond));
		const headroom = receiverHeadroom({ ...maxima[0], itemsPerSecond: maxRate }, nodeRate, 'Bulk File Import', 'rows/s');
		const floorRate = median(floors.map((ms) => rows / (ms / 1000)));
		log(
			`floor (csv-parse, each row written as the node's item and sent, nothing else): median ${num(floorRate)} rows/s = ${(floorRate / ceilingRate).toFixed(2)}x of csv-parse; ` +
				`Bulk File Import spends ${num(((rows / nodeRate - rows / floorRate) * 1e6) / rows, 2)} µs a row above it`,
		);
		log(`Bulk File Import (n8n, ${runs.length} runs): median ${num(nodeRate)} rows/s = ${(nodeRate / ceilingRate).toFixed(2)}x of csv-parse (goal >= 0.5x: ${nodeRate / ceilingRate >= 0.5 ? 'met' : 'NOT met'})`);
		log(`load at end: ${loadNow()}`);
		saveResults('rimdian-csv', {
			machine: info,
			config: { rows, reps, file },
			ceiling,
			runs,
			receiverMaxima: maxima,
			floorMs: floors,
			medians: { ceilingRowsPerSecond: ceilingRate, nodeRowsPerSecond: nodeRate, ratio: nodeRate / ceilingRate, floorRowsPerSecond: floorRate, receiverMaxRowsPerSecond: maxRate },
			receiverHeadroom: headroom,
		});
		summaryLine(
			`bench:rimdian-csv (${num(rows)} rows)`,
			nodeRate,
			'rows/s',
			nodeRate / ceilingRate,
			`csv-parse alone; receiver max ${num(maxRate)} rows/s = ${headroom.ratio.toFixed(1)}x${headroom.valid ? '' : ' INVALID'}`,
		);
	} finally {
		await bench.dispose();
		await receiver.stop();
	}
}

main().catch((error: unknown) => fatal((error as Error)?.stack ?? String(error)));
