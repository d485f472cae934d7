/**
 * "Map Each Field Manually": n8n's resource mapper, fed with the fields of the platform's item
 * (each platform's `mappingFields`, read from its own rules; no request), and the record built
 * from what the user mapped.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeProperties,
	ResourceMapperField,
	ResourceMapperFields,
} from 'n8n-workflow';

import type { MappingField } from '../../core/platform';
import { setPath } from '../../core/paths';
import { DEFAULT_PLATFORM, PLATFORMS, getPlatform } from '../../platforms';

/** The node fields the list depends on: the platform, and every platform's own fields (kind, event type…). */
const LIST_DEPENDS_ON = [
	'platform',
	...new Set(
		Object.values(PLATFORMS).flatMap((platform) => platform.nodeProperties.map((p) => p.name)),
	),
];

export const mapperProperties: INodeProperties[] = [
	{
		displayName: 'Fields',
		name: 'columns',
		type: 'resourceMapper',
		noDataExpression: true,
		default: { mappingMode: 'defineBelow', value: null },
		required: true,
		typeOptions: {
			loadOptionsDependsOn: LIST_DEPENDS_ON,
			resourceMapper: {
				resourceMapperMethod: 'getPlatformFields',
				mode: 'add',
				fieldWords: { singular: 'field', plural: 'fields' },
				addAllFields: true,
				supportAutoMap: true,
				noFieldsError: 'This platform lists no fields for these settings',
			},
		},
		description:
			"The platform's fields for the chosen kind or event type, required ones marked. Values are checked by the platform's rules, not by n8n: an item that breaks them is reported, never sent.",
		displayOptions: { show: { dataMode: ['mapper'] } },
	},
];

function toResourceMapperField(field: MappingField): ResourceMapperField {
	return {
		id: field.id,
		displayName: field.id,
		required: field.required,
		type: field.type,
		...(field.options ? { options: field.options.map((value) => ({ name: value, value })) } : {}),
		display: true,
		defaultMatch: false,
		canBeUsedToMatch: false,
	};
}

/** The resource mapper's list: the platform's fields under the node's current settings. */
export async function getPlatformFields(this: ILoadOptionsFunctions): Promise<ResourceMapperFields> {
	const platform = getPlatform(this.getNodeParameter('platform', DEFAULT_PLATFORM));
	const options = {
		// Dates are not part of the list; the validator reads them in the workflow's zone.
		timezone: 'UTC',
		...platform.readNodeOptions((name) => this.getNodeParameter(name, undefined)),
	};
	return { fields: platform.mappingFields(options).map(toResourceMapperField) };
}

/** How one run reads mapped records: the platform's fields, read once. */
export interface FieldMap {
	byId: Map<string, MappingField>;
}

export function fieldMapOf(fields: MappingField[]): FieldMap {
	return { byId: new Map(fields.map((field) => [field.id, field])) };
}

/**
 * Text that is exactly a number or a boolean becomes one, in a field of that type: an expression
 * reading a sheet or a CSV gives text. Only when nothing is lost ("0012" stays text, and the
 * platform's rules judge it). n8n's own conversion is off (see mappedRecord).
 */
export function convertedValue(field: MappingField | undefined, value: unknown): unknown {
	if (typeof value !== 'string' || field === undefined) return value;
	if (field.type === 'number' && value !== '' && String(Number(value)) === value) {
		return Number(value);
	}
	if (field.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
	return value;
}

function isUnset(value: unknown): boolean {
	return value === undefined || value === null || value === '';
}

/** The record of "Fields Below": the mapped values, dotted ids nested, unset ones left out. */
function definedRecord(values: IDataObject | null, fields: FieldMap): IDataObject {
	const record: IDataObject = {};
	for (const [id, value] of Object.entries(values ?? {})) {
		if (isUnset(value)) continue;
		setPath(record, id, convertedValue(fields.byId.get(id), value));
	}
	return record;
}

/**
 * "Map Automatically": the input item's fields by name. A flat `user.external_id` key that names
 * a listed field is nested as the list means it; every other field is kept for the platform's
 * rules to judge. Objects on the way are copied, so the input item is never changed.
 */
function autoMappedRecord(json: IDataObject, fields: FieldMap): IDataObject {
	const record: IDataObject = {};
	const dotted: string[] = [];
	for (const key of Object.keys(json)) {
		if (key.includes('.') && fields.byId.has(key)) dotted.push(key);
		else record[key] = json[key];
	}
	for (const key of dotted) {
		if (isUnset(json[key])) continue;
		const parts = key.split('.');
		let node = record;
		for (const part of parts.slice(0, -1)) {
			const next = node[part];
			// Missing: setPath makes it; not an object: setPath reports the clash.
			if (next === null || typeof next !== 'object' || Array.isArray(next)) break;
			node[part] = { ...(next as IDataObject) };
			node = node[part] as IDataObject;
		}
		setPath(record, key, json[key]);
	}
	return record;
}

/** The record of item `index` in "Map Each Field Manually". */
export function mappedRecord(
	ctx: IExecuteFunctions,
	index: number,
	json: IDataObject,
	fields: FieldMap,
): IDataObject {
	const mode = ctx.getNodeParameter('columns.mappingMode', index, 'defineBelow') as string;
	if (mode === 'autoMapInputData') return autoMappedRecord(json, fields);
	// n8n's check of the values against the list is skipped, the platform's validator judges each
	// item and reports it: n8n's would fail the whole run at the first value it refuses, and it
	// reads "08/03/2024" as August 3rd and a date without a zone as UTC, where the package refuses
	// the first as ambiguous and reads the second in the node's timezone.
	const values = ctx.getNodeParameter('columns.value', index, {}, { skipValidation: true });
	return definedRecord(values as IDataObject | null, fields);
}
