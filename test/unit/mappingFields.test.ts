/**
 * The fields "Map Each Field Manually" lists come from each platform's rules: an item holding
 * none of them must be refused for exactly the fields the list marks required. A rule changed on
 * one side only fails here.
 */
import assert from 'node:assert/strict';

import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { Platform, PlatformItemOptions } from '../../core/platform';
import { ayona } from '../../platforms/ayona';
import { rimdian } from '../../platforms/rimdian';
import { RIMDIAN_KINDS } from '../../platforms/rimdian/rules';
import { userpilot } from '../../platforms/userpilot';
import { USERPILOT_EVENT_TYPES } from '../../platforms/userpilot/rules';
import { convertedValue, fieldMapOf, mappedRecord } from '../../nodes/ImportItems/mapping';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

/** The fields the validator refuses in an item mapped with nothing: only the objects dotted ids need. */
function refusedWhenEmpty(platform: Platform, options: PlatformItemOptions): string[] {
	const record: IDataObject = {};
	for (const field of platform.mappingFields(options)) {
		const dot = field.id.lastIndexOf('.');
		if (dot > 0 && field.required) record[field.id.slice(0, dot)] = {};
	}
	const result = platform.compileValidator({ ...options, now: () => NOW })(
		platform.mapItem(record, options),
	);
	assert.equal(result.ok, false);
	return result.ok ? [] : result.errors.map((error) => error.field).sort();
}

/** Where a listed field ends up in the item the validator sees. */
type ItemPath = (id: string) => string;

function requiredPaths(platform: Platform, options: PlatformItemOptions, at: ItemPath): string[] {
	return platform
		.mappingFields(options)
		.filter((field) => field.required)
		.map((field) => at(field.id))
		.sort();
}

describe('mapping fields: required marks match the validators', () => {
	const base = { timezone: 'UTC' };

	it.each(RIMDIAN_KINDS.map((kind) => [kind]))('Rimdian kind %s', (kind) => {
		const options = { ...base, rimdianKind: kind };
		// The kind's own fields go in the kind's object; dotted ones are the context objects.
		const at = (id: string) => (id.includes('.') ? id : `${kind}.${id}`);
		expect(refusedWhenEmpty(rimdian, options)).toEqual(requiredPaths(rimdian, options, at));
	});

	it.each([...USERPILOT_EVENT_TYPES, ''].map((type) => [type]))(
		'Userpilot event type "%s", with and without a default source',
		(type) => {
			// page_view needs hostname and pathname, or url instead: no single field is required.
			const eitherOr = type === 'page_view' ? ['hostname', 'pathname'] : [];
			for (const defaultSource of ['backend-http-import', '']) {
				const options = {
					...base,
					defaultEventType: type || undefined,
					defaultSource: defaultSource || undefined,
				};
				const refused = refusedWhenEmpty(userpilot, options).filter(
					(field) => !eitherOr.includes(field),
				);
				expect(refused).toEqual(requiredPaths(userpilot, options, (id) => id));
			}
		},
	);

	it('Ayona: date and content', () => {
		expect(refusedWhenEmpty(ayona, base)).toEqual(requiredPaths(ayona, base, (id) => id));
		expect(ayona.mappingFields(base).map((field) => field.id)).toEqual(['date', 'name', 'content']);
	});
});

describe('mapping fields: lists', () => {
	it('change with the Rimdian kind, and list the user object only for kinds that need it', () => {
		const ids = (kind: string) =>
			rimdian.mappingFields({ timezone: 'UTC', rimdianKind: kind }).map((field) => field.id);
		expect(ids('user')).toContain('external_id');
		expect(ids('user').some((id) => id.startsWith('user.'))).toBe(false);
		expect(ids('order')).toEqual(expect.arrayContaining(['total_price', 'user.external_id']));
		expect(ids('pageview')).toContain('session.external_id');
		expect(ids('user_alias').some((id) => id.startsWith('user.'))).toBe(false);
	});

	it('give each field a type, and options to enumerated ones', () => {
		const order = rimdian.mappingFields({ timezone: 'UTC', rimdianKind: 'order' });
		const byId = new Map(order.map((field) => [field.id, field]));
		expect(byId.get('created_at')?.type).toBe('dateTime');
		expect(byId.get('total_price')?.type).toBe('number');
		expect(byId.get('user.is_authenticated')?.type).toBe('boolean');
		expect(byId.get('items')?.type).toBe('array');
		expect(byId.get('user.gender')).toMatchObject({ type: 'options', options: ['male', 'female'] });
		const track = userpilot.mappingFields({ timezone: 'UTC', defaultEventType: 'track' });
		expect(track.find((field) => field.id === 'event_type')).toBeUndefined();
		expect(track.find((field) => field.id === 'metadata')?.type).toBe('object');
	});
});

describe('mapped values: text converted only when nothing is lost', () => {
	const number = { id: 'n', required: false, type: 'number' as const };
	const boolean = { id: 'b', required: false, type: 'boolean' as const };
	const text = { id: 't', required: false, type: 'string' as const };

	it.each([
		[number, '1200', 1200],
		[number, '12.5', 12.5],
		[number, '0012', '0012'],
		[number, '1e3', '1e3'],
		[number, ' 5', ' 5'],
		[number, '', ''],
		[boolean, 'true', true],
		[boolean, 'false', false],
		[boolean, 'yes', 'yes'],
		[text, '42', '42'],
		[undefined, '42', '42'],
	])('%o %o → %o', (field, value, expected) => {
		expect(convertedValue(field, value)).toEqual(expected);
	});
});

describe('mapped records', () => {
	const fields = fieldMapOf(rimdian.mappingFields({ timezone: 'UTC', rimdianKind: 'order' }));
	/** Only what mappedRecord reads of n8n's context: the mapper's two parameters. */
	function context(mappingMode: string, value: IDataObject | null) {
		const parameters: Record<string, unknown> = { 'columns.mappingMode': mappingMode, 'columns.value': value };
		return { getNodeParameter: (name: string) => parameters[name] } as unknown as IExecuteFunctions;
	}

	it('fields below: dotted ids nest, empty ones are left out, number text becomes a number', () => {
		const value = { external_id: 'o-1', total_price: '1200', 'user.external_id': 'u-1', 'user.email': '', currency: null };
		expect(mappedRecord(context('defineBelow', value), 0, {}, fields)).toEqual({
			external_id: 'o-1',
			total_price: 1200,
			user: { external_id: 'u-1' },
		});
		expect(mappedRecord(context('defineBelow', null), 0, {}, fields)).toEqual({});
	});

	it('map automatically: listed dotted names nest, every other field is kept, the input is not changed', () => {
		const json: IDataObject = { external_id: 'o-1', user: { is_authenticated: true }, 'user.external_id': 'u-1', 'odd.key': 1 };
		const before = JSON.stringify(json);
		expect(mappedRecord(context('autoMapInputData', null), 0, json, fields)).toEqual({
			external_id: 'o-1',
			user: { is_authenticated: true, external_id: 'u-1' },
			'odd.key': 1,
		});
		expect(JSON.stringify(json)).toBe(before);
	});
});
