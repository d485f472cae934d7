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
import { DateTime, IANAZone, Info } from 'luxon';

import { describeValue, quote as quoteForReason } from './checks';

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

// Hoisted patterns (the ISO forms are read by hand, see readIso).
const SLASH_RE =
	/^(\d{4})\/(\d{1,2})\/(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;
const AMBIGUOUS_RE = /^\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?:$|[\sT,])/;
const NUMERIC_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// RFC 2822 / RFC 1123 (HTTP): [Day,] DD Mon YYYY HH:mm[:ss] zone
const RFC2822_RE =
	/^(?:([A-Za-z]{3}),?\s+)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+([A-Za-z]{1,3}|[+-]\d{4})$/;
// asctime (HTTP): Day Mon D HH:mm:ss YYYY, always GMT
const ASCTIME_RE =
	/^([A-Za-z]{3})\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})$/;
// Date.prototype.toString(): Day Mon DD YYYY HH:mm:ss GMT+hhmm (Zone name)
const JSDATE_RE =
	/^([A-Za-z]{3})\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s+GMT([+-]\d{4})(?:\s+\([^)]*\))?$/;

const MONTHS: Readonly<Record<string, number>> = {
	jan: 1,
	feb: 2,
	mar: 3,
	apr: 4,
	may: 5,
	jun: 6,
	jul: 7,
	aug: 8,
	sep: 9,
	oct: 10,
	nov: 11,
	dec: 12,
};
const WEEKDAYS: Readonly<Record<string, number>> = {
	sun: 0,
	mon: 1,
	tue: 2,
	wed: 3,
	thu: 4,
	fri: 5,
	sat: 6,
};
const WEEKDAY_NAMES = [
	'Sunday',
	'Monday',
	'Tuesday',
	'Wednesday',
	'Thursday',
	'Friday',
	'Saturday',
];
/** RFC 2822 zone names, in hours. */
const RFC2822_ZONES: Readonly<Record<string, number>> = {
	ut: 0,
	utc: 0,
	gmt: 0,
	z: 0,
	est: -5,
	edt: -4,
	cst: -6,
	cdt: -5,
	mst: -7,
	mdt: -6,
	pst: -8,
	pdt: -7,
};
const UTC_NAMES = new Set([
	'utc',
	'etc/utc',
	'gmt',
	'etc/gmt',
	'z',
	'zulu',
	'etc/zulu',
	'uct',
	'etc/uct',
	'universal',
	'etc/universal',
	'greenwich',
	'etc/greenwich',
	'gmt0',
	'etc/gmt0',
	'gmt+0',
	'gmt-0',
	'etc/gmt+0',
	'etc/gmt-0',
]);

const EXPECTED: Readonly<Record<DateOutputForm, string>> = {
	rfc3339: 'an RFC 3339 date-time such as 2024-01-31T10:00:00Z',
	iso8601: 'an ISO 8601 date-time such as 2024-01-31T10:00:00Z',
	ayona: 'a date-time such as 2024-01-31 10:00:00 (YYYY-MM-DD HH:mm:ss)',
};

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, exact on integers, no Date objects).

export function isLeapYear(y: number): boolean {
	return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function daysInMonth(y: number, m: number): number {
	if (m === 2) return isLeapYear(y) ? 29 : 28;
	return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a calendar date (month 1-12). */
export function daysFromCivil(y: number, m: number, d: number): number {
	const yy = m <= 2 ? y - 1 : y;
	const era = Math.floor(yy / 400);
	const yoe = yy - era * 400;
	const mp = m > 2 ? m - 3 : m + 9;
	const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
	const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
	return era * 146097 + doe - 719468;
}

/** Wall-clock fields of a count of seconds since 1970-01-01T00:00:00 (any offset already applied). */
class Civil {
	y = 0;
	m = 0;
	d = 0;
	h = 0;
	mi = 0;
	s = 0;
	set(totalSeconds: number): this {
		const days = Math.floor(totalSeconds / 86400);
		let rest = totalSeconds - days * 86400;
		this.h = Math.floor(rest / 3600);
		rest -= this.h * 3600;
		this.mi = Math.floor(rest / 60);
		this.s = rest - this.mi * 60;
		const z = days + 719468;
		const era = Math.floor(z / 146097);
		const doe = z - era * 146097;
		const yoe = Math.floor(
			(doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
		);
		const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
		const mp = Math.floor((5 * doy + 2) / 153);
		this.d = doy - Math.floor((153 * mp + 2) / 5) + 1;
		this.m = mp < 10 ? mp + 3 : mp - 9;
		this.y = yoe + era * 400 + (this.m <= 2 ? 1 : 0);
		return this;
	}
}

function pad2(n: number): string {
	return n < 10 ? `0${n}` : `${n}`;
}

function pad4(n: number): string {
	if (n >= 1000) return `${n}`;
	if (n >= 100) return `0${n}`;
	if (n >= 10) return `00${n}`;
	return `000${n}`;
}

function formatOffset(seconds: number): string {
	if (seconds === 0) return 'Z';
	const sign = seconds < 0 ? '-' : '+';
	const minutes = Math.floor(Math.abs(seconds) / 60);
	return `${sign}${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`;
}

// ---------------------------------------------------------------------------------------------
// Time zones

/** Offset caches shared by every normalizer of a zone (an execution compiles several). */
const OFFSET_CACHES = new Map<string, Map<number, number>>();

function offsetCacheOf(zoneName: string): Map<number, number> {
	let cache = OFFSET_CACHES.get(zoneName);
	if (cache === undefined) {
		if (OFFSET_CACHES.size >= 64) OFFSET_CACHES.clear();
		cache = new Map<number, number>();
		OFFSET_CACHES.set(zoneName, cache);
	}
	return cache;
}

/** Offset arithmetic for the configured zone, in seconds, with a cache for IANA zones. */
class ZoneCalc {
	readonly isUtc: boolean;
	readonly name: string;
	private readonly fixed: number;
	private readonly iana: IANAZone | undefined;
	/** 15-minute bucket of UTC seconds → offset in seconds, for buckets without a transition. */
	private cache = new Map<number, number>();

	constructor(timezone: string) {
		if (typeof timezone !== 'string' || timezone.trim() === '') {
			throw new Error(
				'The time zone is empty: expected an IANA name such as Europe/Paris, or UTC.',
			);
		}
		const tz = timezone.trim();
		this.name = tz;
		if (UTC_NAMES.has(tz.toLowerCase())) {
			this.isUtc = true;
			this.fixed = 0;
			return;
		}
		if (IANAZone.isValidZone(tz)) {
			this.iana = IANAZone.create(tz);
			this.cache = offsetCacheOf(this.iana.name);
			this.isUtc = false;
			this.fixed = 0;
			return;
		}
		const zone = Info.normalizeZone(tz);
		if (zone && zone.isValid && zone.isUniversal) {
			this.fixed = Math.round(zone.offset(0) * 60);
			this.isUtc = this.fixed === 0;
			return;
		}
		throw new Error(
			`Unknown time zone ${quoteForReason(tz)}: expected an IANA name such as Europe/Paris, or UTC.`,
		);
	}

	private raw(utcSeconds: number): number {
		return Math.round((this.iana as IANAZone).offset(utcSeconds * 1000) * 60);
	}

	/** Offset from UTC, in seconds, at an instant given in UTC seconds. */
	offsetAt(utcSeconds: number): number {
		if (this.iana === undefined) return this.fixed;
		const bucket = Math.floor(utcSeconds / 900);
		const hit = this.cache.get(bucket);
		if (hit !== undefined) return hit;
		const start = this.raw(bucket * 900);
		const end = this.raw(bucket * 900 + 899);
		if (start === end) {
			if (this.cache.size >= 100_000) this.cache.clear();
			this.cache.set(bucket, start);
			return start;
		}
		return this.raw(utcSeconds);
	}

	/**
	 * The instant (UTC seconds) of a wall-clock time (seconds since 1970-01-01 as if UTC) in this
	 * zone; the earlier one when the wall time occurs twice; NaN when it does not occur at all.
	 */
	toUtc(localSeconds: number): number {
		if (this.iana === undefined) return localSeconds - this.fixed;
		const before = this.offsetAt(localSeconds - 86400);
		const after = this.offsetAt(localSeconds + 86400);
		const t1 = localSeconds - before;
		const ok1 = this.offsetAt(t1) === before;
		if (before === after) {
			if (ok1) return t1;
		}
		const t2 = localSeconds - after;
		const ok2 = this.offsetAt(t2) === after;
		if (ok1 && ok2) return t1 < t2 ? t1 : t2;
		if (ok1) return t1;
		if (ok2) return t2;
		return NaN;
	}

	/** For a wall time a clock change skipped: the instant the clocks jumped to (luxon's rule). */
	toUtcShifted(localSeconds: number): number {
		if (this.iana === undefined) return localSeconds - this.fixed;
		return localSeconds - this.offsetAt(localSeconds - 86400);
	}
}

// ---------------------------------------------------------------------------------------------
// Parsing

const NO_OFFSET = Number.NaN;

/** What a parse found; reused across calls of one normalizer (single-threaded, synchronous). */
class Parsed {
	y = 0;
	m = 0;
	d = 0;
	h = 0;
	mi = 0;
	s = 0;
	/** Fraction-of-second digits as written ('' when none). */
	frac = '';
	/** Offset in seconds, NaN when the input had none. */
	off = NO_OFFSET;
	/** Valid RFC 3339 as Go reads it: `T`, seconds, `.` fraction, `Z` or `±HH:MM`. */
	rfc3339 = false;
	/** Shape of Userpilot's examples: `T` or space, seconds, `.` fraction. */
	isoShape = false;
	/** The offset says UTC (`Z`, `+00:00`): true only with isoShape. */
	isoUtc = false;
	/** Exactly `YYYY-MM-DD HH:mm:ss`, no offset. */
	ayona = false;
	/** Day of week named in the input (0 Sunday), -1 when none. */
	weekday = -1;
	/** Only a date was written (no time of day). */
	dateOnly = false;

	reset(): void {
		this.h = 0;
		this.mi = 0;
		this.s = 0;
		this.frac = '';
		this.off = NO_OFFSET;
		this.rfc3339 = false;
		this.isoShape = false;
		this.isoUtc = false;
		this.ayona = false;
		this.weekday = -1;
		this.dateOnly = false;
	}
}

function parseOffset(text: string): number {
	if (text === 'Z' || text === 'z') return 0;
	const sign = text.charCodeAt(0) === 45 ? -1 : 1;
	const hours = +text.slice(1, 3);
	const rest = text.length > 3 ? text.slice(text.length - 2) : '00';
	const minutes = +rest;
	if (hours > 23 || minutes > 59) return Number.POSITIVE_INFINITY;
	return sign * (hours * 3600 + minutes * 60);
}

function digitAt(text: string, i: number): number {
	const c = text.charCodeAt(i) - 48;
	return c >= 0 && c <= 9 ? c : -1;
}

function twoDigits(text: string, i: number): number {
	const a = digitAt(text, i);
	const b = digitAt(text, i + 1);
	return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/**
 * Hand-written reader of the ISO 8601 forms (the hot path: no regex, no allocation but the
 * fraction): `YYYY-MM-DD[(T|t| )HH:mm[:ss[(.|,)f{1,9}]][Z|z|±HH[[:]MM]]]`. Returns false when the
 * text is not in that form, true after filling `p`, or a reason for an impossible offset.
 */
function readIso(text: string, p: Parsed): boolean | string {
	const len = text.length;
	if (len < 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return false;
	const y1 = twoDigits(text, 0);
	const y2 = twoDigits(text, 2);
	const m = twoDigits(text, 5);
	const d = twoDigits(text, 8);
	if (y1 < 0 || y2 < 0 || m < 0 || d < 0) return false;
	p.y = y1 * 100 + y2;
	p.m = m;
	p.d = d;
	if (len === 10) {
		p.dateOnly = true;
		return true;
	}
	const sep = text.charCodeAt(10);
	if (sep !== 84 && sep !== 116 && sep !== 32) return false; // T t space
	if (len < 16 || text.charCodeAt(13) !== 58) return false;
	const h = twoDigits(text, 11);
	const mi = twoDigits(text, 14);
	if (h < 0 || mi < 0) return false;
	p.h = h;
	p.mi = mi;
	let i = 16;
	let hasSeconds = false;
	let fracSep = 0;
	if (i < len && text.charCodeAt(i) === 58) {
		const sec = twoDigits(text, i + 1);
		if (sec < 0) return false;
		p.s = sec;
		hasSeconds = true;
		i += 3;
		const c = text.charCodeAt(i);
		if (c === 46 || c === 44) {
			let j = i + 1;
			while (j < len && digitAt(text, j) >= 0) j++;
			const digits = j - i - 1;
			if (digits < 1 || digits > 9) return false;
			p.frac = text.slice(i + 1, j);
			fracSep = c;
			i = j;
		}
	}
	let offsetKind = 0; // 0 none, 1 Z, 2 ±HH:MM, 3 other offset spelling
	if (i < len) {
		const c = text.charCodeAt(i);
		if (c === 90 || c === 122) {
			if (i + 1 !== len) return false;
			p.off = 0;
			offsetKind = c === 90 ? 1 : 3;
		} else if (c === 43 || c === 45) {
			const hh = twoDigits(text, i + 1);
			if (hh < 0) return false;
			let mm = 0;
			const rest = len - i;
			if (rest === 6 && text.charCodeAt(i + 3) === 58) {
				mm = twoDigits(text, i + 4);
				offsetKind = 2;
			} else if (rest === 5) {
				mm = twoDigits(text, i + 3);
				offsetKind = 3;
			} else if (rest === 3) {
				offsetKind = 3;
			} else return false;
			if (mm < 0) return false;
			if (hh > 23 || mm > 59)
				return `${quoteForReason(text)} has an impossible UTC offset ${text.slice(i)}`;
			p.off = (c === 45 ? -1 : 1) * (hh * 3600 + mm * 60);
		} else return false;
	}
	const dotFraction = fracSep === 0 || fracSep === 46;
	p.isoShape = hasSeconds && dotFraction && sep !== 116;
	p.rfc3339 = p.isoShape && sep === 84 && (offsetKind === 1 || offsetKind === 2);
	p.isoUtc =
		p.isoShape &&
		(offsetKind === 1 || (offsetKind === 2 && p.off === 0 && text.charCodeAt(len - 6) === 43));
	p.ayona = sep === 32 && hasSeconds && fracSep === 0 && offsetKind === 0;
	return true;
}

/** Fills `p` from a string; returns a reason when the string is not an accepted date form. */
function parseString(text: string, p: Parsed, expected: string): string | undefined {
	p.reset();
	const c0 = text.charCodeAt(0);
	if (c0 >= 48 && c0 <= 57) {
		const iso = readIso(text, p);
		if (iso === true) return undefined;
		if (typeof iso === 'string') return `${iso}; expected ${expected}`;
		const slash = SLASH_RE.exec(text);
		if (slash !== null) {
			p.y = +slash[1];
			p.m = +slash[2];
			p.d = +slash[3];
			p.dateOnly = slash[4] === undefined;
			if (slash[4] !== undefined) {
				p.h = +slash[4];
				p.mi = +slash[5];
				if (slash[6] !== undefined) p.s = +slash[6];
				if (slash[7] !== undefined) p.frac = slash[7];
			}
			return undefined;
		}
		if (AMBIGUOUS_RE.test(text)) {
			return `${quoteForReason(text)} is ambiguous: day and month order unknown; use YYYY-MM-DD (expected ${expected})`;
		}
		if (NUMERIC_RE.test(text)) {
			return `${quoteForReason(text)} is a number, not a date: epoch seconds and milliseconds cannot be told apart; write ${expected}`;
		}
		const rfcNum = RFC2822_RE.exec(text);
		if (rfcNum !== null) return fromRfc2822(rfcNum, text, p, expected);
		return `${quoteForReason(text)} is not a date in a form read without guessing; expected ${expected}`;
	}
	if (c0 === 43 || c0 === 45 || c0 === 46) {
		if (NUMERIC_RE.test(text)) {
			return `${quoteForReason(text)} is a number, not a date: epoch seconds and milliseconds cannot be told apart; write ${expected}`;
		}
		return `${quoteForReason(text)} is not a date in a form read without guessing; expected ${expected}`;
	}
	const rfc = RFC2822_RE.exec(text);
	if (rfc !== null) return fromRfc2822(rfc, text, p, expected);
	const asc = ASCTIME_RE.exec(text);
	if (asc !== null) {
		const weekday = WEEKDAYS[asc[1].toLowerCase()];
		const month = MONTHS[asc[2].toLowerCase()];
		if (weekday === undefined || month === undefined) return unknownNames(text, expected);
		p.weekday = weekday;
		p.m = month;
		p.d = +asc[3];
		p.h = +asc[4];
		p.mi = +asc[5];
		p.s = +asc[6];
		p.y = +asc[7];
		p.off = 0;
		return undefined;
	}
	const js = JSDATE_RE.exec(text);
	if (js !== null) {
		const weekday = WEEKDAYS[js[1].toLowerCase()];
		const month = MONTHS[js[2].toLowerCase()];
		if (weekday === undefined || month === undefined) return unknownNames(text, expected);
		p.weekday = weekday;
		p.m = month;
		p.d = +js[3];
		p.y = +js[4];
		p.h = +js[5];
		p.mi = +js[6];
		p.s = +js[7];
		p.off = parseOffset(js[8]);
		if (p.off === Number.POSITIVE_INFINITY) {
			return `${quoteForReason(text)} has an impossible UTC offset GMT${js[8]}; expected ${expected}`;
		}
		return undefined;
	}
	return `${quoteForReason(text)} is not a date in a form read without guessing; expected ${expected}`;
}

function unknownNames(text: string, expected: string): string {
	return `${quoteForReason(text)} has an unknown month or day name; expected ${expected}`;
}

function fromRfc2822(
	match: RegExpExecArray,
	text: string,
	p: Parsed,
	expected: string,
): string | undefined {
	if (match[1] !== undefined) {
		const weekday = WEEKDAYS[match[1].toLowerCase()];
		if (weekday === undefined) return unknownNames(text, expected);
		p.weekday = weekday;
	}
	const month = MONTHS[match[3].toLowerCase()];
	if (month === undefined) return unknownNames(text, expected);
	p.d = +match[2];
	p.m = month;
	p.y = +match[4];
	p.h = +match[5];
	p.mi = +match[6];
	if (match[7] !== undefined) p.s = +match[7];
	const zone = match[8];
	const c = zone.charCodeAt(0);
	if (c === 43 || c === 45) {
		p.off = parseOffset(zone);
		if (p.off === Number.POSITIVE_INFINITY) {
			return `${quoteForReason(text)} has an impossible UTC offset ${zone}; expected ${expected}`;
		}
	} else {
		const hours = RFC2822_ZONES[zone.toLowerCase()];
		if (hours === undefined) {
			return `${quoteForReason(text)} names the zone ${zone}, which is not read without guessing (use GMT or +hhmm); expected ${expected}`;
		}
		p.off = hours * 3600;
	}
	return undefined;
}

/** Checks the calendar and clock fields; returns a reason when one does not exist. */
function checkFields(p: Parsed, raw: string, expected: string): string | undefined {
	if (p.m < 1 || p.m > 12) {
		return `${quoteForReason(raw)} is not a valid date: month ${p.m} does not exist; expected ${expected}`;
	}
	if (p.d < 1 || (p.d > 28 && p.d > daysInMonth(p.y, p.m))) {
		return `${quoteForReason(raw)} is not a valid date: ${pad4(p.y)}-${pad2(p.m)} has ${daysInMonth(p.y, p.m)} days; expected ${expected}`;
	}
	if (p.h > 23)
		return `${quoteForReason(raw)} is not a valid time: hour ${p.h} does not exist; expected ${expected}`;
	if (p.mi > 59)
		return `${quoteForReason(raw)} is not a valid time: minute ${p.mi} does not exist; expected ${expected}`;
	if (p.s > 59)
		return `${quoteForReason(raw)} is not a valid time: second ${p.s} does not exist; expected ${expected}`;
	return undefined;
}

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

/**
 * Compiles a date normalizer. Throws (once, here) when `timezone` is not a known zone or `output`
 * is unknown; the returned function never throws.
 */
export function compileDateNormalizer(options: DateNormalizerOptions): DateNormalizer {
	const output = options.output;
	if (output !== 'rfc3339' && output !== 'iso8601' && output !== 'ayona') {
		throw new Error(
			`Unknown date output form ${String(output)}: expected rfc3339, iso8601 or ayona.`,
		);
	}
	const zone = new ZoneCalc(options.timezone);
	const now = options.now ?? Date.now;
	const allowFuture = options.allowFuture !== false;
	const minYear = options.minYear ?? DEFAULT_MIN_YEAR;
	const expected = EXPECTED[output];
	const p = new Parsed();
	const civil = new Civil();

	/** The reason when the instant is after now() and that is not allowed, else undefined. */
	function futureReason(utcSeconds: number, fracMs: number, subject: unknown): string | undefined {
		if (allowFuture) return undefined;
		const nowMs = now();
		if (utcSeconds * 1000 + fracMs <= nowMs) return undefined;
		return `${show(subject)} is in the future (now is ${new Date(nowMs).toISOString()}); a date in the past is expected`;
	}

	/** Writes the result for an instant; `frac` as written, `inputOffset` NaN when none applies. */
	function write(
		utcSeconds: number,
		frac: string,
		inputOffset: number,
		subject: unknown,
		fracMs: number,
	): DateResult {
		let offset: number;
		if (output === 'iso8601') offset = 0;
		else if (output === 'rfc3339' && !Number.isNaN(inputOffset)) offset = inputOffset;
		else offset = zone.offsetAt(utcSeconds);
		if (output === 'rfc3339' && offset % 60 !== 0) offset = 0; // RFC 3339 cannot write seconds of offset.
		civil.set(utcSeconds + offset);
		if (civil.y < minYear) {
			return {
				ok: false,
				reason: `${show(subject)} is before the year ${minYear}; expected ${expected}`,
			};
		}
		if (civil.y > MAX_YEAR)
			return {
				ok: false,
				reason: `${show(subject)} is after the year ${MAX_YEAR}; expected ${expected}`,
			};
		const future = futureReason(utcSeconds, fracMs, subject);
		if (future !== undefined) return { ok: false, reason: future };
		const date = `${pad4(civil.y)}-${pad2(civil.m)}-${pad2(civil.d)}`;
		const time = `${pad2(civil.h)}:${pad2(civil.mi)}:${pad2(civil.s)}`;
		if (output === 'ayona') return { ok: true, value: `${date} ${time}` };
		const fraction = frac === '' ? '' : `.${frac}`;
		if (output === 'iso8601') return { ok: true, value: `${date}T${time}${fraction}Z` };
		return { ok: true, value: `${date}T${time}${fraction}${formatOffset(offset)}` };
	}

	function fromInstantMs(ms: number, inputOffset: number, subject: unknown): DateResult {
		if (!Number.isFinite(ms))
			return { ok: false, reason: `is not a valid date; expected ${expected}` };
		const seconds = Math.floor(ms / 1000);
		const millis = ms - seconds * 1000;
		const frac =
			millis === 0 ? '' : millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : `${millis}`;
		return write(seconds, frac, inputOffset, subject, millis);
	}

	function fromString(raw: string): DateResult {
		if (raw.length === 0) return { ok: false, reason: `is empty; expected ${expected}` };
		if (raw.length > MAX_DATE_STRING) {
			return {
				ok: false,
				reason: `${quoteForReason(raw)} is too long to be a date; expected ${expected}`,
			};
		}
		const first = raw.charCodeAt(0);
		const last = raw.charCodeAt(raw.length - 1);
		const trimmed =
			first <= 32 ||
			last <= 32 ||
			first === 160 ||
			last === 160 ||
			first === 0xfeff ||
			last === 0xfeff;
		const text = trimmed ? raw.trim() : raw;
		if (text.length === 0) return { ok: false, reason: `is blank; expected ${expected}` };
		const bad = parseString(text, p, expected);
		if (bad !== undefined) return { ok: false, reason: bad };
		const badField = checkFields(p, raw, expected);
		if (badField !== undefined) return { ok: false, reason: badField };
		if (p.weekday >= 0) {
			const actual = (((daysFromCivil(p.y, p.m, p.d) + 4) % 7) + 7) % 7;
			if (actual !== p.weekday) {
				return {
					ok: false,
					reason: `${quoteForReason(raw)} names the wrong day of the week: ${pad4(p.y)}-${pad2(p.m)}-${pad2(p.d)} is a ${WEEKDAY_NAMES[actual]}; expected ${expected}`,
				};
			}
		}
		if (p.y < minYear)
			return {
				ok: false,
				reason: `${quoteForReason(raw)} is before the year ${minYear}; expected ${expected}`,
			};
		const localSeconds = daysFromCivil(p.y, p.m, p.d) * 86400 + p.h * 3600 + p.mi * 60 + p.s;
		const zoneless = Number.isNaN(p.off);
		let utcSeconds = zoneless ? zone.toUtc(localSeconds) : localSeconds - p.off;
		let skipped = false;
		if (Number.isNaN(utcSeconds) && p.dateOnly) {
			// A day whose midnight was skipped (clocks moved at 00:00) starts at the first instant
			// that exists.
			utcSeconds = zone.toUtcShifted(localSeconds);
			skipped = true;
		}
		if (Number.isNaN(utcSeconds)) {
			return {
				ok: false,
				reason: `${quoteForReason(raw)} does not exist in ${zone.name}: the clocks skipped that time (daylight saving); expected ${expected}`,
			};
		}
		const frac = p.frac;
		// Milliseconds are read only by the future rule (futureReason returns at once when future
		// dates are allowed, as they are for Userpilot by default).
		const fracMs =
			allowFuture || frac === '' ? 0 : +(frac.length >= 3 ? frac.slice(0, 3) : frac.padEnd(3, '0'));
		const passthrough =
			!trimmed &&
			(output === 'rfc3339'
				? p.rfc3339
				: output === 'iso8601'
					? p.isoShape && (p.isoUtc || (zoneless && zone.isUtc))
					: p.ayona);
		if (passthrough || (output === 'ayona' && zoneless && !skipped)) {
			// The wall-clock time written is the one sent: its year was checked above, only the
			// future rule is left. No round trip through an offset.
			const future = futureReason(utcSeconds, fracMs, raw);
			if (future !== undefined) return { ok: false, reason: future };
			if (passthrough) return { ok: true, value: raw };
			return {
				ok: true,
				value: `${pad4(p.y)}-${pad2(p.m)}-${pad2(p.d)} ${pad2(p.h)}:${pad2(p.mi)}:${pad2(p.s)}`,
			};
		}
		return write(utcSeconds, frac, p.off, raw, fracMs);
	}

	return function normalizeDate(value: unknown): DateResult {
		try {
			if (typeof value === 'string') return fromString(value);
			if (typeof value === 'number') {
				return {
					ok: false,
					reason: `a number is not a date: write ${expected} (got ${String(value)}; epoch seconds and milliseconds cannot be told apart)`,
				};
			}
			if (typeof value === 'object' && value !== null) {
				if (isDateObject(value)) {
					const ms = value.getTime();
					if (Number.isNaN(ms))
						return { ok: false, reason: `is an invalid Date object; expected ${expected}` };
					return fromInstantMs(ms, NO_OFFSET, value);
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
					return fromInstantMs(ms, Math.round(dt.offset * 60), value);
				}
			}
			return { ok: false, reason: `expected ${expected}, got ${describeValue(value)}` };
		} catch (error) {
			return {
				ok: false,
				reason: `could not be read as a date (${String((error as Error)?.message ?? error)})`,
			};
		}
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
