/**
 * The fields "Map Each Field Manually" lists for a Rimdian kind, read from the same specs the
 * validator checks (kinds.ts, fields.ts): a field required there is required here.
 */
import type { FieldType } from 'n8n-workflow';

import type { MappingField, PlatformItemOptions } from '../../core/platform';

import { DEVICE_TYPES, USER_FIELDS, type CompiledSpecs, type Rule } from './fields';
import { SESSION_FIELDS, kindChecker } from './kinds';

/** The editor's input for each rule; dates are date-times, codes and ids are text. */
const TYPE_OF_RULE: Readonly<Record<Rule, FieldType>> = {
	userId: 'string',
	id: 'string',
	text: 'string',
	timestamp: 'dateTime',
	timestampAny: 'dateTime',
	boolean: 'boolean',
	cents: 'number',
	count: 'number',
	integer: 'number',
	number: 'number',
	email: 'string',
	md5: 'string',
	sha1: 'string',
	sha256: 'string',
	telephone: 'string',
	gender: 'options',
	// A date without a time (YYYY-MM-DD): a date-time picker would add one the rule refuses.
	birthday: 'string',
	url: 'string',
	country: 'string',
	language: 'string',
	timezone: 'string',
	currency: 'string',
	deviceType: 'options',
	object: 'object',
	items: 'array',
};

const OPTIONS_OF_RULE: Partial<Record<Rule, string[]>> = {
	gender: ['male', 'female'],
	deviceType: [...DEVICE_TYPES],
};

function fieldsOf(specs: CompiledSpecs, prefix: string, required: boolean): MappingField[] {
	return [...specs.byKey.values()].map((spec) => {
		const options = OPTIONS_OF_RULE[spec.rule];
		return {
			id: prefix + spec.key,
			required: required && spec.required === true,
			type: TYPE_OF_RULE[spec.rule],
			...(options ? { options } : {}),
		};
	});
}

/**
 * The kind's own fields at the top (mapItem puts them in the kind's object), then the context
 * objects the kind needs, dotted (`user.external_id`): mapItem keeps those beside the kind's object.
 */
export function rimdianMappingFields(options: PlatformItemOptions): MappingField[] {
	const kind = options.rimdianKind || 'user';
	const checker = kindChecker(kind);
	const fields = fieldsOf(checker.fields, '', true);
	if (checker.userMissing !== undefined && kind !== 'user') {
		fields.push(...fieldsOf(USER_FIELDS, 'user.', true));
	}
	if (checker.sessionMissing !== undefined && kind !== 'session') {
		fields.push(...fieldsOf(SESSION_FIELDS, 'session.', true));
	}
	return fields;
}
