import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IDataObject,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { getPlatform } from '../../platforms';
import type { Platform } from '../../core/platform';

interface RawAnswer {
	statusCode: number;
	body: unknown;
	headers?: Record<string, unknown>;
}

/**
 * The credential form's "Test": really calls the platform with the key, through the probe its
 * module names, after checking the base URL (scheme and host) and, for a Rimdian service
 * account, logging in. Lives in the nodes (testedBy) because a declarative test can neither
 * check the URL first nor read Ayona's 400 as "key accepted".
 */
export async function testDataImportCredential(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const data = (credential.data ?? {}) as ICredentialDataDecryptedObject;
	let platform: Platform;
	let endpoints;
	let failure: string | undefined;
	try {
		platform = getPlatform(data.platform);
		endpoints = platform.resolveEndpoints(data);
	} catch (error) {
		failure = (error as Error).message;
	}
	if (failure !== undefined || !endpoints)
		return { status: 'Error', message: failure ?? 'No endpoint' };
	platform = getPlatform(data.platform);

	const send = async (
		method: string,
		url: string,
		headers: IDataObject,
		body?: unknown,
	): Promise<RawAnswer | string> => {
		try {
			// n8n gives a credential test only the request() helper, 1.x and 2.x alike (its
			// CredentialTestContext has no httpRequest), so the deprecated helper stays.
			// eslint-disable-next-line @n8n/community-nodes/no-deprecated-workflow-functions
			return (await this.helpers.request({
				method,
				uri: url,
				headers,
				body,
				json: true,
				simple: false,
				resolveWithFullResponse: true,
				timeout: 20_000,
			})) as RawAnswer;
		} catch (error) {
			return `Could not reach ${new URL(url).host}: ${(error as { code?: string }).code ?? (error as Error).message}`;
		}
	};

	let credentials = data;
	const login = platform.login?.(data, endpoints);
	if (login) {
		const { url, body } = login;
		const answer = await send('POST', url, {}, body);
		if (typeof answer === 'string') return { status: 'Error', message: answer };
		const token = (answer.body as IDataObject | undefined)?.access_token;
		if (answer.statusCode >= 300 || typeof token !== 'string') {
			return {
				status: 'Error',
				message: `${platform.displayName} login failed: ${platform.describeError({ status: answer.statusCode, body: answer.body })}`,
			};
		}
		credentials = { ...data, sessionToken: token };
	}

	const probe = platform.credentialProbe(credentials, endpoints);
	const answer = await send(probe.method, probe.url, platform.authHeaders(credentials), probe.body);
	if (typeof answer === 'string') return { status: 'Error', message: answer };
	const status = answer.statusCode;
	if ((status >= 200 && status < 300) || probe.acceptedStatuses?.includes(status)) {
		return {
			status: 'OK',
			message: `Connection successful: ${platform.displayName} accepted the credentials`,
		};
	}
	if (status === 401 || status === 403) {
		// The platform's own wording already says what was refused and what to do; a generic
		// prefix only when it does not name the status (e.g. a 403 Rimdian has no wording for).
		const detail = platform.describeError({ status, body: answer.body });
		return {
			status: 'Error',
			message: detail.includes(`(${status})`)
				? detail
				: `${platform.displayName} refused this key or token (${status}): ${detail}`,
		};
	}
	if (status === 404) {
		return {
			status: 'Error',
			message: `Nothing answers at ${probe.url.split('?')[0]} (404): check the endpoint or base URL`,
		};
	}
	return { status: 'Error', message: platform.describeError({ status, body: answer.body }) };
}
