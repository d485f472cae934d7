/**
 * Publishing readiness: `npm pack` gives the tarball a user's n8n installs, and n8n runs it.
 *
 *   node --import tsx --test test/pack/pack.test.ts   (after npm run build; needs the n8n of the
 *   e2e tests, `bash scripts/install-n8n.sh`, or N8N_BIN / N8N_NODE for another one)
 *
 * 1. The tarball holds the built files (dist/), package.json, README.md, LICENSE and
 *    CHANGELOG.md, and nothing else: no test, bench, sandbox, example or TypeScript source file.
 * 2. Installed as n8n's community-package installer installs it (Settings -> Community Nodes ->
 *    Install; the same steps in n8n 1.123 and 2.40): the tarball unpacked into
 *    `<user folder>/.n8n/nodes/node_modules/<name>`, its dev, peer and optional dependencies
 *    dropped from its package.json, `npm install` there with n8n's flags (from the registry: the
 *    runtime dependencies are downloaded, as for a user), the package recorded in
 *    `.n8n/nodes/package.json`. n8n then loads every node and the credential, and an example
 *    workflow runs against the sandbox.
 * 3. Installed by hand as the README says (`npm install <package>` in ~/.n8n/nodes): npm also
 *    installs the peer dependency n8n-workflow there, a second copy next to n8n's own; the
 *    example still runs, and a refused key still fails with the package's own clear message.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { AYONA_KEY } from '../../sandbox/defaults';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, PACKAGE_NAME, REPO_ROOT, type ExecutionResult, type N8nInstance } from '../e2e/harness';
import { findSecrets, loadExample, sandboxCredentials, variant } from '../e2e/setup';

const exec = promisify(execFile);

/** n8n's own flags for `npm install` in an unpacked community package (n8n 1.123 and 2.40). */
const N8N_NPM_INSTALL_FLAGS = [
	'--audit=false',
	'--fund=false',
	'--bin-links=false',
	'--install-strategy=shallow',
	'--ignore-scripts=true',
	'--package-lock=false',
];

interface PackedFile {
	path: string;
	size: number;
}
interface PackResult {
	filename: string;
	size: number;
	unpackedSize: number;
	files: PackedFile[];
}

const rootPackageJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
	name: string;
	version: string;
	n8n: { nodes: string[]; credentials: string[] };
	dependencies?: Record<string, string>;
	peerDependencies?: Record<string, string>;
};

let work: string;
let tarball: string;
let packed: PackResult;
let sandbox: Sandbox;
const instances: N8nInstance[] = [];
const results: ExecutionResult[] = [];

/** npm with the parent's environment less what `npm test` put there (npm_config_*, …). */
function npmEnv(): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (!/^npm_/i.test(key) && key !== 'NODE_OPTIONS' && key !== 'NODE_TEST_CONTEXT') env[key] = value;
	}
	return env;
}

async function npm(args: string[], cwd: string): Promise<string> {
	try {
		const { stdout } = await exec('npm', args, { cwd, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 });
		return stdout;
	} catch (error) {
		const failure = error as { stdout?: string; stderr?: string; message: string };
		throw new Error(`npm ${args.join(' ')} (in ${cwd}) failed: ${failure.message}\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
	}
}

/** Every package folder named `name` under a node_modules tree (nested ones included). */
function findInstalled(root: string, name: string): string[] {
	const found: string[] = [];
	const walk = (nodeModules: string) => {
		if (!fs.existsSync(nodeModules)) return;
		for (const entry of fs.readdirSync(nodeModules)) {
			const dirs = entry.startsWith('@')
				? fs.readdirSync(path.join(nodeModules, entry)).map((sub) => path.join(nodeModules, entry, sub))
				: [path.join(nodeModules, entry)];
			for (const dir of dirs) {
				if (path.relative(nodeModules, dir).split(path.sep).join('/') === name) found.push(dir);
				walk(path.join(dir, 'node_modules'));
			}
		}
	};
	walk(path.join(root, 'node_modules'));
	return found;
}

const ayona = loadExample('ayona-feedback.json');
const ayonaWrongKey = variant(ayona, 'packAyonaWrongKey', {}, 'packWrongAyonaKey');

/** A new n8n whose `.n8n/nodes` is left empty for the test to install into. */
async function freshN8n(): Promise<{ n8n: N8nInstance; nodesDir: string }> {
	const n8n = await createN8n({ installPackage: false });
	instances.push(n8n);
	const nodesDir = path.join(n8n.userFolder, '.n8n', 'nodes');
	await fsp.mkdir(nodesDir, { recursive: true });
	// What n8n writes before its first community package (ensurePackageJson).
	await fsp.writeFile(
		path.join(nodesDir, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2),
	);
	return { n8n, nodesDir };
}

/** Imports the sandbox credentials (and a wrong Ayona key) and runs the Ayona example. */
async function runExample(n8n: N8nInstance): Promise<ExecutionResult> {
	await n8n.importCredentials([
		...sandboxCredentials(sandbox),
		{ id: 'packWrongAyonaKey', name: 'wrong key', type: 'dataImportApi', data: { platform: 'ayona', baseUrl: sandbox.url, apiKey: 'wrong-key-pack-5e1d' } },
	]);
	const [exampleId] = await n8n.importWorkflows([ayona, ayonaWrongKey]);
	await sandbox.reset();
	const result = await n8n.execute(exampleId);
	results.push(result);
	return result;
}

function assertExampleImported(result: ExecutionResult) {
	assert.equal(result.status, 'success', `${result.error?.message ?? ''}\n${result.stdout.slice(-3000)}${result.stderr.slice(-3000)}`);
	assert.deepEqual(
		result.nodeOutput('Import Items').map((item) => item.status),
		['accepted', 'accepted', 'accepted'],
	);
	assert.equal(sandbox.stats().ayona.entriesStored, 3, 'Ayona holds the three entries');
}

before(async () => {
	for (const file of [...rootPackageJson.n8n.nodes, ...rootPackageJson.n8n.credentials]) {
		assert.ok(fs.existsSync(path.join(REPO_ROOT, file)), `${file} is not built: run \`npm run build\` first`);
	}
	work = await fsp.mkdtemp(path.join(process.env.N8N_E2E_TMP || os.tmpdir(), 'pack-test-'));
	const output = await npm(['pack', '--json', '--pack-destination', work], REPO_ROOT);
	const parsed = JSON.parse(output.slice(output.indexOf('['))) as PackResult[];
	packed = parsed[0];
	tarball = path.join(work, packed.filename);
	sandbox = await startSandbox({});
});

after(async () => {
	for (const n8n of instances) await n8n.dispose().catch(() => undefined);
	await sandbox?.close();
	if (work) await fsp.rm(work, { recursive: true, force: true });
});

test('the tarball holds dist/, package.json, README, LICENSE and CHANGELOG, and nothing else', () => {
	const files = packed.files.map((file) => file.path).sort();
	const topLevel = new Set(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']);
	const stray = files.filter((file) => !file.startsWith('dist/') && !topLevel.has(file));
	assert.deepEqual(stray, [], 'files outside dist/ and the four top-level files');
	for (const file of topLevel) assert.ok(files.includes(file), `${file} is in the tarball`);

	const forbidden = files.filter(
		(file) =>
			/(^|\/)(test|tests|bench|sandbox|e2e|examples|scripts|fixtures|__tests__)\//.test(file) ||
			/\.test\.[jt]s$/.test(file) ||
			(/\.tsx?$/.test(file) && !/\.d\.ts$/.test(file)),
	);
	assert.deepEqual(forbidden, [], 'test, bench, sandbox or TypeScript source files');

	// Everything n8n loads: the files package.json's n8n section names, each node's codex file
	// and the icons its description names (light and dark).
	for (const file of [...rootPackageJson.n8n.nodes, ...rootPackageJson.n8n.credentials]) {
		assert.ok(files.includes(file), `${file} (package.json's n8n section) is in the tarball`);
	}
	for (const nodeFile of rootPackageJson.n8n.nodes) {
		const codex = nodeFile.replace(/\.js$/, '.json');
		assert.ok(files.includes(codex), `${codex} (codex) is in the tarball`);
		const source = fs.readFileSync(path.join(REPO_ROOT, nodeFile), 'utf8');
		const icons = [...source.matchAll(/['"]file:([^'"]+)['"]/g)].map((match) => match[1]);
		assert.ok(icons.length > 0, `${nodeFile} names an icon`);
		for (const icon of icons) {
			const iconPath = path.posix.normalize(path.posix.join(path.posix.dirname(nodeFile), icon));
			assert.ok(files.includes(iconPath), `${iconPath} (icon of ${nodeFile}) is in the tarball`);
		}
	}
	assert.ok(packed.size < 2 * 1024 * 1024, `the tarball is ${packed.size} bytes`);
});

test("installed as n8n's community-package installer does, n8n loads every node and runs an example", async () => {
	const { n8n, nodesDir } = await freshN8n();
	const packageDir = path.join(nodesDir, 'node_modules', PACKAGE_NAME);
	await fsp.mkdir(packageDir, { recursive: true });
	await exec('tar', ['-xzf', tarball, '-C', packageDir, '--strip-components=1']);
	const packageJsonPath = path.join(packageDir, 'package.json');
	const { devDependencies, peerDependencies, optionalDependencies, ...installed } = JSON.parse(
		await fsp.readFile(packageJsonPath, 'utf8'),
	) as Record<string, unknown>;
	void devDependencies;
	void optionalDependencies;
	assert.deepEqual(peerDependencies, rootPackageJson.peerDependencies, 'the tarball declares its peer dependencies');
	await fsp.writeFile(packageJsonPath, JSON.stringify(installed, null, 2));
	await npm(['install', ...N8N_NPM_INSTALL_FLAGS], packageDir);
	const nodesPackageJson = JSON.parse(await fsp.readFile(path.join(nodesDir, 'package.json'), 'utf8')) as {
		dependencies: Record<string, string>;
	};
	nodesPackageJson.dependencies[PACKAGE_NAME] = String(installed.version);
	await fsp.writeFile(path.join(nodesDir, 'package.json'), JSON.stringify(nodesPackageJson, null, 2));

	for (const name of Object.keys(rootPackageJson.dependencies ?? {})) {
		assert.equal(findInstalled(packageDir, name).length, 1, `runtime dependency ${name} is installed`);
	}
	assert.deepEqual(findInstalled(nodesDir, 'n8n-workflow'), [], "no second n8n-workflow: the package uses n8n's own");

	const nodeTypes = (await n8n.exportNodeTypes()).map((type) => String(type.name));
	for (const nodeFile of rootPackageJson.n8n.nodes) {
		const nodeName = path.basename(nodeFile, '.node.js').replace(/^./, (c) => c.toLowerCase());
		assert.ok(nodeTypes.includes(`${PACKAGE_NAME}.${nodeName}`), `n8n loaded ${PACKAGE_NAME}.${nodeName}`);
	}
	assertExampleImported(await runExample(n8n));
	assert.doesNotMatch(n8n.logs(), /Cannot find module/);
});

test('installed by hand as the README says (npm install in ~/.n8n/nodes), the example runs and errors stay clear', async () => {
	const { n8n, nodesDir } = await freshN8n();
	await npm(['install', tarball, ...N8N_NPM_INSTALL_FLAGS], nodesDir);
	const packageDir = path.join(nodesDir, 'node_modules', PACKAGE_NAME);
	assert.ok(fs.existsSync(path.join(packageDir, 'package.json')), 'the package is installed');
	// npm installs peer dependencies: n8n-workflow lands next to the package, and the package's
	// require('n8n-workflow') finds that copy before n8n's own. It must work all the same.
	const copies = findInstalled(nodesDir, 'n8n-workflow');
	const versions = copies.map((dir) => (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version);
	process.stdout.write(`# n8n-workflow installed beside the package by hand: ${versions.join(', ') || 'none'}\n`);

	assertExampleImported(await runExample(n8n));
	const wrong = await n8n.execute(ayonaWrongKey.id as string);
	results.push(wrong);
	assert.equal(wrong.status, 'error');
	assert.match(wrong.nodeError('Import Items')?.message ?? '', /refused/i);
	assert.ok(!(wrong.stdout + wrong.stderr).includes('wrong-key-pack-5e1d'), 'the wrong key is not printed');
});

test('no secret in any output or log', () => {
	for (const result of results) assert.deepEqual(findSecrets(result.stdout + result.stderr), []);
	for (const n8n of instances) assert.deepEqual(findSecrets(n8n.logs()), []);
	assert.ok(AYONA_KEY.length > 0);
});
