/**
 * npm run bench — every benchmark, one after the other, each in its own process (output passed
 * through), then their summary lines together. Exits non-zero if any failed.
 * BENCH_ONLY=upload,items runs some of them. Size knobs (BENCH_ROWS, BENCH_ITEMS, …) reach every
 * benchmark, so set them only when running one (see docs/performance.md).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadNow, log, machine, num, RESULTS_DIR, REPO_ROOT, timer } from './lib';

const BENCHMARKS = ['upload', 'rimdian-csv', 'items', 'validation', 'scaling', 'concurrency'];

async function runOne(name: string): Promise<{ name: string; code: number | null; ms: number; summary?: string }> {
	const elapsed = timer();
	const env = { ...process.env };
	delete env.NODE_OPTIONS;
	const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench', `${name}.ts`)], {
		cwd: REPO_ROOT,
		env,
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	let last = '';
	let pending = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		process.stdout.write(chunk);
		pending += chunk;
		const lines = pending.split('\n');
		pending = lines.pop() ?? '';
		for (const line of lines) if (line.startsWith('bench:')) last = line;
	});
	const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
	if (pending.startsWith('bench:')) last = pending;
	return { name, code, ms: elapsed(), summary: last || undefined };
}

async function main(): Promise<void> {
	const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim()).filter(Boolean);
	const chosen = only ? BENCHMARKS.filter((name) => only.includes(name)) : BENCHMARKS;
	const info = machine();
	const elapsed = timer();
	log(`npm run bench: ${chosen.join(', ')}; ${info.nproc} cores, node ${info.node}, load ${loadNow()}`);
	const results = [];
	for (const name of chosen) {
		log(`\n${'='.repeat(100)}\n`);
		results.push(await runOne(name));
	}
	const totalMs = elapsed();
	log(`\n${'='.repeat(100)}`);
	log(`all benchmarks: ${num(totalMs / 1000)} s; machine ${info.nproc} cores, ${info.memTotalGb} GB, node ${info.node}; load at end ${loadNow()}`);
	for (const result of results) {
		const status = result.code === 0 ? '' : `  <-- FAILED (exit ${result.code})`;
		log(`  ${result.summary ?? `bench:${result.name}: no summary`}   [${num(result.ms / 1000)} s]${status}`);
	}
	fs.mkdirSync(RESULTS_DIR, { recursive: true });
	fs.writeFileSync(
		path.join(RESULTS_DIR, 'summary.json'),
		`${JSON.stringify({ finishedAt: new Date().toISOString(), machine: info, totalMs, results, loadAtEnd: loadNow() }, null, 2)}\n`,
	);
	if (results.some((result) => result.code !== 0)) process.exit(1);
}

main().catch((error: unknown) => {
	process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
	process.exit(1);
});
