/**
 * Row rules of the Userpilot bulk Import API (event schema and row-validation pages). In the docs'
 * example one bad row fails the whole job, so every row is checked before the file is uploaded.
 *
 * - `event_type`: one of identify_user, identify_company, page_view, track.
 * - required: `user_id` (identify_user, page_view, track), `company_id` (identify_company),
 *   `event_name` (track), `hostname` + `pathname` or `url` (page_view), `source`, `inserted_at`.
 * - `source`: one of USERPILOT_SOURCES; a missing or empty one takes `defaultSource` when given
 *   (the seed example omits it). With `web-client`, (`hostname` and `pathname`) or `url`, and
 *   `user_agent`, are required (not for identify_company, whose other keys the platform ignores).
 * - `inserted_at`: ISO 8601, normalized to UTC (see dates.ts: a value already in Userpilot's form
 *   and in UTC is kept byte-identical, microseconds included). Future dates are accepted unless
 *   `rejectFutureDates` (Userpilot documents no such rule).
 * - `metadata`: missing or null becomes `{}` (as the platform does); it must be an object. With
 *   `coerceStrings` (CSV, where the column holds JSON) a string is parsed, and an empty one is `{}`.
 *   It must be JSON-representable; deeper than `maxDepth` it is checked for cycles, then sent.
 * - `screen_width`, `screen_height`: numbers (numeric strings with `coerceStrings`; an empty CSV
 *   cell removes the key); a negative one warns.
 * - the other documented fields (`url`, `hostname`, `pathname`, `country_code`, `operating_system`,
 *   `browser`, `browser_language`, `user_agent`, `device_type`, ids, `event_name`): strings when
 *   present (null means absent); a safe integer `user_id`/`company_id` is written as its decimal
 *   string. `url` not http(s), `pathname` not starting with `/`, `hostname` not a bare host: warn.
 * - identify_company: keys other than event_type, company_id, source, inserted_at, metadata are
 *   dropped (the row-validation page says the platform ignores them) and named in the warnings.
 *   Other event types keep unknown keys: no page says they are refused or ignored.
 * - what only an inference supports warns and is sent (docs/sources.md): an id that looks like a
 *   placeholder (`none`, `{{user_id}}`, …), an `inserted_at` before 1900.
 *
 * The returned value is the row itself when nothing changed, else a copy (key order kept; added
 * keys last).
 */
import {
	DEFAULT_MAX_DEPTH,
	ErrorList,
	checkNesting,
	describeValue,
	expectedGot,
	isBlank,
	isHttpUrl,
	isOnlyDeep,
	isRecord,
	neverThrowing,
	own,
	parseNumberString,
	placeholderReason,
	quote,
} from '../../core/validation/checks';
import { compileDateNormalizer, type DateNormalizer } from '../../core/validation/dates';
import type { ItemValidator, ValidatorOptions } from '../../core/validation/types';
import { WarningList, earlyDateReason } from '../../core/validation/warnings';

export interface UserpilotValidatorOptions extends ValidatorOptions {
	/** `source` for rows that carry none (must be one of USERPILOT_SOURCES). */
	defaultSource?: string;
	/** Depth past which `metadata` is checked for cycles (refused) before it is sent. Default 10. */
	maxDepth?: number;
	/** Refuse `inserted_at` after now(). Default false. */
	rejectFutureDates?: boolean;
}

export const USERPILOT_EVENT_TYPES = [
	'identify_user',
	'identify_company',
	'page_view',
	'track',
] as const;
export const USERPILOT_SOURCES = [
	'web-client',
	'backend-http',
	'backend-hubspot',
	'backend-salesforce',
	'backend-segment',
	'backend-http-import',
] as const;

const EVENT_TYPES = new Set<string>(USERPILOT_EVENT_TYPES);
const SOURCES = new Set<string>(USERPILOT_SOURCES);
const COMPANY_KEYS = new Set(['event_type', 'company_id', 'source', 'inserted_at', 'metadata']);
/** Optional string fields (checked when present and not null). */
const STRING_FIELDS = [
	'event_name',
	'company_id',
	'user_id',
	'country_code',
	'operating_system',
	'browser',
	'browser_language',
	'user_agent',
	'device_type',
] as const;
const NUMERIC_FIELDS = ['screen_width', 'screen_height'] as const;
/** Keys this module checks itself; every other key only gets the JSON/nesting check. */
const CHECKED_KEYS = new Set<string>([
	'event_type',
	'source',
	'inserted_at',
	'metadata',
	'url',
	'hostname',
	'pathname',
	...STRING_FIELDS,
	...NUMERIC_FIELDS,
]);
const SOURCE_LIST = USERPILOT_SOURCES.join(', ');
const HOSTNAME_RE = /^[^\s/:?#@]+(?::\d{1,5})?$/;

/** Bits of the numeric fields an empty CSV cell removes: 1 screen_width, 2 screen_height. */
const DROP_WIDTH = 1;
const DROP_HEIGHT = 2;

/**
 * The copy of a row that the validator returns, without the keys in `drop` (NUMERIC_FIELDS whose
 * cell was empty). Leaving them out here rather than deleting them later keeps the copy a fast
 * object (a `delete` other than of the last key turns it into a slow dictionary); rest
 * destructuring copies exactly what a spread does, `__proto__` and symbol keys included.
 */
function copyRow(row: Record<string, unknown>, drop: number): Record<string, unknown> {
	if (drop === 0) return { ...row };
	if (drop === DROP_WIDTH) {
		// eslint-disable-next-line @typescript-eslint/no-unused-vars -- left out of the copy
		const { screen_width: _width, ...rest } = row;
		return rest;
	}
	if (drop === DROP_HEIGHT) {
		// eslint-disable-next-line @typescript-eslint/no-unused-vars -- left out of the copy
		const { screen_height: _height, ...rest } = row;
		return rest;
	}
	// eslint-disable-next-line @typescript-eslint/no-unused-vars -- left out of the copy
	const { screen_width: _width, screen_height: _height, ...rest } = row;
	return rest;
}

function present(value: unknown): boolean {
	return value !== undefined && value !== null && value !== '';
}

/** Compiles the Userpilot row validator (see the module comment for the rules). */
export function compileUserpilotValidator(options: UserpilotValidatorOptions): ItemValidator {
	const defaultSource = options.defaultSource === '' ? undefined : options.defaultSource;
	if (defaultSource !== undefined && !SOURCES.has(defaultSource)) {
		throw new Error(
			`Unknown Userpilot source ${quote(String(defaultSource))}: expected one of ${USERPILOT_SOURCES.join(', ')}.`,
		);
	}
	const checker = new UserpilotRowChecker(options, defaultSource);
	return neverThrowing((row) => checker.validate(row), checker);
}

/**
 * The checks of one row, in named steps. One instance per compiled validator holds the options,
 * the error and warning lists, and the row's copy being made (`out`), so that nothing is made per
 * row until a value changes.
 */
class UserpilotRowChecker {
	readonly errors = new ErrorList();
	readonly warnings = new WarningList();
	private readonly normalizeDate: DateNormalizer;
	private readonly defaultSource: string | undefined;
	private readonly coerce: boolean;
	private readonly maxDepth: number;
	/** The copy of the current row, made at its first change. */
	private out: Record<string, unknown> | undefined;
	/** DROP_* bits of the current row: numeric fields whose empty CSV cell removes the key. */
	private drop = 0;

	constructor(options: UserpilotValidatorOptions, defaultSource: string | undefined) {
		this.normalizeDate = compileDateNormalizer({
			timezone: options.timezone,
			output: 'iso8601',
			now: options.now,
			allowFuture: options.rejectFutureDates !== true,
			// Any year ISO 8601 writes: an early one only warns (no page sets a bound).
			minYear: 1,
		});
		this.defaultSource = defaultSource;
		this.coerce = options.coerceStrings === true;
		this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
	}

	validate(row: unknown): ReturnType<ItemValidator> {
		if (!isRecord(row)) {
			return { ok: false, errors: [{ field: '(item)', reason: expectedGot('an object', row) }] };
		}
		this.errors.reset();
		this.warnings.reset();
		this.out = undefined;
		this.drop = 0;

		const type = this.checkEventType(row);
		const isCompany = type === 'identify_company';
		// Numeric fields whose empty CSV cell removes the key (see checkNumbers): known now, so that
		// every copy of the row is made without them.
		const width = isCompany ? undefined : own(row, 'screen_width');
		const height = isCompany ? undefined : own(row, 'screen_height');
		if (!isCompany && this.coerce) {
			if (typeof width === 'string' && isBlank(width)) this.drop |= DROP_WIDTH;
			if (typeof height === 'string' && isBlank(height)) this.drop |= DROP_HEIGHT;
		}
		const source = this.checkSource(row);
		this.checkInsertedAt(row);
		this.checkMetadata(row);
		this.checkIdsAndName(row, type);
		if (isCompany) this.checkCompanyId(row);
		else {
			this.checkStringFields(row);
			this.checkPageLocation(row, type, source);
			this.checkNumber(row, 'screen_width', width);
			this.checkNumber(row, 'screen_height', height);
			this.checkOtherKeys(row);
		}
		return this.result(row, isCompany);
	}

	private result(row: Record<string, unknown>, isCompany: boolean): ReturnType<ItemValidator> {
		if (!this.errors.empty) {
			this.warnings.reset();
			return { ok: false, errors: this.errors.take() };
		}
		const value = isCompany ? this.companyKeys(this.out ?? row) : (this.out ?? row);
		const said = this.warnings.take();
		return said === undefined ? { ok: true, value } : { ok: true, value, warnings: said };
	}

	/** The copy of the row, made at the first change. */
	private copy(row: Record<string, unknown>): Record<string, unknown> {
		if (this.out === undefined) this.out = copyRow(row, this.drop);
		return this.out;
	}

	/** Returns the event type, or undefined after an error. */
	private checkEventType(row: Record<string, unknown>): string | undefined {
		const eventType = own(row, 'event_type');
		if (eventType === undefined || eventType === null || eventType === '') {
			this.errors.add('event_type', `is required: one of ${USERPILOT_EVENT_TYPES.join(', ')}`);
		} else if (typeof eventType !== 'string') {
			this.errors.add('event_type', expectedGot('a string', eventType));
		} else if (!EVENT_TYPES.has(eventType)) {
			this.errors.add(
				'event_type',
				`${quote(eventType)} is not a Userpilot event type: expected one of ${USERPILOT_EVENT_TYPES.join(', ')}`,
			);
		} else {
			return eventType;
		}
		return undefined;
	}

	/** Returns the source the row is sent with (the default one when it has none). */
	private checkSource(row: Record<string, unknown>): unknown {
		const source = own(row, 'source');
		if (source === undefined || source === null || source === '') {
			if (this.defaultSource === undefined) {
				this.errors.add('source', `is required: one of ${SOURCE_LIST}`);
				return source;
			}
			this.copy(row).source = this.defaultSource;
			return this.defaultSource;
		}
		if (typeof source !== 'string') {
			this.errors.add('source', expectedGot('a string', source));
		} else if (!SOURCES.has(source)) {
			this.errors.add(
				'source',
				`${quote(source)} is not a Userpilot source: expected one of ${SOURCE_LIST}`,
			);
		}
		return source;
	}

	private checkInsertedAt(row: Record<string, unknown>): void {
		const insertedAt = own(row, 'inserted_at');
		if (insertedAt === undefined || insertedAt === null) {
			this.errors.add(
				'inserted_at',
				insertedAt === null ? 'is required (got null)' : 'is required',
			);
			return;
		}
		const date = this.normalizeDate(insertedAt);
		if (!date.ok) {
			this.errors.add('inserted_at', date.reason);
			return;
		}
		const early = earlyDateReason(date.value, 'Userpilot');
		if (early !== undefined) this.warnings.add('inserted_at', early);
		if (date.value !== insertedAt) this.copy(row).inserted_at = date.value;
	}

	private checkMetadata(row: Record<string, unknown>): void {
		const metadataBefore = own(row, 'metadata');
		const metadata = this.readMetadata(metadataBefore);
		if (metadata === undefined) return;
		const issue = checkNesting(metadata, 'metadata', this.maxDepth);
		if (issue !== undefined && !isOnlyDeep(metadata, issue))
			this.errors.add(issue.field, issue.reason);
		else if (metadata !== metadataBefore) this.copy(row).metadata = metadata;
	}

	/** Returns the parsed metadata, the value itself, or undefined after an error. */
	private readMetadata(value: unknown): unknown {
		if (value === undefined || value === null) return {};
		if (typeof value === 'string') return this.parseMetadata(value);
		if (!isRecord(value)) {
			this.errors.add('metadata', expectedGot('an object', value));
			return undefined;
		}
		return value;
	}

	/** A metadata string: a CSV column holding JSON. Returns the object, or undefined after an error. */
	private parseMetadata(value: string): unknown {
		if (!this.coerce) {
			this.errors.add(
				'metadata',
				`${expectedGot('an object', value)} (a CSV column holding JSON is read only when strings are converted)`,
			);
			return undefined;
		}
		if (isBlank(value)) return {};
		const text = value.trim();
		if (text.charCodeAt(0) !== 123 || text.charCodeAt(text.length - 1) !== 125) {
			this.errors.add(
				'metadata',
				`column "metadata" must hold a JSON object such as {"plan":"pro"}, got ${describeValue(value)}`,
			);
			return undefined;
		}
		let parsed: unknown;
		try {
			parsed = JSON.parse(text);
		} catch (error) {
			this.errors.add(
				'metadata',
				`column "metadata" is not valid JSON (${String((error as Error)?.message ?? error).slice(0, 80)}): ${quote(value)}`,
			);
			return undefined;
		}
		if (!isRecord(parsed)) {
			this.errors.add(
				'metadata',
				`column "metadata" must hold a JSON object, got ${describeValue(parsed)}`,
			);
			return undefined;
		}
		return parsed;
	}

	/** The ids each event type requires, and a track row's event name. */
	private checkIdsAndName(row: Record<string, unknown>, type: string | undefined): void {
		if (type === 'identify_user' || type === 'page_view' || type === 'track')
			this.requireId(row, 'user_id', `a ${type} row`);
		if (type === 'identify_company') this.requireId(row, 'company_id', 'an identify_company row');
		if (type === 'track') {
			const name = own(row, 'event_name');
			if (name === undefined || name === null || (typeof name === 'string' && isBlank(name))) {
				this.errors.add('event_name', 'is required for a track row (the name of the event)');
			}
		}
	}

	/** Checks a required id; adds the error. */
	private requireId(row: Record<string, unknown>, key: string, why: string): void {
		const value = own(row, key);
		if (value === undefined || value === null) {
			this.errors.add(
				key,
				value === null ? `is required for ${why} (got null)` : `is required for ${why}`,
			);
			return;
		}
		if (typeof value !== 'string') return; // reported by the string-field pass
		const reason = placeholderReason(value);
		if (reason === undefined) return;
		// Blank is refused (the id is required); a value that only looks like a placeholder may
		// be a real id: no page says Userpilot refuses it.
		if (reason.startsWith('is required')) this.errors.add(key, `${reason}; needed for ${why}`);
		else
			this.warnings.add(
				key,
				`${quote(value)} looks like a placeholder, not an id: sent as it is (check the mapping)`,
			);
	}

	/** An identify_company row's company_id: a string, or a safe integer written as one. */
	private checkCompanyId(row: Record<string, unknown>): void {
		const companyId = own(row, 'company_id');
		if (typeof companyId === 'number' && Number.isSafeInteger(companyId)) {
			this.copy(row).company_id = String(companyId);
		} else if (companyId !== undefined && companyId !== null && typeof companyId !== 'string') {
			this.errors.add('company_id', expectedGot('a string', companyId));
		}
	}

	private checkStringFields(row: Record<string, unknown>): void {
		for (let i = 0; i < STRING_FIELDS.length; i++) {
			const key = STRING_FIELDS[i];
			const value = own(row, key);
			if (value === undefined || value === null || typeof value === 'string') continue;
			if (
				(key === 'user_id' || key === 'company_id') &&
				typeof value === 'number' &&
				Number.isSafeInteger(value)
			) {
				this.copy(row)[key] = String(value);
				continue;
			}
			this.errors.add(key, expectedGot('a string', value));
		}
	}

	/** url, hostname and pathname; a page_view row or a web-client source needs the location. */
	private checkPageLocation(
		row: Record<string, unknown>,
		type: string | undefined,
		source: unknown,
	): void {
		const url = own(row, 'url');
		const hostname = own(row, 'hostname');
		const pathname = own(row, 'pathname');
		this.checkLocationForms(url, hostname, pathname);
		const webClient = source === 'web-client';
		if (
			(type === 'page_view' || webClient) &&
			!present(url) &&
			!(present(hostname) && present(pathname))
		) {
			const why = type === 'page_view' ? 'a page_view row' : 'source web-client';
			if (!present(hostname)) this.errors.add('hostname', `is required for ${why} (or give "url")`);
			if (!present(pathname)) this.errors.add('pathname', `is required for ${why} (or give "url")`);
		}
		if (webClient && !present(own(row, 'user_agent')))
			this.errors.add('user_agent', 'is required for source web-client');
	}

	private checkLocationForms(url: unknown, hostname: unknown, pathname: unknown): void {
		if (present(url)) {
			if (typeof url !== 'string') this.errors.add('url', expectedGot('a string', url));
			else if (!isHttpUrl(url))
				this.warnings.add(
					'url',
					`${quote(url)} is not an http(s) URL: sent as it is (no page states its form)`,
				);
		}
		if (present(hostname)) {
			if (typeof hostname !== 'string')
				this.errors.add('hostname', expectedGot('a string', hostname));
			else if (!HOSTNAME_RE.test(hostname)) {
				this.warnings.add(
					'hostname',
					`${quote(hostname)} is not a bare host name such as app.example.com (a full address goes in "url"): sent as it is`,
				);
			}
		}
		if (present(pathname)) {
			if (typeof pathname !== 'string')
				this.errors.add('pathname', expectedGot('a string', pathname));
			else if (pathname.charCodeAt(0) !== 47)
				this.warnings.add('pathname', `${quote(pathname)} does not start with "/": sent as it is`);
		}
	}

	/** screen_width or screen_height: a number (read from a numeric string with coerceStrings). */
	private checkNumber(row: Record<string, unknown>, key: string, value: unknown): void {
		if (value === undefined || value === null) return;
		if (typeof value === 'number' && Number.isFinite(value)) {
			if (value < 0) this.warnings.add(key, `is ${value}, below 0: sent as it is`);
			return;
		}
		if (typeof value === 'string' && this.coerce) {
			if (isBlank(value)) {
				// Left out of the copy (`drop`, see validate).
				this.copy(row);
				return;
			}
			const parsed = parseNumberString(value);
			if (parsed !== undefined) {
				if (parsed < 0) this.warnings.add(key, `is ${parsed}, below 0: sent as it is`);
				this.copy(row)[key] = parsed;
				return;
			}
		}
		this.errors.add(key, expectedGot('a number (pixels)', value));
	}

	/** Everything else must survive JSON serialization. */
	private checkOtherKeys(row: Record<string, unknown>): void {
		for (const key in row) {
			if (!Object.prototype.hasOwnProperty.call(row, key) || CHECKED_KEYS.has(key)) continue;
			const value = row[key];
			if (typeof value === 'object' && value !== null) {
				const issue = checkNesting(value, key, this.maxDepth);
				if (issue !== undefined && !isOnlyDeep(value, issue))
					this.errors.add(issue.field, issue.reason);
			} else if (
				typeof value === 'bigint' ||
				typeof value === 'function' ||
				typeof value === 'symbol'
			) {
				this.errors.add(key, `holds ${describeValue(value)}, which JSON cannot represent`);
			}
		}
	}

	/** An identify_company row without the keys Userpilot ignores, each named in the warnings. */
	private companyKeys(value: Record<string, unknown>): Record<string, unknown> {
		let kept: Record<string, unknown> | undefined;
		for (const key in value) {
			if (!Object.prototype.hasOwnProperty.call(value, key) || COMPANY_KEYS.has(key)) continue;
			this.warnings.add(key, 'is not taken by Userpilot for identify_company: not sent');
			kept ??= {};
		}
		if (kept === undefined) return value;
		for (const key in value) {
			if (COMPANY_KEYS.has(key) && Object.prototype.hasOwnProperty.call(value, key))
				kept[key] = value[key];
		}
		return kept;
	}
}
