/**
 * The plain keep-alive client of bench:items in a process of its own, started for one pass: cold,
 * as n8n's execution of Import Items is (each `n8n execute` is a new process). Builds its bodies
 * before the clock starts, posts them, prints one JSON line: ms, TCP connections opened.
 *
 *   node --import tsx bench/workers/client.ts <mode> <receiverUrl> <items> <batch> <concurrency>
 *
 * Modes:
 *   ceiling   the node's bodies (canonical JSON), built beforehand: sending only
 *   floor     each body serialized when a request is free to take it (JSON.stringify of items
 *             whose keys are already in order: the same bytes), then sent: serializing + sending
 */
import { postBodiesKeepAlive, rimdianBodies, rimdianUser, RIMDIAN_WORKSPACE } from '../lib';

/** The users with their keys already in canonical order: JSON.stringify then writes the node's bytes. */
function presortedItems(users: Array<Record<string, unknown>>): Array<{ kind: string; user: Record<string, unknown> }> {
	return users.map((user) => ({
		kind: 'user',
		user: Object.fromEntries(Object.keys(user).sort().map((key) => [key, user[key]])),
	}));
}

/** The floor's bodies, each built when a request is free to take it. */
function* serializedBodies(items: Array<{ kind: string; user: Record<string, unknown> }>, batch: number): Generator<string> {
	for (let i = 0; i < items.length; i += batch) {
		const parts: string[] = [];
		for (let k = i; k < Math.min(items.length, i + batch); k++) parts.push(JSON.stringify(items[k]));
		yield `{"workspace_id":${JSON.stringify(RIMDIAN_WORKSPACE)},"items":[${parts.join(',')}]}`;
	}
}

async function main(): Promise<void> {
	const [mode, url, itemsText, batchText, concurrencyText] = process.argv.slice(2);
	const [items, batch, concurrency] = [itemsText, batchText, concurrencyText].map(Number);
	if ((mode !== 'ceiling' && mode !== 'floor') || !url || !(items > 0 && batch > 0 && concurrency > 0)) {
		throw new Error('usage: client.ts ceiling|floor <receiverUrl> <items> <batch> <concurrency>');
	}
	const users = Array.from({ length: items }, (_, i) => rimdianUser(i));
	const ceilingBodies = rimdianBodies(users, batch);
	let bodies: Iterable<string> = ceilingBodies;
	if (mode === 'floor') {
		const presorted = presortedItems(users);
		// The floor must write the ceiling's bytes, or it would not be a floor of the same work.
		const first = [...serializedBodies(presorted.slice(0, 64 * batch), batch)];
		if (first.some((body, i) => body !== ceilingBodies[i])) throw new Error('the floor does not build the ceiling\'s bytes');
		bodies = serializedBodies(presorted, batch);
	}
	const result = await postBodiesKeepAlive(url, bodies, concurrency);
	process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
	process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
	process.exit(1);
});
