/**
 * The checks of Rimdian's field values, by rule (see rules.ts for what each rule means). One
 * instance per compiled validator holds the options and the error and warning lists of the item
 * being checked, so that nothing is made per item.
 */
import { IANAZone } from 'luxon';

import {
	ErrorList,
	checkNesting,
	describeValue,
	expectedGot,
	isE164,
	isEmail,
	isHex,
	isBlank,
	isHttpUrl,
	isOnlyDeep,
	isRecord,
	joinPath,
	own,
	parseBooleanString,
	parseIntegerString,
	parseNumberString,
	placeholderReason,
	quote,
} from '../../core/validation/checks';
import { isCalendarDate, type DateNormalizer } from '../../core/validation/dates';
import { WarningList, earlyDateReason } from '../../core/validation/warnings';

import {
	COUNTRIES,
	CURRENCIES,
	CURRENCIES_LIST,
	DEVICE_TYPES,
	EXPECTED,
	LANGUAGES,
	LINE_ITEM_FIELDS,
	MAX_ID_LENGTH,
	OTHER_TIMESTAMP,
	TEXT_RULES,
	ZONE_SHAPE_RE,
	isStatedPlaceholder,
	isTimestampKey,
	type CompiledSpecs,
	type FieldSpec,
} from './fields';
import type { MissingReason } from './kinds';

/** Returned by a field check to ask that the key be removed (empty CSV cell). */
const REMOVE: unique symbol = Symbol('remove');

export interface FieldCheckerOptions {
	coerce: boolean;
	maxDepth: number;
	/** Reads a timestamp Rimdian refuses in the future. */
	pastOnly: DateNormalizer;
	/** Reads a timestamp that may be in the future. */
	anyTime: DateNormalizer;
}

export class RimdianFieldChecker {
	readonly errors = new ErrorList();
	readonly warnings = new WarningList();
	private readonly coerce: boolean;
	private readonly maxDepth: number;
	private readonly pastOnly: DateNormalizer;
	private readonly anyTime: DateNormalizer;
	private readonly zoneCache = new Map<string, boolean>();
	// Path of the field being checked, joined only when an error is written.
	private atPrefix = '';
	private atKey = '';

	constructor(options: FieldCheckerOptions) {
		this.coerce = options.coerce;
		this.maxDepth = options.maxDepth;
		this.pastOnly = options.pastOnly;
		this.anyTime = options.anyTime;
	}

	/**
	 * Checks `item[key]` as an object of `specs`; returns the (maybe replaced) object or undefined.
	 * `missing` says why an item of `kind` needs the object; unset, the object is optional.
	 */
	checkPart(
		item: Record<string, unknown>,
		key: string,
		specs: CompiledSpecs,
		missing: MissingReason | undefined,
		kind: string,
	): Record<string, unknown> | undefined {
		const part = own(item, key);
		if (part === undefined || part === null) {
			if (missing !== undefined) {
				const why = missing(kind);
				this.errors.add(
					key,
					part === null ? `is required (got null): ${why}` : `is required: ${why}`,
				);
			}
			return undefined;
		}
		if (!isRecord(part)) {
			this.errors.add(key, expectedGot('an object', part));
			return undefined;
		}
		return this.checkRecord(specs, part, key);
	}

	/** Checks the fields of `specs` in `record`; returns `record` or a copy with replacements. */
	checkRecord(
		specs: CompiledSpecs,
		record: Record<string, unknown>,
		path: string,
	): Record<string, unknown> {
		let out: Record<string, unknown> | undefined;
		for (const key in record) {
			let spec = specs.byKey.get(key);
			if (spec === undefined) {
				if (!isTimestampKey(key)) continue;
				spec = OTHER_TIMESTAMP;
			}
			if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
			const value = record[key];
			this.atPrefix = path;
			this.atKey = key;
			const next = this.checkValue(spec, value);
			if (next !== value) {
				if (out === undefined) out = { ...record };
				if (next === REMOVE) delete out[key];
				else out[key] = next;
			}
		}
		const required = specs.required;
		for (let i = 0; i < required.length; i++) {
			const key = required[i].key;
			if (record[key] === undefined && !Object.prototype.hasOwnProperty.call(record, key)) {
				this.errors.add(joinPath(path, key), 'is required');
			}
		}
		return out ?? record;
	}

	/** Everything in the item must survive JSON serialization, within the nesting limit. */
	checkSerializable(item: Record<string, unknown>): void {
		const errors = this.errors;
		for (const key in item) {
			if (!Object.prototype.hasOwnProperty.call(item, key)) continue;
			const value = item[key];
			if (typeof value === 'object' && value !== null) {
				const issue = checkNesting(value, key, this.maxDepth);
				if (issue !== undefined && !errors.hasField(issue.field) && !isOnlyDeep(value, issue))
					errors.add(issue.field, issue.reason);
			} else if (
				typeof value === 'bigint' ||
				typeof value === 'function' ||
				typeof value === 'symbol'
			) {
				errors.add(key, `holds ${describeValue(value)}, which JSON cannot represent`);
			}
		}
	}

	private at(): string {
		return joinPath(this.atPrefix, this.atKey);
	}

	/** Checks one value; returns it, its normalized replacement, or REMOVE. */
	private checkValue(spec: FieldSpec, value: unknown): unknown {
		if (value === undefined) {
			if (spec.required) this.errors.add(this.at(), 'is required');
			return value;
		}
		if (value === null) {
			if (spec.required) this.errors.add(this.at(), 'is required (got null)');
			else if (spec.nullable === false) {
				this.errors.add(
					this.at(),
					`must not be null: write ${EXPECTED[spec.rule]}, or leave the field out`,
				);
			}
			return value;
		}
		if (typeof value === 'string' && (value === '' || (spec.required === true && isBlank(value)))) {
			return this.checkEmpty(spec, value);
		}
		return this.checkRule(spec, value);
	}

	/** An empty (or, when required, blank) string. */
	private checkEmpty(spec: FieldSpec, value: string): unknown {
		if (spec.required) {
			this.errors.add(
				this.at(),
				value === '' ? 'is required (got an empty string)' : 'is required (got only spaces)',
			);
			return value;
		}
		if (TEXT_RULES.has(spec.rule)) return value;
		if (this.coerce) return REMOVE;
		this.errors.add(this.at(), `is empty: write ${EXPECTED[spec.rule]}, or leave the field out`);
		return value;
	}

	/** Checks a present, non-empty value by its field's rule. */
	private checkRule(spec: FieldSpec, value: unknown): unknown {
		switch (spec.rule) {
			case 'userId':
				return this.userId(value);
			case 'id':
				if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
				if (this.expectString(value)) this.warnLongId(value);
				return value;
			case 'text':
				this.expectString(value);
				return value;
			case 'timestamp':
			case 'timestampAny':
				return this.timestamp(spec, value);
			case 'boolean':
				return this.boolean(value);
			case 'cents':
			case 'count':
				return this.integer(spec, value, 0);
			case 'integer':
				return this.integer(spec, value, undefined);
			case 'number':
				return this.number(value);
			case 'email':
				if (this.expectString(value) && !isEmail(value)) {
					this.errors.add(this.at(), `${quote(value)} is not an email address`);
				}
				return value;
			case 'md5':
			case 'sha1':
			case 'sha256':
				this.hexDigest(spec, value);
				return value;
			case 'telephone':
				this.telephone(value);
				return value;
			case 'gender':
				if (this.expectString(value) && value !== 'male' && value !== 'female') {
					this.errors.add(
						this.at(),
						`${quote(value)} is not accepted: expected "male" or "female"`,
					);
				}
				return value;
			case 'birthday':
				if (this.expectString(value) && !isCalendarDate(value)) {
					this.errors.add(
						this.at(),
						`${quote(value)} is not a date written YYYY-MM-DD, e.g. 1990-04-25`,
					);
				}
				return value;
			case 'url':
				this.url(value);
				return value;
			case 'country':
				this.country(value);
				return value;
			case 'language':
				this.language(value);
				return value;
			case 'timezone':
				if (this.expectString(value) && !this.isZone(value)) {
					this.errors.add(
						this.at(),
						`${quote(value)} is not an IANA time zone name such as Europe/Paris`,
					);
				}
				return value;
			case 'currency':
				this.currency(value);
				return value;
			case 'deviceType':
				this.deviceType(value);
				return value;
			case 'object':
				if (!isRecord(value)) this.errors.add(this.at(), expectedGot('an object', value));
				return value;
			case 'items':
				return this.lineItems(value, this.at());
		}
	}

	private expectString(value: unknown): value is string {
		if (typeof value === 'string') return true;
		this.errors.add(this.at(), expectedGot('a string', value));
		return false;
	}

	private warnLongId(value: string): void {
		if (value.length > MAX_ID_LENGTH) {
			this.warnings.add(
				this.at(),
				`is ${value.length} characters long: sent as it is (no page states a limit; ids over ${MAX_ID_LENGTH} are unusual)`,
			);
		}
	}

	private userId(value: unknown): unknown {
		if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
		if (!this.expectString(value)) return value;
		const reason = placeholderReason(value);
		if (reason === undefined) this.warnLongId(value);
		else if (isStatedPlaceholder(value, reason)) this.errors.add(this.at(), reason);
		else
			this.warnings.add(
				this.at(),
				`${quote(value)} looks like a placeholder, not an id: sent as it is (check the mapping)`,
			);
		return value;
	}

	private timestamp(spec: FieldSpec, value: unknown): unknown {
		const result = (spec.rule === 'timestamp' ? this.pastOnly : this.anyTime)(value);
		if (!result.ok) {
			// A key Rimdian does not document is a timestamp only by its name: sent as it is.
			if (spec === OTHER_TIMESTAMP)
				this.warnings.add(
					this.at(),
					`${result.reason}: sent as it is (a timestamp only by its name)`,
				);
			else this.errors.add(this.at(), result.reason);
			return value;
		}
		const early = earlyDateReason(result.value, 'Rimdian');
		if (early !== undefined) this.warnings.add(this.at(), early);
		return result.value === value ? value : result.value;
	}

	private boolean(value: unknown): unknown {
		if (typeof value === 'boolean') return value;
		if (typeof value === 'string' && this.coerce) {
			const parsed = parseBooleanString(value);
			if (parsed !== undefined) return parsed;
		}
		this.errors.add(this.at(), expectedGot('true or false', value));
		return value;
	}

	private number(value: unknown): unknown {
		if (typeof value === 'number' && Number.isFinite(value)) return value;
		if (typeof value === 'string' && this.coerce) {
			const parsed = parseNumberString(value);
			if (parsed !== undefined) return parsed;
		}
		this.errors.add(this.at(), expectedGot('a number', value));
		return value;
	}

	private integer(spec: FieldSpec, value: unknown, min: number | undefined): unknown {
		let n = value;
		if (typeof value === 'string' && this.coerce) {
			const parsed = parseIntegerString(value);
			if (parsed !== undefined) n = parsed;
		}
		if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
			let reason = expectedGot(EXPECTED[spec.rule], value);
			if (spec.rule === 'cents' && typeof n === 'number' && Number.isFinite(n)) {
				reason += ` (write ${Math.round(n * 100)} for ${n})`;
			}
			this.errors.add(this.at(), reason);
			return value;
		}
		const low = spec.min ?? min;
		// Prices and quantities of at least 0 are stated; other bounds are the package's reading.
		const stated = spec.rule === 'cents' || spec.key === 'quantity';
		if (low !== undefined && n < low) {
			if (stated) this.errors.add(this.at(), `must be ${low} or more, got ${n}`);
			else this.warnings.add(this.at(), `is ${n}, below ${low}: sent as it is`);
		} else if (spec.max !== undefined && n > spec.max) {
			this.warnings.add(this.at(), `is ${n}, above ${spec.max}: sent as it is`);
		}
		return n;
	}

	private hexDigest(spec: FieldSpec, value: unknown): void {
		if (!this.expectString(value)) return;
		const length = spec.rule === 'md5' ? 32 : spec.rule === 'sha1' ? 40 : 64;
		if (!isHex(value, length))
			this.errors.add(this.at(), `${quote(value)} is not ${EXPECTED[spec.rule]}`);
	}

	private telephone(value: unknown): void {
		if (this.expectString(value) && !isE164(value)) {
			this.errors.add(
				this.at(),
				`${quote(value)} is not an E.164 number: write + then the country code and the number, digits only, e.g. +33612345678`,
			);
		}
	}

	private url(value: unknown): void {
		if (!this.expectString(value) || isHttpUrl(value)) return;
		// The pages check photo_url; another URL field's form is the package's reading.
		if (this.atKey === 'photo_url')
			this.errors.add(
				this.at(),
				`${quote(value)} is not an http(s) URL such as https://example.com/photo.jpg`,
			);
		else this.warnings.add(this.at(), `${quote(value)} is not an http(s) URL: sent as it is`);
	}

	private country(value: unknown): void {
		if (!this.expectString(value) || COUNTRIES.has(value)) return;
		const upper = value.toUpperCase();
		const hint = upper !== value && COUNTRIES.has(upper) ? ` (write "${upper}", upper case)` : '';
		this.errors.add(
			this.at(),
			`${quote(value)} is not an ISO 3166-1 alpha-2 country code such as FR${hint}`,
		);
	}

	private language(value: unknown): void {
		if (!this.expectString(value) || LANGUAGES.has(value)) return;
		const short = value.slice(0, 2).toLowerCase();
		const hint = LANGUAGES.has(short) ? `; "${short}" is` : '';
		this.warnings.add(
			this.at(),
			`${quote(value)} is not a two-letter ISO 639-1 code${hint}: sent as it is (the pages do not say which codes Rimdian takes)`,
		);
	}

	private currency(value: unknown): void {
		if (this.expectString(value) && !CURRENCIES.has(value)) {
			this.warnings.add(
				this.at(),
				`${quote(value)} is not among the currencies Rimdian is known to convert (${CURRENCIES_LIST.split(' ').join(', ')}): sent as it is`,
			);
		}
	}

	private deviceType(value: unknown): void {
		// No page lists the device types: another one is sent.
		if (this.expectString(value) && !DEVICE_TYPES.has(value)) {
			this.warnings.add(
				this.at(),
				`${quote(value)} is not one of the known device types (${[...DEVICE_TYPES].join(', ')}): sent as it is`,
			);
		}
	}

	private isZone(name: string): boolean {
		let known = this.zoneCache.get(name);
		if (known === undefined) {
			known = ZONE_SHAPE_RE.test(name) && IANAZone.isValidZone(name);
			if (this.zoneCache.size >= 10_000) this.zoneCache.clear();
			this.zoneCache.set(name, known);
		}
		return known;
	}

	private lineItems(value: unknown, path: string): unknown {
		if (!Array.isArray(value)) {
			this.errors.add(path, expectedGot('an array of objects', value));
			return value;
		}
		let out: unknown[] | undefined;
		for (let i = 0; i < value.length; i++) {
			const entry: unknown = value[i];
			const entryPath = `${path}[${i}]`;
			if (!isRecord(entry)) {
				this.errors.add(entryPath, expectedGot('an object', entry));
				continue;
			}
			const next = this.checkRecord(LINE_ITEM_FIELDS, entry, entryPath);
			if (next !== entry) {
				if (out === undefined) out = value.slice();
				out[i] = next;
			}
		}
		return out ?? value;
	}
}
