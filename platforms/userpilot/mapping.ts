/**
 * The fields "Map Each Field Manually" lists for a Userpilot event type, from the same rules the
 * row validator checks (rules.ts): a field the validator requires of that type is required here.
 */
import type { MappingField, PlatformItemOptions } from '../../core/platform';

import { USERPILOT_EVENT_TYPES, USERPILOT_SOURCES } from './rules';

/** The ids each event type requires (rules.ts checkIdsAndName). */
const REQUIRED_OF_TYPE: Readonly<Record<string, readonly string[]>> = {
	identify_user: ['user_id'],
	identify_company: ['company_id'],
	page_view: ['user_id'],
	track: ['user_id', 'event_name'],
};

/** What a row of every type but identify_company may carry besides its ids. */
const PAGE_FIELDS: readonly MappingField[] = [
	...['url', 'hostname', 'pathname', 'country_code', 'operating_system', 'browser'].map(text),
	...['browser_language', 'user_agent', 'device_type'].map(text),
	{ id: 'screen_width', required: false, type: 'number' },
	{ id: 'screen_height', required: false, type: 'number' },
];

function text(id: string): MappingField {
	return { id, required: false, type: 'string' };
}

/**
 * With an event type chosen in the node, that type's fields (event_type comes from the node);
 * without, every field, and event_type required, since each row then names its own.
 */
export function userpilotMappingFields(options: PlatformItemOptions): MappingField[] {
	const type = options.defaultEventType || undefined;
	const required = new Set(type ? REQUIRED_OF_TYPE[type] : []);
	const fields: MappingField[] = [];
	if (type === undefined) {
		fields.push({
			id: 'event_type',
			required: true,
			type: 'options',
			options: [...USERPILOT_EVENT_TYPES],
		});
	}
	const ids =
		type === 'identify_company'
			? ['company_id']
			: type === 'track' || type === undefined
				? ['user_id', 'event_name', 'company_id']
				: ['user_id', 'company_id'];
	for (const id of ids) fields.push({ id, required: required.has(id), type: 'string' });
	fields.push(
		{ id: 'inserted_at', required: true, type: 'dateTime' },
		{
			id: 'source',
			// A row without one takes the node's Default Source.
			required: !options.defaultSource,
			type: 'options',
			options: [...USERPILOT_SOURCES],
		},
		{ id: 'metadata', required: false, type: 'object' },
	);
	if (type !== 'identify_company') fields.push(...PAGE_FIELDS);
	return fields;
}
