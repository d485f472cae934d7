/**
 * bench:rimdian-csv — a CSV of 200,000 users (BENCH_ROWS) (external_id, is_authenticated, created_at, email,
 * first_name) streamed into the sandbox's Rimdian API by Bulk File Import inside a real n8n
 * (Manual Trigger -> Read/Write Files from Disk -> Bulk File Import, default options: batches of
 * 100, concurrency 4), against the rate at which csv-parse alone reads the same file in a plain
 * Node process (the ceiling). Alternating: csv-parse, n8n, csv-parse, … (BENCH_REPS n8n runs).
 *
 *   npm run bench:rimdian-csv
 *   BENCH_ROWS=100000 npm run bench:rimdian-csv
 *
 * Rows per second = rows / the node's own execution time (n8n's run data). Checks that the
 * sandbox stored every row.
 */
import * as path from 'node:path';

import {
	chain,
	credentialRef,
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
	rimdianUsersCsv,
	saveResults,
	startN8n,
	startSandboxProcess,
	summaryLine,
	table,
	type CsvPass,
} from './lib';

const NODE = 'Bulk File Import';

interface N8nRound {
	round: number;
	nodeMs: number;
	rowsPerSecond: number;
	wallMs: number;
	n8nCpuMs: number;
	n8nPeakBytes: number;
	sandboxCpuMs: number;
	requests: number;
	accepted: number;
}

async function main(): Promise<void> {
	const rows = Math.round(envNumber('BENCH_ROWS', 200_000));
	const reps = Math.round(envNumber('BENCH_REPS', 1));
	const info = printMachine(`bench:rimdian-csv — ${num(rows)} user rows, Bulk File Import into Rimdian vs csv-parse alone`);
	const file = await rimdianUsersCsv(rows);
	log(`file: ${path.relative(process.cwd(), file)}`);

	const sandbox = await startSandboxProcess();
	const bench = await startN8n(sandbox.url);
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
		const parseOnce = async () => {
			const pass = await csvPass('csv-parse', file);
			if (pass.rows !== rows) fatal(`csv-parse read ${pass.rows} rows, expected ${rows}`);
			ceiling.push(pass);
			log(`csv-parse: ${num(pass.ms)} ms, ${num(rows / (pass.ms / 1000))} rows/s, load ${loadNow()}`);
		};
		await parseOnce();
		for (let round = 1; round <= reps; round++) {
			await sandbox.reset();
			const cpu0 = sandbox.cpuMs();
			const run = await bench.run(workflow.id, 1_800_000);
			const nodeMs = nodeTime(run, NODE, `Bulk File Import (round ${round})`);
			const stats = await sandbox.stats();
			const summary = run.result?.nodeOutput(NODE)[0] ?? {};
			if (stats.rimdian.itemsStored !== rows) {
				fatal(`the sandbox stored ${stats.rimdian.itemsStored} Rimdian items, expected ${rows} (node summary: ${JSON.stringify(summary).slice(0, 1000)})`);
			}
			const result: N8nRound = {
				round,
				nodeMs,
				rowsPerSecond: rows / (nodeMs / 1000),
				wallMs: run.wallMs,
				n8nCpuMs: run.process.cpuMs,
				n8nPeakBytes: run.process.peakBytes,
				sandboxCpuMs: sandbox.cpuMs() - cpu0,
				requests: stats.rimdian.requests,
				accepted: Number(summary.accepted ?? Number.NaN),
			};
			runs.push(result);
			log(
				`n8n round ${round}: node ${num(nodeMs)} ms, ${num(result.rowsPerSecond)} rows/s, sandbox stored ${num(stats.rimdian.itemsStored)} in ` +
					`${num(stats.rimdian.requests)} requests, load ${loadNow()}`,
			);
			await parseOnce();
		}

		const ceilingRate = median(ceiling.map((pass) => rows / (pass.ms / 1000)));
		const nodeRate = median(runs.map((run) => run.rowsPerSecond));
		log('');
		table(
			['n8n round', 'node ms', 'rows/s', 'n8n wall ms', 'n8n CPU ms', 'n8n peak MiB', 'sandbox CPU ms', 'requests'],
			runs.map((run) => [
				run.round,
				num(run.nodeMs),
				num(run.rowsPerSecond),
				num(run.wallMs),
				num(run.n8nCpuMs),
				num(mb(run.n8nPeakBytes)),
				num(run.sandboxCpuMs),
				num(run.requests),
			]),
		);
		log('');
		log(`csv-parse alone (plain Node, ${ceiling.length} passes): median ${num(ceilingRate)} rows/s; peak RSS growth ${num(mb(median(ceiling.map((p) => p.rssPeakBytes - p.rssBaseBytes))))} MiB`);
		log('n8n CPU ms includes its start-up (about 3-4 s); CPU close to the node time means the node is CPU-bound in n8n.');
		log(`Bulk File Import (n8n, ${runs.length} runs): median ${num(nodeRate)} rows/s = ${(nodeRate / ceilingRate).toFixed(2)}x of csv-parse (goal >= 0.5x: ${nodeRate / ceilingRate >= 0.5 ? 'met' : 'NOT met'})`);
		log(`load at end: ${loadNow()}`);
		saveResults('rimdian-csv', {
			machine: info,
			config: { rows, reps, file },
			ceiling,
			runs,
			medians: { ceilingRowsPerSecond: ceilingRate, nodeRowsPerSecond: nodeRate, ratio: nodeRate / ceilingRate },
		});
		summaryLine(`bench:rimdian-csv (${num(rows)} rows)`, nodeRate, 'rows/s', nodeRate / ceilingRate, 'csv-parse alone');
	} finally {
		await bench.dispose();
		await sandbox.stop();
	}
}

main().catch((error: unknown) => fatal((error as Error)?.stack ?? String(error)));
