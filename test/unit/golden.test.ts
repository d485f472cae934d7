/**
 * Golden digests: the date normalizer and the Userpilot validator give, for a fixed corpus
 * (about 10,600 date values under 21 settings, 6,000 rows under 6: 258,000 results; canonical
 * and near-canonical, valid and not), the
 * same results as the code before their fast paths: same accept/refuse, same reasons, same
 * output values, key order and identity. See goldenCorpus.ts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { dateResults, digests, GROUP, rowResults } from './goldenCorpus';

const FILE = path.join(__dirname, 'fixtures', 'golden-validation.json');

interface Golden {
	dates: { count: number; digests: string[] };
	userpilot: { count: number; digests: string[] };
}

const results = { dates: dateResults(), userpilot: rowResults() };

if (process.env.GOLDEN_WRITE === '1') {
	const golden: Golden = {
		dates: { count: results.dates.length, digests: digests(results.dates) },
		userpilot: { count: results.userpilot.length, digests: digests(results.userpilot) },
	};
	fs.mkdirSync(path.dirname(FILE), { recursive: true });
	fs.writeFileSync(FILE, `${JSON.stringify(golden, null, '\t')}\n`);
}
if (process.env.GOLDEN_DUMP) {
	fs.mkdirSync(process.env.GOLDEN_DUMP, { recursive: true });
	for (const [name, lines] of Object.entries(results)) fs.writeFileSync(path.join(process.env.GOLDEN_DUMP, `${name}.txt`), `${lines.join('\n')}\n`);
}

const golden = JSON.parse(fs.readFileSync(FILE, 'utf8')) as Golden;

for (const kind of ['dates', 'userpilot'] as const) {
	test(`golden: ${kind} results are those of the reference code`, () => {
		const lines = results[kind];
		assert.equal(lines.length, golden[kind].count, 'corpus size changed');
		const now = digests(lines);
		const changed: string[] = [];
		for (let i = 0; i < now.length; i++) {
			if (now[i] !== golden[kind].digests[i]) changed.push(`group ${i} (results ${i * GROUP}-${i * GROUP + GROUP - 1}), first: ${lines[i * GROUP].slice(0, 300)}`);
		}
		assert.deepEqual(changed, [], `${changed.length} groups differ; GOLDEN_DUMP=<dir> writes every result to diff with the reference commit`);
	});
}
