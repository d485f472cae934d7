/**
 * bench:scaling — time and memory per item as the size grows:
 *   - Import Items inside a real n8n (1.123, `n8n execute`), posting to the receiver
 *     (bench/receiver.ts, a peer that only reads and counts), items from a JSON file (Read/Write
 *     Files from Disk -> Extract From File -> Split Out: plain items, not a Code node's), at 10k,
 *     100k and 1M items. Each execution is read through n8n's own run data at its end
 *     (bench/n8n-summary-hook.js, an n8n external hook: `n8n execute` cannot print a million
 *     results, nor can n8n store them): the node's executionTime, its output item count and
 *     statuses, the heap left after a full collection and the process's peak memory (VmHWM).
 *     Memory per item: the heap kept (and, beside it, the peak) above the same workflow without
 *     Import Items, per item.
 *   - validation of Userpilot CSV rows (readCsv -> compileUserpilotValidator, a plain Node process)
 *     at 10k, 100k and 1M rows. Memory per row: peak RSS growth of that process. The 1M point is
 *     bench:validation's median pass when that ran within the hour (BENCH_SCALING_RERUN=1 reruns it).
 * Ends with the ratios (per-item cost at the largest size / at the smallest) and a verdict: flat
 * when neither time nor memory per item grows by more than 25%.
 *
 *   npm run bench:scaling
 *   BENCH_SCALING_SIZES=10000,100000,1000000   sizes (both parts)
 *   BENCH_SCALING_N8N_MAX=1000000              largest size run inside n8n
 *   BENCH_SCALING_REPS=3                       runs per size inside n8n (1), medians: a process's peak
 *                                              memory moves with when V8 collects, so one run per
 *                                              size gives a rough memory-per-item figure
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
	chain,
	importItemsNode,
	csvPass,
	envList,
	envNumber,
	fatal,
	itemSourceNodes,
	loadNow,
	log,
	mb,
	median,
	nodeTime,
	num,
	printMachine,
	REPO_ROOT,
	RESULTS_DIR,
	rimdianUsersJson,
	saveResults,
	startN8n,
	startReceiverProcess,
	summaryLine,
	table,
	userpilotCsv,
	type BenchN8n,
	type BenchRun,
	type CsvPass,
	type ReceiverProcess,
	type Workflow,
} from './lib';

/** Time and memory per item beyond this factor from the smallest size to the largest: not flat. */
const FLAT_WITHIN = 1.25;

interface N8nPoint {
	size: number;
	nodeMs: number;
	usPerItem: number;
	/** n8n's peak (VmHWM) when the execution ended, with Import Items and with the source only. */
	peakBytes: number;
	sourceOnlyPeakBytes: number;
	bytesPerItem: number;
	/** The heap left after a full collection at the end, with Import Items and with the source only. */
	heapBytes: number;
	sourceOnlyHeapBytes: number;
	/** (heapBytes - sourceOnlyHeapBytes) / size: what the node's work keeps per item. */
	heapBytesPerItem: number;
	wallMs: number;
	sourceOnlyWallMs: number;
	resultStatuses: Record<string, number>;
	/** Runs per size (BENCH_SCALING_REPS); the figures are their medians. */
	runs?: number;
}

interface ValidationPoint {
	size: number;
	ms: number;
	usPerRow: number;
	growthBytes: number;
	bytesPerRow: number;
}

/**
 * The 1,000,000-row validation point is the validation benchmark's own pass (readCsv -> validator
 * on the same file) when that benchmark ran within the last hour (as in `npm run bench`), so the
 * longest pass is not run twice. BENCH_SCALING_RERUN=1 always runs it here.
 */
function reuseValidationPass(size: number, file: string): CsvPass | undefined {
	if (process.env.BENCH_SCALING_RERUN === '1') return undefined;
	try {
		const saved = JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, 'validation.json'), 'utf8')) as {
			finishedAt: string;
			config: { rows: number; file: string };
			passes: Record<string, CsvPass[]>;
		};
		if (saved.config.rows !== size || path.resolve(saved.config.file) !== path.resolve(file)) return undefined;
		if (Date.now() - Date.parse(saved.finishedAt) > 3_600_000) return undefined;
		const passes = saved.passes['userpilot-validate'] ?? [];
		return passes.length > 0 ? [...passes].sort((a, b) => a.ms - b.ms)[Math.floor((passes.length - 1) / 2)] : undefined;
	} catch {
		return undefined;
	}
}

/** Runs one workflow, read through the summary hook; the node must have run and succeeded. */
async function runSummarized(bench: BenchN8n, workflow: Workflow, nodeName: string, what: string): Promise<{ run: BenchRun; nodeMs: number; peakBytes: number; heapBytes: number }> {
	const run = await bench.run(workflow.id, 1_800_000, { summary: true });
	if (!run.summary) fatal(`${what}: n8n wrote no summary (exit ${run.exitCode})\n${run.tail}`);
	const nodeMs = nodeTime(run, nodeName, what);
	return { run, nodeMs, peakBytes: run.summary.memory.hwmBytes, heapBytes: run.summary.memory.heapAfterGcBytes ?? Number.NaN };
}

/** One size: the source-only and the Import Items workflows, in the order given. */
async function measureSize(bench: BenchN8n, receiver: ReceiverProcess, size: number, pair: { sourceOnly: Workflow; withNode: Workflow }, sourceFirst: boolean): Promise<N8nPoint> {
	const runSourceOnly = async () => await runSummarized(bench, pair.sourceOnly, 'Items', `source only, ${size} items`);
	const runWithNode = async () => {
		await receiver.reset();
		const measured = await runSummarized(bench, pair.withNode, 'Import Items', `Import Items, ${size} items`);
		const stats = await receiver.stats();
		const statuses = measured.run.summary?.nodes['Import Items']?.resultStatuses ?? {};
		if (stats.items !== size || stats.refused > 0 || measured.run.nodes['Import Items'].items !== size || statuses.accepted !== size) {
			fatal(
				`${size} items: the receiver counted ${stats.items} (${stats.refused} refused); Import Items output ` +
					`${measured.run.nodes['Import Items'].items} results, statuses ${JSON.stringify(statuses)}`,
			);
		}
		return measured;
	};
	const sourceOnly = sourceFirst ? await runSourceOnly() : undefined;
	const withNode = await runWithNode();
	const source = sourceOnly ?? (await runSourceOnly());
	return {
		size,
		nodeMs: withNode.nodeMs,
		usPerItem: (withNode.nodeMs * 1000) / size,
		peakBytes: withNode.peakBytes,
		sourceOnlyPeakBytes: source.peakBytes,
		bytesPerItem: (withNode.peakBytes - source.peakBytes) / size,
		heapBytes: withNode.heapBytes,
		sourceOnlyHeapBytes: source.heapBytes,
		heapBytesPerItem: (withNode.heapBytes - source.heapBytes) / size,
		wallMs: withNode.run.wallMs,
		sourceOnlyWallMs: source.run.wallMs,
		resultStatuses: withNode.run.summary?.nodes['Import Items']?.resultStatuses ?? {},
	};
}

/** The run of median node time, with the median peaks of all runs (each median on its own). */
function medianPoint(runs: N8nPoint[]): N8nPoint {
	const byTime = [...runs].sort((a, b) => a.nodeMs - b.nodeMs)[Math.floor((runs.length - 1) / 2)];
	const peakBytes = median(runs.map((run) => run.peakBytes));
	const sourceOnlyPeakBytes = median(runs.map((run) => run.sourceOnlyPeakBytes));
	const heapBytes = median(runs.map((run) => run.heapBytes));
	const sourceOnlyHeapBytes = median(runs.map((run) => run.sourceOnlyHeapBytes));
	return {
		...byTime,
		peakBytes,
		sourceOnlyPeakBytes,
		bytesPerItem: (peakBytes - sourceOnlyPeakBytes) / byTime.size,
		heapBytes,
		sourceOnlyHeapBytes,
		heapBytesPerItem: (heapBytes - sourceOnlyHeapBytes) / byTime.size,
		runs: runs.length,
	};
}

async function measureInN8n(sizes: number[]): Promise<N8nPoint[]> {
	const points: N8nPoint[] = [];
	if (sizes.length === 0) return points;
	const receiver = await startReceiverProcess();
	const bench = await startN8n(receiver.url);
	try {
		const pairs: Array<{ size: number; withNode: Workflow; sourceOnly: Workflow }> = [];
		for (const size of sizes) {
			const file = await rimdianUsersJson(size);
			pairs.push({
				size,
				sourceOnly: chain(`bench scaling source ${size}`, itemSourceNodes(file)),
				withNode: chain(`bench scaling import ${size}`, [...itemSourceNodes(file), importItemsNode()]),
			});
		}
		await bench.importWorkflows(pairs.flatMap((pair) => [pair.sourceOnly, pair.withNode]));
		for (const [index, pair] of pairs.entries()) {
			// Alternate which of the pair goes first.
			const reps = Math.round(envNumber('BENCH_SCALING_REPS', 1));
			const runs: N8nPoint[] = [];
			for (let rep = 0; rep < reps; rep++) runs.push(await measureSize(bench, receiver, pair.size, pair, (index + rep) % 2 === 0));
			const point = medianPoint(runs);
			points.push(point);
			log(
				`n8n ${num(pair.size)} items: Import Items ${num(point.nodeMs)} ms (${num(point.usPerItem, 1)} µs/item), heap kept ${num(mb(point.heapBytes))} MiB ` +
					`(source only ${num(mb(point.sourceOnlyHeapBytes))} MiB), peak ${num(mb(point.peakBytes))} MiB ` +
					`(source only ${num(mb(point.sourceOnlyPeakBytes))} MiB), wall ${num(point.wallMs / 1000, 1)} s, load ${loadNow()}`,
			);
		}
	} finally {
		await bench.dispose();
		await receiver.stop();
	}
	return points;
}

/**
 * Per-item cost at the largest size over the smallest, for time and memory, and the verdict.
 * Memory is the heap kept after a full collection (deterministic); the peak per item, which moves
 * with when V8 collects, is printed beside it (from the smallest size whose peak is 32 MiB above
 * the source's: below that it is noise).
 */
function flatness(points: N8nPoint[]): { timeRatio: number; memoryRatio: number; peakRatio: number; flat: boolean; line: string } {
	const first = points[0];
	const last = points[points.length - 1];
	const timeRatio = last.usPerItem / first.usPerItem;
	const memoryRatio = last.heapBytesPerItem / first.heapBytesPerItem;
	const peakBase = points.find((point) => point.peakBytes - point.sourceOnlyPeakBytes >= 32 * 1024 * 1024) ?? first;
	const peakRatio = last.bytesPerItem / peakBase.bytesPerItem;
	const flat = timeRatio <= FLAT_WITHIN && memoryRatio <= FLAT_WITHIN;
	const line =
		`cost per item, ${num(last.size)} vs ${num(first.size)} items: time ${timeRatio.toFixed(2)}x; heap kept ${memoryRatio.toFixed(2)}x: ` +
		`${flat ? 'FLAT' : 'NOT FLAT'} (flat = neither grows by more than ${Math.round((FLAT_WITHIN - 1) * 100)}%); ` +
		`peak memory per item ${peakRatio.toFixed(2)}x (vs ${num(peakBase.size)}; moves with GC timing)`;
	return { timeRatio, memoryRatio, peakRatio, flat, line };
}

async function main(): Promise<void> {
	const sizes = envList('BENCH_SCALING_SIZES', [10_000, 100_000, 1_000_000]).map(Math.round);
	const n8nMax = Math.round(envNumber('BENCH_SCALING_N8N_MAX', 1_000_000));
	const info = printMachine(`bench:scaling — Import Items (n8n) and validation at ${sizes.map((size) => num(size)).join(', ')} items`);

	// -- Import Items inside n8n ------------------------------------------------------------------
	const n8nPoints = await measureInN8n(sizes.filter((size) => size <= n8nMax));

	// -- Validation in a plain Node process ------------------------------------------------------
	const validationPoints: ValidationPoint[] = [];
	for (const size of sizes) {
		const file = await userpilotCsv(size);
		const reused = size >= 1_000_000 ? reuseValidationPass(size, file) : undefined;
		if (reused) log(`validation ${num(size)} rows: taken from bench:validation's run (${path.relative(REPO_ROOT, path.join(RESULTS_DIR, 'validation.json'))}), not run again`);
		const pass = reused ?? (await csvPass('userpilot-validate', file));
		if (pass.rows !== size || pass.valid !== size) fatal(`validation at ${size}: ${pass.valid} valid of ${pass.rows} rows read; first error ${pass.firstError}`);
		const growth = pass.rssPeakBytes - pass.rssBaseBytes;
		validationPoints.push({ size, ms: pass.ms, usPerRow: (pass.ms * 1000) / size, growthBytes: growth, bytesPerRow: growth / size });
		log(`validation ${num(size)} rows: ${num(pass.ms)} ms, RSS growth ${num(mb(growth), 1)} MiB, load ${loadNow()}`);
	}

	log('');
	table(
		['items', 'Import Items ms', 'µs/item', 'heap kept above source MiB', 'heap bytes/item', 'n8n peak MiB', 'peak above source MiB', 'peak bytes/item', 'validation ms', 'µs/row', 'RSS growth MiB', 'bytes/row'],
		sizes.map((size) => {
			const n = n8nPoints.find((point) => point.size === size);
			const v = validationPoints.find((point) => point.size === size);
			const n8nCells = n
				? [
						num(n.nodeMs),
						num(n.usPerItem, 1),
						num(mb(n.heapBytes - n.sourceOnlyHeapBytes), 1),
						num(n.heapBytesPerItem),
						num(mb(n.peakBytes)),
						num(mb(n.peakBytes - n.sourceOnlyPeakBytes)),
						num(n.bytesPerItem),
					]
				: [`not run (> BENCH_SCALING_N8N_MAX=${num(n8nMax)})`, '', '', '', '', '', ''];
			const vCells = v ? [num(v.ms), num(v.usPerRow, 2), num(mb(v.growthBytes), 1), num(v.bytesPerRow, 1)] : ['', '', '', ''];
			return [num(size), ...n8nCells, ...vCells];
		}),
	);
	log('');
	const verdict = n8nPoints.length >= 2 ? flatness(n8nPoints) : undefined;
	if (verdict) log(`Import Items in n8n: ${verdict.line}`);
	const vFirst = validationPoints[0];
	const vLast = validationPoints[validationPoints.length - 1];
	log(`validation: time per row ${num(vLast.size)} vs ${num(vFirst.size)} rows: ${(vLast.usPerRow / vFirst.usPerRow).toFixed(2)}x`);
	log(`load at end: ${loadNow()}`);
	saveResults('scaling', { machine: info, config: { sizes, n8nMax }, n8n: n8nPoints, validation: validationPoints, verdict });

	if (verdict) {
		const last = n8nPoints[n8nPoints.length - 1];
		summaryLine(
			`bench:scaling (Import Items in n8n, ${num(last.size)} items)`,
			last.usPerItem,
			'µs/item',
			verdict.timeRatio,
			`${num(n8nPoints[0].size)} items (heap kept per item ${verdict.memoryRatio.toFixed(2)}x): ${verdict.flat ? 'flat' : 'NOT flat'}`,
			1,
		);
	} else {
		summaryLine(`bench:scaling (validation, ${num(vLast.size)} rows)`, vLast.usPerRow, 'µs/row', vLast.usPerRow / vFirst.usPerRow, `${num(vFirst.size)} rows`, 2);
	}
}

main().catch((error: unknown) => fatal((error as Error)?.stack ?? String(error)));
