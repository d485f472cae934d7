/**
 * Smoke test of the end-to-end harness: a real n8n runs workflows through its CLI, the harness
 * exposes their output and errors, and n8n loads this package as a community package.
 *
 *   node --import tsx --test test/e2e/smoke.test.ts
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { createN8n, PACKAGE_NAME, REPO_ROOT, type N8nInstance } from './harness';

const manualTrigger = {
	name: 'When clicking Execute',
	type: 'n8n-nodes-base.manualTrigger',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

function manualThenCode(name: string, jsCode: string) {
	return {
		name,
		nodes: [
			manualTrigger,
			{ name: 'Code', type: 'n8n-nodes-base.code', typeVersion: 2, position: [220, 0], parameters: { jsCode } },
		],
		connections: { [manualTrigger.name]: { main: [[{ node: 'Code', type: 'main', index: 0 }]] } },
	};
}

const threeItems = manualThenCode(
	'smoke: three items',
	"return [1, 2, 3].map((n) => ({ json: { n, label: 'item ' + n } }));",
);
const throwing = manualThenCode('smoke: code throws', "throw new Error('smoke test failure on purpose');");

let n8n: N8nInstance;
let okId: string;
let failId: string;

before(async () => {
	n8n = await createN8n();
	// One n8n start-up for both imports.
	[okId, failId] = await n8n.importWorkflows([threeItems, throwing]);
});

after(async () => {
	await n8n?.dispose();
});

test('a Manual Trigger -> Code workflow runs and its output is exposed', async () => {
	const result = await n8n.execute(okId);
	assert.equal(result.status, 'success', result.stdout + result.stderr);
	assert.equal(result.exitCode, 0);
	assert.equal(result.error, undefined);
	assert.deepEqual(result.nodeOutput('Code'), [
		{ n: 1, label: 'item 1' },
		{ n: 2, label: 'item 2' },
		{ n: 3, label: 'item 3' },
	]);
	assert.deepEqual(result.nodesRun(), [manualTrigger.name, 'Code']);
	assert.equal(typeof result.executionTime('Code'), 'number');
	assert.equal(result.nodeError('Code'), undefined);
});

test('a failing node: the execution fails and the error message is exposed', async () => {
	const result = await n8n.execute(failId);
	assert.equal(result.status, 'error');
	assert.notEqual(result.exitCode, 0);
	const nodeError = result.nodeError('Code');
	assert.ok(nodeError, 'the Code node has an error');
	assert.match(nodeError.message, /smoke test failure on purpose/);
	assert.equal(nodeError.node, 'Code');
	assert.match(result.error?.message ?? '', /smoke test failure on purpose/);
	assert.equal(result.error?.node, 'Code');
	assert.deepEqual(result.nodeOutput('Code'), []);
});

test('an unknown workflow id gives status no-output instead of throwing', async () => {
	const result = await n8n.execute('doesNotExist0000');
	assert.equal(result.status, 'no-output');
	assert.equal(result.raw, undefined);
	assert.notEqual(result.exitCode, 0);
	assert.match(result.stdout, /does not exist/);
});

test('n8n loads this package as a community package', async (t) => {
	if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'nodes'))) {
		t.skip('dist/nodes does not exist: run `npm run build` first');
		return;
	}
	assert.ok(n8n.packageInstalled, `the harness did not install ${PACKAGE_NAME}: are all files of package.json's n8n section built?`);
	const nodeTypes = await n8n.exportNodeTypes();
	const ours = nodeTypes.map((type) => String(type.name)).filter((name) => name.startsWith(`${PACKAGE_NAME}.`));
	const declared = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { n8n: { nodes: string[] } }).n8n
		.nodes;
	assert.ok(
		ours.length >= declared.length,
		`n8n loaded ${ours.length} node types named ${PACKAGE_NAME}.*, package.json declares ${declared.length} nodes: ${ours.join(', ')}`,
	);
	assert.doesNotMatch(n8n.logs(), new RegExp(`Cannot find module[^\\n]*${PACKAGE_NAME}`));
});
