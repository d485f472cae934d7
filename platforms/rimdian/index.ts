import type { ICredentialDataDecryptedObject, IDataObject, IHttpRequestHelper } from 'n8n-workflow';

import { checkBaseUrl } from '../../core/baseUrl';
import { canonicalJson } from '../../core/canonicalJson';
import {
	bodyText,
	htmlAnswerMessage,
	looksLikeHtml,
	parseMaybeJson,
	quote,
	unexpectedSuccessMessage,
} from '../../core/errorBody';
import type { FailedResponse, Platform, PlatformItemOptions } from '../../core/platform';
import { rimdianMappingFields } from './mapping';
import { compileRimdianValidator, RIMDIAN_KINDS } from './rules';
import { rimdianWatcher } from './watcher';

/** "custom_event" → "Custom Event": n8n shows option names in Title Case, sorted by name. */
const RIMDIAN_KIND_OPTIONS = RIMDIAN_KINDS.map((kind) => ({
	name: kind.replace(
		/(^|_)([a-z])/g,
		(_match, gap: string, letter: string) => `${gap ? ' ' : ''}${letter.toUpperCase()}`,
	),
	value: kind,
	description: `Sent as kind "${kind}"`,
})).sort((a, b) => a.name.localeCompare(b.name));

const EU_COLLECTOR = 'https://collector-eu.rimdian.com';
const EU_API = 'https://api-eu.rimdian.com';
const SHOW = { show: { platform: ['rimdian'] } };

/** Keys of an item that are not the kind's own object. */
const CONTEXT_KEYS = new Set(['user', 'session', 'device']);

function usesServiceAccount(credentials: ICredentialDataDecryptedObject): boolean {
	return credentials.rimdianAuthentication === 'serviceAccount';
}

/**
 * A self-hosted Rimdian answers the collector and the API on two hosts (the page names
 * collector-eu and api-eu): the API's own URL, when given, serves the token, the data log and the
 * credential test; left empty, the collector's host serves both (the sandbox, a single proxy).
 */
function resolveEndpoints(credentials: ICredentialDataDecryptedObject) {
	if (credentials.rimdianRegion === 'custom') {
		const insecure = credentials.allowInsecureHttp === true;
		const data = checkBaseUrl(credentials.baseUrl, insecure);
		const apiUrl = credentials.rimdianApiBaseUrl;
		const api =
			typeof apiUrl === 'string' && apiUrl.trim() !== '' ? checkBaseUrl(apiUrl, insecure) : data;
		return { data, api };
	}
	return { data: EU_COLLECTOR, api: EU_API };
}

function describeError({ status, body, contentType }: FailedResponse): string {
	if (looksLikeHtml(body, contentType)) return htmlAnswerMessage(status);
	const parsed = parseMaybeJson(body);
	const detail =
		parsed && typeof parsed === 'object' && typeof (parsed as IDataObject).message === 'string'
			? ((parsed as IDataObject).message as string)
			: bodyText(parsed);
	const said = detail ? `: ${quote(detail)}` : '';
	switch (status) {
		case 401:
			return `Rimdian refused the access token (401)${said}. Check the token, or the service account's email and password.`;
		case 406:
			return `Rimdian could not read the Authorization header (406)${said}.`;
		case 400:
			return `Rimdian refused the request (400)${said}.`;
		case 413:
			return `Rimdian refused the request as too large (413)${said}: lower the batch size.`;
		case 422:
			return `Rimdian could not read the request body (422)${said}.`;
		default:
			if (status !== undefined && status >= 500) {
				return `Rimdian failed to process the request (${status})${said}.`;
			}
			return `Rimdian answered ${status ?? 'without a status'}${said}.`;
	}
}

/** Items without a `kind` of their own are wrapped as the kind chosen in the node. */
function mapItem(json: IDataObject, options: PlatformItemOptions): unknown {
	if (typeof json.kind === 'string') return json;
	const kind = options.rimdianKind ?? 'user';
	if (kind === 'user') return { kind, user: json };
	const own: IDataObject = {};
	const item: IDataObject = { kind };
	for (const key of Object.keys(json)) {
		if (CONTEXT_KEYS.has(key)) item[key] = json[key];
		else own[key] = json[key];
	}
	item[kind] = own;
	return item;
}

function loginRequest(credentials: ICredentialDataDecryptedObject, api: string) {
	return {
		url: `${api}/api/account.login`,
		body: { email: credentials.email, password: credentials.password } as IDataObject,
	};
}

async function preAuthenticate(
	this: IHttpRequestHelper,
	credentials: ICredentialDataDecryptedObject,
): Promise<IDataObject> {
	// Access tokens are used as they are; only a service account logs in for a fresh one.
	if (!usesServiceAccount(credentials)) return {};
	const { api } = resolveEndpoints(credentials);
	const login = loginRequest(credentials, api);
	let answer: IDataObject | undefined;
	let failure: string | undefined;
	try {
		answer = (await this.helpers.httpRequest({
			method: 'POST',
			url: login.url,
			body: login.body,
			json: true,
		})) as IDataObject;
	} catch (error) {
		// Rebuilt rather than rethrown: the original carries the request, and so the password.
		const response = (error as { response?: { status?: number; data?: unknown } }).response;
		const reason = response
			? describeError({ status: response.status, body: response.data })
			: `Could not reach ${api} (${(error as { code?: string }).code ?? 'network error'})`;
		failure = `Rimdian service account login failed. ${reason}`;
	}
	if (failure) throw new Error(failure);
	if (typeof answer?.access_token !== 'string') {
		throw new Error('Rimdian service account login answered without an access_token.');
	}
	return { sessionToken: answer.access_token };
}

function idempotencyKey(item: IDataObject): string | undefined {
	const kind = item.kind as string;
	const own = item[kind] as IDataObject | undefined;
	if (kind === 'user_alias' && own)
		return `user_alias:${own.from_user_external_id}>${own.to_user_external_id}`;
	const id = own?.external_id;
	return typeof id === 'string' && id !== '' ? `${kind}:${id}` : undefined;
}

export const rimdian: Platform = {
	id: 'rimdian',
	displayName: 'Rimdian',
	description: 'Users, orders, events… into the collector',
	credentialDescription: 'Collector API (historical data)',
	nodeProperties: [
		{
			displayName: 'Item Kind',
			name: 'rimdianKind',
			type: 'options',
			options: RIMDIAN_KIND_OPTIONS,
			default: 'user',
			description:
				'Kind of the items that carry no "kind" field: their fields become that kind\'s object, and "user", "session" and "device" fields stay beside it. Items with a "kind" field are sent as they are.',
			displayOptions: { show: { platform: ['rimdian'] } },
		},
	],
	readNodeOptions: (get) => ({ rimdianKind: get('rimdianKind') as string }),
	credentialProperties: [
		{
			displayName: 'Authentication',
			name: 'rimdianAuthentication',
			type: 'options',
			options: [
				{
					name: 'Access Token',
					value: 'accessToken',
					description: 'A token from Rimdian; it expires after 8 hours',
				},
				{
					name: 'Service Account',
					value: 'serviceAccount',
					description:
						'Email and password of a service account; a fresh token is fetched when one expires',
				},
			],
			default: 'serviceAccount',
			description: 'How the nodes sign in to Rimdian',
			displayOptions: SHOW,
		},
		{
			displayName: 'Endpoint',
			name: 'rimdianRegion',
			type: 'options',
			options: [
				{
					name: 'Custom Base URL',
					value: 'custom',
					description: 'A self-hosted Rimdian, or a test server such as the sandbox',
				},
				{ name: 'EU (collector-eu / api-eu.rimdian.com)', value: 'eu' },
			],
			default: 'eu',
			description: 'Where the collector and the API of your Rimdian workspace answer',
			displayOptions: SHOW,
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://collector.example.com',
			description:
				'The collector (/data); it also serves the API (/api/...) unless Custom API Base URL is set',
			displayOptions: { show: { platform: ['rimdian'], rimdianRegion: ['custom'] } },
		},
		{
			displayName: 'Custom API Base URL',
			name: 'rimdianApiBaseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://api.example.com',
			description:
				"The API's own URL when it is not the collector's (a self-hosted Rimdian has two hosts): used to sign in, read the data log and test these credentials. Empty: the Base URL.",
			displayOptions: { show: { platform: ['rimdian'], rimdianRegion: ['custom'] } },
		},
		{
			displayName: 'Access Token',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'An access token from Rimdian (sent as a Bearer token; it expires after 8 hours)',
			displayOptions: { show: { platform: ['rimdian'], rimdianAuthentication: ['accessToken'] } },
		},
		{
			displayName: 'Email',
			name: 'email',
			type: 'string',
			placeholder: 'name@email.com',
			default: '',
			description: "The service account's email",
			displayOptions: {
				show: { platform: ['rimdian'], rimdianAuthentication: ['serviceAccount'] },
			},
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: "The service account's password (16 characters or more)",
			displayOptions: {
				show: { platform: ['rimdian'], rimdianAuthentication: ['serviceAccount'] },
			},
		},
		{
			displayName: 'Workspace ID',
			name: 'workspaceId',
			type: 'string',
			default: '',
			placeholder: 'acme_workspace',
			description: 'The ID of the workspace the data goes into (every request names it)',
			displayOptions: SHOW,
		},
	],
	resolveEndpoints,
	authHeaders(credentials) {
		const token = usesServiceAccount(credentials) ? credentials.sessionToken : credentials.apiKey;
		return { Authorization: `Bearer ${token as string}` };
	},
	preAuthenticate,
	login: (credentials, endpoints) =>
		usesServiceAccount(credentials) ? loginRequest(credentials, endpoints.api) : undefined,
	credentialProbe: (credentials, endpoints) => ({
		method: 'GET',
		url: `${endpoints.api}/api/dataLog.list?limit=1&workspace_id=${encodeURIComponent(String(credentials.workspaceId ?? ''))}`,
	}),
	describeError,
	mappingFields: rimdianMappingFields,
	mapItem,
	compileValidator: (options) => compileRimdianValidator(options),
	delivery: {
		mode: 'batch',
		maxBatchSize: 100,
		defaultBatchSize: 100,
		path: '/data',
		serializeItem: canonicalJson,
		buildBody(serializedItems, credentials) {
			return `{"workspace_id":${JSON.stringify(credentials.workspaceId ?? '')},"items":[${serializedItems.join(',')}]}`;
		},
		checkAnswer: (body) =>
			typeof body === 'string' && body.trim() === 'queued'
				? undefined
				: unexpectedSuccessMessage('Rimdian', '"queued"', body),
		idempotencyKey,
		// Rimdian skips a byte-identical item it has seen: re-sending one is harmless.
		dedupesIdenticalItems: true,
		// A CSV holds Rimdian's nested fields (an order's or a cart's items) as JSON text.
		csvCellsHoldJson: true,
	},
	statusWatcher: rimdianWatcher,
};
