import type {
	IAuthenticate,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IDataObject,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import { checkBaseUrl } from '../lib/baseUrl';
import { PLATFORMS, getPlatform } from '../platforms';

/** Platform-specific fields, each shown only when its platform is picked. */
const platformProperties: INodeProperties[] = Object.values(PLATFORMS).flatMap(
	(platform) => platform.credentialProperties,
);

/** Expression giving the base URL of a platform's API, mirroring each platform's resolveEndpoints. */
const API_BASE_URL_EXPRESSION =
	'={{ $credentials.platform === "userpilot" ? ({ us: "https://analytex.userpilot.io", eu: "https://analytex-eu.userpilot.io" }[$credentials.userpilotRegion] || $credentials.baseUrl) : $credentials.platform === "rimdian" ? ($credentials.rimdianRegion === "eu" ? "https://api-eu.rimdian.com" : $credentials.baseUrl) : $credentials.baseUrl }}';

export class DataImportApi implements ICredentialType {
	name = 'dataImportApi';

	displayName = 'Data Import API';

	icon: Icon = {
		light: 'file:../nodes/ImportItems/dataImport.svg',
		dark: 'file:../nodes/ImportItems/dataImport.dark.svg',
	};

	documentationUrl = 'https://github.com/n8n-nodes-data-import/n8n-nodes-data-import#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'Platform',
			name: 'platform',
			type: 'options',
			options: [
				{ name: 'Ayona', value: 'ayona', description: 'REST source import (docs.ayona.ai)' },
				{ name: 'Rimdian', value: 'rimdian', description: 'Collector API (historical data)' },
				{ name: 'Userpilot', value: 'userpilot', description: 'Bulk Import API' },
			],
			default: 'rimdian',
		},
		...platformProperties,
		{
			displayName: 'Allow Plain HTTP',
			name: 'allowInsecureHttp',
			type: 'boolean',
			default: false,
			description:
				'Whether to allow http:// to hosts other than this machine. Off, such a URL is refused so the key never crosses a network unencrypted.',
		},
		{
			displayName: 'Session Token',
			name: 'sessionToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
	];

	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const platform = getPlatform(credentials.platform);
		if (!platform.preAuthenticate) return {};
		return (await platform.preAuthenticate.call(this, credentials)) as IDataObject;
	}

	authenticate: IAuthenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => {
		const platform = getPlatform(credentials.platform);
		// Every request is checked here, the credential test included, before a header is added.
		const target = requestOptions.baseURL ?? requestOptions.url;
		if (target && /^[a-z]+:/i.test(target)) {
			checkBaseUrl(new URL(target).origin, credentials.allowInsecureHttp === true);
		}
		return {
			...requestOptions,
			headers: { ...requestOptions.headers, ...platform.authHeaders(credentials) },
		};
	};

	// Userpilot lists its jobs, Rimdian its data log; Ayona has no read endpoint, so an import
	// request without a source is sent: a 400 proves the key was accepted, a 401 that it was not.
	test: ICredentialTestRequest = {
		request: {
			baseURL: API_BASE_URL_EXPRESSION,
			url: '={{ $credentials.platform === "userpilot" ? "/v1/background_jobs" : $credentials.platform === "rimdian" ? "/api/dataLog.list?limit=1&workspace_id=" + encodeURIComponent($credentials.workspaceId) : "/api/v1/source/import" }}',
			method: '={{ $credentials.platform === "ayona" ? "POST" : "GET" }}' as 'GET',
			body: '={{ $credentials.platform === "ayona" ? { source_id: "", payload: [] } : undefined }}' as unknown as IDataObject,
			ignoreHttpStatusErrors: true,
			returnFullResponse: true,
		},
		rules: [
			{
				type: 'responseSuccessBody',
				properties: { key: 'statusCode', value: 401, message: 'The platform refused this key or token (401).' },
			},
			{
				type: 'responseSuccessBody',
				properties: { key: 'statusCode', value: 403, message: 'The platform refused this key (403): it lacks the rights needed.' },
			},
			{
				type: 'responseSuccessBody',
				properties: { key: 'statusCode', value: 404, message: 'Nothing answers at this base URL and path (404): check the endpoint.' },
			},
			{
				type: 'responseSuccessBody',
				properties: { key: 'statusCode', value: 406, message: 'The platform could not read the Authorization header (406).' },
			},
			{
				type: 'responseSuccessBody',
				properties: { key: 'statusCode', value: 500, message: 'The platform failed (500): try again later.' },
			},
			{
				type: 'responseSuccessBody',
				properties: { key: 'statusCode', value: 502, message: 'The platform is unreachable behind its gateway (502).' },
			},
			{
				type: 'responseSuccessBody',
				properties: { key: 'statusCode', value: 503, message: 'The platform is unavailable (503): try again later.' },
			},
		],
	};
}
