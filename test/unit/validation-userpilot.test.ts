import assert from 'node:assert/strict';

import type { FieldError, Validation } from '../../core/validation/types';
import { MAX_ERRORS_PER_ITEM } from '../../core/validation/checks';
import {
	compileUserpilotValidator,
	USERPILOT_SOURCES,
	type UserpilotValidatorOptions,
} from '../../platforms/userpilot/rules';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

function validator(options: Partial<UserpilotValidatorOptions> = {}) {
	return compileUserpilotValidator({ timezone: 'UTC', now: () => NOW, defaultSource: 'backend-http-import', ...options });
}

const validate = validator();
const validateCsv = validator({ coerceStrings: true });

function errorsOf(result: Validation): FieldError[] {
	assert.equal(result.ok, false, result.ok ? `unexpectedly valid: ${JSON.stringify(result.value)}` : '');
	return (result as { errors: FieldError[] }).errors;
}

function valueOf(result: Validation): Record<string, unknown> {
	assert.equal(result.ok, true, result.ok ? '' : JSON.stringify((result as { errors: FieldError[] }).errors));
	return (result as { value: Record<string, unknown> }).value;
}

function hasError(result: Validation, field: string, reason: RegExp): void {
	const errors = errorsOf(result);
	const found = errors.find((error) => error.field === field);
	assert.ok(found, `no error on ${field}; got ${JSON.stringify(errors)}`);
	assert.match(found.reason, reason);
}

function noErrorOn(result: Validation, field: string): void {
	if (!result.ok) assert.equal(result.errors.find((error) => error.field === field), undefined, JSON.stringify(result.errors));
}

// The seed page's NDJSON example (it carries no source).
const seedIdentifyUser = () => ({
	event_type: 'identify_user',
	user_id: 'user_123',
	inserted_at: '2024-07-28T08:55:35.874555',
	metadata: { name: 'John Doe', email: 'john.doe@example.com', location: 'Dublin, Ireland' },
	user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36',
});
const seedIdentifyCompany = () => ({
	event_type: 'identify_company',
	company_id: 'company_123',
	inserted_at: '2024-07-28T08:55:35.874555',
	metadata: { name: 'Acme Labs Inc.', industry: 'Software', size: '200-500', location: 'San Francisco, CA' },
});
// The seed page's CSV example, as a CSV reader gives it (every value a string).
const seedCsvRow = () => ({
	event_type: 'identify_user',
	event_name: '',
	source: 'web-client',
	user_id: 'User-7320-001',
	company_id: 'Company-607-001',
	hostname: 'campfire-example.userpilot.io',
	pathname: '/profile/settings/',
	country_code: 'DE',
	screen_width: '1086',
	screen_height: '696',
	operating_system: 'Mac',
	browser: 'Edge',
	browser_language: 'de-DE',
	user_agent: 'Edge - Mozilla/5.0 (Mac) AppleWebKit/537.36',
	device_type: 'Mobile',
	inserted_at: '2023-12-26 14:36:15.453703',
	metadata: '{"created_at": "1694172975", "name": "User-Alice", "prop_0": "value_743", "prop_1": "value_927"}',
});
const track = (fields: Record<string, unknown> = {}) => ({
	event_type: 'track',
	event_name: 'created_project',
	user_id: 'u1',
	source: 'backend-http',
	inserted_at: '2024-05-05 14:36:15.453813',
	metadata: {},
	...fields,
});
const pageView = (fields: Record<string, unknown> = {}) => ({
	event_type: 'page_view',
	user_id: 'u1',
	source: 'backend-http',
	hostname: 'app.example.com',
	pathname: '/home/',
	inserted_at: '2024-04-13 14:36:15.453788',
	metadata: {},
	...fields,
});

describe('userpilot: the seed examples', () => {
	test('NDJSON identify_user: source filled from the default, the rest byte-identical', () => {
		const row = seedIdentifyUser();
		const out = valueOf(validate(row));
		assert.equal(out.source, 'backend-http-import');
		assert.equal(out.inserted_at, '2024-07-28T08:55:35.874555');
		assert.equal(out.metadata, row.metadata);
		assert.deepEqual(Object.keys(out), [...Object.keys(row), 'source']);
		assert.equal('source' in row, false, 'the input is not mutated');
	});

	test('NDJSON identify_company', () => {
		const out = valueOf(validate(seedIdentifyCompany()));
		assert.deepEqual(out, { ...seedIdentifyCompany(), source: 'backend-http-import' });
	});

	test('CSV row: metadata parsed, numbers converted, microseconds kept', () => {
		const out = valueOf(validateCsv(seedCsvRow()));
		assert.deepEqual(out.metadata, { created_at: '1694172975', name: 'User-Alice', prop_0: 'value_743', prop_1: 'value_927' });
		assert.equal(out.screen_width, 1086);
		assert.equal(out.screen_height, 696);
		assert.equal(out.inserted_at, '2023-12-26 14:36:15.453703');
		assert.deepEqual(Object.keys(out), Object.keys(seedCsvRow()));
	});

	test('a complete row is returned as the same object', () => {
		const row = track();
		assert.equal(valueOf(validate(row)), row);
	});
});

describe('userpilot: event types and required fields', () => {
	test('event_type', () => {
		const row: Record<string, unknown> = track();
		delete row.event_type;
		hasError(validate(row), 'event_type', /^is required: one of identify_user, identify_company, page_view, track/);
		hasError(validate(track({ event_type: 'identify' })), 'event_type', /"identify" is not a Userpilot event type/);
		hasError(validate(track({ event_type: 1 })), 'event_type', /^expected a string, got number 1/);
	});

	test('user_id for identify_user, page_view and track', () => {
		for (const row of [seedIdentifyUser(), pageView(), track()] as Array<Record<string, unknown>>) {
			const missing = { ...row };
			delete missing.user_id;
			hasError(validate(missing), 'user_id', new RegExp(`^is required for a ${row.event_type} row`));
			hasError(validate({ ...row, user_id: '' }), 'user_id', /^is required \(got an empty string\)/);
			hasError(validate({ ...row, user_id: null }), 'user_id', /got null/);
			hasError(validate({ ...row, user_id: 4.2 }), 'user_id', /^expected a string, got number 4\.2/);
			assert.equal(valueOf(validate({ ...row, user_id: 42 })).user_id, '42');
			// No Userpilot page names placeholders: such an id is sent, with a warning.
			for (const id of ['{{ $json.id }}', 'none', 'user_id']) {
				const result = validate({ ...row, user_id: id });
				assert.equal(valueOf(result).user_id, id);
				assert.deepEqual((result as { warnings?: string[] }).warnings, [
					`field "user_id" "${id}" looks like a placeholder, not an id: sent as it is (check the mapping)`,
				]);
			}
		}
	});

	test('an inserted_at before 1900 is sent with a warning', () => {
		const result = validate(track({ inserted_at: '1850-07-28T08:55:35Z' }));
		assert.equal(valueOf(result).inserted_at, '1850-07-28T08:55:35Z');
		assert.match((result as { warnings?: string[] }).warnings?.[0] ?? '', /^field "inserted_at" is dated 1850, before 1900: sent as it is/);
		assert.equal((validate(track()) as { warnings?: string[] }).warnings, undefined);
	});

	test('company_id for identify_company', () => {
		const row: Record<string, unknown> = seedIdentifyCompany();
		delete row.company_id;
		hasError(validate(row), 'company_id', /^is required for an identify_company row/);
		hasError(validate({ ...seedIdentifyCompany(), company_id: 7.5 }), 'company_id', /^expected a string, got number 7\.5/);
		assert.equal(valueOf(validate({ ...seedIdentifyCompany(), company_id: 7 })).company_id, '7');
	});

	test('event_name for track', () => {
		hasError(validate(track({ event_name: '' })), 'event_name', /^is required for a track row/);
		hasError(validate(track({ event_name: undefined })), 'event_name', /^is required for a track row/);
		hasError(validate(track({ event_name: 5 })), 'event_name', /^expected a string, got number 5/);
	});

	test('page_view needs hostname and pathname, or url', () => {
		hasError(validate(pageView({ pathname: undefined })), 'pathname', /^is required for a page_view row \(or give "url"\)/);
		const result = validate(pageView({ hostname: undefined, pathname: undefined }));
		hasError(result, 'hostname', /is required/);
		hasError(result, 'pathname', /is required/);
		valueOf(validate(pageView({ hostname: undefined, pathname: undefined, url: 'https://app.example.com/home/' })));
	});

	test('url, hostname and pathname shapes', () => {
		// No page states these forms: an odd one is sent, with a warning.
		const warned = (row: Record<string, unknown>) => (validate(row) as { warnings?: string[] }).warnings ?? [];
		assert.deepEqual(warned(pageView({ url: 'app.example.com/home' })), ['field "url" "app.example.com/home" is not an http(s) URL: sent as it is (no page states its form)']);
		assert.match(warned(pageView({ hostname: 'https://app.example.com' }))[0], /^field "hostname" "https:\/\/app.example.com" is not a bare host name .*a full address goes in "url"\): sent as it is$/);
		assert.deepEqual(warned(pageView({ pathname: 'home' })), ['field "pathname" "home" does not start with "/": sent as it is']);
		assert.equal(valueOf(validate(pageView({ pathname: 'home' }))).pathname, 'home');
		valueOf(validate(pageView({ hostname: 'localhost:3000' })));
	});

	test('inserted_at', () => {
		hasError(validate(track({ inserted_at: undefined })), 'inserted_at', /^is required$/);
		hasError(validate(track({ inserted_at: '28/07/2024' })), 'inserted_at', /is ambiguous: day and month order unknown/);
		hasError(validate(track({ inserted_at: 1722156935 })), 'inserted_at', /^a number is not a date: write an ISO 8601 date-time/);
	});
});

describe('userpilot: source', () => {
	test('allowed values', () => {
		for (const source of USERPILOT_SOURCES) {
			const row = source === 'web-client' ? pageView({ source, user_agent: 'Mozilla/5.0' }) : track({ source });
			valueOf(validate(row));
		}
		hasError(validate(track({ source: 'backend' })), 'source', /"backend" is not a Userpilot source: expected one of web-client, backend-http/);
		hasError(validate(track({ source: 3 })), 'source', /expected a string/);
	});

	test('missing source: the default, or an error without one', () => {
		const bare = validator({ defaultSource: undefined });
		hasError(bare(track({ source: undefined })), 'source', /^is required: one of web-client/);
		assert.equal(valueOf(validate(track({ source: '' }))).source, 'backend-http-import');
		assert.equal(valueOf(validator({ defaultSource: 'backend-segment' })(track({ source: null }))).source, 'backend-segment');
	});

	test('a default that is not a Userpilot source is refused at compile time', () => {
		assert.throws(() => validator({ defaultSource: 'csv' }), /Unknown Userpilot source "csv"/);
	});

	test('web-client needs the page and the user agent', () => {
		const row = track({ source: 'web-client' });
		const result = validate(row);
		hasError(result, 'hostname', /^is required for source web-client \(or give "url"\)/);
		hasError(result, 'pathname', /^is required for source web-client/);
		hasError(result, 'user_agent', /^is required for source web-client/);
		valueOf(validate(track({ source: 'web-client', url: 'https://a.example/x', user_agent: 'UA' })));
		valueOf(validate(track({ source: 'web-client', hostname: 'a.example', pathname: '/x', user_agent: 'UA' })));
	});
});

describe('userpilot: metadata', () => {
	test('missing or null becomes {}', () => {
		const row: Record<string, unknown> = track();
		delete row.metadata;
		assert.deepEqual(valueOf(validate(row)).metadata, {});
		assert.deepEqual(valueOf(validate(track({ metadata: null }))).metadata, {});
	});

	test('must be an object', () => {
		hasError(validate(track({ metadata: [] })), 'metadata', /^expected an object, got an empty array/);
		hasError(validate(track({ metadata: 'x' })), 'metadata', /^expected an object, got string "x" \(a CSV column holding JSON/);
		hasError(validate(track({ metadata: 5 })), 'metadata', /got number 5/);
	});

	test('CSV: a JSON object in the column is parsed; anything else names the column', () => {
		assert.deepEqual(valueOf(validateCsv(track({ metadata: ' {"plan":"pro","seats":3} ' }))).metadata, { plan: 'pro', seats: 3 });
		assert.deepEqual(valueOf(validateCsv(track({ metadata: '' }))).metadata, {});
		hasError(validateCsv(track({ metadata: 'plan=pro' })), 'metadata', /^column "metadata" must hold a JSON object such as \{"plan":"pro"\}, got string "plan=pro"/);
		hasError(validateCsv(track({ metadata: '[1,2]' })), 'metadata', /^column "metadata" must hold a JSON object/);
		hasError(validateCsv(track({ metadata: '{"a":}' })), 'metadata', /^column "metadata" is not valid JSON/);
	});

	test('nesting limit and JSON values', () => {
		let deep: Record<string, unknown> = { x: 1 };
		for (let i = 0; i < 10; i++) deep = { deep };
		// No page limits the depth: a deep (finite) metadata is sent.
		assert.equal(valueOf(validate(track({ metadata: deep }))).metadata, deep);
		const cyclic: Record<string, unknown> = {};
		cyclic.me = cyclic;
		hasError(validate(track({ metadata: cyclic })), 'metadata', /refers to itself/);
		hasError(validate(track({ metadata: { n: 1n } })), 'metadata.n', /bigint/);
		hasError(validate(track({ metadata: { n: Number.POSITIVE_INFINITY } })), 'metadata.n', /Infinity, which JSON cannot represent/);
		valueOf(validator({ maxDepth: 3 })(track({ metadata: { a: { b: 1 } } })));
		valueOf(validator({ maxDepth: 3 })(track({ metadata: { a: { b: { c: 1 } } } })));
		valueOf(validator({ maxDepth: 3 })(track({ metadata: { a: { b: { c: {} } } } })));
	});
});

describe('userpilot: numbers, strings and identify_company', () => {
	test('screen sizes are numbers', () => {
		valueOf(validate(track({ screen_width: 1086, screen_height: 696.5 })));
		hasError(validate(track({ screen_width: '1086' })), 'screen_width', /^expected a number \(pixels\), got string "1086"/);
		const negative = validate(track({ screen_height: -1 }));
		assert.equal(valueOf(negative).screen_height, -1);
		assert.deepEqual((negative as { warnings?: string[] }).warnings, ['field "screen_height" is -1, below 0: sent as it is']);
		assert.equal(valueOf(validateCsv(track({ screen_width: '-5' }))).screen_width, -5);
		hasError(validateCsv(track({ screen_width: 'wide' })), 'screen_width', /got string "wide"/);
		const out = valueOf(validateCsv(track({ screen_width: '', screen_height: '800' })));
		assert.equal('screen_width' in out, false, 'an empty CSV cell is removed');
		assert.equal(out.screen_height, 800);
	});

	test('optional strings must be strings', () => {
		hasError(validate(track({ country_code: 49 })), 'country_code', /^expected a string, got number 49/);
		hasError(validate(track({ browser: {} })), 'browser', /got an object/);
		valueOf(validate(track({ browser: null, device_type: '' })));
	});

	test('identify_company keeps only the keys the platform processes, in order', () => {
		const row = { inserted_at: '2024-07-28T08:55:35.874555', user_id: 'u1', event_type: 'identify_company', hostname: 'x', company_id: 'c1', browser: 7, metadata: { a: 1 }, source: 'backend-http' };
		const result = validate(row);
		const out = valueOf(result);
		assert.deepEqual(Object.keys(out), ['inserted_at', 'event_type', 'company_id', 'metadata', 'source']);
		assert.equal(out.metadata, row.metadata);
		assert.deepEqual((result as { warnings?: string[] }).warnings, [
			'field "user_id" is not taken by Userpilot for identify_company: not sent',
			'field "hostname" is not taken by Userpilot for identify_company: not sent',
			'field "browser" is not taken by Userpilot for identify_company: not sent',
		]);
	});

	test('other event types keep unknown keys', () => {
		const out = valueOf(validate(track({ custom: 'kept' })));
		assert.equal(out.custom, 'kept');
		hasError(validate(track({ custom: 5n })), 'custom', /which JSON cannot represent/);
	});
});

describe('userpilot: dates, determinism, robustness', () => {
	test('inserted_at is normalized to UTC; UTC input in Userpilot form is kept', () => {
		const paris = validator({ timezone: 'Europe/Paris' });
		assert.equal(valueOf(paris(track({ inserted_at: '2024-07-28 08:55:35.874555' }))).inserted_at, '2024-07-28T06:55:35.874555Z');
		assert.equal(valueOf(paris(track({ inserted_at: '2024-07-28T08:55:35.874555Z' }))).inserted_at, '2024-07-28T08:55:35.874555Z');
		assert.equal(valueOf(validate(track({ inserted_at: '2024-07-28' }))).inserted_at, '2024-07-28T00:00:00Z');
		assert.equal(valueOf(validate(track({ inserted_at: new Date(Date.UTC(2024, 6, 28, 8)) }))).inserted_at, '2024-07-28T08:00:00Z');
	});

	test('future dates: accepted, unless rejectFutureDates', () => {
		valueOf(validate(track({ inserted_at: '2030-01-01 00:00:00' })));
		hasError(
			validator({ rejectFutureDates: true })(track({ inserted_at: '2030-01-01 00:00:00' })),
			'inserted_at',
			/"2030-01-01 00:00:00" is in the future \(now is 2025-01-15T12:00:00\.000Z\)/,
		);
	});

	test('deterministic, and a second pass changes nothing', () => {
		const paris = validator({ timezone: 'Europe/Paris', coerceStrings: true });
		const first = valueOf(paris(seedCsvRow()));
		assert.deepEqual(valueOf(paris(seedCsvRow())), first);
		assert.deepEqual(valueOf(paris(first)), first);
	});

	test('every error of a row, at most 20', () => {
		const row = { event_type: 'page_view', source: 'web-client', user_id: 1.5, inserted_at: 'x', metadata: [], url: 'x', screen_width: 'a', screen_height: 'b', country_code: 1, operating_system: 1, browser: 1, browser_language: 1, device_type: 1, company_id: 1.5 };
		const errors = errorsOf(validate(row));
		assert.ok(errors.length >= 12 && errors.length <= MAX_ERRORS_PER_ITEM, String(errors.length));
		noErrorOn(validate(track()), 'user_id');
	});

	test('never throws on hostile input', () => {
		const throwing = new Proxy({}, {
			get() {
				throw new Error('boom');
			},
		});
		const odd: unknown[] = [null, undefined, '', ' ', 0, -1, NaN, true, 'x'.repeat(10000), [], {}, 10n, Symbol('s'), () => 1, throwing, '{"a":', '{'.repeat(5000) + '}'.repeat(5000)];
		const values: unknown[] = [...odd];
		for (const row of [seedIdentifyUser(), seedIdentifyCompany(), seedCsvRow(), track(), pageView()] as Array<Record<string, unknown>>) {
			for (const key of [...Object.keys(row), 'url', 'source', 'extra']) {
				for (const value of odd) values.push({ ...row, [key]: value });
			}
		}
		for (const v of [validate, validateCsv, validator({ defaultSource: undefined, timezone: 'Asia/Tokyo' })]) {
			for (const value of values) {
				const result = v(value);
				assert.equal(typeof result.ok, 'boolean');
				if (!result.ok) assert.ok(result.errors.length > 0 && result.errors.length <= MAX_ERRORS_PER_ITEM);
			}
		}
	});
});
