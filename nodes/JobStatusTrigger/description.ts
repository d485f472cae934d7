import type { INodeProperties } from 'n8n-workflow';

const USERPILOT = { platform: ['userpilot'] };
const RIMDIAN = { platform: ['rimdian'] };

export const jobStatusTriggerProperties: INodeProperties[] = [
	{
		displayName: 'Platform',
		name: 'platform',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Ayona', value: 'ayona', description: 'Publishes no status API: cannot be watched' },
			{
				name: 'Rimdian',
				value: 'rimdian',
				description:
					'Items the collector accepted ("queued") but could not process, from its data log',
			},
			{
				name: 'Userpilot',
				value: 'userpilot',
				description: 'Import jobs: completed, failed, status changes, new jobs',
			},
		],
		default: 'userpilot',
		description: 'What to watch; must be the platform of the credential picked above',
	},
	{
		displayName:
			'Ayona publishes no import status API, so there is nothing this trigger could watch: a workflow with this trigger set to Ayona cannot be activated. Import Items reports the result of every Ayona batch as it sends it.',
		name: 'ayonaNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { platform: ['ayona'] } },
	},
	{
		displayName: 'Trigger On',
		name: 'events',
		type: 'multiOptions',
		required: true,
		options: [
			{
				name: 'Any Status Change',
				value: 'statusChanged',
				description:
					'A job moved on (queued → validating → processing → pending_refresh → completed or failed)',
			},
			{
				name: 'Job Completed',
				value: 'completed',
				description: 'A job ended with every row imported',
			},
			{
				name: 'Job Failed',
				value: 'failed',
				description: 'A job ended in failure (reason_for_failure says why)',
			},
			{ name: 'New Job', value: 'newJob', description: 'A job appeared (an upload from anywhere)' },
		],
		default: ['completed', 'failed'],
		description:
			'Each job fires at most once per check, for the most specific event picked: Job Completed or Job Failed, then New Job, then Any Status Change. A job that went through several statuses between two checks fires once, with the status it had before in "previous_status".',
		displayOptions: { show: USERPILOT },
	},
	{
		displayName: 'Jobs to Watch',
		name: 'jobsToWatch',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'All Jobs', value: 'all', description: 'Every import job of the API key' },
			{ name: 'One Job', value: 'one', description: 'Only the job picked below' },
		],
		default: 'all',
		description: 'Every import job of the API key, or one job',
		displayOptions: { show: USERPILOT },
	},
	{
		displayName: 'Job',
		name: 'jobId',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description: 'The import job to watch (e.g. the job_id a Bulk File Import node put out)',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchJobs', searchable: true },
			},
			{
				displayName: 'ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. imports:jobs:NX-51f4acf7:f681073b-21ac-4276-9af5-c662dc05fb25',
			},
		],
		displayOptions: { show: { ...USERPILOT, jobsToWatch: ['one'] } },
	},
	{
		displayName: 'Include Retryable Failures',
		name: 'includeRetryable',
		type: 'boolean',
		default: false,
		description:
			'Whether to fire also for items Rimdian may still retry (has_error 1), besides those it gave up on (has_error 2). Each data log entry fires once either way.',
		displayOptions: { show: RIMDIAN },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: RIMDIAN },
		options: [
			{
				displayName: 'Item Kind',
				name: 'kind',
				type: 'string',
				default: '',
				placeholder: 'e.g. order',
				description: 'Only items of this kind (user, order, pageview…); empty for every kind',
			},
		],
	},
];
