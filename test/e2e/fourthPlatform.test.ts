/**
 * A fourth platform is one folder and one registry entry: Heron (test/fixtures/platforms/heron,
 * never shipped) is copied into a copy of the package's sources, registered in platforms/index.ts,
 * and built. All three nodes and the credential then offer it, and a real n8n with that build
 * imports items into it (the sandbox's Ayona endpoint stands in for Heron's API).
 *
 *   npm run build && E2E_FILES=test/e2e/fourthPlatform.test.ts npm run test:e2e
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { AYONA_KEY, AYONA_SOURCE_ID } from '../../sandbox/defaults';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, REPO_ROOT, type N8nInstance } from './harness';
import { sandboxGet } from './setup';

/** What `npm run build` compiles (tsconfig.build.json) and what it needs to run. */
const SOURCE_FOLDERS = ['core', 'platforms', 'nodes', 'credentials'];
const BUILD_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'gulpfile.js'];
const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'platforms', 'heron');
const IMPORT_LINE = "import { heron } from './heron';";
const REGISTRY_LINE =
	'export const PLATFORMS: Record<PlatformId, Platform> = { ayona, rimdian, userpilot };';
const REGISTERED_LINE =
	'export const PLATFORMS: Record<PlatformId, Platform> = { ayona, heron, rimdian, userpilot };';

let copy: string;
let sandbox: Sandbox | undefined;
let n8n: N8nInstance | undefined;

function filesUnder(root: string, folder: string): string[] {
	return fs
		.readdirSync(path.join(root, folder), { recursive: true, withFileTypes: true })
		.filter((entry) => entry.isFile())
		.map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
		.sort();
}

/** The package's sources with Heron's folder added and registered, then built as `npm run build` does. */
function buildCopyWithHeron(): string {
	const root = fs.mkdtempSync(
		path.join(process.env.N8N_E2E_TMP || os.tmpdir(), 'fourth-platform-'),
	);
	for (const entry of [...SOURCE_FOLDERS, ...BUILD_FILES])
		fs.cpSync(path.join(REPO_ROOT, entry), path.join(root, entry), { recursive: true });
	fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
	fs.cpSync(FIXTURE, path.join(root, 'platforms', 'heron'), { recursive: true });
	const registry = path.join(root, 'platforms', 'index.ts');
	const text = fs.readFileSync(registry, 'utf8');
	assert.ok(text.includes(REGISTRY_LINE), 'platforms/index.ts lists the platforms on one line');
	fs.writeFileSync(
		registry,
		text
			.replace("import { userpilot } from './userpilot';\n", `$&${IMPORT_LINE}\n`)
			.replace(REGISTRY_LINE, REGISTERED_LINE),
	);
	const bin = (file: string) => path.join(REPO_ROOT, 'node_modules', file);
	execFileSync(process.execPath, [bin('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
		cwd: root,
		stdio: 'pipe',
	});
	execFileSync(process.execPath, [bin('gulp/bin/gulp.js'), 'build:icons'], {
		cwd: root,
		stdio: 'pipe',
	});
	return root;
}

before(() => {
	copy = buildCopyWithHeron();
});

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
	if (copy && !process.env.KEEP_N8N_FOLDER) fs.rmSync(copy, { recursive: true, force: true });
});

test('the build changed nothing but the added folder and the registry entry', () => {
	for (const folder of SOURCE_FOLDERS) {
		const copied = filesUnder(copy, folder).filter(
			(file) => !file.startsWith(path.join('platforms', 'heron')),
		);
		assert.deepEqual(copied, filesUnder(REPO_ROOT, folder), `${folder}: the same files`);
		for (const file of copied) {
			if (file === path.join('platforms', 'index.ts')) continue;
			assert.ok(
				fs.readFileSync(path.join(copy, file)).equals(fs.readFileSync(path.join(REPO_ROOT, file))),
				`${file} unchanged`,
			);
		}
	}
	assert.deepEqual(
		filesUnder(copy, path.join('platforms', 'heron')),
		filesUnder(path.dirname(FIXTURE), 'heron').map((file) => path.join('platforms', file)),
	);
	const before = fs.readFileSync(path.join(REPO_ROOT, 'platforms', 'index.ts'), 'utf8').split('\n');
	const after = fs.readFileSync(path.join(copy, 'platforms', 'index.ts'), 'utf8').split('\n');
	assert.deepEqual(
		after.filter((line) => !before.includes(line)),
		[IMPORT_LINE, REGISTERED_LINE],
	);
	assert.deepEqual(
		before.filter((line) => !after.includes(line)),
		[REGISTRY_LINE],
	);
	for (const file of BUILD_FILES)
		assert.ok(
			fs.readFileSync(path.join(copy, file)).equals(fs.readFileSync(path.join(REPO_ROOT, file))),
			`${file} unchanged`,
		);
});

test('Heron ships nowhere: not in the repo build, not in the package files', () => {
	const packageJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
		files: string[];
	};
	assert.ok(packageJson.files.every((entry) => !entry.startsWith('test')));
	assert.equal(fs.existsSync(path.join(REPO_ROOT, 'platforms', 'heron')), false);
	assert.equal(fs.existsSync(path.join(REPO_ROOT, 'dist', 'platforms', 'heron')), false);
	assert.ok(fs.existsSync(path.join(copy, 'dist', 'platforms', 'heron', 'index.js')));
});

interface Described {
	properties: Array<{
		name: string;
		options?: Array<{ value: unknown }>;
		displayOptions?: { show?: Record<string, unknown[]> };
	}>;
	subtitle?: string;
}

function load<T>(file: string, name: string): T {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const Class = require(path.join(copy, 'dist', file))[name] as new () => T;
	return new Class();
}

function platformValues(properties: Described['properties']): unknown[] {
	return (properties.find((property) => property.name === 'platform')?.options ?? []).map(
		(option) => option.value,
	);
}

test('the three nodes and the credential offer Heron, with its fields', () => {
	const nodes = [
		['nodes/ImportItems/ImportItems.node.js', 'ImportItems'],
		['nodes/BulkFileImport/BulkFileImport.node.js', 'BulkFileImport'],
		['nodes/JobStatusTrigger/JobStatusTrigger.node.js', 'JobStatusTrigger'],
	].map(([file, name]) => load<{ description: Described }>(file, name).description);
	for (const description of nodes) {
		assert.deepEqual(platformValues(description.properties), [
			'ayona',
			'heron',
			'rimdian',
			'userpilot',
		]);
		assert.match(description.subtitle ?? '', /"heron":"Heron[^"]*"/);
	}
	const [importItems, bulkFileImport, trigger] = nodes;
	assert.ok(importItems.properties.some((property) => property.name === 'heronInbox'));
	const onInvalid = bulkFileImport.properties.find((property) => property.name === 'onInvalid');
	assert.ok(
		onInvalid?.displayOptions?.show?.platform.includes('heron'),
		'a batch platform: rows checked one by one',
	);
	assert.ok(
		!trigger.properties.some((property) => property.name === 'heronNotice'),
		'it has a watcher: no notice',
	);
	const credential = load<Described>('credentials/DataImportApi.credentials.js', 'DataImportApi');
	assert.deepEqual(platformValues(credential.properties), [
		'ayona',
		'heron',
		'rimdian',
		'userpilot',
	]);
	assert.ok(
		credential.properties.some(
			(property) =>
				property.name === 'apiKey' && property.displayOptions?.show?.platform.includes('heron'),
		),
	);
});

test('a real n8n with that build imports items into Heron', async () => {
	sandbox = await startSandbox();
	n8n = await createN8n({ distDir: path.join(copy, 'dist') });
	await n8n.importCredentials([
		{
			id: 'sandboxHeron',
			name: 'Heron (sandbox)',
			type: 'dataImportApi',
			data: { platform: 'heron', baseUrl: sandbox.url, apiKey: AYONA_KEY },
		},
	]);
	const notes = [1, 2, 3].map((n) => ({
		date: `2024-03-0${n} 10:00:00`,
		name: `User ${n}`,
		content: `Note ${n}`,
	}));
	const [id] = await n8n.importWorkflows([
		{
			name: 'Heron: three notes',
			nodes: [
				{
					name: 'Start',
					type: 'n8n-nodes-base.manualTrigger',
					typeVersion: 1,
					position: [0, 0],
					parameters: {},
				},
				{
					name: 'Notes',
					type: 'n8n-nodes-base.code',
					typeVersion: 2,
					position: [220, 0],
					parameters: { jsCode: `return ${JSON.stringify(notes)}.map((json) => ({ json }));` },
				},
				{
					name: 'Import Items',
					type: 'n8n-nodes-data-import.importItems',
					typeVersion: 1,
					position: [440, 0],
					parameters: {
						platform: 'heron',
						heronInbox: AYONA_SOURCE_ID,
						dataMode: 'autoMap',
						onInvalid: 'stop',
						options: {},
					},
					credentials: { dataImportApi: { id: 'sandboxHeron', name: 'Heron (sandbox)' } },
				},
			],
			connections: {
				Start: { main: [[{ node: 'Notes', type: 'main', index: 0 }]] },
				Notes: { main: [[{ node: 'Import Items', type: 'main', index: 0 }]] },
			},
		},
	]);
	const result = await n8n.execute(id);
	assert.equal(result.status, 'success', result.error?.message ?? result.stdout + result.stderr);
	const output = result.nodeOutput('Import Items');
	assert.equal(output.length, 3);
	assert.ok(
		output.every((item) => item.status === 'accepted'),
		JSON.stringify(output),
	);
	const records = await sandboxGet<{ entries: Array<Record<string, string>> }>(
		sandbox,
		'/__sandbox/records/ayona',
	);
	const arrived = records.entries.map(({ source_id, date, name, content }) => ({
		source_id,
		date,
		name,
		content,
	}));
	arrived.sort((a, b) => a.name.localeCompare(b.name));
	assert.deepEqual(
		arrived,
		notes.map((note) => ({ source_id: AYONA_SOURCE_ID, ...note })),
	);
});
