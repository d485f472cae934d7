/**
 * JSON with object keys sorted at every level, so the same item always gives the same bytes
 * whatever key order its source produced. Rimdian de-duplicates on the raw bytes of an item.
 *
 * A copy with its keys inserted in sorted order, given to JSON.stringify once: V8's own writer
 * is much faster than one written here, and its result is one flat string (`out += …` would make
 * V8 keep each result as a tree of string pieces, several times larger, while Import Items holds
 * every item's serialized form until it is sent). Keys that JSON.stringify would not write in
 * insertion order (integer-like keys come first in JavaScript) or that a copy cannot hold as
 * data (`__proto__`) send the value to the writer below, which builds the same text piece by piece.
 */
export function canonicalJson(value: unknown): string {
	const copy = sortedCopy(value);
	if (copy !== UNSORTABLE) return JSON.stringify(copy) ?? 'null';
	const parts: string[] = [];
	write(value, parts);
	return parts.join('');
}

/** Returned by sortedCopy for a value that only the piece-by-piece writer can sort. */
const UNSORTABLE = Symbol('unsortable');

/** Whether JSON.stringify of a copy may not write this key where sorting put it. */
function unsortableKey(key: string): boolean {
	const first = key.charCodeAt(0);
	return (first >= 48 && first <= 57) || key === '__proto__';
}

/**
 * The value with every plain object's keys in sorted order, for JSON.stringify; what the writer
 * leaves out of objects (undefined, functions) is left out here, and symbols become null.
 */
function sortedCopy(value: unknown): unknown {
	if (value === null || typeof value !== 'object') return typeof value === 'symbol' ? null : value;
	if (Array.isArray(value)) {
		const out: unknown[] = new Array(value.length);
		for (let i = 0; i < value.length; i++) {
			const element = sortedCopy(value[i]);
			if (element === UNSORTABLE) return UNSORTABLE;
			out[i] = element;
		}
		return out;
	}
	if (value instanceof Date) return value;
	const record = value as Record<string, unknown>;
	const keys = sortedKeys(Object.keys(record));
	const out: Record<string, unknown> = {};
	for (let i = 0; i < keys.length; i++) {
		const key = keys[i];
		const element = record[key];
		if (element === undefined || typeof element === 'function') continue;
		if (unsortableKey(key)) return UNSORTABLE;
		const copied = sortedCopy(element);
		if (copied === UNSORTABLE) return UNSORTABLE;
		out[key] = copied;
	}
	return out;
}

/**
 * Key lists sorted lately, each with its sorted copy: the rows of a file or the items of a run
 * share a few shapes, so each is sorted once and then found by comparing names (interned strings).
 * Bounded, and only short lists are kept, so nothing large stays referenced here.
 */
const recentlySorted: Array<{ keys: string[]; sorted: string[] }> = [];
const RECENTLY_SORTED = 8;
const LONGEST_KEPT = 64;

/** The keys in sorted order (the array given may be returned, or a shared one: never change it). */
function sortedKeys(keys: string[]): string[] {
	if (keys.length < 2) return keys;
	search: for (let i = 0; i < recentlySorted.length; i++) {
		const entry = recentlySorted[i];
		if (entry.keys.length !== keys.length) continue;
		for (let k = 0; k < keys.length; k++) if (entry.keys[k] !== keys[k]) continue search;
		return entry.sorted;
	}
	const sorted = keys.slice().sort();
	if (keys.length <= LONGEST_KEPT) {
		if (recentlySorted.length === RECENTLY_SORTED) recentlySorted.pop();
		recentlySorted.unshift({ keys, sorted });
	}
	return sorted;
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
