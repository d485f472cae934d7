/**
 * Keeps docs/sources.md honest: every message the validators give over a large corpus (see
 * sourcesCorpus.ts) matches a row of the table with the same outcome (an error a "refuses" row, a
 * warning a "warns" row), every message a row lists is still given, every source names a page
 * section that exists or Rimdian's code or "inference", and no inference refuses.
 *   npx jest test/unit/sources.test.ts
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { everythingSaid, type Said } from './sourcesCorpus';

const REPO = path.resolve(__dirname, '..', '..');
const SPECS = path.resolve(REPO, '..', 'shared', 'specs');
const OUTCOMES = new Set(['refuses', 'warns', 'goes', 'relies']);

interface Row {
	id: string;
	outcome: string;
	sources: string[];
	says: string[];
}

function readTable(): Row[] {
	const text = fs.readFileSync(path.join(REPO, 'docs', 'sources.md'), 'utf8');
	return text
		.split('\n')
		.filter((line) => line.startsWith('| `'))
		.map((line) => {
			const cells = line.slice(1, -1).split(' | ').map((cell) => cell.trim());
			assert.equal(cells.length, 5, `five cells: ${line}`);
			const list = (cell: string) => (cell === '' ? [] : cell.split('; ').map((part) => part.trim()));
			return {
				id: cells[0].replace(/`/g, ''),
				outcome: cells[2],
				sources: list(cells[3]),
				says: list(cells[4]).map((phrase) => phrase.replace(/^`|`$/g, '')),
			};
		});
}

/** The listing cap of an item's errors is not a rule: the item is refused for the others. */
const notARule = (said: Said) => said.text.includes('more errors not shown');

describe('docs/sources.md', () => {
	const rows = readTable();
	let said: Said[];
	beforeAll(() => {
		said = everythingSaid().filter((entry) => !notARule(entry));
	});

	test('has rows with unique ids and known outcomes', () => {
		assert.ok(rows.length >= 40, `${rows.length} rows`);
		assert.equal(new Set(rows.map((row) => row.id)).size, rows.length);
		for (const row of rows) assert.ok(OUTCOMES.has(row.outcome), `${row.id}: ${row.outcome}`);
	});

	test('every source is a page section that exists, Rimdian\'s code, or "inference"', () => {
		for (const row of rows) {
			assert.ok(row.sources.length > 0, `${row.id} names a source`);
			for (const source of row.sources) {
				if (source === 'inference' || /^rimdian\/rimdian server\/\S+\.go$/.test(source)) continue;
				const match = /^([\w.-]+\.md) § (.+)$/.exec(source);
				assert.ok(match, `${row.id}: "${source}" is a page § section, rimdian/rimdian <file>, or inference`);
				if (!fs.existsSync(SPECS)) continue;
				const page = fs.readFileSync(path.join(SPECS, match[1]), 'utf8');
				assert.ok(page.includes(match[2]), `${row.id}: ${match[1]} has a section "${match[2]}"`);
			}
		}
	});

	test('no inference refuses a row', () => {
		for (const row of rows.filter((r) => r.sources.includes('inference')))
			assert.ok(row.outcome === 'warns' || row.outcome === 'goes' || row.outcome === 'relies', `${row.id} is an inference and ${row.outcome}`);
	});

	test('every message the validators give has its row, with the same outcome', () => {
		assert.ok(said.some((entry) => entry.kind === 'warning') && said.some((entry) => entry.kind === 'error'));
		const unexplained = new Map<string, string>();
		for (const entry of said) {
			const outcome = entry.kind === 'error' ? 'refuses' : 'warns';
			const explained = rows.some((row) => row.outcome === outcome && row.says.some((phrase) => entry.text.includes(phrase)));
			if (!explained) unexplained.set(`${entry.platform} ${entry.kind}`, entry.text);
		}
		assert.deepEqual([...unexplained], [], 'messages no row of the table explains');
	});

	test('every message a row lists is still given', () => {
		for (const row of rows) {
			const kind = row.outcome === 'refuses' ? 'error' : row.outcome === 'warns' ? 'warning' : undefined;
			if (kind === undefined) {
				assert.deepEqual(row.says, [], `${row.id} (${row.outcome}) gives no message`);
				continue;
			}
			assert.ok(row.says.length > 0, `${row.id} lists its message`);
			for (const phrase of row.says)
				assert.ok(said.some((entry) => entry.kind === kind && entry.text.includes(phrase)), `${row.id}: no ${kind} says "${phrase}"`);
		}
	});
});
