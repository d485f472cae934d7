import type { INodeProperties } from 'n8n-workflow';

import {
	alphabetical,
	platformProperties,
	sendOptionProperties,
	userpilotJobOptionProperties,
} from '../shared/properties';

import { mapperProperties } from './mapping';
import { outputOptionProperties } from './output';

export const importItemsProperties: INodeProperties[] = [
	...platformProperties,
	{
		displayName: 'Data',
		name: 'dataMode',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Define Fields Below',
				value: 'define',
				description: 'Build each platform item from the fields set below (expressions welcome)',
			},
			{
				name: 'Map Each Field Manually',
				value: 'mapper',
				description:
					"Pick from the platform's fields for the chosen kind or event type, required ones marked, or map the input's fields by name",
			},
			{
				name: 'Use Input Fields As They Are',
				value: 'autoMap',
				description:
					"Each input item's fields are the platform item's fields; one the platform does not take (a sheet's row_number) is left out and named in the item's warnings",
			},
		],
		default: 'autoMap',
		description: 'Where the fields of each item sent to the platform come from',
	},
	{
		displayName: 'Fields',
		name: 'fields',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Field',
		default: {},
		description: 'Dotted names build nested objects, e.g. "user.external_id"',
		displayOptions: { show: { dataMode: ['define'] } },
		options: [
			{
				displayName: 'Field',
				name: 'field',
				values: [
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: 'e.g. user.email',
						description:
							'Field name on the platform; dots nest it (user.email is "email" inside "user")',
					},
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						placeholder: 'e.g. {{ $json.email }}',
						description:
							"The field's value: fixed text, or an expression that reads the input item",
					},
				],
			},
		],
	},
	...mapperProperties,
	{
		displayName: 'Invalid Items',
		name: 'onInvalid',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Skip and Report Them',
				value: 'skip',
				description:
					'Valid items are sent; each invalid one gets an output item with its field errors (on the error output when "On Error" routes there)',
			},
			{
				name: 'Stop Before Sending Anything',
				value: 'stop',
				description:
					'Any invalid item fails the execution, listing every item at fault; nothing is sent',
			},
		],
		default: 'stop',
		description:
			"What to do with items that break the platform's rules (checked before any is sent). With \"Validate Only\" on, invalid items are listed as results, never an error.",
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: alphabetical([
			...sendOptionProperties,
			...userpilotJobOptionProperties,
			...outputOptionProperties,
			{
				displayName: 'Start at Item',
				name: 'startAtItem',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 1,
				description:
					'Item (1-based) to start from, to finish an import that stopped half-way: the error of a failed run names it. Earlier items come out as "skipped".',
			},
		]),
	},
];
