/**
 * The main job, as the README's first command runs it: a real n8n executes the example import
 * workflows against the local sandbox, and this prints what each platform received.
 *   npm run demo
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { startSandbox } from '../sandbox/server';
import { createN8n, REPO_ROOT, type ExecutionResult } from '../test/e2e/harness';
import { loadExample, sandboxCredentials, sandboxGet, variant } from '../test/e2e/setup';

function line(text = '') {
	process.stdout.write(`${text}\n`);
}

function outcome(result: ExecutionResult, node: string): string {
	if (result.status !== 'success') return `FAILED: ${result.error?.message ?? result.status}`;
	const counts = new Map<string, number>();
	for (const item of result.nodeOutput(node)) {
		const status = String(item.status);
		counts.set(status, (counts.get(status) ?? 0) + 1);
	}
	return [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
}

async function main() {
	const sandbox = await startSandbox({ jobStepMs: 100 });
	const n8n = await createN8n();
	let failed = false;
	try {
		const n8nVersion = (JSON.parse(fs.readFileSync(path.join(path.dirname(path.dirname(n8n.n8nBin)), 'package.json'), 'utf8')) as { version: string }).version;
		line(`Sandbox (Rimdian, Userpilot and Ayona APIs) on ${sandbox.url}; n8n ${n8nVersion} (e2e/n8n)`);
		await n8n.importCredentials(sandboxCredentials(sandbox));
		const rimdian = loadExample('rimdian-users.json');
		const ayona = loadExample('ayona-feedback.json');
		const userpilot = variant(loadExample('userpilot-file.json'), 'demoUserpilotCsv', {
			'Read Export File': { fileSelector: path.join(REPO_ROOT, 'test/fixtures/userpilot-sample.csv') },
		});
		const [rimdianId, ayonaId, userpilotId] = await n8n.importWorkflows([rimdian, ayona, userpilot]);

		line();
		line(`1. ${rimdian.name}: Manual Trigger -> Code (2,000 users) -> Import Items`);
		let result = await n8n.execute(rimdianId);
		failed ||= result.status !== 'success';
		line(`   n8n: ${outcome(result, 'Import Items')} (node time ${result.executionTime('Import Items')} ms)`);
		const stats = sandbox.stats();
		line(`   Rimdian received ${stats.rimdian.itemsStored} users in ${stats.rimdian.requests} requests (${stats.rimdian.duplicatesReceived} duplicates)`);
		const sample = await sandboxGet<{ items: Array<{ item: { user: Record<string, unknown> } }> }>(sandbox, '/__sandbox/records/rimdian?limit=2');
		for (const { item } of sample.items) line(`     e.g. ${JSON.stringify(item.user)}`);

		line();
		line(`2. ${ayona.name}: feedback with ISO 8601 dates -> Import Items`);
		result = await n8n.execute(ayonaId);
		failed ||= result.status !== 'success';
		line(`   n8n: ${outcome(result, 'Import Items')}`);
		const entries = await sandboxGet<{ entries: Array<{ date: string; name: string; content: string }> }>(sandbox, '/__sandbox/records/ayona');
		line(`   Ayona received ${entries.entries.length} entries:`);
		for (const entry of entries.entries) line(`     ${entry.date}  ${entry.name}: ${entry.content}`);

		line();
		line(`3. ${userpilot.name}: Read Files from Disk (Userpilot's sample CSV) -> Bulk File Import`);
		result = await n8n.execute(userpilotId);
		failed ||= result.status !== 'success';
		const summary = result.status === 'success' ? result.nodeOutput('Bulk File Import')[0] : undefined;
		line(`   n8n: ${summary ? `${summary.status}, ${summary.rowsRead} rows read` : `FAILED: ${result.error?.message}`}`);
		const jobs = await sandboxGet<{ jobs: Array<{ job_id: string; status: string; total_rows: number; filename: string }> }>(sandbox, '/__sandbox/records/userpilot');
		for (const job of jobs.jobs) line(`   Userpilot job ${job.job_id}: ${job.status}, total_rows ${job.total_rows} (${job.filename})`);
	} finally {
		await n8n.dispose();
		await sandbox.close();
	}
	line();
	line(failed ? 'Some imports failed (see above).' : 'All three imports done.');
	process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
	process.stderr.write(`${(error as Error).stack ?? error}\n`);
	process.exit(1);
});
