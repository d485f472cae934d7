/**
 * What the large-scale suites share (test/e2e/faults.test.ts at 100,000 items, test/load/*).
 *
 * At that size `n8n execute --rawOutput` cannot print the execution: it prints every node's whole
 * output, which past a few hundred thousand items no longer fits in one string. So the import runs
 * in a sub-workflow (Execute Workflow Trigger -> items -> Import Items -> Summary, a Code node
 * that counts the results into one item) called by a parent (Manual Trigger -> Execute Workflow):
 * the parent's printed execution holds only the summary, and the sub-workflow's big run data is
 * dropped when it ends (it saves nothing on success).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';

import {
	findFreePort,
	memoryOf,
	newN8nId,
	toExecutionResult,
	type ExecutionResult,
	type JsonObject,
	type N8nInstance,
} from '../e2e/harness';

export const num = (value: number, digits = 0) =>
	value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const mib = (bytes: number) => Math.round(bytes / (1024 * 1024));
export const seconds = (ms: number) => Math.round(ms / 100) / 10;

/**
 * The sandbox draws, per request, reset first, then 5xx, then 429, then lost answer (each only
 * when the ones before did not hit); these rates give about 7% resets, 23.5% 5xx, 12.5% 429 and
 * 4% lost answers of all requests, and 3% latency spikes (3 s, past the node's 2 s time-out) on
 * top. The test checks the fractions it got.
 */
export const FAULTS = {
	rateReset: 0.07,
	rate5xx: 0.2527,
	rate429: 0.18,
	retryAfterSeconds: 1,
	rateLostAnswer: 0.075,
	latencySpikeRate: 0.03,
	latencySpikeMs: 3000,
	seed: 20261123,
};
/** What the suite promises to have injected, as fractions of all data requests. */
export const AT_LEAST = { reset: 0.05, '5xx': 0.2, '429': 0.1, lostAnswer: 0.02 };

/**
 * Every fault kind was injected at least once and, when `atScale` (enough requests for the
 * fractions to mean something), each at the least share #5 asks for. `detail` words the failure.
 */
export function assertFaultsInjected(
	faults: Record<'lostAnswer' | '5xx' | '429' | 'reset' | 'latency', number>,
	requests: number,
	atScale: boolean,
	detail: (kind: keyof typeof AT_LEAST) => string,
): void {
	assert.ok(
		faults.lostAnswer > 0 && faults['5xx'] > 0 && faults['429'] > 0 && faults.reset > 0 && faults.latency > 0,
		'every fault kind was injected',
	);
	if (!atScale) return;
	for (const [kind, least] of Object.entries(AT_LEAST) as Array<[keyof typeof AT_LEAST, number]>) {
		assert.ok(faults[kind] / requests >= least, detail(kind));
	}
}

/** Every fault off. */
export const NO_FAULTS = {
	rate5xx: 0,
	rate429: 0,
	rateReset: 0,
	rateLostAnswer: 0,
	latencySpikeRate: 0,
};

/** The id of user `i`, also in its email: what the sandbox's stored records are checked by. */
export const userId = (prefix: string, i: number) => `${prefix}-${String(i).padStart(7, '0')}`;

/**
 * A JSON array of `count` Rimdian users (written in chunks: 1,000,000 users is about 150 MB),
 * for Read File -> Extract From File -> Split Out. A Code node generating that many items takes
 * minutes in n8n's Code sandbox and hands on proxied objects; a file gives plain ones.
 */
export function writeUsersJson(file: string, count: number, prefix: string): void {
	const fd = fs.openSync(file, 'w');
	try {
		fs.writeSync(fd, '[');
		const chunk = 20_000;
		for (let from = 1; from <= count; from += chunk) {
			const parts: string[] = [];
			for (let i = from; i < Math.min(count + 1, from + chunk); i++) {
				parts.push(
					JSON.stringify({
						external_id: userId(prefix, i),
						is_authenticated: i % 3 !== 0,
						created_at: `2024-03-${String((i % 28) + 1).padStart(2, '0')}T08:00:00Z`,
						email: `${userId(prefix, i)}@example.com`,
					}),
				);
			}
			fs.writeSync(fd, (from === 1 ? '' : ',') + parts.join(','));
		}
		fs.writeSync(fd, ']');
	} finally {
		fs.closeSync(fd);
	}
}

export function tempDir(name: string): string {
	return fs.mkdtempSync(path.join(process.env.N8N_E2E_TMP || os.tmpdir(), `${name}-`));
}

/** One item that says what Import Items gave for every item (run in n8n's Code node). */
export const SUMMARY_CODE = `const counts = {};
const flagged = [];
const batchRetries = {};
const notAccepted = [];
let items = 0;
let unsafe = 0;
for (const item of $input.all()) {
  const result = item.json;
  items++;
  counts[result.status] = (counts[result.status] || 0) + 1;
  if (result.possiblyDuplicated === true) flagged.push(result.key);
  if (result.safeToResend !== true) unsafe++;
  if (result.batch !== undefined) batchRetries[result.batch] = result.retries || 0;
  if (result.status !== 'accepted' && notAccepted.length < 20) notAccepted.push(result);
}
let retries = 0;
let batches = 0;
for (const key in batchRetries) { retries += batchRetries[key]; batches++; }
return [{ json: { items, counts, flagged, retries, batches, unsafe, notAccepted } }];`;

/** What SUMMARY_CODE returns. */
export interface ImportSummary {
	items: number;
	counts: Record<string, number>;
	flagged: string[];
	retries: number;
	batches: number;
	unsafe: number;
	notAccepted: JsonObject[];
}

export interface Node {
	name: string;
	type: string;
	typeVersion: number;
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string; name: string }>;
	position?: [number, number];
}

export interface Workflow {
	id: string;
	name: string;
	nodes: Node[];
	connections: Record<string, unknown>;
	settings: Record<string, unknown>;
	active: boolean;
}

function chain(
	id: string,
	name: string,
	nodes: Node[],
	settings: Record<string, unknown>,
): Workflow {
	const connections: Record<string, unknown> = {};
	for (let i = 0; i + 1 < nodes.length; i++) {
		connections[nodes[i].name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
	}
	return {
		id,
		name,
		nodes: nodes.map((node, i) => ({ ...node, position: [i * 220, 0] })),
		connections,
		settings: { executionOrder: 'v1', ...settings },
		active: false,
	};
}

/**
 * The pair of workflows: `parentId` (Manual Trigger -> Execute Workflow) runs the sub-workflow
 * Execute Workflow Trigger -> Read File -> Extract From File -> Items (Split Out) -> `step` ->
 * Summary. `step` is Import Items, or a pass-through (No Operation) for the memory baseline.
 */
export function importPair(
	parentId: string,
	usersFile: string,
	step: Node,
	summary: Node = codeSummaryNode(),
): Workflow[] {
	const subId = newN8nId();
	const sub = chain(
		subId,
		`${parentId}: items -> ${step.name} -> summary`,
		[
			{
				name: 'Start',
				type: 'n8n-nodes-base.executeWorkflowTrigger',
				typeVersion: 1,
				parameters: {},
			},
			{
				name: 'Read File',
				type: 'n8n-nodes-base.readWriteFile',
				typeVersion: 1,
				parameters: { fileSelector: usersFile, options: {} },
			},
			{
				name: 'Extract From File',
				type: 'n8n-nodes-base.extractFromFile',
				typeVersion: 1,
				// With the encoding given, n8n does not run charset detection over the whole file.
				parameters: { operation: 'fromJson', options: { encoding: 'utf8' } },
			},
			{
				name: 'Items',
				type: 'n8n-nodes-base.splitOut',
				typeVersion: 1,
				parameters: { fieldToSplitOut: 'data', options: {} },
			},
			step,
			summary,
		],
		// Nothing of a successful run is saved: at 1,000,000 items that alone would take minutes.
		{
			saveDataSuccessExecution: 'none',
			saveDataErrorExecution: 'all',
			saveManualExecutions: false,
			saveExecutionProgress: false,
			callerPolicy: 'any',
		},
	);
	// n8n 2.x calls only a published sub-workflow from `n8n execute`: published at import (see
	// SUB_WORKFLOW_ENV); n8n 1.x does not mind either way.
	sub.active = true;
	const parent = chain(
		parentId,
		`${parentId}: run the import, print its summary`,
		[
			{
				name: 'Manual Trigger',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				parameters: {},
			},
			{
				name: 'Run Import',
				type: 'n8n-nodes-base.executeWorkflow',
				typeVersion: 1,
				parameters: {
					source: 'database',
					workflowId: subId,
					mode: 'once',
					options: { waitForSubWorkflow: true },
				},
			},
		],
		{ saveManualExecutions: false },
	);
	return [sub, parent];
}

/** SUMMARY_CODE in a Code node: everything the fault suites check, up to a few 100,000 items. */
export const codeSummaryNode = (): Node => ({
	name: 'Summary',
	type: 'n8n-nodes-base.code',
	typeVersion: 2,
	parameters: { jsCode: SUMMARY_CODE },
});

/**
 * n8n's Summarize node, without "split by" (which regroups by copying arrays: quadratic in the
 * items), one item out: for each field, its count (of items that have it), its number of
 * distinct values, and its lowest and highest value (`count_status`, `unique_count_status`,
 * `min_status`, `max_status`). At 1,000,000 items n8n's Code node is out of the question: its
 * sandbox wraps every item it reads, minutes past the import itself.
 */
export const countNode = (field: string): Node => ({
	name: 'Summary',
	type: 'n8n-nodes-base.summarize',
	typeVersion: 1.1,
	parameters: {
		fieldsToSummarize: {
			values: ['count', 'countUnique', 'min', 'max'].map((aggregation) => ({ aggregation, field })),
		},
		options: {},
	},
});

export const importItemsNode = (options: Record<string, unknown>): Node => ({
	name: 'Import Items',
	type: 'n8n-nodes-data-import.importItems',
	typeVersion: 1,
	parameters: {
		platform: 'rimdian',
		rimdianKind: 'user',
		dataMode: 'autoMap',
		onInvalid: 'stop',
		options,
	},
	credentials: { dataImportApi: { id: 'sandboxRimdian', name: 'Rimdian (sandbox)' } },
});

export const passThroughNode = (): Node => ({
	name: 'Pass Through',
	type: 'n8n-nodes-base.noOp',
	typeVersion: 1,
	parameters: {},
});

/** The summary the parent printed, or a failure with n8n's error and output tail. */
export function summaryOf(result: ExecutionResult): ImportSummary {
	return summaryItems(result)[0] as unknown as ImportSummary;
}

/** The items of the sub-workflow's last node (the summary), as the parent printed them. */
export function summaryItems(result: ExecutionResult): JsonObject[] {
	if (result.status !== 'success') {
		throw new Error(
			`the execution ended "${result.status}": ${result.error?.message ?? ''}\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`,
		);
	}
	const items = result.nodeOutput('Run Import');
	if (items.length === 0) throw new Error(`no summary:\n${result.stdout.slice(-3000)}`);
	return items;
}

// ---------------------------------------------------------------------------------------------
// Memory of a process
// ---------------------------------------------------------------------------------------------

export interface MeasuredRun {
	result: ExecutionResult;
	/** Highest RSS of the `n8n execute` process (VmHWM), bytes. */
	peakRss: number;
	/** RSS samples, [ms since start, bytes], one every `intervalMs`. */
	samples: Array<[number, number]>;
	wallMs: number;
	/**
	 * With `liveHeapEveryMs`: the heap in use right after each full garbage collection forced at
	 * least that many ms apart (test/load/liveHeapSampler.cjs), [ms since the process started,
	 * bytes]: what the process really holds, whereas RSS also counts garbage not yet collected.
	 */
	liveHeap: Array<[number, number]>;
	/** The highest of those, bytes (0 without `liveHeapEveryMs`). */
	liveHeapPeak: number;
}

function readLiveHeap(file: string): Array<[number, number]> {
	if (!fs.existsSync(file)) return [];
	return fs
		.readFileSync(file, 'utf8')
		.split('\n')
		.filter(Boolean)
		.map((line) => line.split(' ').map(Number) as [number, number]);
}

/**
 * `n8n execute --id=… --rawOutput` in `n8n`'s environment (plus `env`), its stdout to a file, its
 * RSS read from /proc every `intervalMs`. The printed execution must be small (a summary).
 */
export async function executeMeasured(
	n8n: N8nInstance,
	workflowId: string,
	options: {
		env?: Record<string, string>;
		timeoutMs?: number;
		intervalMs?: number;
		liveHeapEveryMs?: number;
	} = {},
): Promise<MeasuredRun> {
	const outFile = path.join(n8n.userFolder, `load-${workflowId}-${Date.now()}.out`);
	const errFile = `${outFile}.err`;
	const heapFile = `${outFile}.heap`;
	const out = fs.openSync(outFile, 'w');
	const err = fs.openSync(errFile, 'w');
	const started = Date.now();
	const child = spawn(
		n8n.nodeBin,
		[
			...(options.liveHeapEveryMs
				? ['--expose-gc', '--require', path.join(__dirname, 'liveHeapSampler.cjs')]
				: []),
			n8n.n8nBin,
			'execute',
			`--id=${workflowId}`,
			'--rawOutput',
		],
		{
			cwd: n8n.userFolder,
			env: {
				...n8n.env,
				N8N_RUNNERS_BROKER_PORT: String(await findFreePort()),
				...(options.liveHeapEveryMs
					? {
							LIVE_HEAP_SAMPLE_FILE: heapFile,
							LIVE_HEAP_SAMPLE_MS: String(options.liveHeapEveryMs),
						}
					: {}),
				...(options.env ?? {}),
			},
			stdio: ['ignore', out, err],
		},
	);
	fs.closeSync(out);
	fs.closeSync(err);
	const pid = child.pid as number;
	const samples: Array<[number, number]> = [];
	let peakRss = 0;
	const sample = () => {
		const memory = memoryOf(pid);
		if (!memory) return;
		peakRss = Math.max(peakRss, memory.hwm, memory.rss);
		samples.push([Date.now() - started, memory.rss]);
	};
	const sampler = setInterval(sample, options.intervalMs ?? 250);
	let timedOut = false;
	const killer = setTimeout(() => {
		timedOut = true;
		child.kill('SIGKILL');
	}, options.timeoutMs ?? 600_000);
	const exitCode = await new Promise<number | null>((resolve, reject) => {
		child.once('error', reject);
		// 'exit' rather than 'close': the last /proc read happens before the process is reaped.
		child.once('exit', (code) => resolve(code));
	}).finally(() => {
		clearInterval(sampler);
		clearTimeout(killer);
	});
	const wallMs = Date.now() - started;
	const stdout = fs.readFileSync(outFile, 'utf8');
	const stderr = fs.readFileSync(errFile, 'utf8');
	const liveHeap = readLiveHeap(heapFile);
	for (const file of [outFile, errFile, heapFile]) fs.rmSync(file, { force: true });
	const result = toExecutionResult({
		args: ['execute', `--id=${workflowId}`],
		stdout,
		stderr,
		exitCode,
		signal: null,
		timedOut,
		wallMs,
	});
	const liveHeapPeak = liveHeap.reduce((peak, [, bytes]) => Math.max(peak, bytes), 0);
	return { result, peakRss, samples, wallMs, liveHeap, liveHeapPeak };
}

/**
 * n8n 2.x reads a called sub-workflow from its publication service, which only a running n8n
 * fills; with it off, n8n reads the version that `update:workflow --active=true` published.
 * (A user publishing in the editor needs nothing.) n8n 1.x ignores the variable.
 */
export const SUB_WORKFLOW_ENV = { N8N_USE_WORKFLOW_PUBLICATION_SERVICE: 'false' };

