/**
 * JSON with object keys sorted at every level, so the same item always gives the same bytes
 * whatever key order its source produced. Rimdian de-duplicates on the raw bytes of an item.
 */
export function canonicalJson(value: unknown): string {
	if (value === null || typeof value !== 'object') {
		// undefined and functions have no JSON form; inside objects they are skipped below.
		return JSON.stringify(value) ?? 'null';
	}
	if (Array.isArray(value)) {
		let out = '[';
		for (let i = 0; i < value.length; i++) {
			if (i > 0) out += ',';
			const element = value[i];
			out +=
				element === undefined || typeof element === 'function' ? 'null' : canonicalJson(element);
		}
		return out + ']';
	}
	if (value instanceof Date) return JSON.stringify(value);
	const record = value as Record<string, unknown>;
	const keys = Object.keys(record).sort();
	let out = '{';
	let first = true;
	for (const key of keys) {
		const element = record[key];
		if (element === undefined || typeof element === 'function') continue;
		if (!first) out += ',';
		first = false;
		out += JSON.stringify(key) + ':' + canonicalJson(element);
	}
	return out + '}';
}
