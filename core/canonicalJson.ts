/**
 * JSON with object keys sorted at every level, so the same item always gives the same bytes
 * whatever key order its source produced. Rimdian de-duplicates on the raw bytes of an item.
 *
 * Built as parts joined once: `out += …` makes V8 keep each result as a tree of string pieces
 * (about 1 KB an item for a Rimdian user), and Import Items holds every item's serialized form
 * until it is sent; a joined string is one flat block.
 */
export function canonicalJson(value: unknown): string {
	const parts: string[] = [];
	write(value, parts);
	return parts.join('');
}

function write(value: unknown, parts: string[]): void {
	if (value === null || typeof value !== 'object') {
		// undefined and functions have no JSON form; inside objects they are skipped below.
		parts.push(JSON.stringify(value) ?? 'null');
		return;
	}
	if (Array.isArray(value)) {
		parts.push('[');
		for (let i = 0; i < value.length; i++) {
			if (i > 0) parts.push(',');
			const element = value[i];
			if (element === undefined || typeof element === 'function') parts.push('null');
			else write(element, parts);
		}
		parts.push(']');
		return;
	}
	if (value instanceof Date) {
		parts.push(JSON.stringify(value));
		return;
	}
	const record = value as Record<string, unknown>;
	const keys = Object.keys(record).sort();
	parts.push('{');
	let first = true;
	for (const key of keys) {
		const element = record[key];
		if (element === undefined || typeof element === 'function') continue;
		parts.push(first ? JSON.stringify(key) : `,${JSON.stringify(key)}`, ':');
		first = false;
		write(element, parts);
	}
	parts.push('}');
}
