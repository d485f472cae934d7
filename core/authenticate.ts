import type { ICredentialDataDecryptedObject, IHttpRequestOptions } from 'n8n-workflow';

import { checkBaseUrl } from './baseUrl';
import type { Platform } from './platform';

/**
 * The credential's `authenticate`, in one place: the credential type calls it for requests n8n's
 * helper sends, and the transport for the requests it sends itself on kept-alive connections.
 * Every request's URL is checked before a header is added, so the key goes nowhere unsafe.
 */
export function authenticateRequest(
	platform: Platform,
	credentials: ICredentialDataDecryptedObject,
	requestOptions: IHttpRequestOptions,
): IHttpRequestOptions {
	const target = requestOptions.baseURL ?? requestOptions.url;
	if (target && /^[a-z]+:/i.test(target)) {
		checkBaseUrl(new URL(target).origin, credentials.allowInsecureHttp === true);
	}
	return {
		...requestOptions,
		headers: { ...requestOptions.headers, ...platform.authHeaders(credentials) },
	};
}
