import type { INodeProperties } from 'n8n-workflow';

import { DEFAULT_PLATFORM, PLATFORMS, platformsByName, type Platform } from '../../platforms';

/**
 * An n8n expression for a node's subtitle: the label of the node's platform. The map is built
 * from the registry when the module loads, as n8n evaluates the subtitle in the editor.
 */
export function labelOfPlatform(label: (platform: Platform) => string): string {
	const labels = Object.fromEntries(
		Object.values(PLATFORMS).map((platform) => [platform.id, label(platform)]),
	);
	return `${JSON.stringify(labels)}[$parameter["platform"]]`;
}

/** The platform picker and each platform's own fields, shared by every node of the package. */
export const platformProperties: INodeProperties[] = [
	{
		displayName: 'Platform',
		name: 'platform',
		type: 'options',
		noDataExpression: true,
		options: platformsByName().map((platform) => ({
			name: platform.displayName,
			value: platform.id,
			description: platform.description,
		})),
		default: DEFAULT_PLATFORM,
		description: 'Where the data goes; must be the platform of the credential picked above',
	},
	...Object.values(PLATFORMS).flatMap((platform) => platform.nodeProperties),
];

/** Options shared by the nodes that send data, read by `readSendSettings` (settings.ts). */
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
		displayName: 'Max Requests per Minute',
		name: 'maxRequestsPerMinute',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description:
			"Requests started per minute at most, retries included, spread evenly; 0 means no limit. Set it to the platform's rate limit to stay under it rather than be answered 429.",
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
		default: '',
		placeholder: 'Europe/Paris',
		description:
			"IANA zone used to read dates that carry no offset (and to write Ayona's dates, which carry none). Empty: the workflow's timezone (its settings, else the instance's).",
	},
	{
		displayName: 'Validate Only (Send Nothing)',
		name: 'validateOnly',
		type: 'boolean',
		default: false,
		description:
			'Whether to only check the data and show what would be sent (request bodies, first lines of a file), without sending anything. Invalid items and rows are then listed as results, not errors.',
	},
];

/** Options of the nodes that send Userpilot import jobs, each read by `readJobWaitOptions`. */
export const userpilotJobOptionProperties: INodeProperties[] = [
	{
		displayName: 'Poll Interval (Seconds)',
		name: 'pollIntervalSeconds',
		type: 'number',
		typeOptions: { minValue: 0.1 },
		default: 2,
		description: 'Userpilot: how often the import job is checked while waiting',
	},
	{
		displayName: 'Wait for Completion',
		name: 'waitForCompletion',
		type: 'boolean',
		default: true,
		description:
			'Whether to wait for each Userpilot import job to end (completed or failed) and return its final state. Off, the job comes back as queued.',
	},
	{
		displayName: 'Wait Timeout (Minutes)',
		name: 'waitTimeoutMinutes',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 60,
		description: 'Userpilot: how long to wait for a job, or for a running job to end',
	},
	{
		displayName: 'When a Job Is Running',
		name: 'whenJobRunning',
		type: 'options',
		options: [
			{ name: 'Fail at Once', value: 'fail', description: 'Stop with a clear error (409)' },
			{
				name: 'Wait for It, Then Send',
				value: 'wait',
				description: 'Userpilot runs one job at a time: wait until the running one ends',
			},
		],
		default: 'wait',
		description:
			'Userpilot: what to do when the API key already has an import job running (the API then answers 409)',
	},
];

/** n8n's convention: options of a collection in alphabetical order. */
export function alphabetical(properties: INodeProperties[]): INodeProperties[] {
	return [...properties].sort((a, b) => a.displayName.localeCompare(b.displayName));
}
