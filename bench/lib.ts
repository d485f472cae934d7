/**
 * What the benchmarks share: machine facts, env knobs, test data files (generated once under
 * .tmp/bench-data/), the sandbox as its own process, a real n8n with this package, process memory
 * and CPU sampling from /proc, medians, the summary line and the raw results (.tmp/bench-results/).
 *
 * Benchmarks print; they do not assert, except that the data arrived (`fatal` exits non-zero).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

import { canonicalJson } from '../core/canonicalJson';
import { RIMDIAN_TOKEN, RIMDIAN_WORKSPACE, USERPILOT_KEY } from '../sandbox/defaults';
import type { Sandbox } from '../sandbox/server';
import type { ReceiverStats } from './receiver';
import { createN8n, findFreePort, memoryOf, newN8nId, toExecutionResult, type ExecutionResult, type N8nInstance } from '../test/e2e/harness';
import { sandboxCredentials } from '../test/e2e/setup';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const DATA_DIR = path.join(REPO_ROOT, '.tmp', 'bench-data');
export const RESULTS_DIR = path.join(REPO_ROOT, '.tmp', 'bench-results');
export const PACKAGE = 'n8n-nodes-data-import';
export { RIMDIAN_TOKEN, RIMDIAN_WORKSPACE, USERPILOT_KEY };

// ---------------------------------------------------------------------------------------------
// Knobs, printing, statistics
// ---------------------------------------------------------------------------------------------

/** A positive number from the environment, else the default. */
export function envNumber(name: string, fallback: number): number {
	const raw = process.env[name];
	if (raw === undefined || raw.trim() === '') return fallback;
	const value = Number(raw.replace(/_/g, ''));
	if (!Number.isFinite(value) || value <= 0) fatal(`${name}=${raw} is not a positive number`);
	return value;
}

export function envList(name: string, fallback: number[]): number[] {
	const raw = process.env[name];
	if (raw === undefined || raw.trim() === '') return fallback;
	const list = raw.split(',').map((part) => Number(part.trim().replace(/_/g, '')));
	if (list.some((value) => !Number.isFinite(value) || value <= 0)) fatal(`${name}=${raw} is not a list of positive numbers`);
	return list;
}

/** Synchronous clean-ups run however the process ends (a failed benchmark exits at once). */
const exitCleanups = new Set<() => void>();
process.on('exit', () => {
	for (const cleanup of exitCleanups) {
		try {
			cleanup();
		} catch {
			// best effort
		}
	}
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

export function onExit(cleanup: () => void): () => void {
	exitCleanups.add(cleanup);
	return () => exitCleanups.delete(cleanup);
}

/** Says loudly that a benchmark cannot be trusted, and exits non-zero. */
export function fatal(message: string): never {
	const bar = '!'.repeat(78);
	process.stderr.write(`\n${bar}\nBENCHMARK FAILED: ${message}\n${bar}\n`);
	process.exit(1);
}

export function median(values: number[]): number {
	const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
	if (finite.length === 0) return Number.NaN;
	const middle = Math.floor(finite.length / 2);
	return finite.length % 2 === 1 ? finite[middle] : (finite[middle - 1] + finite[middle]) / 2;
}

/** A number with thousands separators and at most `digits` decimals. */
export function num(value: number, digits = 0): string {
	if (!Number.isFinite(value)) return String(value);
	return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export const mb = (bytes: number) => bytes / (1024 * 1024);

export function log(line = ''): void {
	process.stdout.write(`${line}\n`);
}

/** A small fixed-width table. */
export function table(header: string[], rows: Array<Array<string | number>>): void {
	const cells = [header, ...rows.map((row) => row.map(String))];
	const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
	const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
	log(line(cells[0]));
	log(widths.map((width) => '-'.repeat(width)).join('  '));
	for (const row of cells.slice(1)) log(line(row));
}

/** The one line a benchmark ends with: `<name>: <value> <unit>, <ratio>x vs <baseline>`. */
export function summaryLine(name: string, value: number, unit: string, ratio: number, baseline: string, digits = 0): string {
	const line = `${name}: ${num(value, digits)} ${unit}, ${ratio.toFixed(2)}x vs ${baseline}`;
	log(line);
	return line;
}

export function timer(): () => number {
	const started = process.hrtime.bigint();
	return () => Number(process.hrtime.bigint() - started) / 1e6;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Machine
// ---------------------------------------------------------------------------------------------

export interface MachineInfo {
	nproc: number;
	cpu: string;
	memTotalGb: number;
	freeH: string;
	node: string;
	loadavg: number[];
	uptime: string;
}

function shell(command: string, args: string[]): string {
	try {
		return execFileSync(command, args, { encoding: 'utf8' }).trim();
	} catch {
		return '';
	}
}

export function machine(): MachineInfo {
	return {
		nproc: Number(shell('nproc', [])) || os.cpus().length,
		cpu: os.cpus()[0]?.model ?? 'unknown',
		memTotalGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
		freeH: shell('free', ['-h']),
		node: process.version,
		loadavg: os.loadavg().map((value) => Math.round(value * 100) / 100),
		uptime: shell('uptime', []),
	};
}

export function loadNow(): string {
	return os
		.loadavg()
		.map((value) => value.toFixed(2))
		.join(' ');
}

export function printMachine(title: string): MachineInfo {
	const info = machine();
	log(`== ${title}`);
	log(`machine: ${info.nproc} cores (${info.cpu}), ${info.memTotalGb} GB RAM, node ${info.node}`);
	log(`load (1/5/15 min) at start: ${loadNow()}   [${info.uptime}]`);
	return info;
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

export function saveResults(name: string, data: Record<string, unknown>): string {
	fs.mkdirSync(RESULTS_DIR, { recursive: true });
	const file = path.join(RESULTS_DIR, `${name}.json`);
	const body = { benchmark: name, finishedAt: new Date().toISOString(), loadAtEnd: os.loadavg(), ...data };
	fs.writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
	log(`raw results: ${path.relative(REPO_ROOT, file)}`);
	return file;
}

// ---------------------------------------------------------------------------------------------
// Test data (generated once, reused while its name matches)
// ---------------------------------------------------------------------------------------------

/**
 * A data file under .tmp/bench-data, written by `lines(i)` (one call per chunk index, each returning
 * text, undefined when done), through a `.partial` file renamed at the end so that an interrupted
 * generation is never reused.
 */
export async function dataFile(name: string, chunk: (index: number) => string | undefined): Promise<string> {
	fs.mkdirSync(DATA_DIR, { recursive: true });
	const file = path.join(DATA_DIR, name);
	if (fs.existsSync(file)) return file;
	const partial = `${file}.${process.pid}.partial`;
	const elapsed = timer();
	log(`generating ${path.relative(REPO_ROOT, file)} (once)…`);
	const out = fs.createWriteStream(partial, { highWaterMark: 4 * 1024 * 1024 });
	const failed = new Promise<never>((_, reject) => out.once('error', reject));
	for (let index = 0; ; index++) {
		const text = chunk(index);
		if (text === undefined) break;
		if (!out.write(text)) await Promise.race([new Promise<void>((resolve) => out.once('drain', () => resolve())), failed]);
	}
	await new Promise<void>((resolve, reject) => {
		out.once('error', reject);
		out.end(() => resolve());
	});
	fs.renameSync(partial, file);
	log(`  ${num(mb(fs.statSync(file).size), 1)} MiB in ${num(elapsed() / 1000, 1)} s`);
	return file;
}

const DAY = 86_400_000;
const BASE_DATE = Date.UTC(2023, 0, 1);
const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** A Userpilot date as the API writes it: `YYYY-MM-DD HH:mm:ss.ffffff`, UTC. */
export function userpilotDate(i: number): string {
	return `${new Date(BASE_DATE + (i % 500) * DAY + (i % 86_400) * 1000).toISOString().slice(0, 19).replace('T', ' ')}.${pad(i % 1_000_000, 6)}`;
}

/** One valid Userpilot NDJSON row (about 190 bytes). */
export function userpilotNdjsonRow(i: number): string {
	const user = `user-${pad(i, 8)}`;
	switch (i % 4) {
		case 0:
			return `{"event_type":"identify_user","source":"backend-http-import","user_id":"${user}","company_id":"company-${pad(i % 5000, 5)}","inserted_at":"${userpilotDate(i)}","metadata":{"plan":"pro","seats":${i % 50}}}\n`;
		case 1:
			return `{"event_type":"track","event_name":"exported_report","source":"backend-http","user_id":"${user}","inserted_at":"${userpilotDate(i)}","metadata":{"format":"csv","rows":${i % 1000}}}\n`;
		case 2:
			return `{"event_type":"page_view","source":"backend-http-import","user_id":"${user}","hostname":"app.example.com","pathname":"/reports/${i % 100}","inserted_at":"${userpilotDate(i)}"}\n`;
		default:
			return `{"event_type":"track","event_name":"created_project","source":"backend-http-import","user_id":"${user}","inserted_at":"${userpilotDate(i)}","metadata":{}}\n`;
	}
}

/**
 * An NDJSON file of Userpilot rows of at most `maxBytes` (Userpilot's limit is 1 GB, so a file of
 * 1,000,000,000 bytes goes as one job; the node splits only above it).
 */
export async function userpilotNdjsonFile(maxBytes: number): Promise<{ file: string; rows: number; bytes: number }> {
	const name = `userpilot-${maxBytes}.ndjson`;
	const metaFile = path.join(DATA_DIR, `${name}.meta.json`);
	let rows = 0;
	let bytes = 0;
	const file = await dataFile(name, () => {
		if (bytes >= maxBytes) return undefined;
		let text = '';
		for (let n = 0; n < 20_000; n++) {
			const line = userpilotNdjsonRow(rows);
			if (bytes + line.length > maxBytes) {
				bytes = maxBytes; // full: stop after this chunk
				break;
			}
			text += line;
			bytes += line.length;
			rows++;
		}
		return text === '' ? undefined : text;
	});
	if (rows > 0) fs.writeFileSync(metaFile, JSON.stringify({ rows }));
	const size = fs.statSync(file).size;
	const meta = fs.existsSync(metaFile) ? (JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { rows: number }) : { rows: -1 };
	return { file, rows: meta.rows, bytes: size };
}

/** A Rimdian users CSV: external_id,is_authenticated,created_at,email,first_name. */
export async function rimdianUsersCsv(rows: number): Promise<string> {
	const chunkRows = 20_000;
	return await dataFile(`rimdian-users-${rows}.csv`, (index) => {
		const from = index * chunkRows;
		if (from >= rows) return undefined;
		let text = index === 0 ? 'external_id,is_authenticated,created_at,email,first_name\n' : '';
		for (let i = from; i < Math.min(rows, from + chunkRows); i++) {
			const created = new Date(BASE_DATE + (i % 400) * DAY + (i % 86_400) * 1000).toISOString().slice(0, 19);
			text += `csv-user-${pad(i, 8)},${i % 3 === 0 ? 'false' : 'true'},${created}Z,user${i}@example.com,First${i % 997}\n`;
		}
		return text;
	});
}

/** A Rimdian user item (the JSON of one n8n item, as Import Items gets it). */
export function rimdianUser(i: number): Record<string, unknown> {
	return {
		external_id: `item-user-${pad(i, 8)}`,
		is_authenticated: i % 3 !== 0,
		created_at: `${new Date(BASE_DATE + (i % 400) * DAY + (i % 86_400) * 1000).toISOString().slice(0, 19)}Z`,
		email: `user${i}@example.com`,
		first_name: `First${i % 997}`,
	};
}

/** A JSON array of `rows` Rimdian users (rimdianUser(0..rows-1)), for n8n's Extract From File. */
export async function rimdianUsersJson(rows: number): Promise<string> {
	const chunkRows = 20_000;
	const chunks = Math.ceil(rows / chunkRows);
	return await dataFile(`rimdian-users-${rows}.json`, (index) => {
		if (index > chunks) return undefined;
		if (index === chunks) return rows === 0 ? '[]' : ']';
		const from = index * chunkRows;
		const parts: string[] = [];
		for (let i = from; i < Math.min(rows, from + chunkRows); i++) parts.push(JSON.stringify(rimdianUser(i)));
		return `${from === 0 ? '[' : ','}${parts.join(',')}`;
	});
}

/**
 * Nodes that turn that JSON file into one n8n item per user, fast and as plain objects: Read/Write
 * Files from Disk -> Extract From File (JSON; encoding given, else n8n runs charset detection over
 * the whole file) -> Split Out. (A Code node returning 100,000 items takes tens of seconds and
 * hands on sandbox-proxied objects, which slow every node after it.)
 */
export function itemSourceNodes(file: string) {
	return [
		readFileNode(file),
		{
			name: 'Extract From File',
			type: 'n8n-nodes-base.extractFromFile',
			typeVersion: 1,
			parameters: { operation: 'fromJson', options: { encoding: 'utf8' } },
		},
		{ name: 'Items', type: 'n8n-nodes-base.splitOut', typeVersion: 1, parameters: { fieldToSplitOut: 'data', options: {} } },
	];
}

/** Import Items with its defaults, Rimdian users, fields auto-mapped: the node every benchmark times. */
export function importItemsNode() {
	return {
		name: 'Import Items',
		type: 'n8n-nodes-data-import.importItems',
		typeVersion: 1,
		parameters: { platform: 'rimdian', rimdianKind: 'user', dataMode: 'autoMap', onInvalid: 'stop', options: {} },
		credentials: credentialRef('sandboxRimdian'),
	};
}

/** A Userpilot events CSV (metadata as a JSON cell), every row valid. */
export async function userpilotCsv(rows: number): Promise<string> {
	const chunkRows = 20_000;
	return await dataFile(`userpilot-events-${rows}.csv`, (index) => {
		const from = index * chunkRows;
		if (from >= rows) return undefined;
		let text = index === 0 ? 'event_type,event_name,source,user_id,company_id,hostname,pathname,inserted_at,screen_width,metadata\n' : '';
		for (let i = from; i < Math.min(rows, from + chunkRows); i++) {
			const user = `user-${pad(i, 8)}`;
			const at = userpilotDate(i);
			switch (i % 4) {
				case 0:
					text += `identify_user,,backend-http-import,${user},company-${pad(i % 5000, 5)},,,${at},,"{""plan"":""pro"",""seats"":${i % 50}}"\n`;
					break;
				case 1:
					text += `track,exported_report,backend-http,${user},,,,${at},,"{""format"":""csv""}"\n`;
					break;
				case 2:
					text += `page_view,,backend-http-import,${user},,app.example.com,/reports/${i % 100},${at},1440,\n`;
					break;
				default:
					text += `track,created_project,,${user},,,,${at.slice(0, 19)},,{}\n`;
			}
		}
		return text;
	});
}

// ---------------------------------------------------------------------------------------------
// /proc: memory and CPU of a process
// ---------------------------------------------------------------------------------------------

const CLK_TCK = Number(shell('getconf', ['CLK_TCK'])) || 100;

/** utime + stime of a process in ms, or undefined once it is gone. */
export function cpuMsOf(pid: number): number | undefined {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
	} catch {
		return undefined;
	}
}

export interface ProcessSample {
	pid: number;
	/** Highest VmHWM / VmRSS seen, bytes. */
	peakBytes: number;
	/** Last CPU time seen (utime + stime), ms. */
	cpuMs: number;
	samples: number;
}

/**
 * Samples a process every `intervalMs`: VmRSS and VmHWM from /proc/<pid>/status, CPU time from
 * /proc/<pid>/stat. VmHWM is the kernel's own high-water mark, so a peak between two samples is
 * not missed (only growth in the last < intervalMs before the process exits).
 */
export function sampleProcess(pid: number, intervalMs = 50): { stop(): ProcessSample } {
	const sample: ProcessSample = { pid, peakBytes: 0, cpuMs: 0, samples: 0 };
	const tick = () => {
		const memory = memoryOf(pid);
		const cpu = cpuMsOf(pid);
		if (memory) {
			sample.samples++;
			sample.peakBytes = Math.max(sample.peakBytes, memory.hwm, memory.rss);
		}
		if (cpu !== undefined) sample.cpuMs = cpu;
	};
	tick();
	const handle = setInterval(tick, intervalMs);
	return {
		stop() {
			clearInterval(handle);
			return sample;
		},
	};
}

/** This process's RSS, sampled every `intervalMs`; `stop()` gives the peak above the level at start. */
export function sampleSelf(intervalMs = 50): { stop(): { baseBytes: number; peakBytes: number; growthBytes: number } } {
	const baseBytes = process.memoryUsage.rss();
	let peakBytes = baseBytes;
	const handle = setInterval(() => {
		peakBytes = Math.max(peakBytes, process.memoryUsage.rss());
	}, intervalMs);
	return {
		stop() {
			clearInterval(handle);
			peakBytes = Math.max(peakBytes, process.memoryUsage.rss());
			return { baseBytes, peakBytes, growthBytes: peakBytes - baseBytes };
		},
	};
}

// ---------------------------------------------------------------------------------------------
// A real n8n with this package
// ---------------------------------------------------------------------------------------------

export interface BenchN8n {
	n8n: N8nInstance;
	/** Imports workflows (ids kept) in one n8n process. */
	importWorkflows(workflows: Workflow[]): Promise<void>;
	/**
	 * `n8n execute`, its process sampled every 50 ms. With `summary`, the execution is read through
	 * bench/n8n-summary-hook.js (n8n's own run data, written when the execution ends) and n8n exits
	 * without printing it: for executions too big for `n8n execute` to print.
	 */
	run(workflowId: string, timeoutMs?: number, options?: { summary?: boolean }): Promise<BenchRun>;
	dispose(): Promise<void>;
}

export interface Workflow {
	id: string;
	name: string;
	nodes: Array<Record<string, unknown>>;
	connections: Record<string, unknown>;
	settings?: Record<string, unknown>;
	[key: string]: unknown;
}

/** A header-auth credential for the plain HTTP Request contenders. */
export const HEADER_AUTH_CREDENTIAL = 'benchRimdianHeader';

export interface NodeRun {
	/** When the node started (ms since epoch), to check the order branches ran in. */
	startTime?: number;
	executionTime?: number;
	executionStatus?: string;
	/** Items on the node's first output (counted while reading the output). */
	items: number;
}

/** What one `n8n execute` gave: read from its output file, line by line (it may be huge). */
export interface BenchRun {
	/** n8n's execution status, or 'no-output' when no execution JSON was printed. */
	status: string;
	nodes: Record<string, NodeRun>;
	/** The execution's error message, if any. */
	error?: string;
	/** The whole execution as the harness reads it, when the output is small enough (< 64 MB). */
	result?: ExecutionResult;
	wallMs: number;
	exitCode: number | null;
	outputBytes: number;
	/** The tail of stdout and stderr, for error messages. */
	tail: string;
	process: ProcessSample;
	/** What bench/n8n-summary-hook.js wrote, when the run asked for a summary. */
	summary?: N8nSummary;
}

/** What bench/n8n-summary-hook.js writes when an execution ends. */
export interface N8nSummary {
	status?: string;
	error?: string;
	nodes: Record<string, { startTime?: number; executionTime?: number; executionStatus?: string; outputItems: number[]; resultStatuses: Record<string, number> }>;
	/** The n8n process at the end of the execution: VmHWM (its peak so far) and VmRSS. */
	memory: { hwmBytes: number; rssBytes: number; heapUsedBytes: number; heapAfterGcBytes?: number };
}

const SUMMARY_HOOK = path.join(__dirname, 'n8n-summary-hook.js');

function readSummary(file: string): Pick<BenchRun, 'status' | 'nodes' | 'error' | 'summary'> | undefined {
	if (!fs.existsSync(file)) return undefined;
	const summary = JSON.parse(fs.readFileSync(file, 'utf8')) as N8nSummary;
	const nodes: Record<string, NodeRun> = {};
	for (const [name, node] of Object.entries(summary.nodes)) {
		nodes[name] = { startTime: node.startTime, executionTime: node.executionTime, executionStatus: node.executionStatus, items: node.outputItems[0] ?? 0 };
	}
	return { status: summary.status ?? 'no-output', nodes, error: summary.error, summary };
}

/**
 * Reads `n8n execute --rawOutput` output (JSON.stringify(run, null, 2)) line by line: the
 * execution status, and for each node of runData its executionTime, executionStatus and item
 * count. Relies on the fixed indentation of that output (runData's node names at 8 spaces).
 */
async function readExecutionOutput(file: string): Promise<Pick<BenchRun, 'status' | 'nodes' | 'error'>> {
	const nodes: Record<string, NodeRun> = {};
	let status = 'no-output';
	let error: string | undefined;
	let current: NodeRun | undefined;
	let inError = false;
	let started = false;
	const lines = readline.createInterface({ input: fs.createReadStream(file, { highWaterMark: 1024 * 1024 }), crlfDelay: Infinity });
	for await (const line of lines) {
		if (!started) {
			started = line === '{';
			continue;
		}
		if (line === '}') break;
		if (line.startsWith('  "status": ')) status = JSON.parse(line.slice(12).replace(/,$/, '')) as string;
		const nodeName = /^ {8}("(?:[^"\\]|\\.)*"): \[$/.exec(line);
		if (nodeName) {
			current = { items: 0 };
			nodes[JSON.parse(nodeName[1]) as string] = current;
			continue;
		}
		if (line === '      "error": {') inError = true;
		if (inError && error === undefined && line.startsWith('        "message": ')) {
			error = JSON.parse(line.slice(19).replace(/,$/, '')) as string;
		}
		if (!current) continue;
		if (line.startsWith('            "startTime": ')) current.startTime = Number(line.slice(25).replace(/,$/, ''));
		else if (line.startsWith('            "executionTime": ')) current.executionTime = Number(line.slice(29).replace(/,$/, ''));
		else if (line.startsWith('            "executionStatus": ')) current.executionStatus = JSON.parse(line.slice(31).replace(/,$/, '')) as string;
		// Items of the first output of the first run: `"json": {` at 20 spaces.
		else if (line === '                    "json": {') current.items++;
	}
	return { status, nodes, error };
}

/**
 * createN8n (the e2e harness: this package installed as n8n installs a community package; needs
 * `npm run build` and the n8n of `npm run e2e:setup`), with credentials pointing at the sandbox.
 *
 * `n8n execute` is run here rather than through the harness's execute(): its stdout goes to a
 * file, because n8n exits right after printing, and through a pipe a big execution's JSON is cut
 * off (seen with 100,000 items: the harness then finds no JSON at all); into a file the write
 * completes. Its pid is the child's own, sampled from /proc.
 */
export async function startN8n(sandboxUrl: string): Promise<BenchN8n> {
	const built = path.join(REPO_ROOT, 'dist', 'nodes', 'ImportItems', 'ImportItems.node.js');
	for (let attempt = 0; !fs.existsSync(built); attempt++) {
		// Someone may be rebuilding dist/ right now (npm test starts with rimraf dist).
		if (attempt >= 60) fatal('dist/ is not built: run `npm run build` first');
		await sleep(1000);
	}
	const n8n = await createN8n({ installPackage: true });
	await n8n.importCredentials([
		...sandboxCredentials({ url: sandboxUrl } as Sandbox),
		{
			id: HEADER_AUTH_CREDENTIAL,
			name: 'Rimdian token as a header',
			type: 'httpHeaderAuth',
			data: { name: 'Authorization', value: `Bearer ${RIMDIAN_TOKEN}` },
		},
	]);
	let counter = 0;
	const forgetFolder = onExit(() => {
		if (process.env.KEEP_N8N_FOLDER !== '1') fs.rmSync(n8n.userFolder, { recursive: true, force: true });
	});
	return {
		n8n,
		async importWorkflows(workflows) {
			await n8n.importWorkflows(workflows);
		},
		async run(workflowId, timeoutMs = 600_000, options = {}) {
			const outFile = path.join(n8n.userFolder, `bench-${++counter}.out`);
			const errFile = `${outFile}.err`;
			const summaryFile = `${outFile}.summary.json`;
			const summaryEnv = options.summary ? { EXTERNAL_HOOK_FILES: SUMMARY_HOOK, BENCH_SUMMARY_FILE: summaryFile, BENCH_SUMMARY_EXIT: '1' } : {};
			const out = fs.openSync(outFile, 'w');
			const err = fs.openSync(errFile, 'w');
			const elapsed = timer();
			// BENCH_CPU_PROF=1: a V8 CPU profile of each n8n execute (read it with bench/profile-top.ts).
			const profile = process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${path.join(RESULTS_DIR, 'profiles')}`] : [];
			// --expose-gc lets the summary hook measure the heap left after a full collection; it changes
			// nothing else (nothing calls gc() before the execution ends).
			const gcFlag = options.summary ? ['--expose-gc'] : [];
			const child = spawn(n8n.nodeBin, [...profile, ...gcFlag, n8n.n8nBin, 'execute', `--id=${workflowId}`, '--rawOutput'], {
				cwd: n8n.userFolder,
				env: { ...n8n.env, ...summaryEnv },
				stdio: ['ignore', out, err],
			});
			fs.closeSync(out);
			fs.closeSync(err);
			const forgetChild = onExit(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
			child.once('exit', forgetChild);
			const pid = child.pid as number;
			const sampler = sampleProcess(pid);
			let timedOut = false;
			const killer = setTimeout(() => {
				timedOut = true;
				child.kill('SIGKILL');
			}, timeoutMs);
			const exitCode = await new Promise<number | null>((resolve, reject) => {
				child.once('error', reject);
				child.once('close', (code) => resolve(code));
			}).finally(() => clearTimeout(killer));
			const wallMs = elapsed();
			const closedAt = Date.now();
			const processSample = sampler.stop();
			const outputBytes = fs.statSync(outFile).size;
			const parsed = (options.summary ? readSummary(summaryFile) : undefined) ?? (await readExecutionOutput(outFile));
			fs.rmSync(summaryFile, { force: true });
			if (profile.length > 0) {
				// Beside the profile: when the process ended (epoch ms) and each node's start and
				// duration, so that bench/profile-top.ts can keep one node's samples.
				const dir = path.join(RESULTS_DIR, 'profiles');
				const newest = fs
					.readdirSync(dir)
					.filter((name) => name.endsWith('.cpuprofile') && name.includes(`.${pid}.0.`)) // the main thread
					.map((name) => path.join(dir, name))[0];
				if (newest) {
					fs.writeFileSync(`${newest}.nodes.json`, JSON.stringify({ workflowId, closedAtEpochMs: closedAt, nodes: parsed.nodes }, null, 2));
					log(`cpu profile: ${path.relative(REPO_ROOT, newest)}`);
				}
			}
			const tailOf = (file: string) => {
				const size = fs.statSync(file).size;
				const fd = fs.openSync(file, 'r');
				const buffer = Buffer.alloc(Math.min(size, 3000));
				fs.readSync(fd, buffer, 0, buffer.length, size - buffer.length);
				fs.closeSync(fd);
				return buffer.toString('utf8');
			};
			const tail = `${tailOf(outFile)}\n${tailOf(errFile)}${timedOut ? `\n(killed after ${timeoutMs} ms)` : ''}`;
			let result: ExecutionResult | undefined;
			if (!options.summary && outputBytes < 64 * 1024 * 1024) {
				const stdout = fs.readFileSync(outFile, 'utf8');
				result = toExecutionResult({ args: [], stdout, stderr: '', exitCode, signal: null, timedOut, wallMs });
			}
			fs.rmSync(outFile, { force: true });
			fs.rmSync(errFile, { force: true });
			// Binary data of finished executions (e.g. a 1 GB file read from disk) is not needed again.
			fs.rmSync(path.join(n8n.userFolder, '.n8n', 'binaryData'), { recursive: true, force: true });
			return { ...parsed, result, wallMs, exitCode, outputBytes, tail, process: processSample };
		},
		async dispose() {
			await n8n.dispose();
			forgetFolder();
		},
	};
}

/** The node's own time (n8n's run data), or a loud failure when it did not run or failed. */
export function nodeTime(run: BenchRun, nodeName: string, what: string): number {
	if (run.status !== 'success') {
		fatal(`${what}: the execution ended "${run.status}"${run.error ? `: ${run.error}` : ''}\n${run.tail}`);
	}
	const ms = run.nodes[nodeName]?.executionTime;
	if (ms === undefined) fatal(`${what}: node "${nodeName}" did not run\n${run.tail}`);
	return ms;
}

// -- workflow building ------------------------------------------------------------------------

export const TRIGGER = 'Manual Trigger';

/** A linear workflow: Manual Trigger -> nodes, in order. */
export function chain(name: string, nodes: Array<{ name: string; type: string; typeVersion: number; parameters: Record<string, unknown>; credentials?: Record<string, { id: string; name: string }> }>): Workflow {
	const all = [{ name: TRIGGER, type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} }, ...nodes];
	const connections: Record<string, unknown> = {};
	for (let i = 0; i + 1 < all.length; i++) {
		connections[all[i].name] = { main: [[{ node: all[i + 1].name, type: 'main', index: 0 }]] };
	}
	return {
		id: newN8nId(),
		name,
		nodes: all.map((node, i) => ({ ...node, position: [i * 220, 0] })),
		connections,
		// n8n's own saving of the execution (after the nodes ran, so not in any node's time) is
		// turned off: with 100,000 items it costs tens of seconds of wall time per run.
		// BENCH_SAVE_EXECUTIONS=1 keeps n8n's defaults.
		settings:
			process.env.BENCH_SAVE_EXECUTIONS === '1'
				? { executionOrder: 'v1' }
				: { executionOrder: 'v1', saveDataSuccessExecution: 'none', saveDataErrorExecution: 'all', saveManualExecutions: false, saveExecutionProgress: false },
		active: false,
	};
}

export const readFileNode = (file: string) => ({
	name: 'Read File',
	type: 'n8n-nodes-base.readWriteFile',
	typeVersion: 1,
	parameters: { fileSelector: file, options: {} },
});

export const credentialRef = (id: string) => ({ dataImportApi: { id, name: id } });


// ---------------------------------------------------------------------------------------------
// CSV passes in a plain Node process (bench/workers/csv.ts)
// ---------------------------------------------------------------------------------------------

export type CsvMode = 'csv-parse' | 'read-csv' | 'userpilot-validate' | 'userpilot-validate-records';

export interface CsvPass {
	mode: CsvMode;
	rows: number;
	valid: number;
	ms: number;
	rssBaseBytes: number;
	rssPeakBytes: number;
	/** Where the package's modules came from: dist or source (tsx). */
	from: string;
	firstError?: string;
}

/**
 * Runs a bench/workers/ script in a new process (clean heap, cold code) and returns the JSON of its
 * last output line; fails loudly with its stderr when it exits otherwise than 0.
 */
async function workerPass<T>(script: string, args: string[], what: string): Promise<T> {
	const env = { ...process.env };
	delete env.NODE_OPTIONS;
	const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench', 'workers', script), ...args], {
		cwd: REPO_ROOT,
		env,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const forget = onExit(() => child.exitCode === null && child.kill('SIGKILL'));
	let out = '';
	let err = '';
	child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
	child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
	const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
	forget();
	if (code !== 0) fatal(`${what} failed with exit ${code}:\n${err}`);
	return JSON.parse(out.trim().split('\n').pop() as string) as T;
}

/**
 * One pass of the plain keep-alive client (bench/workers/client.ts) in a new process: cold, as
 * each `n8n execute` of the node is. `ceiling` sends bodies built beforehand; `floor` serializes
 * each when it is needed, then sends it.
 */
export async function clientPass(
	mode: 'ceiling' | 'floor',
	receiverUrl: string,
	items: number,
	batch: number,
	concurrency: number,
): Promise<{ ms: number; sockets: number }> {
	return await workerPass('client.ts', [mode, receiverUrl, String(items), String(batch), String(concurrency)], `client worker (${mode})`);
}

/**
 * One pass of bench:rimdian-csv's floor (bench/workers/csv-floor.ts) in a new process: the file
 * read by csv-parse, each row written as the node's Rimdian item and posted, nothing else.
 */
export async function csvFloorPass(
	file: string,
	receiverUrl: string,
	batch: number,
	concurrency: number,
): Promise<{ rows: number; ms: number; sockets: number }> {
	return await workerPass('csv-floor.ts', [file, receiverUrl, String(batch), String(concurrency)], 'csv floor worker');
}

export async function csvPass(mode: CsvMode, file: string): Promise<CsvPass> {
	return await workerPass<CsvPass>('csv.ts', [mode, file], `csv worker (${mode})`);
}

// ---------------------------------------------------------------------------------------------
// Rimdian batches: bodies as the node builds them, and a plain keep-alive client (the ceiling)
// ---------------------------------------------------------------------------------------------

/** The request bodies Import Items sends for these users: canonical JSON items, `batchSize` a request. */
export function rimdianBodies(users: Array<Record<string, unknown>>, batchSize: number): string[] {
	const bodies: string[] = [];
	for (let i = 0; i < users.length; i += batchSize) {
		const items = users.slice(i, i + batchSize).map((user) => canonicalJson({ kind: 'user', user }));
		bodies.push(`{"workspace_id":${JSON.stringify(RIMDIAN_WORKSPACE)},"items":[${items.join(',')}]}`);
	}
	return bodies;
}

/**
 * Posts bodies to a Rimdian /data (the receiver's) with `concurrency` requests in flight over an
 * http.Agent with keepAlive (connections reused). Fails loudly on any answer but 200 "queued".
 * The bodies are taken one at a time as a request is free: an array prepared beforehand, or a
 * generator (sync or async) that builds each when it is needed (its cost then counts in the time).
 */
export async function postBodiesKeepAlive(
	baseUrl: string,
	bodies: Iterable<string> | AsyncIterable<string>,
	concurrency: number,
): Promise<{ ms: number; sockets: number }> {
	const url = new URL('/data', baseUrl);
	const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
	let sockets = 0;
	const post = (body: string) =>
		new Promise<void>((resolve, reject) => {
			const request = http.request(
				url,
				{
					method: 'POST',
					agent,
					headers: {
						Authorization: `Bearer ${RIMDIAN_TOKEN}`,
						'Content-Type': 'application/json',
						'Content-Length': Buffer.byteLength(body),
					},
				},
				(response) => {
					let text = '';
					response.setEncoding('utf8');
					response.on('data', (chunk: string) => (text += chunk));
					response.on('end', () =>
						response.statusCode === 200 && text.trim() === 'queued' ? resolve() : reject(new Error(`answer ${response.statusCode}: ${text.slice(0, 300)}`)),
					);
				},
			);
			request.on('socket', (socket) => {
				if (!(socket as { benchSeen?: boolean }).benchSeen) {
					(socket as { benchSeen?: boolean }).benchSeen = true;
					sockets++;
				}
			});
			request.on('error', reject);
			request.end(body);
		});
	const elapsed = timer();
	const next = Symbol.asyncIterator in bodies ? bodies[Symbol.asyncIterator]() : bodies[Symbol.iterator]();
	const worker = async () => {
		for (let body = await next.next(); !body.done; body = await next.next()) await post(body.value);
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
	const ms = elapsed();
	agent.destroy();
	return { ms, sockets };
}

// ---------------------------------------------------------------------------------------------
// The receiver (bench/receiver.ts): a peer that only reads and counts, and its own maximum rate
// (items replayed: receiverMax; Userpilot uploads: receiverUploadMax)
// ---------------------------------------------------------------------------------------------

export interface ReceiverSample {
	path: string;
	contentType: string;
	items: number;
	body: Buffer;
}

export interface ReceiverProcess {
	url: string;
	/** Where the receiver's Userpilot routes answer (its own port, see bench/receiver.ts). */
	userpilotUrl: string;
	pid: number;
	stats(): Promise<ReceiverStats>;
	reset(): Promise<void>;
	configure(patch: { parse?: boolean }): Promise<void>;
	/** The first bodies received since the last reset, byte for byte. */
	samples(): Promise<ReceiverSample[]>;
	cpuMs(): number;
	stop(): Promise<void>;
}

/**
 * bench/receiver.ts in its own process (BENCH_RECEIVER_PARSE=1: it parses every body as JSON
 * instead of counting items by their opening bytes).
 */
export async function startReceiverProcess(): Promise<ReceiverProcess> {
	const port = await findFreePort();
	let userpilotPort = await findFreePort();
	while (userpilotPort === port) userpilotPort = await findFreePort();
	const args = ['--import', 'tsx', path.join(REPO_ROOT, 'bench', 'receiver.ts'), '--port', String(port), '--userpilot-port', String(userpilotPort)];
	if (process.env.BENCH_RECEIVER_PARSE === '1') args.push('--parse');
	const env = { ...process.env };
	delete env.NODE_OPTIONS;
	const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-8000)));
	child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-8000)));
	const forget = onExit(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
	child.once('exit', forget);
	const deadline = Date.now() + 60_000;
	while (!output.includes('receiver listening on')) {
		if (child.exitCode !== null) fatal(`the receiver exited at start:\n${output}`);
		if (Date.now() > deadline) fatal(`the receiver did not start within 60 s:\n${output}`);
		await sleep(50);
	}
	const url = `http://127.0.0.1:${port}`;
	const admin = async <T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> => {
		const response = await fetch(`${url}/__receiver${route}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
		const text = await response.text();
		if (!response.ok) throw new Error(`receiver ${method} ${route}: ${response.status} ${text}`);
		return JSON.parse(text) as T;
	};
	const pid = child.pid as number;
	return {
		url,
		userpilotUrl: `http://127.0.0.1:${userpilotPort}`,
		pid,
		stats: async () => await admin<ReceiverStats>('GET', '/stats'),
		reset: async () => void (await admin('POST', '/reset')),
		configure: async (patch) => void (await admin('POST', '/config', patch)),
		samples: async () =>
			(await admin<Array<Omit<ReceiverSample, 'body'> & { body: string }>>('GET', '/samples')).map((sample) => ({ ...sample, body: Buffer.from(sample.body, 'base64') })),
		cpuMs: () => cpuMsOf(pid) ?? Number.NaN,
		async stop() {
			if (child.exitCode !== null || child.signalCode !== null) return;
			const exited = new Promise((resolve) => child.once('exit', resolve));
			child.kill('SIGTERM');
			if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) child.kill('SIGKILL');
		},
	};
}

export interface ReceiverMax {
	itemsPerSecond: number;
	requestsPerSecond: number;
	ms: number;
	requests: number;
	items: number;
	connections: number;
	inFlightPerConnection: number;
	receiverCpuMs: number;
	/** How the rate was driven, when not by pipelined replays of samples (bench:upload). */
	how?: string;
}

/** Whole HTTP/1.1 requests, ready to write to a socket: the samples' bytes, a token header. */
function rawRequests(samples: ReceiverSample[], host: string, authorization: string): Buffer[] {
	return samples.map((sample) =>
		Buffer.concat([
			Buffer.from(
				`POST ${sample.path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${authorization}\r\nContent-Type: ${sample.contentType}\r\n` +
					`Content-Length: ${sample.body.length}\r\nConnection: keep-alive\r\n\r\n`,
			),
			sample.body,
		]),
	);
}

/**
 * Drives the receiver as hard as it goes: `connections` raw keep-alive sockets, each with
 * `inFlight` pipelined requests, replaying the given bodies (the bytes the contender sent) for
 * `seconds`. The client side costs next to nothing (prebuilt bytes, answers counted by their
 * status lines), so what is measured is the receiver. The rate is the receiver's own count of
 * items over the time, and every answer must be a 200.
 */
export async function receiverMax(receiver: ReceiverProcess, samples: ReceiverSample[], options: { seconds?: number; connections?: number; inFlight?: number } = {}): Promise<ReceiverMax> {
	if (samples.length === 0) fatal('receiver max: no sample bodies to replay (the contender sent nothing?)');
	const seconds = options.seconds ?? envNumber('BENCH_RECEIVER_MAX_SECONDS', 2);
	const connections = options.connections ?? 8;
	const inFlight = options.inFlight ?? 32;
	const target = new URL(receiver.url);
	const requests = rawRequests(samples, target.host, `Bearer ${RIMDIAN_TOKEN}`);
	await receiver.reset();
	const cpu0 = receiver.cpuMs();
	const elapsed = timer();
	const okLine = Buffer.from('HTTP/1.1 200 ');
	const anyLine = Buffer.from('HTTP/1.1 ');
	const drive = (index: number) =>
		new Promise<void>((resolve, reject) => {
			const socket = net.connect(Number(target.port), target.hostname);
			let sent = 0;
			let answered = 0;
			let tail: Buffer = Buffer.alloc(0);
			const sendOne = () => socket.write(requests[(index + sent++) % requests.length]);
			socket.once('connect', () => {
				for (let i = 0; i < inFlight; i++) sendOne();
			});
			socket.on('data', (chunk: Buffer) => {
				const text = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
				let ok = 0;
				let all = 0;
				// Status lines may be cut between chunks: a match too short to tell its status, or the
				// last bytes that may start one, wait for the next chunk.
				tail = text.subarray(Math.max(0, text.length - anyLine.length + 1));
				for (let at = text.indexOf(anyLine); at !== -1; at = text.indexOf(anyLine, at + anyLine.length)) {
					if (text.length - at < okLine.length) {
						tail = text.subarray(at);
						break;
					}
					all++;
					if (text.subarray(at, at + okLine.length).equals(okLine)) ok++;
				}
				if (ok !== all) return reject(new Error(`receiver max: an answer was not 200: ${text.subarray(0, 300).toString()}`));
				answered += all;
				const stillSending = elapsed() < seconds * 1000;
				for (let i = 0; i < all && stillSending; i++) sendOne();
				if (answered === sent) socket.end();
			});
			socket.once('error', reject);
			socket.once('close', () => (answered === sent ? resolve() : reject(new Error(`receiver max: ${sent - answered} requests unanswered`))));
		});
	await Promise.all(Array.from({ length: connections }, (_, index) => drive(index)));
	const ms = elapsed();
	const receiverCpuMs = receiver.cpuMs() - cpu0;
	const stats = await receiver.stats();
	if (stats.refused > 0 || stats.badBodies > 0) fatal(`receiver max: ${stats.refused} requests refused, ${stats.badBodies} bodies without items`);
	return {
		itemsPerSecond: stats.items / (ms / 1000),
		requestsPerSecond: stats.accepted / (ms / 1000),
		ms,
		requests: stats.accepted,
		items: stats.items,
		connections,
		inFlightPerConnection: inFlight,
		receiverCpuMs,
	};
}

/** The receiver must take at least this many times the contender's rate for a figure to count. */
export const RECEIVER_HEADROOM = 3;

/**
 * Prints `receiver max: N items/s (Kx the contender)` and whether the figure is valid: when the
 * receiver's maximum is under 3x the contender's rate, the peer may have limited the contender,
 * and this says so loudly and sets a non-zero exit code (the benchmark still prints its figures).
 * The rate is `max.itemsPerSecond` in `unit` (MB/s for bench:upload); `max.how`, when given,
 * replaces the line's account of how the maximum was driven.
 */
export function receiverHeadroom(
	max: ReceiverMax,
	contenderRate: number,
	contender: string,
	unit = 'items/s',
	cpuCapacity?: number,
): { ratio: number; valid: boolean; line: string } {
	const ratio = max.itemsPerSecond / contenderRate;
	// Where the driver, not the receiver, sets the measured maximum (bench:upload: loopback TCP on
	// two shared cores), the receiver's rate per second of its own CPU shows what it could take.
	const capacityRatio = cpuCapacity === undefined ? undefined : cpuCapacity / contenderRate;
	const valid = ratio >= RECEIVER_HEADROOM || (capacityRatio ?? 0) >= RECEIVER_HEADROOM;
	const how = max.how ?? `${num(max.requestsPerSecond)} requests/s over ${max.connections} sockets x ${max.inFlightPerConnection} pipelined, the same bytes`;
	const capacity =
		capacityRatio === undefined ? '' : `; its CPU would take ${num(cpuCapacity as number)} ${unit} = ${capacityRatio.toFixed(1)}x`;
	const line = `receiver max: ${num(max.itemsPerSecond)} ${unit} (${ratio.toFixed(1)}x ${contender}; ${how})${capacity}`;
	log(line);
	if (!valid) {
		const bar = '!'.repeat(78);
		process.stderr.write(`\n${bar}\nFIGURE INVALID: the receiver's maximum is only ${ratio.toFixed(2)}x ${contender} (needs >= ${RECEIVER_HEADROOM}x): the peer may have been the bottleneck\n${bar}\n`);
		process.exitCode = 1;
	}
	return { ratio, valid, line };
}

/**
 * The receiver's own maximum rate for Userpilot uploads (bench:upload): uploads of `fileBytes`
 * bytes each, one after the other on each of `connections` raw keep-alive sockets (default 1:
 * curl and the node send one upload at a time), for at least `seconds` and at least one upload
 * per socket. Each is a multipart body with a Content-Length, its file bytes the first MiB of
 * `file` written again and again from memory (the driver costs next to nothing: no file read, no
 * encoding). The rate is the receiver's own count of file bytes over the time, in MB/s
 * (itemsPerSecond holds it, for receiverHeadroom); every answer must be a 200 and every upload
 * counted at its size. Also given: the receiver's own CPU time, for its rate per CPU second: on two
 * shared cores the driver and loopback TCP, not the receiver, set the measured maximum
 * (docs/performance.md has the figures).
 */
export async function receiverUploadMax(
	receiver: ReceiverProcess,
	file: string,
	fileBytes: number,
	options: { seconds?: number; connections?: number; chunkBytes?: number } = {},
): Promise<ReceiverMax> {
	const seconds = options.seconds ?? envNumber('BENCH_RECEIVER_MAX_SECONDS', 2);
	const connections = options.connections ?? envNumber('BENCH_RECEIVER_MAX_SOCKETS', 1);
	const target = new URL(receiver.userpilotUrl);
	const fd = fs.openSync(file, 'r');
	const chunk = Buffer.alloc(Math.min(options.chunkBytes ?? 1024 * 1024, fileBytes));
	const got = fs.readSync(fd, chunk, 0, chunk.length, 0);
	fs.closeSync(fd);
	if (got !== chunk.length) fatal(`receiver max: could not read ${chunk.length} bytes of ${file}`);
	const boundary = '----benchReceiverMax0123456789';
	const partHead = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="receiver-max.ndjson"\r\nContent-Type: application/x-ndjson\r\n\r\n`);
	const partTail = Buffer.from(`\r\n--${boundary}--\r\n`);
	const requestHead = Buffer.from(
		`POST /v1/imports HTTP/1.1\r\nHost: ${target.host}\r\nAuthorization: Token ${USERPILOT_KEY}\r\n` +
			`Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${partHead.length + fileBytes + partTail.length}\r\nConnection: keep-alive\r\n\r\n`,
	);
	await receiver.reset();
	const sockets = await Promise.all(
		Array.from({ length: connections }, async () => {
			const socket = net.connect(Number(target.port), target.hostname);
			await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
			socket.setNoDelay(true);
			return socket;
		}),
	);
	const cpu0 = receiver.cpuMs();
	const elapsed = timer();
	const drive = async (socket: net.Socket): Promise<number> => {
		let answer = '';
		let answered: (() => void) | undefined;
		let failed: Error | undefined;
		socket.setEncoding('latin1');
		socket.on('data', (text: string) => {
			answer += text;
			// One answer: its head, then a Content-Length body.
			const headEnd = answer.indexOf('\r\n\r\n');
			if (headEnd === -1) return;
			const length = Number(/content-length:\s*(\d+)/i.exec(answer.slice(0, headEnd))?.[1] ?? 0);
			if (answer.length < headEnd + 4 + length) return;
			if (!answer.startsWith('HTTP/1.1 200 ')) failed = new Error(`receiver max: an upload was answered ${answer.slice(0, 300)}`);
			answer = answer.slice(headEnd + 4 + length);
			answered?.();
		});
		socket.once('error', (error) => {
			failed = error;
			answered?.();
		});
		const write = async (buffer: Buffer) => {
			if (!socket.write(buffer)) await new Promise<void>((resolve) => socket.once('drain', resolve));
		};
		let uploads = 0;
		do {
			const done = new Promise<void>((resolve) => (answered = resolve));
			await write(Buffer.concat([requestHead, partHead]));
			for (let left = fileBytes; left > 0; left -= chunk.length) await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
			await write(partTail);
			await done;
			if (failed) fatal(failed.message);
			uploads++;
		} while (elapsed() < seconds * 1000);
		return uploads;
	};
	const uploads = (await Promise.all(sockets.map(drive))).reduce((a, b) => a + b, 0);
	const ms = elapsed();
	const receiverCpuMs = receiver.cpuMs() - cpu0;
	for (const socket of sockets) socket.destroy();
	const stats = await receiver.stats();
	if (stats.userpilot.uploads !== uploads || stats.userpilot.bytes !== uploads * fileBytes) {
		fatal(`receiver max: the receiver counted ${stats.userpilot.uploads} uploads, ${stats.userpilot.bytes} bytes; expected ${uploads} of ${fileBytes} bytes`);
	}
	await receiver.reset();
	const mbPerSecond = stats.userpilot.bytes / 1e6 / (ms / 1000);
	return {
		itemsPerSecond: mbPerSecond,
		requestsPerSecond: uploads / (ms / 1000),
		ms,
		requests: uploads,
		items: stats.userpilot.bytes,
		connections,
		inFlightPerConnection: 1,
		receiverCpuMs,
		how:
			`${uploads} uploads of ${num(fileBytes / 1e6)} MB in ${num(ms)} ms over ${connections} socket${connections === 1 ? '' : 's'}, from memory; ` +
			`receiver CPU ${num(receiverCpuMs / uploads)} ms per upload, i.e. ${num(stats.userpilot.bytes / 1e6 / (receiverCpuMs / 1000))} MB per CPU second`,
	};
}
