/**
 * An n8n external hooks file (EXTERNAL_HOOK_FILES) for the benchmarks: when the execution ends
 * (n8n's own `workflow.postExecute` hook), writes a summary of it to $BENCH_SUMMARY_FILE: its
 * status and error, each node's run data times (startTime, executionTime, executionStatus) and
 * item counts per output, and the n8n process's memory (VmHWM, the kernel's peak, and VmRSS; with
 * --expose-gc, the heap left after a full collection).
 *
 * Why: `n8n execute` prints the whole execution as one JSON string, which V8 cannot build for a
 * million items, and n8n's database save stringifies it too. The node times here are the same
 * figures n8n stores in the run data. With BENCH_SUMMARY_EXIT=1 the process exits once the
 * summary is written, so that n8n does not spend minutes (and gigabytes) failing to print it.
 *
 * Plain CommonJS: n8n `require`s this file itself.
 */
const fs = require('node:fs');

function memoryFromProc() {
	try {
		const status = fs.readFileSync('/proc/self/status', 'utf8');
		const kb = (name) => Number((new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status) || [])[1]) * 1024;
		return { hwmBytes: kb('VmHWM'), rssBytes: kb('VmRSS') };
	} catch {
		return { hwmBytes: NaN, rssBytes: process.memoryUsage.rss() };
	}
}

function nodeSummaries(runData) {
	const nodes = {};
	for (const [name, runs] of Object.entries(runData || {})) {
		const run = runs[0] || {};
		const outputs = (run.data && run.data.main) || [];
		nodes[name] = {
			startTime: run.startTime,
			executionTime: run.executionTime,
			executionStatus: run.executionStatus,
			runs: runs.length,
			outputItems: outputs.map((items) => (items ? items.length : 0)),
			// Import Items' and Bulk File Import's results say what became of each item: count them.
			resultStatuses: countStatuses(outputs[0]),
		};
	}
	return nodes;
}

function countStatuses(items) {
	const counts = {};
	for (const item of items || []) {
		const status = item && item.json && typeof item.json.status === 'string' ? item.json.status : undefined;
		if (status !== undefined) counts[status] = (counts[status] || 0) + 1;
	}
	return counts;
}

/**
 * The heap still in use after a full collection (n8n started with --expose-gc): what the execution
 * keeps (its items, their results, the run data), free of when V8 happened to collect.
 */
function heapAfterGc() {
	if (typeof global.gc !== 'function') return undefined;
	global.gc();
	global.gc();
	return process.memoryUsage().heapUsed;
}

async function writeSummary(fullRunData, workflowData, executionId) {
	const file = process.env.BENCH_SUMMARY_FILE;
	if (!file) return;
	const resultData = (fullRunData && fullRunData.data && fullRunData.data.resultData) || {};
	const summary = {
		executionId,
		workflowId: workflowData && workflowData.id,
		status: fullRunData && fullRunData.status,
		error: resultData.error ? String(resultData.error.message) : undefined,
		nodes: nodeSummaries(resultData.runData),
		memory: { ...memoryFromProc(), heapUsedBytes: process.memoryUsage().heapUsed, heapAfterGcBytes: heapAfterGc() },
		writtenAt: Date.now(),
	};
	fs.writeFileSync(file, JSON.stringify(summary, null, 2));
	if (process.env.BENCH_SUMMARY_EXIT === '1') process.exit(0);
}

module.exports = { workflow: { postExecute: [writeSummary] } };
