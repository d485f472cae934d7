/**
 * npm run bench — every benchmark, one after the other, each in its own process (output passed
 * through), then their summary lines together. Exits non-zero if any failed.
 * BENCH_ONLY=upload,items runs some of them. Size knobs (BENCH_ROWS, BENCH_ITEMS, …) reach every
 * benchmark, so set them only when running one (see docs/performance.md).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadNow, log, machine, num, RESULTS_DIR, REPO_ROOT, timer } from './lib';

/** What else runs on the machine (the benchmarks share it): the busiest processes. */
function busiestProcesses(): string {
	try {
		return execFileSync('ps', ['-eo', 'pid,pcpu,rss,etime,args', '--sort=-pcpu'], { encoding: 'utf8' })
			.split('\n')
			.filter((line) => !line.includes('ps -eo'))
			.slice(0, 9)
			.map((line) => line.slice(0, 160))
			.join('\n');
	} catch {
		return '(ps failed)';
	}
}

/** The commit measured (and whether the tree had changes), and the n8n that ran the nodes. */
function measured(): { commit: string; dirty: boolean; n8n: string } {
	const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
	let n8n = 'unknown';
	try {
		n8n = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'e2e', 'n8n', 'node_modules', 'n8n', 'package.json'), 'utf8')) as { version: string }).version;
	} catch {
		// not installed: the n8n benchmarks fail on their own
	}
	return { commit: git('log', '-1', '--format=%h %s').slice(0, 120), dirty: git('status', '--porcelain', '--untracked-files=no') !== '', n8n };
}

const BENCHMARKS = ['upload', 'rimdian-csv', 'items', 'validation', 'scaling', 'concurrency'];

async function runOne(name: string): Promise<{ name: string; code: number | null; ms: number; summary?: string; loadBefore: string; loadAfter: string }> {
	const elapsed = timer();
	const loadBefore = loadNow();
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
	return { name, code, ms: elapsed(), summary: last || undefined, loadBefore, loadAfter: loadNow() };
}

async function main(): Promise<void> {
	const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim()).filter(Boolean);
	const chosen = only ? BENCHMARKS.filter((name) => only.includes(name)) : BENCHMARKS;
	const info = machine();
	const elapsed = timer();
	const what = measured();
	const processesBefore = busiestProcesses();
	log(`npm run bench: ${chosen.join(', ')}; ${info.nproc} cores (${info.cpu}), ${info.memTotalGb} GB, node ${info.node}, n8n ${what.n8n}; load ${loadNow()}`);
	log(`commit measured: ${what.commit}${what.dirty ? ' (with uncommitted changes)' : ''}`);
	log(`busiest processes at start:\n${processesBefore}`);
	const results = [];
	for (const name of chosen) {
		log(`\n${'='.repeat(100)}\n`);
		results.push(await runOne(name));
	}
	const totalMs = elapsed();
	log(`\n${'='.repeat(100)}`);
	const processesAfter = busiestProcesses();
	log(`busiest processes at end:\n${processesAfter}`);
	log(`all benchmarks: ${num(totalMs / 1000)} s; machine ${info.nproc} cores, ${info.memTotalGb} GB, node ${info.node}, n8n ${what.n8n}; load at start ${info.loadavg.join(' ')}, at end ${loadNow()}`);
	for (const result of results) {
		const status = result.code === 0 ? '' : `  <-- FAILED or INVALID (exit ${result.code})`;
		log(`  ${result.summary ?? `bench:${result.name}: no summary`}   [${num(result.ms / 1000)} s, load ${result.loadBefore} -> ${result.loadAfter}]${status}`);
	}
	fs.mkdirSync(RESULTS_DIR, { recursive: true });
	fs.writeFileSync(
		path.join(RESULTS_DIR, 'summary.json'),
		`${JSON.stringify({ finishedAt: new Date().toISOString(), machine: info, measured: what, totalMs, results, loadAtEnd: loadNow(), processesBefore, processesAfter }, null, 2)}\n`,
	);
	if (results.some((result) => result.code !== 0)) process.exit(1);
}

main().catch((error: unknown) => {
	process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
	process.exit(1);
});
