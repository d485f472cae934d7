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

/** The last few key lists met and their sorted order: the items of one run share a few shapes. */
const KNOWN_SHAPES = 8;
const shapeKeys: string[][] = [];
const shapeSorted: string[][] = [];
let nextShape = 0;

/** The keys in sorted order; a key list met lately is sorted once, not once per item. */
function sortedKeys(keys: string[]): string[] {
	if (keys.length < 2) return keys;
	for (let shape = 0; shape < shapeKeys.length; shape++) {
		if (sameKeys(shapeKeys[shape], keys)) return shapeSorted[shape];
	}
	const sorted = keys.slice().sort();
	shapeKeys[nextShape] = keys;
	shapeSorted[nextShape] = sorted;
	nextShape = (nextShape + 1) % KNOWN_SHAPES;
	return sorted;
}

function sameKeys(known: string[], keys: string[]): boolean {
	if (known.length !== keys.length) return false;
	for (let i = 0; i < keys.length; i++) if (known[i] !== keys[i]) return false;
	return true;
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
