/**
 * bench:scaling — time and memory per item as the size grows:
 *   - Import Items into the sandbox's Rimdian API inside a real n8n (items from a JSON file:
 *     Read/Write Files from Disk -> Extract From File -> Split Out), at 10k and 100k items by default.
 *     Memory per item: the n8n process's peak above the same workflow without Import Items.
 *   - validation of Userpilot CSV rows (readCsv -> compileUserpilotValidator, a plain Node process)
 *     at 10k, 100k and 1M rows. Memory per row: peak RSS growth of that process. The 1M point is
 *     bench:validation's median pass when that ran within the hour (BENCH_SCALING_RERUN=1 reruns it).
 *
 *   npm run bench:scaling
 *   BENCH_SCALING_SIZES=10000,100000,1000000   sizes (both parts)
 *   BENCH_SCALING_N8N_MAX=100000               largest size run inside n8n. 1,000,000 items cannot be
 *                                              measured there: n8n's `execute` CLI fails to print the
 *                                              execution (RangeError: Invalid string length), so no
 *                                              node time comes back; such a point is reported as not
 *                                              measured (the sandbox is still checked).
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
	nodeTime,
	num,
	printMachine,
	REPO_ROOT,
	RESULTS_DIR,
	rimdianUsersJson,
	saveResults,
	startN8n,
	startSandboxProcess,
	summaryLine,
	table,
	userpilotCsv,
	type BenchRun,
	type CsvPass,
	type Workflow,
} from './lib';

interface N8nPoint {
	size: number;
	nodeMs: number;
	usPerItem: number;
	peakBytes: number;
	sourceOnlyPeakBytes: number;
	bytesPerItem: number;
	wallMs: number;
	sourceOnlyWallMs: number;
	error?: string;
}

interface ValidationPoint {
	size: number;
	ms: number;
	usPerRow: number;
	growthBytes: number;
	bytesPerRow: number;
}

/**
 * `n8n execute` prints the whole execution as one JSON.stringify; past about 512 MB of text (seen
 * with 1,000,000 items) V8 refuses the string and n8n prints no execution at all.
 */
function cliCouldNotPrint(run: BenchRun): boolean {
	return run.status === 'no-output' && run.tail.includes('Invalid string length');
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

async function main(): Promise<void> {
	const sizes = envList('BENCH_SCALING_SIZES', [10_000, 100_000, 1_000_000]).map(Math.round);
	const n8nMax = Math.round(envNumber('BENCH_SCALING_N8N_MAX', 100_000));
	const info = printMachine(`bench:scaling — Import Items (n8n) and validation at ${sizes.map((size) => num(size)).join(', ')} items`);

	// -- Import Items inside n8n ------------------------------------------------------------------
	const n8nSizes = sizes.filter((size) => size <= n8nMax);
	const n8nPoints: N8nPoint[] = [];
	if (n8nSizes.length > 0) {
		const sandbox = await startSandboxProcess();
		const bench = await startN8n(sandbox.url);
		try {
			const pairs: Array<{ size: number; withNode: Workflow; sourceOnly: Workflow }> = [];
			for (const size of n8nSizes) {
				const file = await rimdianUsersJson(size);
				pairs.push({
					size,
					sourceOnly: chain(`bench scaling source ${size}`, itemSourceNodes(file)),
					withNode: chain(`bench scaling import ${size}`, [
						...itemSourceNodes(file),
						importItemsNode(),
					]),
				});
			}
			await bench.importWorkflows(pairs.flatMap((pair) => [pair.sourceOnly, pair.withNode]));
			for (const [index, pair] of pairs.entries()) {
				// Alternate which of the pair goes first.
				const runSourceOnly = async () => {
					const run = await bench.run(pair.sourceOnly.id, 1_800_000);
					if (!cliCouldNotPrint(run)) nodeTime(run, 'Items', `source only, ${pair.size} items`);
					return run;
				};
				const runWithNode = async () => {
					await sandbox.reset();
					const run = await bench.run(pair.withNode.id, 1_800_000);
					const unprinted = cliCouldNotPrint(run);
					const nodeMs = unprinted ? Number.NaN : nodeTime(run, 'Import Items', `Import Items, ${pair.size} items`);
					const stats = await sandbox.stats();
					if (stats.rimdian.itemsStored !== pair.size) fatal(`${pair.size} items: the sandbox stored ${stats.rimdian.itemsStored}`);
					return { run, nodeMs, error: unprinted ? `n8n's execute CLI could not print the execution (RangeError: Invalid string length); the sandbox stored all ${pair.size} items` : undefined };
				};
				let sourceOnly;
				let withNode;
				if (index % 2 === 0) {
					sourceOnly = await runSourceOnly();
					withNode = await runWithNode();
				} else {
					withNode = await runWithNode();
					sourceOnly = await runSourceOnly();
				}
				const point: N8nPoint = {
					size: pair.size,
					nodeMs: withNode.nodeMs,
					usPerItem: (withNode.nodeMs * 1000) / pair.size,
					peakBytes: withNode.run.process.peakBytes,
					sourceOnlyPeakBytes: sourceOnly.process.peakBytes,
					bytesPerItem: (withNode.run.process.peakBytes - sourceOnly.process.peakBytes) / pair.size,
					wallMs: withNode.run.wallMs,
					sourceOnlyWallMs: sourceOnly.wallMs,
					error: withNode.error ?? (cliCouldNotPrint(sourceOnly) ? "n8n's execute CLI could not print the source-only execution (RangeError: Invalid string length)" : undefined),
				};
				n8nPoints.push(point);
				if (point.error) log(`n8n ${num(pair.size)} items: NOT MEASURED: ${point.error}`);
				else log(`n8n ${num(pair.size)} items: Import Items ${num(point.nodeMs)} ms, peak ${num(mb(point.peakBytes))} MiB (source only ${num(mb(point.sourceOnlyPeakBytes))} MiB), load ${loadNow()}`);
			}
		} finally {
			await bench.dispose();
			await sandbox.stop();
		}
	}

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
		['items', 'Import Items ms', 'µs/item', 'n8n peak MiB', 'above source-only MiB', 'bytes/item', 'validation ms', 'µs/row', 'RSS growth MiB', 'bytes/row'],
		sizes.map((size) => {
			const n = n8nPoints.find((point) => point.size === size);
			const v = validationPoints.find((point) => point.size === size);
			const n8nCells = n?.error
				? ['not measured: execution too big for n8n CLI output', '', num(mb(n.peakBytes)), '', '']
				: n
				? [num(n.nodeMs), num(n.usPerItem, 1), num(mb(n.peakBytes)), num(mb(n.peakBytes - n.sourceOnlyPeakBytes)), num(n.bytesPerItem)]
				: [`not run (> BENCH_SCALING_N8N_MAX=${num(n8nMax)})`, '', '', '', ''];
			const vCells = v ? [num(v.ms), num(v.usPerRow, 2), num(mb(v.growthBytes), 1), num(v.bytesPerRow, 1)] : ['', '', '', ''];
			return [num(size), ...n8nCells, ...vCells];
		}),
	);
	log('');
	log(`load at end: ${loadNow()}`);
	saveResults('scaling', { machine: info, config: { sizes, n8nMax }, n8n: n8nPoints, validation: validationPoints });

	const measured = n8nPoints.filter((point) => point.error === undefined);
	if (measured.length > 0) {
		const first = measured[0];
		const last = measured[measured.length - 1];
		summaryLine(`bench:scaling (Import Items, ${num(last.size)} items)`, last.usPerItem, 'µs/item', last.usPerItem / first.usPerItem, `${num(first.size)} items`, 1);
	} else {
		const first = validationPoints[0];
		const last = validationPoints[validationPoints.length - 1];
		summaryLine(`bench:scaling (validation, ${num(last.size)} rows)`, last.usPerRow, 'µs/row', last.usPerRow / first.usPerRow, `${num(first.size)} rows`, 2);
	}
}

main().catch((error: unknown) => fatal((error as Error)?.stack ?? String(error)));
