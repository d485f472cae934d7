import assert from 'node:assert/strict';

import {
	checkNesting,
	describeValue,
	expectedGot,
	ErrorList,
	isBlank,
	isE164,
	isEmail,
	isHttpUrl,
	parseBooleanString,
	parseIntegerString,
	parseNumberString,
	placeholderReason,
	quote,
} from '../../core/validation/checks';
import { formatFieldError, formatItemErrors, summarizeInvalid } from '../../core/validation/format';
import * as api from '../../core/validation';
import { earlyDateReason } from '../../core/validation/warnings';

describe('format: messages for users', () => {
	const errors = [
		{ field: 'user.created_at', reason: '"x" is not a date' },
		{ field: 'user.external_id', reason: 'is required' },
	];

	test('formatItemErrors: 1-based number, every field and reason', () => {
		assert.equal(
			formatItemErrors('item', 3, errors),
			'Item 3: field "user.created_at": "x" is not a date; field "user.external_id": is required',
		);
		assert.equal(formatItemErrors('row', 1, [errors[1]]), 'Row 1: field "user.external_id": is required');
		assert.equal(formatItemErrors('item', 2, [{ field: '(item)', reason: 'expected an object, got null' }]), 'Item 2: expected an object, got null');
		assert.equal(formatItemErrors('item', 2, []), 'Item 2: invalid');
		assert.equal(formatFieldError(errors[1]), 'field "user.external_id": is required');
	});

	test('summarizeInvalid: the total and the first N', () => {
		const list = [3, 7, 9, 12].map((number) => ({ number, errors: [errors[1]] }));
		assert.equal(
			summarizeInvalid(list, 2),
			'4 items are invalid; the first 2:\nItem 3: field "user.external_id": is required\nItem 7: field "user.external_id": is required\n(2 more not shown)',
		);
		assert.equal(summarizeInvalid(list.slice(0, 1), 5, 'row'), '1 row is invalid:\nRow 3: field "user.external_id": is required');
		assert.equal(summarizeInvalid(list, 10).split('\n').length, 5);
		assert.equal(summarizeInvalid([], 3), 'No items are invalid.');
		assert.equal(summarizeInvalid(list, 0).split('\n').length, 3, 'at least one is shown');
	});
});

describe('checks: shared helpers', () => {
	test('describeValue / expectedGot name the received type', () => {
		assert.equal(expectedGot('a string', 42), 'expected a string, got number 42');
		assert.equal(describeValue('abc'), 'string "abc"');
		assert.equal(describeValue(''), 'an empty string');
		assert.equal(describeValue(null), 'null');
		assert.equal(describeValue(undefined), 'nothing');
		assert.equal(describeValue([1, 2]), 'an array of 2');
		assert.equal(describeValue({}), 'an object');
		assert.equal(describeValue(new Date(0)), 'a Date');
		assert.equal(describeValue(false), 'boolean false');
		assert.equal(describeValue(() => 1), 'a function');
		assert.equal(describeValue('x'.repeat(100)), `string "${'x'.repeat(40)}…"`);
		assert.equal(quote('a"b'), '"a\\"b"');
	});

	test('placeholders', () => {
		for (const value of ['user_id', '{{user_id}}', '{{ anything }}', '={{ $json.id }}', '${id}', 'UserId', '[object Object]', '']) {
			assert.ok(placeholderReason(value), value);
		}
		for (const value of ['u-1', 'user_id_1', 'john@example.com', '{not a template}']) assert.equal(placeholderReason(value), undefined, value);
	});

	test('placeholders: the quick checks (a `{`, the length) give what the full checks give', () => {
		// The rules as they were before the quick checks.
		const TEMPLATE = /\{\{[\s\S]*\}\}|\$\{[\s\S]*\}/;
		const IDS = new Set(['id', 'userid', 'user_id', 'user_id()', '$user_id', '$userid', 'undefined', 'null', 'nan', '[object object]', 'none', 'nil']);
		const reference = (value: string): string | undefined => {
			const trimmed = value.trim();
			if (trimmed === '') return value === '' ? 'is required (got an empty string)' : 'is required (got only spaces)';
			if (TEMPLATE.test(trimmed)) return `${quote(value)} is an unresolved template, not an id: map the field to the real value`;
			if (trimmed.length <= 16 && IDS.has(trimmed.toLowerCase())) return `${quote(value)} is a placeholder, not an id: map the field to the real value`;
			return undefined;
		};
		const bases = [...IDS, 'ID', 'Id', 'USER_ID', 'NaN', 'NULL', 'None', 'NİL', 'nİl', 'İd', 'UNDEFİNED', '\u212Aid', 'user-00000001', '{{x}}', '{{', '}}', '${', '${x}', '$ {x}', '{ {x} }', 'a{{b}}c', 'x${y}z', '{}', '{"a":1}', '', ' ', '\t', 'i', 'idx', 'nul', 'nill', '[object Object]', '[object  object]'];
		let placeholders = 0;
		for (const base of bases) {
			for (const value of [base, ` ${base}`, `${base} `, `\u00a0${base}\n`, base.toUpperCase(), `${base}s`]) {
				const expected = reference(value);
				if (expected !== undefined) placeholders++;
				assert.equal(placeholderReason(value), expected, JSON.stringify(value));
			}
		}
		assert.ok(placeholders > 60, String(placeholders));
	});

	test('string shapes', () => {
		assert.ok(isEmail('a@b.co') && !isEmail('a@b') && !isEmail(`${'a'.repeat(250)}@b.co`));
		assert.ok(isE164('+33612345678') && !isE164('+33 6'));
		assert.ok(isHttpUrl('https://a.b/c?d#e') && !isHttpUrl('javascript:alert(1)') && !isHttpUrl('https://a b'));
		assert.ok(isBlank(' \t\n\u00a0') && !isBlank(' a'));
		assert.equal(parseIntegerString(' 42 '), 42);
		assert.equal(parseIntegerString('4.2'), undefined);
		assert.equal(parseIntegerString('99999999999999999999'), undefined);
		assert.equal(parseNumberString('-4.5e2'), -450);
		assert.equal(parseNumberString('1,5'), undefined);
		assert.equal(parseBooleanString('FALSE'), false);
		assert.equal(parseBooleanString('1'), undefined);
	});

	test('checkNesting', () => {
		assert.equal(checkNesting({ a: [{ b: 'c' }] }, 'metadata'), undefined);
		assert.equal(checkNesting('x', 'metadata'), undefined);
		let deep: unknown = 1;
		for (let i = 0; i < 10; i++) deep = [deep];
		assert.equal(checkNesting(deep, 'm'), undefined, 'exactly 10 levels pass');
		const over = checkNesting([deep], 'm');
		assert.equal(over?.field, 'm');
		assert.match(over?.reason ?? '', /^is nested more than 10 levels deep/);
		assert.deepEqual(checkNesting({ a: { b: [1, Symbol('x')] } }, 'm'), {
			field: 'm.a.b[1]',
			reason: 'holds a symbol, which JSON cannot represent',
		});
		// A graph that shares its children is bounded by the count of values visited.
		let shared: Record<string, unknown> = {};
		for (let i = 0; i < 9; i++) {
			const next: Record<string, unknown> = {};
			for (let k = 0; k < 20; k++) next[`k${k}`] = shared;
			shared = next;
		}
		assert.match(checkNesting(shared, 'm')?.reason ?? '', /more than 100000 nested values/);
	});

	test('ErrorList caps at 20 and says how many more', () => {
		const list = new ErrorList();
		for (let i = 0; i < 25; i++) list.add(`f${i}`, 'bad');
		assert.equal(list.count, 25);
		const taken = list.take();
		assert.equal(taken.length, 20);
		assert.deepEqual(taken[19], { field: '(item)', reason: '6 more errors not shown (at most 20 per item)' });
		assert.equal(list.empty, true, 'take() resets the list');
	});

	test('the index re-exports the public API', () => {
		assert.equal(typeof api.compileDateNormalizer, 'function');
		assert.equal(typeof api.formatItemErrors, 'function');
		assert.equal(typeof api.summarizeInvalid, 'function');
		assert.equal(api.MAX_ERRORS_PER_ITEM, 20);
	});
});

test('a date written before 1900 gets its warning; from 1900 on, none', () => {
	const early = (written: string) => earlyDateReason(written, 'Rimdian');
	assert.match(early('0099-01-01T00:00:00Z') ?? '', /^is dated 0099, before 1900: sent as it is/);
	assert.match(early('1899-12-31T23:59:59+01:00') ?? '', /^is dated 1899, before 1900/);
	assert.equal(early('1900-01-01T00:00:00Z'), undefined);
	assert.equal(early('2024-02-29 10:00:00'), undefined);
	// Not four digits: read as a number, as before (a sign, a short text).
	assert.match(early('-099-01-01') ?? '', /^is dated -099, before 1900/);
	assert.equal(early('abcd'), undefined);
});
