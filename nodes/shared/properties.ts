import type { INodeProperties } from 'n8n-workflow';

import { PLATFORMS } from '../../platforms';

/** The platform picker and each platform's own fields, shared by every node of the package. */
export const platformProperties: INodeProperties[] = [
	{
		displayName: 'Platform',
		name: 'platform',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Ayona', value: 'ayona', description: 'Feedback entries into a REST source' },
			{ name: 'Rimdian', value: 'rimdian', description: 'Users, orders, events… into the collector' },
			{ name: 'Userpilot', value: 'userpilot', description: 'Users, companies and events as an import job' },
		],
		default: 'rimdian',
		description: 'Must be the platform of the credential',
	},
	...Object.values(PLATFORMS).flatMap((platform) => platform.nodeProperties),
];

/** Options shared by the nodes that send data, each read by `readSendOptions`. */
export const sendOptionProperties: INodeProperties[] = [
	{
		displayName: 'Batch Size',
		name: 'batchSize',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 10000 },
		default: 100,
		description:
			'Items per request (Rimdian and Ayona). Rimdian takes at most 100; bigger batches mean fewer requests and a faster import.',
	},
	{
		displayName: 'Concurrency',
		name: 'concurrency',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 32 },
		default: 4,
		description:
			'Requests in flight at once (Rimdian and Ayona). More is faster until the platform or the network is the limit; lower it if the platform answers 429.',
	},
	{
		displayName: 'Max Retries',
		name: 'maxRetries',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 20 },
		default: 5,
		description:
			'Retries of one request after a 429, a 5xx or a lost connection, with growing waits (a 429 waits as its Retry-After asks)',
	},
	{
		displayName: 'Timeout (Seconds)',
		name: 'timeoutSeconds',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 60,
		description: 'How long one request may take before it is retried',
	},
	{
		displayName: 'Timezone of Dates Without One',
		name: 'timezone',
		type: 'string',
		default: 'UTC',
		placeholder: 'Europe/Paris',
		description:
			"IANA zone used to read dates that carry no offset (and to write Ayona's dates, which carry none)",
	},
];
