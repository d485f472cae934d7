import type { IDataObject } from 'n8n-workflow';

import { checkBaseUrl } from '../../core/baseUrl';
import {
	bodyText,
	htmlAnswerMessage,
	looksLikeHtml,
	parseMaybeJson,
	quote,
	unexpectedSuccessMessage,
} from '../../core/errorBody';
import type { FailedResponse, Platform } from '../../core/platform';
import { compileAyonaValidator } from './rules';

function describeError({ status, body, contentType }: FailedResponse): string {
	if (looksLikeHtml(body, contentType)) return htmlAnswerMessage(status);
	const parsed = parseMaybeJson(body) as IDataObject | string | undefined;
	const detail =
		parsed && typeof parsed === 'object' && typeof parsed.message === 'string'
			? parsed.message
			: bodyText(parsed);
	const said = detail ? `: ${quote(detail)}` : '';
	switch (status) {
		case 401:
		case 403:
			return `Ayona refused the API key (${status})${said}. Create one under Settings → API Keys.`;
		case 400:
			return `Ayona refused the request (400)${said}.`;
		case 413:
			return `Ayona refused the request as too large (413)${said}: lower the batch size.`;
		default:
			if (status !== undefined && status >= 500)
				return `Ayona failed to process the request (${status})${said}.`;
			return `Ayona answered ${status ?? 'without a status'}${said}.`;
	}
}

/** Ayona's one endpoint: imports, and the credential test (see credentialProbe). */
const IMPORT_PATH = '/api/v1/source/import';

export const ayona: Platform = {
	id: 'ayona',
	displayName: 'Ayona',
	description: 'Feedback entries into a REST source',
	credentialDescription: 'REST source import (docs.ayona.ai)',
	nodeProperties: [
		{
			displayName: 'Source ID',
			name: 'sourceId',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'e.g. 6f1c2d3e-…',
			description: "ID of the REST source configured in Ayona, shown in the source's settings",
			displayOptions: { show: { platform: ['ayona'] } },
		},
	],
	readNodeOptions: (get) => ({ sourceId: ((get('sourceId') as string) ?? '').trim() }),
	checkNodeOptions: (options) =>
		options.sourceId ? undefined : 'Set "Source ID": the ID of the REST source configured in Ayona',
	credentialProperties: [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://your-environment.example.com',
			description: "Your environment's base URL (Ayona publishes no shared host)",
			displayOptions: { show: { platform: ['ayona'] } },
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'From Settings → API Keys in Ayona',
			displayOptions: { show: { platform: ['ayona'] } },
		},
	],
	resolveEndpoints(credentials) {
		const base = checkBaseUrl(credentials.baseUrl, credentials.allowInsecureHttp === true);
		return { data: base, api: base };
	},
	authHeaders: (credentials) => ({ 'X-API-KEY': credentials.apiKey as string }),
	// Ayona has no read endpoint: an import without a source is refused with 400 once the key
	// is accepted, and with 401 when it is not; nothing is imported either way.
	credentialProbe: (_credentials, endpoints) => ({
		method: 'POST',
		url: `${endpoints.data}${IMPORT_PATH}`,
		body: { source_id: '', payload: [] },
		acceptedStatuses: [400],
	}),
	describeError,
	// The page's three fields: an entry needs its date and content; a missing name is anonymous.
	mappingFields: () => [
		{ id: 'date', required: true, type: 'dateTime' },
		{ id: 'name', required: false, type: 'string' },
		{ id: 'content', required: true, type: 'string' },
	],
	mapItem: (json) => json,
	compileValidator: (options) => compileAyonaValidator(options),
	delivery: {
		mode: 'batch',
		defaultBatchSize: 100,
		path: IMPORT_PATH,
		// Fixed key order: the API documents date, name, content.
		serializeItem: (item) =>
			`{"date":${JSON.stringify(item.date)},"name":${JSON.stringify(item.name)},"content":${JSON.stringify(item.content)}}`,
		checkAnswer(body) {
			const parsed = parseMaybeJson(body) as IDataObject | undefined;
			return parsed && typeof parsed === 'object' && typeof parsed.message === 'string'
				? undefined
				: unexpectedSuccessMessage('Ayona', 'its confirmation message', body);
		},
		buildBody(serializedItems, _credentials, options) {
			return `{"source_id":${JSON.stringify(options.sourceId ?? '')},"payload":[${serializedItems.join(',')}]}`;
		},
	},
};
