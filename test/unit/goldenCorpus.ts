/**
 * A deterministic corpus of date values and Userpilot rows, and what the validation module made
 * of each (results serialized with key order, and whether the row itself was returned), digested
 * in groups. The digests in fixtures/golden-validation.json were first written by the code as it
 * was before the validator and date fast paths (commit "Golden digests of date and Userpilot
 * results"), and rewritten only where results changed on purpose (the fixture's commits say why,
 * e.g. rules no page states turned into warnings): any other change of result, reason text, key
 * order or identity shows as a changed group.
 *
 *   GOLDEN_WRITE=1 npx jest test/unit/golden.test.ts   (rewrites the digests)
 *   GOLDEN_DUMP=<dir> …                                                 (writes every result, to diff two commits)
 */
import { createHash } from 'node:crypto';

import { DateTime } from 'luxon';

import { compileDateNormalizer, type DateOutputForm } from '../../core/validation/dates';
import { compileUserpilotValidator, type UserpilotValidatorOptions } from '../../platforms/userpilot/rules';
import { mulberry32 } from '../../sandbox/faults';

export const GOLDEN_NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
export const GROUP = 100;

function pick<T>(random: () => number, list: readonly T[]): T {
	return list[Math.floor(random() * list.length)];
}

/** Serializes any value with its key order, telling apart what JSON.stringify would merge. */
export function serialize(value: unknown, depth = 0): string {
	if (depth > 12) return '…';
	switch (typeof value) {
		case 'string':
			return JSON.stringify(value);
		case 'number':
			return Object.is(value, -0) ? '-0' : String(value);
		case 'bigint':
			return `${value}n`;
		case 'undefined':
			return 'undefined';
		case 'boolean':
			return String(value);
		case 'function':
			return 'function';
		case 'symbol':
			return 'symbol';
	}
	if (value === null) return 'null';
	if (value instanceof Date) return `Date(${value.getTime()})`;
	// luxon fills caches inside a DateTime as it is used: name it by its instant and zone.
	if (value instanceof DateTime) return `DateTime(${String(value.toISO())} ${value.zoneName ?? ''} ${value.isValid})`;
	if (Array.isArray(value)) return `[${value.map((item) => serialize(item, depth + 1)).join(',')}]`;
	const proto = Object.getPrototypeOf(value);
	const tag = proto === Object.prototype ? '' : proto === null ? 'null-proto' : 'other-proto';
	const keys = Reflect.ownKeys(value as object).map((key) => {
		const descriptor = Object.getOwnPropertyDescriptor(value, key) as PropertyDescriptor;
		const name = typeof key === 'symbol' ? `[${String(key)}]` : JSON.stringify(key);
		const flags = descriptor.enumerable ? '' : '(hidden)';
		return 'value' in descriptor ? `${name}${flags}:${serialize(descriptor.value, depth + 1)}` : `${name}${flags}:accessor`;
	});
	return `${tag}{${keys.join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// Dates

const DATE_FIXED = [
	'2024-07-28', '2024-07-28T08:55', '2024-07-28 08:55', '2024-07-28t08:55', '2024-07-28T08:55:35', '2024-07-28 08:55:35',
	'2024-07-28T08:55:35Z', '2024-07-28T08:55:35z', '2024-07-28t08:55:35Z', '2024-07-28T08:55:35+00:00', '2024-07-28T08:55:35-00:00',
	'2024-07-28T08:55:35+0000', '2024-07-28T08:55:35+00', '2024-07-28T08:55:35+05:30', '2024-07-28T08:55:35-0800', '2024-07-28T08:55:35+02',
	'2024-07-28T08:55:35+24:00', '2024-07-28T08:55:35+23:60', '2024-07-28T08:55:35+23:59', '2024-07-28T08:55:35.874555',
	'2024-07-28T08:55:35,874555', '2024-07-28 08:55:35.874555Z', '2024-07-28T08:55:35.1Z', '2024-07-28T08:55:35.123456789Z',
	'2024-07-28T08:55:35.1234567890Z', '2024-07-28T08:55:35.Z', '2024-07-28T08:55:35.999999999+05:30', '2024-02-29', '2023-02-29',
	'1900-02-29', '2000-02-29', '2024-02-30', '2024-04-31', '2024-13-01', '2024-00-10', '2024-01-00', '2024-01-32',
	'2024-01-01T24:00:00', '2024-01-01T23:60:00', '2024-01-01T23:59:60', '2024-01-01T23:59:59', '1899-12-31T23:59:59Z',
	'1900-01-01T00:00:00Z', '1900-01-01T00:00:00+01:00', '9999-12-31T23:59:59Z', '9999-12-31T23:59:59-01:00', '10000-01-01',
	'2025-01-15T12:00:00Z', '2025-01-15T12:00:00.001Z', '2025-01-15T12:00:00.0001Z', '2025-01-15T13:00:00+01:00', '2025-01-16',
	' 2024-07-28T08:55:35Z', '2024-07-28T08:55:35Z ', '\t2024-07-28 08:55:35\n', '\u00a02024-07-28', '\ufeff2024-07-28', ' ', '',
	'2024/07/28', '2024/7/8', '2024/07/28 08:55', '2024/07/28 08:55:35', '2024/07/28T08:55:35.5', '2024/02/30',
	'28/07/2024', '07-28-2024', '1.2.2024', '1722156935', '1722156935000', '-5', '.5', '+1e3', '1e10',
	'Mon, 01 Jan 2024 10:00:00 GMT', 'Tue, 01 Jan 2024 10:00:00 GMT', '1 Jan 2024 10:00 +0100', '01 Jan 2024 10:00:00 EST',
	'01 Jan 2024 10:00:00 CET', '01 Foo 2024 10:00:00 GMT', '1 Jan 2024 10:00 +2400', 'Mon Jan  1 10:00:00 2024', 'Mon Jan 1 10:00:00 2024',
	'Mon Jan 01 2024 10:00:00 GMT+0100 (Central European Standard Time)', 'Mon Jan 01 2024 10:00:00 GMT+2500', 'yesterday',
	'2024-03-31T02:30:00', '2024-03-31 02:30:00', '2024-03-31T02:30:00Z', '2024-10-27T02:30:00', '2024-10-27 02:30:00',
	'2024-03-10T02:30:00', '2024-11-03T01:30:00', '2018-11-04', '2018-11-04T00:30:00', '2018-11-04T01:00:00', '2024-7-28',
	'2024-07-28T8:55', '2024-07-28T08:5', '2024-07-28T08:55:3', '2024-07-28T08:55:35+5', '2024-07-28T08:55:35+05:3',
	'2024-07-28T08:55:35+05:300', '2024-07-28T08:55:35ZZ', '2024-07-28T08:55:35 Z', '2024-07-28_08:55:35', '２０２４-07-28',
	'0000-01-01', '0999-01-01T00:00:00Z', `2024-07-28T08:55:35${'0'.repeat(120)}`,
];

const DATE_PARTS = {
	year: ['1899', '1900', '1969', '1970', '2000', '2023', '2024', '2100', '9999'],
	month: ['00', '01', '02', '03', '04', '06', '09', '10', '11', '12', '13'],
	day: ['00', '01', '15', '28', '29', '30', '31', '32'],
	sep: ['T', 'T', 'T', ' ', ' ', 't', '_', ''],
	hour: ['00', '01', '02', '03', '12', '23', '24', '1'],
	minute: ['00', '30', '59', '60'],
	second: ['', ':00', ':30', ':59', ':60', ':5'],
	fraction: ['', '', '.', '.1', '.12', '.123', '.1234', '.12345', '.123456', '.1234567', '.12345678', '.123456789', '.1234567890', ',5', ',123456'],
	offset: ['', '', 'Z', 'Z', 'z', '+00:00', '-00:00', '+0000', '+00', '+01:00', '-05:00', '+05:30', '+05:45', '-09:30', '+0530', '-08', '+14:00', '-12:00', '+23:59', '+24:00', '+01:60', '+1:00', 'GMT'],
	pad: ['', '', '', '', ' ', '\t', '\n', '\u00a0'],
};

export function dateCorpus(): unknown[] {
	const random = mulberry32(20240728);
	const values: unknown[] = [...DATE_FIXED];
	for (let i = 0; i < 6000; i++) {
		const p = DATE_PARTS;
		let text = `${pick(random, p.year)}-${pick(random, p.month)}-${pick(random, p.day)}`;
		const kind = random();
		if (kind > 0.1) {
			text += `${pick(random, p.sep)}${pick(random, p.hour)}:${pick(random, p.minute)}`;
			const second = pick(random, p.second);
			text += second;
			if (second !== '' || random() < 0.1) text += pick(random, p.fraction);
			text += pick(random, p.offset);
		} else if (kind > 0.05) text += pick(random, p.offset);
		if (random() < 0.1) text = pick(random, p.pad) + text;
		if (random() < 0.1) text += pick(random, p.pad);
		values.push(text);
	}
	// Canonical values around now and around DST changes, the common case of real files.
	for (let i = 0; i < 600; i++) {
		const ms = Date.UTC(2023, 0, 1) + Math.floor(random() * 800 * 86400) * 1000 + (random() < 0.5 ? Math.floor(random() * 1000) : 0);
		const iso = new Date(ms).toISOString();
		const micro = String(Math.floor(random() * 1e6)).padStart(6, '0');
		values.push(iso, iso.slice(0, 19), iso.slice(0, 19).replace('T', ' '), `${iso.slice(0, 19).replace('T', ' ')}.${micro}`, `${iso.slice(0, 19)}.${micro}Z`, `${iso.slice(0, 19)}+02:00`, iso.slice(0, 10));
	}
	for (const zone of ['Europe/Paris', 'America/Sao_Paulo', 'America/New_York']) {
		for (const day of ['2018-11-04', '2024-03-10', '2024-03-31', '2024-10-27', '2024-11-03']) {
			for (const time of ['00:00', '00:30', '01:00', '01:30', '02:00', '02:30', '02:59:59', '03:00']) values.push(`${day}T${time}`, `${day} ${time}:00`);
			values.push(DateTime.fromISO(`${day}T02:30`, { zone }));
		}
	}
	values.push(
		1722156935, 0, Number.NaN, null, undefined, true, {}, [], ['2024-07-28'], 10n,
		new Date(Date.UTC(2024, 6, 28, 8, 55, 35, 874)), new Date(Date.UTC(2024, 6, 28)), new Date(Number.NaN), new Date(Date.UTC(1800, 0, 1)), new Date(GOLDEN_NOW + 1),
		DateTime.fromISO('2024-07-28T08:55:35.874+05:30', { setZone: true }), DateTime.fromISO('2024-07-28T08:55:35', { zone: 'Europe/Paris' }), DateTime.invalid('golden'),
		{ isLuxonDateTime: true, isValid: true, invalidReason: null, offset: 90, toMillis: () => Date.UTC(2024, 0, 1) },
	);
	return values;
}

export const DATE_SETTINGS: Array<{ timezone: string; output: DateOutputForm; allowFuture: boolean; minYear?: number }> = [];
for (const output of ['rfc3339', 'iso8601', 'ayona'] as const) {
	for (const timezone of ['UTC', 'Europe/Paris', 'America/Sao_Paulo', 'Asia/Kolkata', 'UTC+2']) {
		DATE_SETTINGS.push({ output, timezone, allowFuture: true });
	}
	DATE_SETTINGS.push({ output, timezone: 'UTC', allowFuture: false });
	DATE_SETTINGS.push({ output, timezone: 'Europe/Paris', allowFuture: false, minYear: 1970 });
}

export function dateResults(): string[] {
	const values = dateCorpus();
	const lines: string[] = [];
	for (const setting of DATE_SETTINGS) {
		const normalize = compileDateNormalizer({ ...setting, now: () => GOLDEN_NOW });
		for (const value of values) lines.push(`${serialize(value)} -> ${serialize(normalize(value))}`);
	}
	return lines;
}

// ---------------------------------------------------------------------------------------------
// Userpilot rows

const ABSENT = Symbol('absent');
const ROW_POOLS: Record<string, readonly unknown[]> = {
	event_type: ['identify_user', 'identify_user', 'identify_company', 'page_view', 'page_view', 'track', 'track', 'track', '', null, 5, 'Track', ABSENT],
	event_name: ['exported_report', 'created_project', '', ' ', null, 7, ABSENT, ABSENT],
	source: ['backend-http-import', 'backend-http', 'web-client', 'backend-segment', '', null, 'web', 3, ABSENT, ABSENT],
	user_id: ['user-00000001', 'u', '', '  ', '{{user_id}}', '{{ $json.id }}', 'null', 'user_id', 42, 1.5, -7, 2 ** 60, null, true, ABSENT],
	company_id: ['company-00001', '', ' ', 'undefined', 17, 1.25, null, {}, ABSENT, ABSENT, ABSENT],
	hostname: ['app.example.com', 'localhost:8080', 'https://app.example.com', 'a b', '', null, 5, ABSENT, ABSENT],
	pathname: ['/reports/1', '/', 'reports', '', null, [], ABSENT, ABSENT],
	url: ['https://app.example.com/home', 'http://x.io', 'ftp://x.io', 'app.example.com', '', null, 9, ABSENT, ABSENT, ABSENT],
	inserted_at: ['2023-01-01 00:00:00.000000', '2023-01-04 00:00:03', '2024-07-28T08:55:35.874555Z', '2024-07-28T08:55:35+02:00', '2024-07-28', '2024-02-30', '2030-01-01T00:00:00Z', '1722156935', '', ' 2024-07-28T08:55:35Z', 1722156935, null, new Date(Date.UTC(2024, 0, 1)), ABSENT],
	screen_width: ['', ' ', '1440', '1440.5', '-1', '1e3', 'wide', 1440, -1, 0, Number.NaN, Number.POSITIVE_INFINITY, null, ABSENT, ABSENT],
	screen_height: ['', '900', ' 900 ', '-0', 900, null, ABSENT, ABSENT, ABSENT],
	user_agent: ['Mozilla/5.0', '', null, 3, ABSENT, ABSENT],
	country_code: ['FR', 1, null, ABSENT, ABSENT],
	browser: ['Firefox', {}, ABSENT, ABSENT, ABSENT],
	metadata: [
		'{"plan":"pro","seats":3}', '{"format":"csv"}', '{}', ' {} ', '', '  ', '{bad', '[1,2]', '"x"', '{"__proto__":{"x":1}}',
		'{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":1}}}}}}}}}}}', { plan: 'pro' }, {}, [], null, 5, { n: 10n }, { f: Number.NaN }, ABSENT,
	],
	custom: ['x', 1, true, null, { a: { b: 1 } }, [1, [2]], 10n, () => 1, Symbol('s'), ABSENT, ABSENT, ABSENT, ABSENT],
};

export function rowCorpus(): unknown[] {
	const random = mulberry32(1440);
	const rows: unknown[] = [];
	const keys = Object.keys(ROW_POOLS);
	for (let i = 0; i < 4000; i++) {
		const order = [...keys];
		if (random() < 0.3) {
			for (let j = order.length - 1; j > 0; j--) {
				const k = Math.floor(random() * (j + 1));
				[order[j], order[k]] = [order[k], order[j]];
			}
		}
		const row: Record<string, unknown> = {};
		for (const key of order) {
			const value = pick(random, ROW_POOLS[key]);
			if (value !== ABSENT) row[key] = value;
		}
		rows.push(row);
	}
	// Rows as a CSV file gives them (every key, every value a string), the benchmark's shape.
	for (let i = 0; i < 400; i++) {
		const at = new Date(Date.UTC(2023, 0, 1) + i * 86_400_000 + i * 1000).toISOString();
		const micro = String(i * 7919 % 1_000_000).padStart(6, '0');
		rows.push(
			{ event_type: 'identify_user', event_name: '', source: 'backend-http-import', user_id: `user-${i}`, company_id: `company-${i % 50}`, hostname: '', pathname: '', inserted_at: `${at.slice(0, 19).replace('T', ' ')}.${micro}`, screen_width: '', metadata: `{"plan":"pro","seats":${i % 50}}` },
			{ event_type: 'track', event_name: 'exported_report', source: 'backend-http', user_id: `user-${i}`, company_id: '', hostname: '', pathname: '', inserted_at: at, screen_width: '', metadata: '{"format":"csv"}' },
			{ event_type: 'page_view', event_name: '', source: 'backend-http-import', user_id: `user-${i}`, company_id: '', hostname: 'app.example.com', pathname: `/reports/${i}`, inserted_at: `${at.slice(0, 19)}+01:00`, screen_width: '1440', metadata: '' },
			{ event_type: 'track', event_name: 'created_project', source: '', user_id: `user-${i}`, company_id: '', hostname: '', pathname: '', inserted_at: at.slice(0, 19), screen_width: '', metadata: '{}' },
			{ event_type: 'identify_company', event_name: '', source: '', user_id: '', company_id: `company-${i}`, hostname: '', pathname: '', inserted_at: at.slice(0, 10), screen_width: '', screen_height: '', metadata: '{"size":3}' },
		);
	}
	// Odd objects: a null prototype, an own __proto__ key, inherited keys, accessors, non-objects.
	const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { event_type: 'track', event_name: 'e', user_id: 'u', inserted_at: '2024-01-01T00:00:00Z', screen_width: '' });
	const inherited = Object.assign(Object.create({ user_id: 'inherited', source: 'web-client' }) as Record<string, unknown>, { event_type: 'track', event_name: 'e', inserted_at: '2024-01-01T00:00:00Z' });
	const accessor = { event_type: 'track', event_name: 'e', user_id: 'u', inserted_at: '2024-01-01T00:00:00Z' };
	Object.defineProperty(accessor, 'screen_width', { get: () => '', enumerable: true });
	const hidden = { event_type: 'track', event_name: 'e', user_id: 'u', inserted_at: '2024-01-01T00:00:00Z' };
	Object.defineProperty(hidden, 'screen_height', { value: '', enumerable: false });
	const symbolKey = { event_type: 'track', event_name: 'e', user_id: 'u', inserted_at: '2024-01-01 00:00:00', screen_width: '', [Symbol.for('golden')]: 1 };
	rows.push(
		{ event_type: 'track', event_name: 'e', source: 'backend-http', user_id: 'u', inserted_at: '2024-01-01T00:00:00Z', metadata: { a: 1 } },
		{ event_type: 'page_view', source: 'backend-http', user_id: 'u', hostname: 'h.io', pathname: '/', inserted_at: '2024-01-01 00:00:00.5+00:00', screen_width: 3, metadata: {} },
		{ event_type: 'identify_company', source: 'backend-http', company_id: 'c', inserted_at: '2024-01-01T00:00:00.123456Z', metadata: {} },
		nullProto, inherited, accessor, hidden, symbolKey,
		JSON.parse('{"event_type":"track","__proto__":{"x":1},"event_name":"e","user_id":"u","screen_width":"","inserted_at":"2024-01-01 00:00:00","metadata":"{}"}'),
		JSON.parse('{"0":"zero","event_type":"track","event_name":"e","user_id":"u","screen_height":"","inserted_at":"2024-01-01 00:00:00","10":"ten"}'),
		null, undefined, 'row', 5, [], [{ event_type: 'track' }], new Date(0),
	);
	return rows;
}

export const ROW_SETTINGS: Array<Partial<UserpilotValidatorOptions>> = [
	{ coerceStrings: true, defaultSource: 'backend-http-import' },
	{ coerceStrings: true },
	{ coerceStrings: false, defaultSource: 'backend-http-import' },
	{ coerceStrings: false },
	{ coerceStrings: true, defaultSource: 'backend-http', timezone: 'Europe/Paris', rejectFutureDates: true },
	{ coerceStrings: true, defaultSource: 'web-client', maxDepth: 3 },
];

export function rowResults(): string[] {
	const rows = rowCorpus();
	const lines: string[] = [];
	for (const setting of ROW_SETTINGS) {
		const validate = compileUserpilotValidator({ timezone: 'UTC', now: () => GOLDEN_NOW, ...setting });
		for (const row of rows) {
			const before = serialize(row);
			const result = validate(row);
			const same = result.ok && result.value === row;
			const after = serialize(row);
			lines.push(`${before} -> ${serialize(result)}${same ? ' (the row itself)' : ''}${after === before ? '' : ` (row changed to ${after})`}`);
		}
	}
	return lines;
}

export function digests(lines: readonly string[]): string[] {
	const out: string[] = [];
	for (let i = 0; i < lines.length; i += GROUP) {
		out.push(createHash('sha256').update(lines.slice(i, i + GROUP).join('\n')).digest('hex').slice(0, 16));
	}
	return out;
}
