import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

import { checkBaseUrl } from '../../core/baseUrl';
import {
	bodyText,
	htmlAnswerMessage,
	looksLikeHtml,
	parseMaybeJson,
	quote,
} from '../../core/errorBody';
import type { FailedResponse, Platform, PlatformItemOptions } from '../../core/platform';
import { userpilotJobOperations } from './delivery';
import { userpilotMappingFields } from './mapping';
import { compileUserpilotValidator, USERPILOT_SOURCES } from './rules';
import { userpilotWatcher } from './watcher';

const HOSTS: Record<string, string> = {
	us: 'https://analytex.userpilot.io',
	eu: 'https://analytex-eu.userpilot.io',
};

/** Each source of the API under a Title Case name (n8n's casing), sorted by name. */
const SOURCE_NAMES: Record<(typeof USERPILOT_SOURCES)[number], string> = {
	'web-client': 'Web Client',
	'backend-http': 'Backend HTTP',
	'backend-hubspot': 'Backend HubSpot',
	'backend-salesforce': 'Backend Salesforce',
	'backend-segment': 'Backend Segment',
	'backend-http-import': 'Backend HTTP Import',
};
const SOURCE_OPTIONS = USERPILOT_SOURCES.map((source) => ({
	name: SOURCE_NAMES[source],
	value: source,
	description: `Sent as source "${source}"`,
})).sort((a, b) => a.name.localeCompare(b.name));

/** The API's documented limit is "1 GB"; the decimal reading is the safe one for splitting. */
export const USERPILOT_MAX_FILE_BYTES = 1_000_000_000;

export const USERPILOT_JOB_STATUSES = [
	'queued',
	'validating',
	'processing',
	'pending_refresh',
	'completed',
	'failed',
] as const;

export type UserpilotJobStatus = (typeof USERPILOT_JOB_STATUSES)[number];

export function isFinalJobStatus(status: unknown): boolean {
	return status === 'completed' || status === 'failed';
}

function resolveEndpoints(credentials: ICredentialDataDecryptedObject) {
	const region = (credentials.userpilotRegion as string) ?? 'us';
	const base =
		region === 'custom'
			? checkBaseUrl(credentials.baseUrl, credentials.allowInsecureHttp === true)
			: (HOSTS[region] ?? HOSTS.us);
	return { data: base, api: base };
}

/** Userpilot errors come as {"errors":[{details, error, error_code, message}]}. */
function describeError({ status, body, contentType }: FailedResponse): string {
	if (looksLikeHtml(body, contentType)) return htmlAnswerMessage(status);
	const parsed = parseMaybeJson(body) as IDataObject | string | undefined;
	let detail = '';
	const first =
		parsed && typeof parsed === 'object' && Array.isArray(parsed.errors)
			? (parsed.errors[0] as IDataObject | undefined)
			: undefined;
	if (first) detail = String(first.details ?? first.message ?? first.error ?? '');
	else detail = bodyText(parsed);
	const said = detail ? `: ${quote(detail)}` : '';
	switch (status) {
		case 401:
		case 403:
			return `Userpilot refused the API key (${status})${said}. Use the write token from the Environment page.`;
		case 409:
			return `Userpilot refused the upload because a job is in progress (409)${said}. Only one job runs at a time per token.`;
		case 413:
			return `Userpilot refused the file as too large (413)${said}. Its limit is 1 GB a file: turn on "Split Large Files" (and lower "Part Size Limit" if the limit is lower).`;
		case 404:
			return `Userpilot has no such resource (404)${said}.`;
		default:
			if (status !== undefined && status >= 500) return `Userpilot failed (${status})${said}.`;
			return `Userpilot answered ${status ?? 'without a status'}${said}.`;
	}
}

function mapItem(json: IDataObject, options: PlatformItemOptions): unknown {
	if (json.event_type === undefined && options.defaultEventType) {
		return { event_type: options.defaultEventType, ...json };
	}
	return json;
}

export const userpilot: Platform = {
	id: 'userpilot',
	displayName: 'Userpilot',
	description: 'Users, companies and events as an import job',
	credentialDescription: 'Bulk Import API',
	nodeProperties: [
		{
			displayName: 'Default Event Type',
			name: 'defaultEventType',
			type: 'options',
			options: [
				{ name: 'Identify Company', value: 'identify_company' },
				{ name: 'Identify User', value: 'identify_user' },
				{
					name: 'None (Rows Carry Their Own)',
					value: '',
					description: 'A row without event_type is refused',
				},
				{ name: 'Page View', value: 'page_view' },
				{ name: 'Track', value: 'track' },
			],
			default: '',
			description: 'The event_type given to rows that have none',
			displayOptions: { show: { platform: ['userpilot'] } },
		},
		{
			displayName: 'Default Source',
			name: 'defaultSource',
			type: 'options',
			options: SOURCE_OPTIONS,
			default: 'backend-http-import',
			description: 'The source given to rows that have none (Userpilot requires one on every row)',
			displayOptions: { show: { platform: ['userpilot'] } },
		},
	],
	readNodeOptions: (get) => ({
		defaultEventType: (get('defaultEventType') as string) || undefined,
		defaultSource: get('defaultSource') as string,
	}),
	credentialProperties: [
		{
			displayName: 'Endpoint',
			name: 'userpilotRegion',
			type: 'options',
			options: [
				{
					name: 'Custom Base URL',
					value: 'custom',
					description: 'A dedicated Enterprise host, or a test server such as the sandbox',
				},
				{ name: 'EU (analytex-eu.userpilot.io)', value: 'eu' },
				{ name: 'US (analytex.userpilot.io)', value: 'us' },
			],
			default: 'us',
			description: 'Shown on the Environment page of your Userpilot account',
			displayOptions: { show: { platform: ['userpilot'] } },
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://analytex.example.com',
			description: 'A dedicated Enterprise host',
			displayOptions: { show: { platform: ['userpilot'], userpilotRegion: ['custom'] } },
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'The write token from the Environment page (a read or export token is refused)',
			displayOptions: { show: { platform: ['userpilot'] } },
		},
	],
	resolveEndpoints,
	authHeaders: (credentials) => ({ Authorization: `Token ${credentials.apiKey as string}` }),
	credentialProbe: (_credentials, endpoints) => ({
		method: 'GET',
		url: `${endpoints.api}/v1/background_jobs`,
	}),
	describeError,
	mappingFields: userpilotMappingFields,
	mapItem,
	compileValidator: (options) => compileUserpilotValidator(options),
	delivery: {
		mode: 'job',
		maxFileBytes: USERPILOT_MAX_FILE_BYTES,
		path: '/v1/imports',
		jobsPath: '/v1/background_jobs',
		serializeItem: (item) => JSON.stringify(item),
		...userpilotJobOperations,
	},
	// Read when asked: the watcher reaches this module again through jobs.ts, so a run that loads
	// the watcher first would otherwise find it still undefined here.
	get statusWatcher() {
		return userpilotWatcher;
	},
};
