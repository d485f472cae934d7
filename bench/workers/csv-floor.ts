/**
 * The floor of bench:rimdian-csv, in a process of its own started for one pass: the users CSV read
 * by csv-parse (records as arrays), each row written straight as the Rimdian item the node sends
 * (its keys in canonical order, `is_authenticated` as a JSON boolean), in bodies of `batch` items
 * posted to the receiver with `concurrency` in flight on kept-alive connections, and nothing else:
 * no validation, no results. Prints one JSON line: rows, ms, TCP connections opened.
 *
 *   node --import tsx bench/workers/csv-floor.ts <file> <receiverUrl> <batch> <concurrency>
 *
 * Written for the benchmark's own file (bench/lib.ts rimdianUsersCsv): its columns, all strings but
 * `is_authenticated`. bench:rimdian-csv checks that its bodies are the node's, byte for byte.
 */
import { parse } from 'csv-parse';
import * as fs from 'node:fs';

import { postBodiesKeepAlive, RIMDIAN_WORKSPACE } from '../lib';

/** The bodies, each built as a request is free to take it: read, written, batched in one pass. */
async function* bodies(file: string, batch: number, counted: { rows: number }): AsyncGenerator<string> {
	const records = fs.createReadStream(file).pipe(parse());
	let write: ((cells: string[]) => string) | undefined;
	let items: string[] = [];
	const head = `{"workspace_id":${JSON.stringify(RIMDIAN_WORKSPACE)},"items":[`;
	for await (const cells of records as AsyncIterable<string[]>) {
		if (!write) {
			write = rowWriter(cells);
			continue;
		}
		items.push(write(cells));
		counted.rows++;
		if (items.length === batch) {
			yield `${head}${items.join(',')}]}`;
			items = [];
		}
	}
	if (items.length > 0) yield `${head}${items.join(',')}]}`;
}

/** For a header, a function writing one row as `{"kind":"user","user":{…}}` with sorted keys. */
function rowWriter(header: string[]): (cells: string[]) => string {
	const order = header.map((name, index) => ({ name, index })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	const parts = order.map(({ name, index }) => ({
		key: `${JSON.stringify(name)}:`,
		index,
		value: name === 'is_authenticated' ? (cell: string) => (cell === 'true' ? 'true' : 'false') : (cell: string) => JSON.stringify(cell),
	}));
	return (cells) => {
		let user = '';
		for (let i = 0; i < parts.length; i++) {
			const part = parts[i];
			user += `${i === 0 ? '' : ','}${part.key}${part.value(cells[part.index])}`;
		}
		return `{"kind":"user","user":{${user}}}`;
	};
}

async function main(): Promise<void> {
	const [file, url, batchText, concurrencyText] = process.argv.slice(2);
	const [batch, concurrency] = [batchText, concurrencyText].map(Number);
	if (!file || !url || !(batch > 0 && concurrency > 0)) throw new Error('usage: csv-floor.ts <file> <receiverUrl> <batch> <concurrency>');
	const counted = { rows: 0 };
	const result = await postBodiesKeepAlive(url, bodies(file, batch, counted), concurrency);
	process.stdout.write(`${JSON.stringify({ rows: counted.rows, ...result })}\n`);
}

main().catch((error: unknown) => {
	process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
	process.exit(1);
});
