/**
 * What the n8n editor shows of the package, checked on the descriptions themselves: every node
 * has a subtitle and light and dark icons; every field says what it is for; option names are in
 * Title Case and sorted; the codex files give the nodes panel aliases and
 * categories (no subcategories: newer n8n lint refuses them, rule no-codex-subcategories); the
 * credential test's messages against the sandbox (real HTTP) read well; the credential's and the
 * codex files' documentation links name a heading README.md has.
 *   npx jest test/unit/editorFacing.test.ts
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type {
	ICredentialTestFunctions,
	INodeProperties,
	INodePropertyCollection,
	INodePropertyOptions,
	INodeType,
} from 'n8n-workflow';

import { DataImportApi } from '../../credentials/DataImportApi.credentials';
import { testDataImportCredential } from '../../nodes/shared/credentialTest';
import { BulkFileImport } from '../../nodes/BulkFileImport/BulkFileImport.node.js';
import { ImportItems } from '../../nodes/ImportItems/ImportItems.node.js';
import { JobStatusTrigger } from '../../nodes/JobStatusTrigger/JobStatusTrigger.node.js';
import { AYONA_KEY, AYONA_SOURCE_ID, RIMDIAN_TOKEN, RIMDIAN_WORKSPACE, USERPILOT_KEY } from '../../sandbox/defaults';
import { startSandbox, type Sandbox } from '../../sandbox/server';

const ROOT = path.resolve(__dirname, '..', '..');
const NODES: Array<{ folder: string; node: INodeType }> = [
	{ folder: 'BulkFileImport', node: new BulkFileImport() },
	{ folder: 'ImportItems', node: new ImportItems() },
	{ folder: 'JobStatusTrigger', node: new JobStatusTrigger() },
];
const credentials = new DataImportApi();

/** Every property, nested ones (collection options, fixedCollection values) included, with a path. */
function* allProperties(properties: INodeProperties[], where: string): Generator<[string, INodeProperties]> {
	for (const property of properties) {
		const at = `${where} > ${property.displayName}`;
		yield [at, property];
		if (property.type === 'collection') yield* allProperties((property.options ?? []) as INodeProperties[], at);
		if (property.type === 'fixedCollection') {
			for (const group of (property.options ?? []) as INodePropertyCollection[]) yield* allProperties(group.values, `${at} > ${group.displayName}`);
		}
	}
}

const everyProperty = (): Array<[string, INodeProperties]> => [
	...NODES.flatMap(({ node }) => [...allProperties(node.description.properties, node.description.displayName)]),
	...allProperties(credentials.properties, credentials.displayName),
];

/** Small words n8n's Title Case leaves in lower case. */
const SMALL_WORDS = new Set(['a', 'an', 'and', 'as', 'at', 'by', 'for', 'from', 'in', 'into', 'of', 'on', 'or', 'per', 'the', 'to', 'with']);

function titleCaseProblem(name: string): string | undefined {
	if (/_/.test(name)) return 'has an underscore (a raw value?)';
	const outside = name.replace(/\([^)]*\)/g, ''); // a parenthesised aside may hold a host name
	const words = outside.split(/[\s/]+/).filter(Boolean);
	for (const [index, word] of words.entries()) {
		if (index > 0 && SMALL_WORDS.has(word)) continue;
		if (!/^[A-Z0-9]/.test(word)) return `word "${word}" is not capitalised`;
	}
	return undefined;
}

describe('each node in the editor', () => {
	for (const { folder, node } of NODES) {
		const { description } = node;
		test(`${description.displayName}: a subtitle, light and dark icons that exist`, () => {
			assert.ok(typeof description.subtitle === 'string' && description.subtitle.length > 0, 'a subtitle');
			const icon = description.icon as { light: string; dark: string };
			assert.ok(icon.light && icon.dark && icon.light !== icon.dark, 'a light and a dark icon');
			for (const file of [icon.light, icon.dark]) {
				assert.ok(fs.existsSync(path.join(ROOT, 'nodes', folder, file.replace(/^file:/, ''))), `${file} exists`);
			}
		});

		test(`${description.displayName}: the codex gives aliases and categories, no subcategories`, () => {
			const codex = JSON.parse(fs.readFileSync(path.join(ROOT, 'nodes', folder, `${folder}.node.json`), 'utf8')) as {
				node: string;
				categories: string[];
				subcategories?: Record<string, string[]>;
				alias?: string[];
			};
			assert.equal(codex.node, `n8n-nodes-data-import.${description.name}`);
			const alias = (codex.alias ?? []).map((word) => word.toLowerCase());
			for (const word of ['rimdian', 'userpilot', 'import']) assert.ok(alias.includes(word), `alias "${word}"`);
			if (folder !== 'JobStatusTrigger') assert.ok(alias.includes('ayona'), 'alias "ayona"');
			if (folder === 'BulkFileImport') for (const word of ['csv', 'ndjson']) assert.ok(alias.includes(word), `alias "${word}"`);
			assert.ok(codex.categories.length > 0, 'categories');
			assert.equal(codex.subcategories, undefined, 'no subcategories (n8n lint rule no-codex-subcategories)');
		});
	}
});

describe('every field of the nodes and the credential', () => {
	test('says what it is for (a description or a hint; notices and the Options lists aside)', () => {
		const missing = everyProperty()
			.filter(([, property]) => !['notice', 'hidden', 'collection'].includes(property.type))
			.filter(([, property]) => !property.description && !property.hint)
			.map(([at]) => at);
		assert.deepEqual(missing, []);
	});

	test('option names are in Title Case, not raw values, and sorted by name', () => {
		const problems: string[] = [];
		for (const [at, property] of everyProperty()) {
			if (property.type !== 'options' && property.type !== 'multiOptions') continue;
			const options = (property.options ?? []) as INodePropertyOptions[];
			for (const option of options) {
				const problem = titleCaseProblem(option.name);
				if (problem) problems.push(`${at}: "${option.name}" ${problem}`);
			}
			const names = options.map((option) => option.name);
			const sorted = [...names].sort((a, b) => a.localeCompare(b));
			if (names.join('|') !== sorted.join('|')) problems.push(`${at}: not sorted: ${names.join(', ')}`);
		}
		assert.deepEqual(problems, []);
	});

	test('Item Kind and Default Source show names, and still send the raw values', () => {
		const byName = new Map(everyProperty().map(([, property]) => [property.name, property]));
		const kinds = (byName.get('rimdianKind')?.options ?? []) as INodePropertyOptions[];
		assert.deepEqual(
			kinds.find((option) => option.value === 'custom_event'),
			{ name: 'Custom Event', value: 'custom_event', description: 'Sent as kind "custom_event"' },
		);
		assert.ok(kinds.some((option) => option.name === 'User' && option.value === 'user'));
		const sources = (byName.get('defaultSource')?.options ?? []) as INodePropertyOptions[];
		assert.ok(sources.some((option) => option.name === 'Backend HTTP Import' && option.value === 'backend-http-import'));
		assert.equal(byName.get('defaultSource')?.default, 'backend-http-import');
	});
});

describe('the credential test against the sandbox (real HTTP)', () => {
	let sandbox: Sandbox;
	beforeAll(async () => {
		sandbox = await startSandbox({});
	});
	afterAll(async () => {
		await sandbox?.close();
	});

	/** n8n's request() helper as a credential test gets it, over real HTTP (fetch). */
	const context = {
		helpers: {
			async request(options: { method: string; uri: string; headers: Record<string, string>; body?: unknown }) {
				const response = await fetch(options.uri, {
					method: options.method,
					headers: { 'content-type': 'application/json', ...options.headers },
					body: options.body === undefined ? undefined : JSON.stringify(options.body),
				});
				const text = await response.text();
				let body: unknown = text;
				try {
					body = JSON.parse(text);
				} catch {
					// not JSON: the text as it is
				}
				return { statusCode: response.status, body, headers: Object.fromEntries(response.headers) };
			},
		},
	} as unknown as ICredentialTestFunctions;

	const cases = (): Array<{ platform: string; data: Record<string, string>; key: string; says: RegExp }> => [
		{ platform: 'rimdian', data: { rimdianAuthentication: 'accessToken', rimdianRegion: 'custom', baseUrl: sandbox.url, workspaceId: RIMDIAN_WORKSPACE }, key: RIMDIAN_TOKEN, says: /^Rimdian refused the access token \(401\)/ },
		{ platform: 'userpilot', data: { userpilotRegion: 'custom', baseUrl: sandbox.url }, key: USERPILOT_KEY, says: /^Userpilot refused the API key \(401\)/ },
		{ platform: 'ayona', data: { baseUrl: sandbox.url, sourceId: AYONA_SOURCE_ID }, key: AYONA_KEY, says: /^Ayona refused the API key \(401\)/ },
	];

	test('the right key: success, naming the platform', async () => {
		for (const { platform, data, key } of cases()) {
			const result = await testDataImportCredential.call(context, { id: '1', name: 'c', type: 'dataImportApi', data: { platform, ...data, apiKey: key } });
			assert.equal(result.status, 'OK', `${platform}: ${result.message}`);
			assert.match(result.message, new RegExp(`accepted the credentials`));
		}
	});

	test('a wrong key: the platform and the status, "refused" said once, what to do next', async () => {
		for (const { platform, data, says } of cases()) {
			const result = await testDataImportCredential.call(context, { id: '1', name: 'c', type: 'dataImportApi', data: { platform, ...data, apiKey: 'wrong-key-unit' } });
			assert.equal(result.status, 'Error', platform);
			assert.match(result.message, says);
			assert.equal(result.message.match(/refused/gi)?.length, 1, result.message);
			assert.ok(!result.message.includes('wrong-key-unit'), 'the key is not echoed');
		}
	});
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'; repeats get -1, -2… */
function readmeAnchors(markdown: string): Set<string> {
	const anchors = new Set<string>();
	const seen = new Map<string, number>();
	let fenced = false;
	for (const line of markdown.split('\n')) {
		if (/^\s*```/.test(line)) fenced = !fenced;
		const heading = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
		if (!heading) continue;
		const slug = heading[1]
			.toLowerCase()
			.replace(/[^\p{L}\p{N}\s_-]/gu, '')
			.replace(/\s/g, '-');
		const count = seen.get(slug) ?? 0;
		seen.set(slug, count + 1);
		anchors.add(count === 0 ? slug : `${slug}-${count}`);
	}
	return anchors;
}

describe('documentation links', () => {
	const REPO_URL = 'https://github.com/n8n-nodes-data-import/n8n-nodes-data-import';
	const links: Array<{ from: string; url: string }> = [
		{ from: 'credential documentationUrl', url: credentials.documentationUrl },
		...NODES.flatMap(({ folder }) => {
			const codex = JSON.parse(fs.readFileSync(path.join(ROOT, 'nodes', folder, `${folder}.node.json`), 'utf8')) as {
				resources?: Record<string, Array<{ url: string }>>;
			};
			return Object.entries(codex.resources ?? {}).flatMap(([kind, entries]) =>
				entries.map(({ url }) => ({ from: `${folder} codex ${kind}`, url })),
			);
		}),
	];

	test('the helper computes GitHub anchors', () => {
		const anchors = readmeAnchors('# A title\n## Credentials\n## Install in n8n\n```\n## not a heading\n```\n## 1,000,000 items\n## Credentials\n');
		assert.deepEqual([...anchors], ['a-title', 'credentials', 'install-in-n8n', '1000000-items', 'credentials-1']);
	});

	test('the credential and every codex file link to the README, at a heading it has', () => {
		const anchors = readmeAnchors(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
		assert.ok(links.length >= 1 + 2 * NODES.length, 'a credential link and two links per codex');
		const broken = links.filter(({ url }) => {
			const [page, anchor] = url.split('#');
			return page !== REPO_URL || !anchor || !anchors.has(anchor);
		});
		assert.deepEqual(broken, [], `README anchors: ${[...anchors].join(', ')}`);
	});
});
