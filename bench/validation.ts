/**
 * bench:validation — 1,000,000 Userpilot rows from a CSV validated with the shared module
 * (compileUserpilotValidator with coerceStrings, fed by the package's CSV reader readCsv, as Bulk
 * File Import does), against csv-parse alone reading the same file; each pass in its own plain
 * Node process, alternating, BENCH_REPS rounds (2). Also, to tell the reader's cost from the
 * validator's: readCsv alone, and csv-parse records fed straight to the validator (first round
 * only; BENCH_VALIDATION_ALL=1 runs them every round).
 *
 *   npm run bench:validation
 *   BENCH_ROWS=100000 BENCH_REPS=1 npm run bench:validation
 */
import * as path from 'node:path';

import { csvPass, envNumber, fatal, loadNow, log, mb, median, num, printMachine, saveResults, summaryLine, table, userpilotCsv, type CsvMode, type CsvPass } from './lib';

const LABEL: Record<CsvMode, string> = {
	'csv-parse': 'csv-parse alone (columns: true) — ceiling',
	'userpilot-validate': 'readCsv -> Userpilot validator (the node path)',
	'read-csv': 'readCsv alone (the package reader)',
	'userpilot-validate-records': 'csv-parse records -> Userpilot validator',
};

async function main(): Promise<void> {
	const rows = Math.round(envNumber('BENCH_ROWS', 1_000_000));
	const reps = Math.round(envNumber('BENCH_REPS', 2));
	const info = printMachine(`bench:validation — ${num(rows)} Userpilot CSV rows: validation vs csv-parse alone, ${reps} rounds`);
	const file = await userpilotCsv(rows);
	log(`file: ${path.relative(process.cwd(), file)}`);

	const modes: CsvMode[] = ['csv-parse', 'userpilot-validate', 'read-csv', 'userpilot-validate-records'];
	const passes: Record<CsvMode, CsvPass[]> = { 'csv-parse': [], 'userpilot-validate': [], 'read-csv': [], 'userpilot-validate-records': [] };
	for (let round = 1; round <= reps; round++) {
		// Alternate the order so that a change of load hits both contenders alike. The two
		// attribution passes (readCsv alone, records -> validator) run in the first round only,
		// unless BENCH_VALIDATION_ALL=1.
		const inRound = round === 1 || process.env.BENCH_VALIDATION_ALL === '1' ? modes : modes.slice(0, 2);
		const order = round % 2 === 1 ? inRound : [...inRound].reverse();
		for (const mode of order) {
			const pass = await csvPass(mode, file);
			if (pass.rows !== rows) fatal(`${mode}: read ${pass.rows} rows, expected ${rows}`);
			if (pass.valid !== rows) fatal(`${mode}: ${rows - pass.valid} of ${rows} rows invalid (all are valid by construction); first: ${pass.firstError}`);
			passes[mode].push(pass);
		}
		log(`round ${round}: ${order.map((mode) => `${mode} ${num(passes[mode][passes[mode].length - 1].ms)} ms`).join(', ')}; load ${loadNow()}`);
	}

	const rate = (mode: CsvMode) => median(passes[mode].map((pass) => rows / (pass.ms / 1000)));
	const growth = (mode: CsvMode) => median(passes[mode].map((pass) => pass.rssPeakBytes - pass.rssBaseBytes));
	const ceiling = rate('csv-parse');
	log('');
	table(
		['pass', 'median rows/s', 'x of csv-parse', 'ns/row', 'peak RSS growth MiB'],
		modes.map((mode) => [LABEL[mode], num(rate(mode)), (rate(mode) / ceiling).toFixed(2), num(1e9 / rate(mode)), num(mb(growth(mode)), 1)]),
	);
	log('');
	const validatorNs = 1e9 / rate('userpilot-validate-records') - 1e9 / ceiling;
	const readerNs = 1e9 / rate('read-csv') - 1e9 / ceiling;
	const signed = (ns: number) => `${ns >= 0 ? '+' : ''}${num(ns)}`;
	log(`attribution (ns/row above csv-parse alone): readCsv ${signed(readerNs)}, validator ${signed(validatorNs)}; package modules from ${passes['userpilot-validate'][0].from}`);
	const ratio = rate('userpilot-validate') / ceiling;
	log(`goal: >= 0.7x of csv-parse: ${ratio >= 0.7 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x); memory flat: peak RSS growth ${num(mb(growth('userpilot-validate')), 1)} MiB for ${num(rows)} rows`);
	log(`load at end: ${loadNow()}`);
	saveResults('validation', {
		machine: info,
		config: { rows, reps, file },
		passes,
		medians: Object.fromEntries(modes.map((mode) => [mode, { rowsPerSecond: rate(mode), peakGrowthBytes: growth(mode) }])),
	});
	summaryLine(`bench:validation (${num(rows)} rows)`, rate('userpilot-validate'), 'rows/s', ratio, 'csv-parse alone');
}

main().catch((error: unknown) => fatal((error as Error)?.stack ?? String(error)));
