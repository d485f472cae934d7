/**
 * Small checks shared by the platform rules. All of them are plain functions over plain values:
 * no closures are created per call, no regex is compiled per call, nothing throws.
 */
import type { FieldError, ItemValidator } from './types';

/** An item gets at most this many errors; the last one then says how many more were found. */
export const MAX_ERRORS_PER_ITEM = 20;
/** Default limit of nested objects/arrays in free-form values (metadata, app columns). */
export const DEFAULT_MAX_DEPTH = 10;
/** Nested values visited at most by one nesting check (guards against huge or self-sharing graphs). */
export const MAX_NESTED_VALUES = 100_000;

/** Quotes a string for a reason: JSON string syntax, cut to `max` characters. */
export function quote(value: string, max = 40): string {
	return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/** Names a value and its type for a reason: `number 42`, `string "abc"`, `an array`, `null`. */
export function describeValue(value: unknown): string {
	switch (typeof value) {
		case 'string':
			return value === '' ? 'an empty string' : `string ${quote(value)}`;
		case 'number':
			return `number ${String(value)}`;
		case 'boolean':
			return `boolean ${String(value)}`;
		case 'undefined':
			return 'nothing';
		case 'bigint':
			return `bigint ${String(value)}n`;
		case 'symbol':
			return 'a symbol';
		case 'function':
			return 'a function';
		default:
			if (value === null) return 'null';
			if (Array.isArray(value))
				return value.length === 0 ? 'an empty array' : `an array of ${value.length}`;
			if (value instanceof Date) return 'a Date';
			return 'an object';
	}
}

/** `expected a string, got number 42` */
export function expectedGot(expected: string, value: unknown): string {
	return `expected ${expected}, got ${describeValue(value)}`;
}

/** A JSON object as an item or a sub-object: not null, not an array, not a Date. */
export function isRecord(value: unknown): value is Record<string, unknown> {
	return (
		typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
	);
}

/** `undefined` and `null`: the field was not given. */
export function isAbsent(value: unknown): value is null | undefined {
	return value === undefined || value === null;
}

/** Key lookup that ignores inherited properties (`__proto__`, `toString`, …). */
export function own(record: Record<string, unknown>, key: string): unknown {
	return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** Whether a record has its own key. */
export function has(record: Record<string, unknown>, key: string): boolean {
	return Object.prototype.hasOwnProperty.call(record, key);
}

/** Dotted path of a field: `prefix.key`, or `key` when there is no prefix. */
export function joinPath(prefix: string, key: string | number): string {
	if (typeof key === 'number') return `${prefix}[${key}]`;
	return prefix === '' ? key : `${prefix}.${key}`;
}

/**
 * Collects the errors of one item, capped at MAX_ERRORS_PER_ITEM. A validator owns one and
 * `reset()`s it per item; nothing is allocated until the first error.
 */
export class ErrorList {
	private list: FieldError[] | undefined;
	private dropped = 0;

	reset(): void {
		this.list = undefined;
		this.dropped = 0;
	}

	add(field: string, reason: string): void {
		if (this.list === undefined) this.list = [];
		if (this.list.length < MAX_ERRORS_PER_ITEM) this.list.push({ field, reason });
		else this.dropped++;
	}

	/** Whether an error was already recorded for `field`. */
	hasField(field: string): boolean {
		if (this.list === undefined) return false;
		for (let i = 0; i < this.list.length; i++) if (this.list[i].field === field) return true;
		return false;
	}

	get empty(): boolean {
		return this.list === undefined;
	}

	/** Number of errors found so far (including those beyond the cap). */
	get count(): number {
		return (this.list?.length ?? 0) + this.dropped;
	}

	/** Hands the errors over (the list is not reused). */
	take(): FieldError[] {
		const list = this.list ?? [];
		if (this.dropped > 0) {
			list[list.length - 1] = {
				field: '(item)',
				reason: `${this.dropped + 1} more errors not shown (at most ${MAX_ERRORS_PER_ITEM} per item)`,
			};
		}
		this.reset();
		return list;
	}
}

// ---------------------------------------------------------------------------------------------
// Strings

/** Whether a string is empty or only white space (no allocation for the usual non-blank string). */
export function isBlank(value: string): boolean {
	for (let i = 0; i < value.length; i++) {
		const c = value.charCodeAt(i);
		if (c > 32 && c !== 160 && c !== 0xfeff && !(c >= 0x2000 && c <= 0x200b) && c !== 0x3000)
			return false;
	}
	return true;
}

/** Unresolved template or a placeholder left in place of a real id. */
const TEMPLATE_RE = /\{\{[\s\S]*\}\}|\$\{[\s\S]*\}/;
const PLACEHOLDER_IDS = new Set([
	'id',
	'userid',
	'user_id',
	'user_id()',
	'$user_id',
	'$userid',
	'undefined',
	'null',
	'nan',
	'[object object]',
	'none',
	'nil',
]);

/**
 * Lengths of the placeholders: a string of another length is none of them (lower-casing keeps the
 * length of every string it could turn into one: they are ASCII).
 */
const PLACEHOLDER_LENGTHS = new Set([...PLACEHOLDER_IDS].map((id) => id.length));

/**
 * Reason when a string is a placeholder rather than a real identifier (`user_id`, `{{user_id}}`,
 * `{{ $json.id }}`, `undefined`, blank), else undefined.
 */
export function placeholderReason(value: string): string | undefined {
	const trimmed = value.trim();
	if (trimmed === '')
		return value === '' ? 'is required (got an empty string)' : 'is required (got only spaces)';
	// Both forms of TEMPLATE_RE hold a `{`: most ids have none and skip the regex.
	if (trimmed.includes('{') && TEMPLATE_RE.test(trimmed)) {
		return `${quote(value)} is an unresolved template, not an id: map the field to the real value`;
	}
	if (PLACEHOLDER_LENGTHS.has(trimmed.length) && PLACEHOLDER_IDS.has(trimmed.toLowerCase())) {
		return `${quote(value)} is a placeholder, not an id: map the field to the real value`;
	}
	return undefined;
}

/** Reason when a string is longer than `max` characters, else undefined. */
export function lengthReason(value: string, max: number): string | undefined {
	return value.length > max
		? `is ${value.length} characters long; at most ${max} are accepted`
		: undefined;
}

const EMAIL_RE = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;
const E164_RE = /^\+[1-9]\d{6,14}$/;
const HTTP_URL_RE = /^https?:\/\/[^\s/?#@]+(?:@[^\s/?#@]+)?(?:[/?#]\S*)?$/i;
const HEX_RE = /^[0-9a-fA-F]+$/;

export function isEmail(value: string): boolean {
	return value.length <= 254 && EMAIL_RE.test(value);
}

/** `+` then 7 to 15 digits, the first not 0. */
export function isE164(value: string): boolean {
	return E164_RE.test(value);
}

/** An absolute http(s) URL with a host and no spaces. */
export function isHttpUrl(value: string): boolean {
	return value.length <= 4096 && HTTP_URL_RE.test(value);
}

export function isHex(value: string, length: number): boolean {
	return value.length === length && HEX_RE.test(value);
}

// ---------------------------------------------------------------------------------------------
// Numbers and booleans written as strings (CSV)

const INTEGER_RE = /^[+-]?\d+$/;
const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `"42"` → 42; undefined when the string is not a safe integer. */
export function parseIntegerString(value: string): number | undefined {
	const text = value.trim();
	if (!INTEGER_RE.test(text)) return undefined;
	const n = Number(text);
	return Number.isSafeInteger(n) ? n : undefined;
}

/** `"4.5"` → 4.5; undefined when the string is not a finite decimal number. */
export function parseNumberString(value: string): number | undefined {
	const text = value.trim();
	if (!DECIMAL_RE.test(text)) return undefined;
	const n = Number(text);
	return Number.isFinite(n) ? n : undefined;
}

/** `"true"`/`"false"` (any case, spaces around) → boolean; undefined otherwise. */
export function parseBooleanString(value: string): boolean | undefined {
	const text = value.trim().toLowerCase();
	if (text === 'true') return true;
	if (text === 'false') return false;
	return undefined;
}

// ---------------------------------------------------------------------------------------------
// Nesting

class NestingWalk {
	visited = 0;
	maxDepth = DEFAULT_MAX_DEPTH;
	readonly maxValues = MAX_NESTED_VALUES;

	/** Returns the path (innermost key last) and reason of the first problem, or undefined. */
	walk(
		value: unknown,
		depth: number,
	): { path: Array<string | number>; reason: string; depth?: boolean } | undefined {
		switch (typeof value) {
			case 'string':
			case 'boolean':
			case 'undefined':
				return undefined;
			case 'number':
				return Number.isFinite(value)
					? undefined
					: { path: [], reason: `holds ${String(value)}, which JSON cannot represent` };
			case 'bigint':
				return {
					path: [],
					reason: `holds a bigint (${String(value)}n), which JSON cannot represent: use a number or a string`,
				};
			case 'symbol':
				return { path: [], reason: 'holds a symbol, which JSON cannot represent' };
			case 'function':
				return { path: [], reason: 'holds a function, which JSON cannot represent' };
		}
		if (value === null || value instanceof Date) return undefined;
		if (depth > this.maxDepth) {
			return {
				path: [],
				reason: `is nested more than ${this.maxDepth} levels deep (or refers to itself); at most ${this.maxDepth} levels are accepted`,
				depth: true,
			};
		}
		if (++this.visited > this.maxValues) {
			return { path: [], reason: `holds more than ${this.maxValues} nested values`, depth: true };
		}
		if (Array.isArray(value)) {
			for (let i = 0; i < value.length; i++) {
				const issue = this.walk(value[i], depth + 1);
				if (issue !== undefined) {
					issue.path.push(i);
					return issue;
				}
			}
			return undefined;
		}
		const record = value as Record<string, unknown>;
		for (const key in record) {
			if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
			const issue = this.walk(record[key], depth + 1);
			if (issue !== undefined) {
				issue.path.push(key);
				return issue;
			}
		}
		return undefined;
	}
}

const walker = new NestingWalk();

/**
 * Checks that a free-form value is JSON-representable and at most `maxDepth` objects/arrays deep
 * (the value itself is level 1: `{"a":{"b":1}}` is 2 levels). Cycles fail the depth rule.
 * Returns undefined when the value is fine, else an error whose field is `path` for a depth
 * problem (the reason says where) and the exact path of the value JSON cannot represent otherwise.
 */
export function checkNesting(
	value: unknown,
	path: string,
	maxDepth = DEFAULT_MAX_DEPTH,
): FieldError | undefined {
	// Fast exits for the usual leaves; then one reused walker (checks are synchronous).
	if (typeof value !== 'object' || value === null) {
		if (
			typeof value === 'string' ||
			typeof value === 'boolean' ||
			value === null ||
			value === undefined
		)
			return undefined;
	}
	walker.visited = 0;
	walker.maxDepth = maxDepth;
	const issue = walker.walk(value, 1);
	if (issue === undefined) return undefined;
	let where = path;
	for (let i = issue.path.length - 1; i >= 0; i--) {
		where = joinPath(where, issue.path[i]);
		if (where.length > 120) {
			where = `${where.slice(0, 120)}…`;
			break;
		}
	}
	if (issue.depth) return { field: path, reason: `${issue.reason} (at ${where})` };
	return { field: where, reason: issue.reason };
}

/**
 * Whether a nesting issue is only past the local depth guard (no page sets one) while JSON can
 * still write the value: then it warns instead of refusing. A cycle cannot be sent at all.
 */
export function isOnlyDeep(value: unknown, issue: FieldError): boolean {
	if (!issue.reason.startsWith('is nested more than')) return false;
	try {
		JSON.stringify(value);
		return true;
	} catch {
		return false;
	}
}

/** What a compiled validator clears when an item's check stops half way. */
interface CheckLists {
	errors: { reset(): void };
	warnings: { reset(): void };
}

/**
 * A validator that never throws, as ItemValidator promises: only hostile input gets to the catch
 * (a getter or proxy that throws), which refuses that item alone and leaves the lists clean for
 * the next one.
 */
export function neverThrowing(validate: ItemValidator, lists: CheckLists): ItemValidator {
	return function validateItem(item: unknown) {
		try {
			return validate(item);
		} catch (error) {
			lists.errors.reset();
			lists.warnings.reset();
			return {
				ok: false,
				errors: [
					{
						field: '(item)',
						reason: `could not be read: ${String((error as Error)?.message ?? error)}`,
					},
				],
			};
		}
	};
}
