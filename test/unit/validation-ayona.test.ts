import assert from 'node:assert/strict';

import type { FieldError, Validation } from '../../core/validation/types';
import { MAX_ERRORS_PER_ITEM } from '../../core/validation/checks';
import {
	AYONA_MAX_CONTENT_LENGTH,
	AYONA_MAX_NAME_LENGTH,
	compileAyonaValidator,
	type AyonaValidatorOptions,
} from '../../platforms/ayona/rules';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

function validator(options: Partial<AyonaValidatorOptions> = {}) {
	return compileAyonaValidator({ timezone: 'Europe/Paris', now: () => NOW, ...options });
}

const validate = validator();

function errorsOf(result: Validation): FieldError[] {
	assert.equal(result.ok, false, result.ok ? `unexpectedly valid: ${JSON.stringify(result.value)}` : '');
	return (result as { errors: FieldError[] }).errors;
}

function valueOf(result: Validation): Record<string, unknown> {
	assert.equal(result.ok, true, result.ok ? '' : JSON.stringify((result as { errors: FieldError[] }).errors));
	return (result as { value: Record<string, unknown> }).value;
}

function warningsOf(result: Validation): string[] {
	assert.equal(result.ok, true, result.ok ? '' : JSON.stringify((result as { errors: FieldError[] }).errors));
	const warnings = (result as { warnings?: string[] }).warnings;
	assert.ok(warnings, 'no warnings');
	return warnings;
}

function hasError(result: Validation, field: string, reason: RegExp): void {
	const errors = errorsOf(result);
	const found = errors.find((error) => error.field === field);
	assert.ok(found, `no error on ${field}; got ${JSON.stringify(errors)}`);
	assert.match(found.reason, reason);
}

const entry = (fields: Record<string, unknown> = {}) => ({
	date: '2024-03-08 00:29:00',
	name: 'User 1',
	content: 'Feedback 1',
	...fields,
});

describe('ayona: entries', () => {
	test('the seed example passes as the same object', () => {
		const item = entry();
		assert.equal(valueOf(validate(item)), item);
	});

	test('date is converted to YYYY-MM-DD HH:mm:ss in the zone', () => {
		assert.equal(valueOf(validate(entry({ date: '2024-03-08T00:29:00Z' }))).date, '2024-03-08 01:29:00');
		assert.equal(valueOf(validate(entry({ date: '2024-07-08T00:29:00.999+02:00' }))).date, '2024-07-08 00:29:00');
		assert.equal(valueOf(validate(entry({ date: '2024-03-08' }))).date, '2024-03-08 00:00:00');
		assert.equal(valueOf(validate(entry({ date: '2024-03-08T00:29' }))).date, '2024-03-08 00:29:00');
		assert.equal(valueOf(validate(entry({ date: new Date(Date.UTC(2024, 6, 1, 10)) }))).date, '2024-07-01 12:00:00');
		assert.equal(valueOf(validator({ timezone: 'UTC' })(entry({ date: 'Mon, 01 Jan 2024 10:00:00 GMT' }))).date, '2024-01-01 10:00:00');
		const out = valueOf(validate(entry({ date: '2024-03-08T00:29:00Z' })));
		assert.deepEqual(Object.keys(out), ['date', 'name', 'content']);
	});

	test('date errors name the value and the form', () => {
		hasError(validate(entry({ date: undefined })), 'date', /^is required$/);
		hasError(validate(entry({ date: null })), 'date', /^is required \(got null\)$/);
		hasError(validate(entry({ date: '08/03/2024 00:29' })), 'date', /^"08\/03\/2024 00:29" is ambiguous: day and month order unknown; use YYYY-MM-DD/);
		hasError(validate(entry({ date: 1709854140 })), 'date', /^a number is not a date: write a date-time such as 2024-01-31 10:00:00 \(YYYY-MM-DD HH:mm:ss\)/);
		hasError(validate(entry({ date: '2024-02-30 10:00:00' })), 'date', /2024-02 has 29 days/);
		hasError(validate(entry({ date: '2024-03-31 02:30:00' })), 'date', /does not exist in Europe\/Paris/);
	});

	test('future dates: accepted, unless rejectFutureDates', () => {
		valueOf(validate(entry({ date: '2030-01-01 00:00:00' })));
		hasError(validator({ rejectFutureDates: true })(entry({ date: '2030-01-01 00:00:00' })), 'date', /is in the future \(now is 2025-01-15T12:00:00\.000Z\)/);
	});

	test('name and content are strings; an anonymous entry (no name) is sent', () => {
		// The page types name and content as strings and says no more: empty is a string.
		for (const name of ['', ' ', undefined, null]) {
			const result = validate(entry({ name }));
			assert.deepEqual(valueOf(result).name, name ?? '');
			assert.equal(result.ok && result.warnings, undefined);
		}
		hasError(validate(entry({ content: undefined })), 'content', /^is required$/);
		hasError(validate(entry({ content: null })), 'content', /^is required \(got null\)$/);
		for (const content of ['', ' \n ']) {
			const result = validate(entry({ content }));
			assert.equal(valueOf(result).content, content);
			assert.deepEqual(warningsOf(result), ['field "content" is empty: sent as it is (an entry without feedback; check the mapping)']);
		}
		for (const field of ['name', 'content']) {
			hasError(validate(entry({ [field]: 42 })), field, /^expected a string, got number 42 \(convert it to text first\)$/);
			hasError(validate(entry({ [field]: true })), field, /^expected a string, got boolean true$/);
			hasError(validate(entry({ [field]: { text: 'x' } })), field, /^expected a string, got an object$/);
		}
	});

	test('with coerceStrings, finite numbers become their text', () => {
		const csv = validator({ coerceStrings: true });
		const out = valueOf(csv(entry({ name: 42, content: 4.5 })));
		assert.deepEqual(out, { date: '2024-03-08 00:29:00', name: '42', content: '4.5' });
		hasError(csv(entry({ name: Number.NaN })), 'name', /got number NaN/);
	});

	test('long texts are sent with a warning (Ayona publishes no limit)', () => {
		const atLimit = validate(entry({ name: 'n'.repeat(AYONA_MAX_NAME_LENGTH), content: 'c'.repeat(AYONA_MAX_CONTENT_LENGTH) }));
		assert.equal(atLimit.ok && atLimit.warnings, undefined);
		const long = validate(entry({ name: 'n'.repeat(AYONA_MAX_NAME_LENGTH + 1), content: 'c'.repeat(AYONA_MAX_CONTENT_LENGTH + 1) }));
		assert.equal(valueOf(long).name, 'n'.repeat(AYONA_MAX_NAME_LENGTH + 1));
		const said = warningsOf(long);
		assert.match(said[0], /^field "name" is 1001 characters long: sent as it is/);
		assert.match(said[1], /^field "content" is 100001 characters long: sent as it is/);
	});

	test('a date before 1900 is sent with a warning', () => {
		const result = validate(entry({ date: '1850-03-08 00:29:00' }));
		assert.equal(valueOf(result).date, '1850-03-08 00:29:00');
		assert.match(warningsOf(result)[0], /^field "date" is dated 1850, before 1900: sent as it is/);
	});

	test('other fields (a Google Sheet\'s row_number, …) are left out and named once', () => {
		const sheetRow = { row_number: 2, ...entry(), email: 'a@b.co' };
		const result = validate(sheetRow);
		assert.deepEqual(valueOf(result), entry());
		assert.deepEqual(Object.keys(valueOf(result)), ['date', 'name', 'content']);
		assert.deepEqual(warningsOf(result), [
			'field "row_number" is not an Ayona field: not sent',
			'field "email" is not an Ayona field: not sent',
		]);
		// Each item gets its own warnings, not the previous item's.
		assert.equal(validate(entry()).ok && (validate(entry()) as { warnings?: string[] }).warnings, undefined);
	});

	test('a mapping mistake shows both sides', () => {
		const result = validate({ date: '2024-03-08 00:29:00', name: 'x', text: 'Feedback' });
		hasError(result, 'content', /^is required \(the item's other fields are not Ayona's: text\)$/);
	});

	test('all errors at once', () => {
		const errors = errorsOf(validate({ date: 'x', name: 1, content: null }));
		assert.deepEqual(errors.map((error) => error.field), ['date', 'name', 'content']);
	});

	test('deterministic, and a second pass changes nothing', () => {
		const first = valueOf(validate(entry({ date: '2024-07-28T08:55:35.874555Z' })));
		assert.deepEqual(valueOf(validate(entry({ date: '2024-07-28T08:55:35.874555Z' }))), first);
		assert.equal(valueOf(validate(first)), first);
	});

	test('never throws on hostile input', () => {
		const cyclic: Record<string, unknown> = { date: '2024-01-01 00:00:00', name: 'a', content: 'b' };
		cyclic.self = cyclic;
		const throwing = new Proxy({}, {
			ownKeys() {
				throw new Error('boom');
			},
			get() {
				throw new Error('boom');
			},
		});
		const odd: unknown[] = [null, undefined, '', 0, NaN, -Infinity, true, [], {}, 10n, Symbol('s'), () => 1, cyclic, throwing, new Date(NaN), 'x'.repeat(200000)];
		const values: unknown[] = [...odd, Object.create(null), { __proto__: { date: 'x' } }];
		for (const key of ['date', 'name', 'content', 'extra', '__proto__', 'constructor']) {
			for (const value of odd) values.push(entry({ [key]: value }));
		}
		for (const v of [validate, validator({ coerceStrings: true, timezone: 'UTC' })]) {
			for (const value of values) {
				const result = v(value);
				assert.equal(typeof result.ok, 'boolean');
				if (!result.ok) assert.ok(result.errors.length > 0 && result.errors.length <= MAX_ERRORS_PER_ITEM);
			}
		}
	});
});
