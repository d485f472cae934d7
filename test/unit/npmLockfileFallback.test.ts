import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// The fallback runs before anything is installed, so it is plain JavaScript.
type Decision = { install: boolean; reason: string; missingOptional?: string[] };
const { decideFallback } = createRequire(__filename)('../../scripts/npm-lockfile-fallback.cjs') as {
	decideFallback(packageJson: unknown, lockfile: unknown): Decision;
};

const SCRIPT = join(__dirname, '../../scripts/npm-lockfile-fallback.cjs');
const FIXTURES = join(__dirname, 'fixtures/npm-ci');

/** A folder recorded from a real npm: package.json, package-lock.json and what `npm ci` printed. */
function recorded(name: string) {
	const read = (file: string) => readFileSync(join(FIXTURES, name, file), 'utf8');
	return {
		folder: join(FIXTURES, name),
		packageJson: JSON.parse(read('package.json')),
		lockfile: JSON.parse(read('package-lock.json')),
		npmOutput: read('npm-ci-output.txt'),
	};
}

/** What the CLI decides for a folder: its exit code and the reason it prints. */
function cli(folder: string) {
	try {
		return { code: 0, reason: execFileSync(process.execPath, [SCRIPT, folder], { encoding: 'utf8' }) };
	} catch (error) {
		const failed = error as { status: number; stdout: string };
		return { code: failed.status, reason: failed.stdout };
	}
}

test('lockfile missing optional platform packages, npm names them with a version: install', () => {
	const { folder, packageJson, lockfile, npmOutput } = recorded('missing-optional-versioned');
	assert.match(npmOutput, /Missing: @msgpackr-extract\/msgpackr-extract-darwin-arm64@3\.0\.7 from lock file/);
	const decision = decideFallback(packageJson, lockfile);
	assert.equal(decision.install, true, decision.reason);
	assert.deepEqual(decision.missingOptional, [
		'@msgpackr-extract/msgpackr-extract-darwin-arm64',
		'@msgpackr-extract/msgpackr-extract-darwin-x64',
		'@msgpackr-extract/msgpackr-extract-linux-arm',
		'@msgpackr-extract/msgpackr-extract-win32-x64',
	]);
	assert.equal(cli(folder).code, 0);
});

test('lockfile missing an optional package the registry does not serve, npm names it without a version: install', () => {
	const { folder, packageJson, lockfile, npmOutput } = recorded('missing-optional-unversioned');
	assert.match(npmOutput, /Missing: n8n-nodes-data-import-no-such-package-zz@ from lock file/);
	const decision = decideFallback(packageJson, lockfile);
	assert.equal(decision.install, true, decision.reason);
	assert.deepEqual(decision.missingOptional, ['n8n-nodes-data-import-no-such-package-zz']);
	assert.equal(cli(folder).code, 0);
});

test('a dependency added to package.json only: npm says "Missing" in the same words, and the install fails', () => {
	const { folder, packageJson, lockfile, npmOutput } = recorded('stale-lockfile');
	assert.match(npmOutput, /Missing: is-odd@3\.0\.1 from lock file/);
	const decision = decideFallback(packageJson, lockfile);
	assert.equal(decision.install, false);
	assert.match(decision.reason, /dependencies\.is-odd: package\.json '3\.0\.1', lockfile '\(none\)'/);
	const { code, reason } = cli(folder);
	assert.equal(code, 1);
	assert.match(reason, /disagree/);
});

test('a complete lockfile that npm ci could not install (registry unreachable): the install fails', () => {
	const { folder, packageJson, lockfile, npmOutput } = recorded('complete-lockfile-network-error');
	assert.match(npmOutput, /ECONNREFUSED/);
	const decision = decideFallback(packageJson, lockfile);
	assert.equal(decision.install, false);
	assert.match(decision.reason, /complete/);
	assert.equal(cli(folder).code, 1);
});

test("a lockfile that lacks a package's required dependency fails, even when optional ones are missing too", () => {
	const { packageJson, lockfile } = recorded('missing-optional-versioned');
	const broken = structuredClone(lockfile);
	delete broken.packages['node_modules/node-gyp-build-optional-packages'];
	const decision = decideFallback(packageJson, broken);
	assert.equal(decision.install, false);
	assert.match(decision.reason, /lacks required dependencies: node-gyp-build-optional-packages/);
});

test('a dependency is found where Node would find it: nested first, then in each folder above', () => {
	const lockfile = {
		lockfileVersion: 3,
		packages: {
			'': { dependencies: { a: '1' } },
			'node_modules/a': { version: '1.0.0', dependencies: { b: '1', '@s/c': '1' } },
			'node_modules/a/node_modules/b': { version: '1.0.0', optionalDependencies: { '@s/c': '1', d: '1' } },
			'node_modules/@s/c': { version: '1.0.0' },
		},
	};
	const decision = decideFallback({ dependencies: { a: '1' } }, lockfile);
	assert.deepEqual(decision.missingOptional, ['d']);
});

test('the committed lockfiles are complete: npm ci needs no fallback for them', () => {
	for (const folder of ['.', 'e2e/n8n', 'e2e/n8n2']) {
		const root = join(__dirname, '../..', folder);
		const decision = decideFallback(
			JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')),
			JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')),
		);
		assert.equal(decision.install, false, `${folder}: ${decision.reason}`);
		assert.match(decision.reason, /complete/, folder);
	}
});
