/**
 * Date normalization shared by every platform.
 *
 * `compileDateNormalizer(options)` does the expensive work once (time zone lookup, output writer
 * choice, caches) and returns a function called once per value. That function never throws and
 * allocates little: the ISO forms are read by hand (no regex), valid input is returned as it is,
 * and a reason string is built only for a refusal. Zone offsets come from luxon's IANAZone, cached
 * per 15-minute bucket and shared by every normalizer of a zone.
 *
 * Accepted inputs (everything else is refused with a reason naming the value and the form wanted):
 * - ISO 8601 / RFC 3339: `2024-07-28`, `2024-07-28T08:55`, `2024-07-28 08:55:35`,
 *   `2024-07-28T08:55:35.874555`, `2024-07-28T08:55:35Z`, `…+02:00`, `…+0200`, `…+02`;
 *   fractional seconds of 1 to 9 digits (kept digit for digit, never rounded);
 * - `YYYY/MM/DD`, `YYYY/MM/DD HH:mm`, `YYYY/MM/DD HH:mm:ss` (year first, so unambiguous);
 * - RFC 2822 / HTTP dates: `Mon, 01 Jan 2024 10:00:00 GMT`, `1 Jan 2024 10:00 +0100`, the asctime
 *   form `Mon Jan  1 10:00:00 2024` (GMT), and what `Date.prototype.toString()` writes
 *   (`Mon Jan 01 2024 10:00:00 GMT+0100 (Central European Standard Time)`);
 * - JS `Date` objects and luxon `DateTime` objects (from any copy of luxon).
 *
 * Refused: numbers and numeric strings (epoch seconds and milliseconds cannot be told apart),
 * `DD/MM/YYYY` and `MM/DD/YYYY` forms (day/month order unknown), impossible dates and times,
 * local times that a daylight-saving change skips in `timezone`, years before `minYear`
 * (default 1900) or after 9999, and, unless `allowFuture`, instants after `now()`.
 *
 * Inputs without an offset are read in `timezone`. When a wall-clock time occurs twice (the hour
 * repeated when clocks go back), the earlier instant is taken. A wall-clock time the clocks skip
 * is refused, except a date alone whose midnight was skipped: that day starts when the clocks
 * resume (`2018-11-04` in America/Sao_Paulo is 01:00-02:00).
 *
 * Output forms:
 * - `rfc3339` (Rimdian): `YYYY-MM-DDTHH:mm:ss[.f…](Z|±HH:MM)`. A string that already is valid
 *   RFC 3339 (upper-case `T` and `Z`, as Go's parser wants) is returned byte-identical. Otherwise
 *   the input's own offset is kept when it had one, else the offset of `timezone` at that instant
 *   is written; an offset of zero is written `Z`.
 * - `iso8601` (Userpilot): `YYYY-MM-DD[T ]HH:mm:ss[.f…][Z]` in UTC. A string that already has that
 *   shape and denotes UTC (it ends in `Z` or `+00:00`, or carries no offset while `timezone` is
 *   UTC) is returned byte-identical, microseconds included. Otherwise it is rewritten as
 *   `YYYY-MM-DDTHH:mm:ss[.f…]Z` in UTC. The `Z` matters: a zone-less output would be read again
 *   in `timezone` by a second pass, so normalizing twice would shift it.
 * - `ayona`: `YYYY-MM-DD HH:mm:ss`, wall-clock time in `timezone`; fractions of a second are
 *   dropped (truncated). A string already in that form is returned byte-identical.
 *
 * Same input, same output: the result depends only on the value, the options and, for the future
 * rule, the clock.
 */
import { DateTime } from 'luxon';

import { describeValue, quote as quoteForReason } from './checks';
import { Civil, daysFromCivil, daysInMonth, formatOffset, pad2, pad4 } from './dates/calendar';
import { NO_OFFSET, Parsed, checkFields, parseString } from './dates/parse';
import { ZoneCalc } from './dates/zone';

export { daysFromCivil, daysInMonth, isLeapYear } from './dates/calendar';

export type DateOutputForm = 'rfc3339' | 'iso8601' | 'ayona';

export interface DateNormalizerOptions {
	/** IANA zone (or `UTC`, or a fixed offset such as `UTC+2`) in which zone-less inputs are read. */
	timezone: string;
	output: DateOutputForm;
	/** Clock in ms since epoch, injectable for tests. Default `Date.now`. */
	now?: () => number;
	/** Accept instants after `now()`. Default true. */
	allowFuture?: boolean;
	/** Earliest year accepted. Default 1900. */
	minYear?: number;
}

export type DateResult = { ok: true; value: string } | { ok: false; reason: string };
export type DateNormalizer = (value: unknown) => DateResult;

/** Longest string worth trying to read as a date (a `Date#toString()` with a long zone name). */
const MAX_DATE_STRING = 120;
const DEFAULT_MIN_YEAR = 1900;
const MAX_YEAR = 9999;

const WEEKDAY_NAMES = [
	'Sunday',
	'Monday',
	'Tuesday',
	'Wednesday',
	'Thursday',
	'Friday',
	'Saturday',
];
const EXPECTED: Readonly<Record<DateOutputForm, string>> = {
	rfc3339: 'an RFC 3339 date-time such as 2024-01-31T10:00:00Z',
	iso8601: 'an ISO 8601 date-time such as 2024-01-31T10:00:00Z',
	ayona: 'a date-time such as 2024-01-31 10:00:00 (YYYY-MM-DD HH:mm:ss)',
};

/** How a reason names the value received (computed only when a reason is written). */
function show(subject: unknown): string {
	if (typeof subject === 'string') return quoteForReason(subject);
	if (typeof subject === 'object' && subject !== null) {
		const ms = isDateObject(subject) ? subject.getTime() : (subject as LuxonLike).toMillis();
		return `${isDateObject(subject) ? 'Date' : 'DateTime'} ${new Date(ms).toISOString()}`;
	}
	return String(subject);
}

function isDateObject(value: object): value is Date {
	return value instanceof Date || Object.prototype.toString.call(value) === '[object Date]';
}

interface LuxonLike {
	isValid: boolean;
	invalidReason: string | null;
	offset: number;
	toMillis(): number;
}

// ---------------------------------------------------------------------------------------------
// The normalizer

/** A normalizer's settings and scratch objects: made once, then used for every value. */
class CompiledDateNormalizer {
	private readonly output: DateOutputForm;
	private readonly zone: ZoneCalc;
	private readonly now: () => number;
	private readonly allowFuture: boolean;
	private readonly minYear: number;
	private readonly expected: string;
	private readonly p = new Parsed();
	private readonly civil = new Civil();

	constructor(options: DateNormalizerOptions) {
		const output = options.output;
		if (output !== 'rfc3339' && output !== 'iso8601' && output !== 'ayona') {
			throw new Error(
				`Unknown date output form ${String(output)}: expected rfc3339, iso8601 or ayona.`,
			);
		}
		this.output = output;
		this.zone = new ZoneCalc(options.timezone);
		this.now = options.now ?? Date.now;
		this.allowFuture = options.allowFuture !== false;
		this.minYear = options.minYear ?? DEFAULT_MIN_YEAR;
		this.expected = EXPECTED[output];
	}

	normalize(value: unknown): DateResult {
		const expected = this.expected;
		try {
			if (typeof value === 'string') return this.fromString(value);
			if (typeof value === 'number') {
				return {
					ok: false,
					reason: `a number is not a date: write ${expected} (got ${String(value)}; epoch seconds and milliseconds cannot be told apart)`,
				};
			}
			if (typeof value === 'object' && value !== null) {
				const result = this.fromObject(value);
				if (result !== undefined) return result;
			}
			return { ok: false, reason: `expected ${expected}, got ${describeValue(value)}` };
		} catch (error) {
			return {
				ok: false,
				reason: `could not be read as a date (${String((error as Error)?.message ?? error)})`,
			};
		}
	}

	/** A Date or luxon DateTime; undefined for any other object. */
	private fromObject(value: object): DateResult | undefined {
		const expected = this.expected;
		if (isDateObject(value)) {
			const ms = value.getTime();
			if (Number.isNaN(ms))
				return { ok: false, reason: `is an invalid Date object; expected ${expected}` };
			return this.fromInstantMs(ms, NO_OFFSET, value);
		}
		if (
			DateTime.isDateTime(value) ||
			(value as { isLuxonDateTime?: unknown }).isLuxonDateTime === true
		) {
			const dt = value as unknown as LuxonLike;
			if (!dt.isValid) {
				return {
					ok: false,
					reason: `is an invalid luxon DateTime (${String(dt.invalidReason)}); expected ${expected}`,
				};
			}
			const ms = dt.toMillis();
			return this.fromInstantMs(ms, Math.round(dt.offset * 60), value);
		}
		return undefined;
	}

	private fromString(raw: string): DateResult {
		const expected = this.expected;
		if (raw.length === 0) return { ok: false, reason: `is empty; expected ${expected}` };
		if (raw.length > MAX_DATE_STRING) {
			return {
				ok: false,
				reason: `${quoteForReason(raw)} is too long to be a date; expected ${expected}`,
			};
		}
		const trimmed = hasOuterSpace(raw);
		const text = trimmed ? raw.trim() : raw;
		if (text.length === 0) return { ok: false, reason: `is blank; expected ${expected}` };
		const p = this.p;
		const bad = parseString(text, p, expected) ?? this.dateProblem(raw);
		if (bad !== undefined) return { ok: false, reason: bad };
		const localSeconds = daysFromCivil(p.y, p.m, p.d) * 86400 + p.h * 3600 + p.mi * 60 + p.s;
		const zoneless = Number.isNaN(p.off);
		let utcSeconds = zoneless ? this.zone.toUtc(localSeconds) : localSeconds - p.off;
		let skipped = false;
		if (Number.isNaN(utcSeconds) && p.dateOnly) {
			// A day whose midnight was skipped (clocks moved at 00:00) starts at the first instant
			// that exists.
			utcSeconds = this.zone.toUtcShifted(localSeconds);
			skipped = true;
		}
		if (Number.isNaN(utcSeconds)) {
			return {
				ok: false,
				reason: `${quoteForReason(raw)} does not exist in ${this.zone.name}: the clocks skipped that time (daylight saving); expected ${expected}`,
			};
		}
		return this.fromParsed(raw, trimmed, utcSeconds, zoneless, skipped);
	}

	/** Why the parsed fields are refused (no such day or time, wrong weekday, too early). */
	private dateProblem(raw: string): string | undefined {
		const p = this.p;
		const expected = this.expected;
		const badField = checkFields(p, raw, expected);
		if (badField !== undefined) return badField;
		if (p.weekday >= 0) {
			const actual = (((daysFromCivil(p.y, p.m, p.d) + 4) % 7) + 7) % 7;
			if (actual !== p.weekday) {
				return `${quoteForReason(raw)} names the wrong day of the week: ${pad4(p.y)}-${pad2(p.m)}-${pad2(p.d)} is a ${WEEKDAY_NAMES[actual]}; expected ${expected}`;
			}
		}
		if (p.y < this.minYear)
			return `${quoteForReason(raw)} is before the year ${this.minYear}; expected ${expected}`;
		return undefined;
	}

	/** The result for a parsed string that denotes the instant `utcSeconds`. */
	private fromParsed(
		raw: string,
		trimmed: boolean,
		utcSeconds: number,
		zoneless: boolean,
		skipped: boolean,
	): DateResult {
		const p = this.p;
		const frac = p.frac;
		// Milliseconds are read only by the future rule (futureReason returns at once when future
		// dates are allowed, as they are for Userpilot by default).
		const fracMs =
			this.allowFuture || frac === ''
				? 0
				: +(frac.length >= 3 ? frac.slice(0, 3) : frac.padEnd(3, '0'));
		const passthrough = !trimmed && this.isOutputForm(zoneless);
		if (passthrough || (this.output === 'ayona' && zoneless && !skipped)) {
			// The wall-clock time written is the one sent: its year was checked above, only the
			// future rule is left. No round trip through an offset.
			const future = this.futureReason(utcSeconds, fracMs, raw);
			if (future !== undefined) return { ok: false, reason: future };
			if (passthrough) return { ok: true, value: raw };
			return {
				ok: true,
				value: `${pad4(p.y)}-${pad2(p.m)}-${pad2(p.d)} ${pad2(p.h)}:${pad2(p.mi)}:${pad2(p.s)}`,
			};
		}
		return this.write(utcSeconds, frac, p.off, raw, fracMs);
	}

	/** Whether the parsed string already is written in the output form (then it is kept as is). */
	private isOutputForm(zoneless: boolean): boolean {
		const p = this.p;
		if (this.output === 'rfc3339') return p.rfc3339;
		if (this.output === 'iso8601') return p.isoShape && (p.isoUtc || (zoneless && this.zone.isUtc));
		return p.ayona;
	}

	/** The reason when the instant is after now() and that is not allowed, else undefined. */
	private futureReason(utcSeconds: number, fracMs: number, subject: unknown): string | undefined {
		if (this.allowFuture) return undefined;
		const nowMs = this.now();
		if (utcSeconds * 1000 + fracMs <= nowMs) return undefined;
		return `${show(subject)} is in the future (now is ${new Date(nowMs).toISOString()}); a date in the past is expected`;
	}

	private fromInstantMs(ms: number, inputOffset: number, subject: unknown): DateResult {
		if (!Number.isFinite(ms))
			return { ok: false, reason: `is not a valid date; expected ${this.expected}` };
		const seconds = Math.floor(ms / 1000);
		const millis = ms - seconds * 1000;
		const frac =
			millis === 0 ? '' : millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : `${millis}`;
		return this.write(seconds, frac, inputOffset, subject, millis);
	}

	/** Writes the result for an instant; `frac` as written, `inputOffset` NaN when none applies. */
	private write(
		utcSeconds: number,
		frac: string,
		inputOffset: number,
		subject: unknown,
		fracMs: number,
	): DateResult {
		const output = this.output;
		const offset = this.outputOffset(utcSeconds, inputOffset);
		const civil = this.civil.set(utcSeconds + offset);
		if (civil.y < this.minYear) {
			return {
				ok: false,
				reason: `${show(subject)} is before the year ${this.minYear}; expected ${this.expected}`,
			};
		}
		if (civil.y > MAX_YEAR)
			return {
				ok: false,
				reason: `${show(subject)} is after the year ${MAX_YEAR}; expected ${this.expected}`,
			};
		const future = this.futureReason(utcSeconds, fracMs, subject);
		if (future !== undefined) return { ok: false, reason: future };
		const date = `${pad4(civil.y)}-${pad2(civil.m)}-${pad2(civil.d)}`;
		const time = `${pad2(civil.h)}:${pad2(civil.mi)}:${pad2(civil.s)}`;
		if (output === 'ayona') return { ok: true, value: `${date} ${time}` };
		const fraction = frac === '' ? '' : `.${frac}`;
		if (output === 'iso8601') return { ok: true, value: `${date}T${time}${fraction}Z` };
		return { ok: true, value: `${date}T${time}${fraction}${formatOffset(offset)}` };
	}

	/** The offset (seconds) the output is written in. */
	private outputOffset(utcSeconds: number, inputOffset: number): number {
		const output = this.output;
		let offset: number;
		if (output === 'iso8601') offset = 0;
		else if (output === 'rfc3339' && !Number.isNaN(inputOffset)) offset = inputOffset;
		else offset = this.zone.offsetAt(utcSeconds);
		// RFC 3339 cannot write seconds of offset.
		if (output === 'rfc3339' && offset % 60 !== 0) offset = 0;
		return offset;
	}
}

/** Whether a string starts or ends with white space (or a BOM), which a date is read without. */
function hasOuterSpace(raw: string): boolean {
	const first = raw.charCodeAt(0);
	const last = raw.charCodeAt(raw.length - 1);
	return (
		first <= 32 ||
		last <= 32 ||
		first === 160 ||
		last === 160 ||
		first === 0xfeff ||
		last === 0xfeff
	);
}

/**
 * Compiles a date normalizer. Throws (once, here) when `timezone` is not a known zone or `output`
 * is unknown; the returned function never throws.
 */
export function compileDateNormalizer(options: DateNormalizerOptions): DateNormalizer {
	const compiled = new CompiledDateNormalizer(options);
	return function normalizeDate(value: unknown): DateResult {
		return compiled.normalize(value);
	};
}

/** Whether a string is a real calendar date written exactly `YYYY-MM-DD`. */
export function isCalendarDate(value: string): boolean {
	if (value.length !== 10 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return false;
	for (let i = 0; i < 10; i++) {
		if (i === 4 || i === 7) continue;
		const c = value.charCodeAt(i);
		if (c < 48 || c > 57) return false;
	}
	const y = +value.slice(0, 4);
	const m = +value.slice(5, 7);
	const d = +value.slice(8, 10);
	return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}
