#!/usr/bin/env node
// After `npm ci` failed: may the same lockfile be installed with `npm install` instead?
//
// `npm ci` refuses a lockfile that lacks an optional dependency the registry serves today (and
// the registry changes what it serves of optional platform packages: darwin, win32, android...).
// That one case is safe to install with `npm install`, which skips what does not fit this machine.
// The decision reads package.json and the lockfile, never npm's messages, whose wording has
// changed before: it says yes only when
//   - package.json and the lockfile's root agree on every dependency (otherwise the lockfile is
//     simply stale, and a plain `npm install` would silently pick new versions), and
//   - every dependency the lockfile lacks is an optional one (a required one missing is a broken
//     lockfile), and there is at least one (a complete lockfile refused for another reason, a
//     network error or a version the registry lost, is a real failure that `npm install` would
//     only hide).
// Written by hand because npm has no command that answers this without installing.
//
// CLI: `node npm-lockfile-fallback.cjs [folder]` prints the reason; exit 0 = install, 1 = fail.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROOT_DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];

/** Where Node would find `name` from the package at `location` ('' is the root), or undefined. */
function resolveLocation(packages, location, name) {
	let from = location;
	for (;;) {
		const candidate = from === '' ? `node_modules/${name}` : `${from}/node_modules/${name}`;
		if (packages[candidate]) return candidate;
		if (from === '') return undefined;
		const parent = from.lastIndexOf('/node_modules/');
		from = parent < 0 ? '' : from.slice(0, parent);
	}
}

/** Root dependency specs on which package.json and the lockfile disagree, as readable lines. */
function rootDisagreements(packageJson, lockfile) {
	const lockRoot = (lockfile.packages && lockfile.packages['']) || {};
	const lines = [];
	for (const field of ROOT_DEPENDENCY_FIELDS) {
		const wanted = packageJson[field] || {};
		const locked = lockRoot[field] || {};
		for (const name of new Set([...Object.keys(wanted), ...Object.keys(locked)])) {
			if (wanted[name] !== locked[name]) {
				lines.push(`${field}.${name}: package.json '${wanted[name] ?? '(none)'}', lockfile '${locked[name] ?? '(none)'}'`);
			}
		}
	}
	return lines;
}

/** Dependencies that no lockfile entry provides, split into required and optional ones. */
function unresolvedDependencies(lockfile) {
	const packages = lockfile.packages || {};
	const required = new Set();
	const optional = new Set();
	for (const [location, entry] of Object.entries(packages)) {
		if (entry.link) continue;
		// The root's devDependencies are installed too; a package's own devDependencies never are.
		const requiredFields = location === '' ? ['dependencies', 'devDependencies'] : ['dependencies'];
		for (const field of requiredFields) {
			for (const name of Object.keys(entry[field] || {})) {
				if (!resolveLocation(packages, location, name)) required.add(name);
			}
		}
		for (const name of Object.keys(entry.optionalDependencies || {})) {
			if (!resolveLocation(packages, location, name)) optional.add(name);
		}
	}
	return { required: [...required].sort(), optional: [...optional].sort() };
}

/**
 * The decision: `{ install: true, missingOptional }` when `npm install` of the same lockfile is
 * safe, otherwise `{ install: false, reason }`.
 */
function decideFallback(packageJson, lockfile) {
	if (!lockfile || lockfile.lockfileVersion < 2 || !lockfile.packages) {
		return { install: false, reason: 'the lockfile has no "packages" map (lockfileVersion 2 or later)' };
	}
	const disagreements = rootDisagreements(packageJson, lockfile);
	if (disagreements.length > 0) {
		return { install: false, reason: `package.json and the lockfile disagree (update the lockfile): ${disagreements.join('; ')}` };
	}
	const { required, optional } = unresolvedDependencies(lockfile);
	if (required.length > 0) {
		return { install: false, reason: `the lockfile lacks required dependencies: ${required.join(', ')}` };
	}
	if (optional.length === 0) {
		return { install: false, reason: 'the lockfile is complete, so npm ci failed for another reason' };
	}
	return {
		install: true,
		missingOptional: optional,
		reason: `the lockfile lacks only optional dependencies (${optional.length}: ${optional.join(', ')})`,
	};
}

module.exports = { decideFallback, resolveLocation, unresolvedDependencies };

if (require.main === module) {
	const folder = process.argv[2] || process.cwd();
	const read = (file) => JSON.parse(fs.readFileSync(path.join(folder, file), 'utf8'));
	let decision;
	try {
		decision = decideFallback(read('package.json'), read('package-lock.json'));
	} catch (error) {
		decision = { install: false, reason: `cannot read package.json or package-lock.json: ${error.message}` };
	}
	process.stdout.write(`${decision.reason}\n`);
	process.exit(decision.install ? 0 : 1);
}
