/**
 * One timed pass over a CSV file in a plain Node process (a child of the benchmark, so that each
 * pass starts from the same clean heap). Prints one JSON line: rows, valid rows, ms, RSS.
 *
 *   node --import tsx bench/workers/csv.ts <mode> <file>
 *
 * Modes:
 *   csv-parse            parse({columns: true}) piped from fs.createReadStream: the ceiling
 *   read-csv             the package's reader (core/rows/readers/csv.ts readCsvChunks, as the node reads), rows only
 *   userpilot-validate   readCsv -> compileUserpilotValidator({coerceStrings: true})
 *   userpilot-validate-records   csv-parse records (columns: true) -> the same validator
 *
 * The package's modules are loaded from dist/ (the compiled package, as n8n runs it) when built,
 * else from the sources through tsx.
 */
import { parse } from 'csv-parse';
import * as fs from 'node:fs';
import * as path from 'node:path';

type ReadCsvChunks = typeof import('../../core/rows/readers/csv').readCsvChunks;
type CompileUserpilot = typeof import('../../platforms/userpilot/rules').compileUserpilotValidator;

const REPO_ROOT = path.resolve(__dirname, '..', '..');

function load<T>(relative: string): { module: T; from: string } {
	const compiled = path.join(REPO_ROOT, 'dist', `${relative}.js`);
	if (fs.existsSync(compiled)) {
		try {
			return { module: require(compiled) as T, from: 'dist' };
		} catch {
			// dist/ being rebuilt: fall back to the sources
		}
	}
	return { module: require(path.join(REPO_ROOT, relative)) as T, from: 'source (tsx)' };
}

async function main(): Promise<void> {
	const [mode, file] = process.argv.slice(2);
	if (!mode || !file) throw new Error('usage: csv.ts <mode> <file>');
	const reader = load<{ readCsvChunks: ReadCsvChunks }>('core/rows/readers/csv');
	const rules = load<{ compileUserpilotValidator: CompileUserpilot }>('platforms/userpilot/rules');
	const validate = rules.module.compileUserpilotValidator({ timezone: 'UTC', coerceStrings: true, defaultSource: 'backend-http-import' });

	const base = process.memoryUsage.rss();
	let peak = base;
	const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
	const started = process.hrtime.bigint();
	let rows = 0;
	let valid = 0;
	let firstError: string | undefined;
	const check = (record: unknown) => {
		rows++;
		const result = validate(record);
		if (result.ok) valid++;
		else firstError ??= JSON.stringify(result.errors[0]);
	};

	if (mode === 'csv-parse' || mode === 'userpilot-validate-records') {
		const parser = parse({ columns: true });
		const validating = mode === 'userpilot-validate-records';
		await new Promise<void>((resolve, reject) => {
			parser.on('readable', () => {
				let record: unknown;
				while ((record = parser.read()) !== null) {
					if (validating) check(record);
					else rows++;
				}
			});
			parser.once('error', reject);
			parser.once('end', () => resolve());
			const input = fs.createReadStream(file);
			input.once('error', reject);
			input.pipe(parser);
		});
		if (!validating) valid = rows;
	} else if (mode === 'read-csv' || mode === 'userpilot-validate') {
		const validating = mode === 'userpilot-validate';
		// Rows in arrays, as Bulk File Import reads them (core/rows/fileRows.ts prepareRowChunks).
		for await (const chunk of reader.module.readCsvChunks(fs.createReadStream(file), { delimiter: ',', parseJsonCells: false })) {
			for (const row of chunk) {
				if (row.record === undefined) {
					rows++;
					firstError ??= row.error;
					continue;
				}
				if (validating) check(row.record);
				else {
					rows++;
					valid++;
				}
			}
		}
	} else {
		throw new Error(`unknown mode ${mode}`);
	}
	const ms = Number(process.hrtime.bigint() - started) / 1e6;
	clearInterval(sampler);
	peak = Math.max(peak, process.memoryUsage.rss());
	process.stdout.write(
		`${JSON.stringify({ mode, rows, valid, ms, rssBaseBytes: base, rssPeakBytes: peak, from: reader.from, firstError })}\n`,
	);
}

main().catch((error: unknown) => {
	process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
	process.exit(1);
});
