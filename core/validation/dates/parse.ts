/** Reading the accepted date forms of a string into fields, and checking that those fields exist. */
import { quote as quoteForReason } from '../checks';

import { daysInMonth, pad2, pad4 } from './calendar';

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
export const NO_OFFSET = Number.NaN;

/** What a parse found; reused across calls of one normalizer (single-threaded, synchronous). */
export class Parsed {
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
export function parseString(text: string, p: Parsed, expected: string): string | undefined {
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
export function checkFields(p: Parsed, raw: string, expected: string): string | undefined {
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
