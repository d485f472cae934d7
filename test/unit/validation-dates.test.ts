import assert from 'node:assert/strict';

import { DateTime } from 'luxon';

import {
	compileDateNormalizer,
	daysFromCivil,
	isCalendarDate,
	type DateNormalizer,
	type DateNormalizerOptions,
	type DateResult,
} from '../../core/validation/dates';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const clock = () => NOW;

function make(options: Partial<DateNormalizerOptions> & Pick<DateNormalizerOptions, 'output'>): DateNormalizer {
	return compileDateNormalizer({ timezone: 'UTC', now: clock, ...options });
}

function ok(result: DateResult): string {
	assert.equal(result.ok, true, result.ok ? '' : result.reason);
	return (result as { value: string }).value;
}

function reason(result: DateResult): string {
	assert.equal(result.ok, false, result.ok ? `unexpectedly accepted as ${result.value}` : '');
	return (result as { reason: string }).reason;
}

const rfcUtc = make({ output: 'rfc3339' });
const rfcParis = make({ output: 'rfc3339', timezone: 'Europe/Paris' });
const isoUtc = make({ output: 'iso8601' });
const isoParis = make({ output: 'iso8601', timezone: 'Europe/Paris' });
const ayonaParis = make({ output: 'ayona', timezone: 'Europe/Paris' });
const ayonaUtc = make({ output: 'ayona' });

describe('dates: byte-identical passthrough', () => {
	test('valid RFC 3339 is returned as it is', () => {
		for (const value of [
			'2024-01-01T00:00:00Z',
			'2024-07-28T08:55:35+02:00',
			'2024-07-28T08:55:35.874555Z',
			'2024-07-28T08:55:35.123456789-05:30',
			'2024-07-28T08:55:35.100Z',
			'2024-07-28T08:55:35+00:00',
		]) {
			assert.equal(ok(rfcUtc(value)), value);
			assert.equal(ok(rfcParis(value)), value);
		}
	});

	test('Userpilot form in UTC keeps its microseconds and separator', () => {
		for (const value of [
			'2024-07-28 08:55:35.874555',
			'2024-07-28T08:55:35.874555',
			'2023-12-26 14:36:15.453703',
			'2024-07-28T08:55:35.874555Z',
			'2024-07-28 08:55:35+00:00',
			'2024-07-28T08:55:35',
		]) {
			assert.equal(ok(isoUtc(value)), value);
		}
		// Zone-less values are UTC only when the zone is UTC: in Paris they are converted.
		assert.equal(ok(isoParis('2024-07-28 08:55:35.874555')), '2024-07-28T06:55:35.874555Z');
		// ...but values that say UTC stay as they are whatever the zone.
		assert.equal(ok(isoParis('2024-07-28T08:55:35.874555Z')), '2024-07-28T08:55:35.874555Z');
	});

	test('Ayona form is returned as it is', () => {
		assert.equal(ok(ayonaParis('2024-03-08 00:29:00')), '2024-03-08 00:29:00');
		assert.equal(ok(ayonaUtc('2024-03-08 00:29:00')), '2024-03-08 00:29:00');
	});

	test('the passthrough is the very same string', () => {
		const value = ['2024-07-28', 'T08:55:35.874555Z'].join('');
		const result = rfcUtc(value);
		assert.ok(result.ok && result.value === value);
	});
});

describe('dates: accepted forms are rewritten', () => {
	const cases: Array<[string, string, string, string, string]> = [
		// input, rfc3339 UTC, rfc3339 Paris, iso8601 Paris, ayona Paris
		['2024-07-28 08:55:35.874555', '2024-07-28T08:55:35.874555Z', '2024-07-28T08:55:35.874555+02:00', '2024-07-28T06:55:35.874555Z', '2024-07-28 08:55:35'],
		['2024-07-28', '2024-07-28T00:00:00Z', '2024-07-28T00:00:00+02:00', '2024-07-27T22:00:00Z', '2024-07-28 00:00:00'],
		['2024-07-28T08:55', '2024-07-28T08:55:00Z', '2024-07-28T08:55:00+02:00', '2024-07-28T06:55:00Z', '2024-07-28 08:55:00'],
		['2024-07-28t08:55:35z', '2024-07-28T08:55:35Z', '2024-07-28T08:55:35Z', '2024-07-28T08:55:35Z', '2024-07-28 10:55:35'],
		['2024-07-28T08:55:35+0200', '2024-07-28T08:55:35+02:00', '2024-07-28T08:55:35+02:00', '2024-07-28T06:55:35Z', '2024-07-28 08:55:35'],
		['2024-07-28T08:55:35-03', '2024-07-28T08:55:35-03:00', '2024-07-28T08:55:35-03:00', '2024-07-28T11:55:35Z', '2024-07-28 13:55:35'],
		['2024-07-28 08:55:35,5Z', '2024-07-28T08:55:35.5Z', '2024-07-28T08:55:35.5Z', '2024-07-28T08:55:35.5Z', '2024-07-28 10:55:35'],
		['2024/07/28', '2024-07-28T00:00:00Z', '2024-07-28T00:00:00+02:00', '2024-07-27T22:00:00Z', '2024-07-28 00:00:00'],
		['2024/7/8 09:05', '2024-07-08T09:05:00Z', '2024-07-08T09:05:00+02:00', '2024-07-08T07:05:00Z', '2024-07-08 09:05:00'],
		['2024/07/28 08:55:35', '2024-07-28T08:55:35Z', '2024-07-28T08:55:35+02:00', '2024-07-28T06:55:35Z', '2024-07-28 08:55:35'],
		['Mon, 01 Jan 2024 10:00:00 GMT', '2024-01-01T10:00:00Z', '2024-01-01T10:00:00Z', '2024-01-01T10:00:00Z', '2024-01-01 11:00:00'],
		['1 Jan 2024 10:00 +0100', '2024-01-01T10:00:00+01:00', '2024-01-01T10:00:00+01:00', '2024-01-01T09:00:00Z', '2024-01-01 10:00:00'],
		['Mon, 01 Jan 2024 10:00:00 EST', '2024-01-01T10:00:00-05:00', '2024-01-01T10:00:00-05:00', '2024-01-01T15:00:00Z', '2024-01-01 16:00:00'],
		['Mon Jan  1 10:00:00 2024', '2024-01-01T10:00:00Z', '2024-01-01T10:00:00Z', '2024-01-01T10:00:00Z', '2024-01-01 11:00:00'],
		['Mon Jan 01 2024 10:00:00 GMT+0100 (Central European Standard Time)', '2024-01-01T10:00:00+01:00', '2024-01-01T10:00:00+01:00', '2024-01-01T09:00:00Z', '2024-01-01 10:00:00'],
		[' 2024-01-01T10:00:00Z ', '2024-01-01T10:00:00Z', '2024-01-01T10:00:00Z', '2024-01-01T10:00:00Z', '2024-01-01 11:00:00'],
	];
	for (const [input, utc, paris, iso, ayona] of cases) {
		test(JSON.stringify(input), () => {
			assert.equal(ok(rfcUtc(input)), utc);
			assert.equal(ok(rfcParis(input)), paris);
			assert.equal(ok(isoParis(input)), iso);
			assert.equal(ok(ayonaParis(input)), ayona);
		});
	}

	test('JS Date objects', () => {
		const date = new Date(Date.UTC(2024, 0, 1, 10, 0, 0, 5));
		assert.equal(ok(rfcUtc(date)), '2024-01-01T10:00:00.005Z');
		assert.equal(ok(rfcParis(date)), '2024-01-01T11:00:00.005+01:00');
		assert.equal(ok(isoParis(date)), '2024-01-01T10:00:00.005Z');
		assert.equal(ok(ayonaParis(date)), '2024-01-01 11:00:00');
		assert.equal(ok(rfcUtc(new Date(Date.UTC(2024, 0, 1)))), '2024-01-01T00:00:00Z');
		assert.match(reason(rfcUtc(new Date(Number.NaN))), /invalid Date/);
	});

	test('luxon DateTime objects keep their offset in RFC 3339', () => {
		const dt = DateTime.fromISO('2024-05-05T10:00:00.250', { zone: 'Asia/Tokyo' });
		assert.equal(ok(rfcUtc(dt)), '2024-05-05T10:00:00.250+09:00');
		assert.equal(ok(isoUtc(dt)), '2024-05-05T01:00:00.250Z');
		assert.equal(ok(ayonaParis(dt)), '2024-05-05 03:00:00');
		assert.match(reason(rfcUtc(DateTime.fromISO('nope'))), /invalid luxon DateTime/);
	});
});

describe('dates: refusals name the value and the expected form', () => {
	test('numbers', () => {
		const text = reason(rfcUtc(1694172975));
		assert.match(text, /^a number is not a date: write an RFC 3339 date-time/);
		assert.match(text, /1694172975/);
		assert.match(reason(ayonaParis(1.5)), /^a number is not a date: write .*YYYY-MM-DD HH:mm:ss/);
	});

	test('numeric strings (epoch seconds or milliseconds?)', () => {
		for (const value of ['1694172975', '1694172975000', '-5', '20240131', '1.5e9']) {
			const text = reason(rfcUtc(value));
			assert.match(text, /is a number, not a date: epoch seconds and milliseconds cannot be told apart/);
			assert.ok(text.includes(JSON.stringify(value)));
		}
	});

	test('day/month order unknown', () => {
		assert.match(
			reason(rfcUtc('03/04/2024')),
			/^"03\/04\/2024" is ambiguous: day and month order unknown; use YYYY-MM-DD/,
		);
		for (const value of ['25/12/2024', '12-25-2024', '3.4.2024', '03/04/24', '03/04/2024 10:00']) {
			assert.match(reason(isoUtc(value)), /is ambiguous: day and month order unknown/, value);
		}
	});

	test('impossible dates and times', () => {
		assert.match(reason(rfcUtc('2024-02-30')), /"2024-02-30" is not a valid date: 2024-02 has 29 days/);
		assert.match(reason(rfcUtc('2023-02-29T10:00:00Z')), /2023-02 has 28 days/);
		assert.equal(ok(rfcUtc('2024-02-29T10:00:00Z')), '2024-02-29T10:00:00Z');
		assert.match(reason(rfcUtc('2024-13-01')), /month 13 does not exist/);
		assert.match(reason(rfcUtc('2024-00-10')), /month 0 does not exist/);
		assert.match(reason(rfcUtc('2024-04-31')), /2024-04 has 30 days/);
		assert.match(reason(rfcUtc('2024-01-01T24:00:00Z')), /hour 24 does not exist/);
		assert.match(reason(rfcUtc('2024-01-01T10:60:00Z')), /minute 60 does not exist/);
		assert.match(reason(rfcUtc('2024-01-01T10:00:60Z')), /second 60 does not exist/);
		assert.match(reason(rfcUtc('2024-01-01T10:00:00+24:00')), /impossible UTC offset \+24:00/);
		assert.match(reason(rfcUtc('Tue, 01 Jan 2024 10:00:00 GMT')), /wrong day of the week: 2024-01-01 is a Monday/);
		assert.match(reason(rfcUtc('Mon, 01 Jan 2024 10:00:00 XYZ')), /names the zone XYZ/);
		assert.match(reason(rfcUtc('Mon, 01 Foo 2024 10:00:00 GMT')), /unknown month or day name/);
	});

	test('empty, blank, garbage and too long', () => {
		assert.match(reason(rfcUtc('')), /^is empty; expected an RFC 3339 date-time/);
		assert.match(reason(rfcUtc('   ')), /^is blank/);
		assert.match(reason(rfcUtc('yesterday')), /"yesterday" is not a date in a form read without guessing; expected an RFC 3339/);
		assert.match(reason(rfcUtc('2024-01-01T10:00:00.1234567890Z')), /not a date in a form/);
		const long = `2024-01-01T10:00:00Z${' '.repeat(200)}x`;
		const text = reason(rfcUtc(long));
		assert.match(text, /too long to be a date/);
		assert.ok(text.length < 200, 'the value is cut in the reason');
	});

	test('the value is cut to 40 characters in reasons', () => {
		const value = `not a date ${'x'.repeat(80)}`;
		const text = reason(rfcUtc(value));
		assert.ok(text.startsWith(JSON.stringify(`${value.slice(0, 40)}…`)), text);
	});

	test('other types name what they got', () => {
		assert.match(reason(rfcUtc(null)), /^expected an RFC 3339 date-time .*, got null$/);
		assert.match(reason(rfcUtc(undefined)), /got nothing$/);
		assert.match(reason(rfcUtc(true)), /got boolean true$/);
		assert.match(reason(rfcUtc({})), /got an object$/);
		assert.match(reason(rfcUtc([])), /got an empty array$/);
		assert.match(reason(rfcUtc(10n)), /got bigint 10n$/);
		assert.match(reason(rfcUtc(() => '2024-01-01')), /got a function$/);
	});

	test('years before minYear or after 9999', () => {
		assert.match(reason(rfcUtc('1899-12-31T23:59:59Z')), /"1899-12-31T23:59:59Z" is before the year 1900/);
		assert.equal(ok(rfcUtc('1900-01-01T00:00:00Z')), '1900-01-01T00:00:00Z');
		const from2000 = make({ output: 'rfc3339', minYear: 2000 });
		assert.match(reason(from2000('1999-06-01')), /before the year 2000/);
		// In UTC this instant is already in the year 10000.
		assert.match(reason(isoUtc('9999-12-31T23:00:00-05:00')), /after the year 9999/);
		// Converted into the zone, 1900-01-01 00:30 in Paris is 1899 in UTC.
		assert.match(reason(make({ output: 'iso8601', timezone: 'Etc/GMT-1' })('1900-01-01 00:30:00')), /before the year 1900/);
	});
});

describe('dates: the future rule, with an injected clock', () => {
	const past = make({ output: 'rfc3339', allowFuture: false });
	test('after now is refused, naming the value and now', () => {
		const text = reason(past('2025-01-15T12:00:01Z'));
		assert.match(text, /^"2025-01-15T12:00:01Z" is in the future \(now is 2025-01-15T12:00:00\.000Z\)/);
	});
	test('now itself and before are accepted', () => {
		assert.equal(ok(past('2025-01-15T12:00:00Z')), '2025-01-15T12:00:00Z');
		assert.equal(ok(past('2025-01-15T13:00:00+01:00')), '2025-01-15T13:00:00+01:00');
		assert.match(reason(past('2025-01-15T12:00:00.001Z')), /in the future/);
	});
	test('the clock is read at each call', () => {
		let now = Date.UTC(2020, 0, 1);
		const moving = compileDateNormalizer({ timezone: 'UTC', output: 'rfc3339', allowFuture: false, now: () => now });
		assert.equal(moving('2021-01-01T00:00:00Z').ok, false);
		now = Date.UTC(2022, 0, 1);
		assert.equal(moving('2021-01-01T00:00:00Z').ok, true);
	});
	test('future dates are accepted unless refused', () => {
		assert.equal(ok(rfcUtc('2999-01-01T00:00:00Z')), '2999-01-01T00:00:00Z');
		assert.equal(ok(ayonaParis('2999-01-01 00:00:00')), '2999-01-01 00:00:00');
	});
	test('Date objects too', () => {
		assert.match(reason(past(new Date(NOW + 1000))), /^Date 2025-01-15T12:00:01\.000Z is in the future/);
	});
});

describe('dates: time zones', () => {
	test('a local time skipped by daylight saving is refused', () => {
		assert.match(
			reason(rfcParis('2024-03-31 02:30:00')),
			/"2024-03-31 02:30:00" does not exist in Europe\/Paris: the clocks skipped that time/,
		);
		assert.match(reason(make({ output: 'ayona', timezone: 'America/New_York' })('2024-03-10 02:30:00')), /does not exist/);
	});

	test('a date alone whose midnight was skipped starts when the clocks resume', () => {
		const saoPaulo = compileDateNormalizer({ timezone: 'America/Sao_Paulo', output: 'rfc3339' });
		assert.equal(ok(saoPaulo('2018-11-04')), '2018-11-04T01:00:00-02:00');
		assert.equal(ok(saoPaulo('2018/11/04')), '2018-11-04T01:00:00-02:00');
		assert.equal(ok(compileDateNormalizer({ timezone: 'America/Sao_Paulo', output: 'ayona' })('2018-11-04')), '2018-11-04 01:00:00');
		assert.match(reason(saoPaulo('2018-11-04 00:30:00')), /does not exist in America\/Sao_Paulo/);
	});

	test('a repeated local time takes the earlier instant', () => {
		assert.equal(ok(rfcParis('2024-10-27 02:30:00')), '2024-10-27T02:30:00+02:00');
		assert.equal(ok(rfcParis('2024-10-27 03:30:00')), '2024-10-27T03:30:00+01:00');
		assert.equal(ok(isoParis('2024-10-27 02:30:00')), '2024-10-27T00:30:00Z');
	});

	test('zone-less values agree with luxon in many zones', () => {
		const zones = ['Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Sao_Paulo', 'Asia/Kathmandu', 'Pacific/Apia'];
		let seed = 12345;
		const random = () => {
			seed = (seed * 1103515245 + 12345) % 2147483648;
			return seed / 2147483648;
		};
		for (const zone of zones) {
			const normalize = compileDateNormalizer({ timezone: zone, output: 'iso8601' });
			for (let i = 0; i < 300; i++) {
				const ms = Date.UTC(1950, 0, 1) + Math.floor(random() * 80 * 365.25 * 86400) * 1000;
				const wall = new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
				const reference = DateTime.fromSQL(wall, { zone });
				const result = normalize(wall);
				const roundTrip = reference.toFormat('yyyy-MM-dd HH:mm:ss');
				if (roundTrip !== wall) {
					// luxon moved a skipped time forward; we refuse it.
					assert.equal(result.ok, false, `${zone} ${wall}`);
					continue;
				}
				const expected = reference.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss'Z'");
				if (result.ok) assert.equal(result.value, expected, `${zone} ${wall}`);
				else assert.fail(`${zone} ${wall}: ${result.reason}`);
			}
		}
	});

	test('UTC aliases and fixed offsets', () => {
		for (const name of ['UTC', 'Etc/UTC', 'GMT', 'utc', 'Z']) {
			const normalize = compileDateNormalizer({ timezone: name, output: 'iso8601' });
			assert.equal(ok(normalize('2024-07-28 08:55:35.874555')), '2024-07-28 08:55:35.874555', name);
		}
		const plusTwo = compileDateNormalizer({ timezone: 'UTC+2', output: 'rfc3339' });
		assert.equal(ok(plusTwo('2024-01-01 10:00:00')), '2024-01-01T10:00:00+02:00');
	});

	test('seconds in a historical offset are not written in RFC 3339', () => {
		const ny = compileDateNormalizer({ timezone: 'America/New_York', output: 'rfc3339', minYear: 1800 });
		// Local mean time of New York was -4:56:02.
		assert.equal(ok(ny('1880-01-01 00:00:00')), '1880-01-01T04:56:02Z');
	});

	test('an unknown zone or output fails at compile time, not per value', () => {
		assert.throws(() => compileDateNormalizer({ timezone: 'Mars/Olympus', output: 'rfc3339' }), /Unknown time zone "Mars\/Olympus"/);
		assert.throws(() => compileDateNormalizer({ timezone: '', output: 'rfc3339' }), /time zone is empty/);
		assert.throws(
			() => compileDateNormalizer({ timezone: 'UTC', output: 'excel' as never }),
			/Unknown date output form excel/,
		);
	});
});

describe('dates: determinism', () => {
	test('normalizing an output again gives it back unchanged (all forms, many instants)', () => {
		const forms = ['rfc3339', 'iso8601', 'ayona'] as const;
		const zones = ['UTC', 'Europe/Paris', 'America/Los_Angeles', 'Asia/Tokyo'];
		for (const output of forms) {
			for (const timezone of zones) {
				const normalize = compileDateNormalizer({ timezone, output });
				for (let i = 0; i < 200; i++) {
					const ms = Date.UTC(1990, 0, 1) + i * 7_919_111_317;
					const inputs = [new Date(ms), new Date(ms).toISOString(), new Date(ms).toUTCString()];
					for (const input of inputs) {
						const first = normalize(input);
						assert.ok(first.ok, `${output} ${timezone} ${String(input)}`);
						const second = normalize(first.value);
						assert.deepEqual(second, first, `${output} ${timezone} ${first.value}`);
						assert.deepEqual(normalize(input), first);
					}
				}
			}
		}
	});

	test('two normalizers with the same options agree', () => {
		const a = compileDateNormalizer({ timezone: 'Europe/Paris', output: 'rfc3339' });
		const b = compileDateNormalizer({ timezone: 'Europe/Paris', output: 'rfc3339' });
		for (const value of ['2024-07-28 08:55:35.874555', '2024/01/01', 'Mon, 01 Jan 2024 10:00:00 GMT']) {
			assert.deepEqual(a(value), b(value));
		}
	});

	test('calendar arithmetic agrees with Date', () => {
		for (let days = -60000; days < 3000000; days += 997) {
			const date = new Date(days * 86400000);
			assert.equal(daysFromCivil(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()), days);
		}
	});

	test('isCalendarDate', () => {
		assert.equal(isCalendarDate('2024-02-29'), true);
		assert.equal(isCalendarDate('2023-02-29'), false);
		assert.equal(isCalendarDate('2024-2-9'), false);
		assert.equal(isCalendarDate('2024-02-29T00:00:00Z'), false);
	});
});

describe('dates: never throws', () => {
	test('hostile and generated values always give a result', () => {
		const cyclic: Record<string, unknown> = {};
		cyclic.self = cyclic;
		const throwing = new Proxy({}, {
			get() {
				throw new Error('boom');
			},
			getPrototypeOf() {
				throw new Error('boom');
			},
		});
		const fakeLuxon = { isLuxonDateTime: true, get isValid(): boolean { throw new Error('nope'); } };
		const hostile: unknown[] = [
			null, undefined, NaN, Infinity, -0, 0, 1e21, true, false, Symbol('x'), 10n, () => 1, [], [1], {}, cyclic,
			throwing, fakeLuxon, new Date(8.64e15), new Date(-8.64e15), Object.create(null), new Map(), '\u0000',
			'\uD800', '2024-01-01\u0000', '9'.repeat(10000), '2024-01-01T'.padEnd(5000, '9'), '+', '-', '.', 'e5',
			'2024', '2024-01', '2024-01-01T', '2024-01-01T1', '2024-01-01T10:00:00+', '2024-01-01T10:00:00+1',
			'2024-01-01T10:00:00.Z', '0000-01-01', '9999-99-99', '２０２４-01-01',
		];
		// A generated sweep: mutations of valid dates.
		const seeds = ['2024-07-28T08:55:35.874555+02:00', 'Mon, 01 Jan 2024 10:00:00 GMT', '2024/7/8 10:00:00'];
		const alphabet = '0123456789-:/.+TZtz ,MonJa';
		for (const seed of seeds) {
			for (let i = 0; i < seed.length; i++) {
				for (const c of alphabet) hostile.push(seed.slice(0, i) + c + seed.slice(i + 1));
				hostile.push(seed.slice(0, i), seed.slice(i));
			}
		}
		const normalizers = [rfcUtc, rfcParis, isoUtc, isoParis, ayonaParis, make({ output: 'rfc3339', allowFuture: false })];
		for (const value of hostile) {
			for (const normalize of normalizers) {
				const result = normalize(value);
				assert.equal(typeof result.ok, 'boolean');
				if (result.ok) assert.equal(typeof result.value, 'string');
				else assert.ok(typeof result.reason === 'string' && result.reason.length > 0);
			}
		}
	});
});
