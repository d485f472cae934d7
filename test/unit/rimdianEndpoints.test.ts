/**
 * A self-hosted Rimdian has a collector host and an API host: with "Custom API Base URL" set,
 * everything that calls the API (sign-in, data log, credential test) goes there, and only the
 * items go to the collector; left empty, the one Base URL serves both, as before.
 */
import assert from 'node:assert/strict';

import type { IHttpRequestHelper, IHttpRequestOptions } from 'n8n-workflow';

import { rimdian } from '../../platforms/rimdian';

const custom = {
	platform: 'rimdian',
	rimdianRegion: 'custom',
	rimdianAuthentication: 'serviceAccount',
	email: 'svc@example.com',
	password: 'a-password-of-16+',
	workspaceId: 'acme',
	baseUrl: 'http://collector.internal:8080/',
	allowInsecureHttp: true,
};

describe('rimdian: collector and API URLs', () => {
	test('an API URL of its own serves the API; the collector keeps the items', () => {
		const endpoints = rimdian.resolveEndpoints({ ...custom, rimdianApiBaseUrl: ' http://api.internal:8081/rimdian ' });
		assert.deepEqual(endpoints, { data: 'http://collector.internal:8080', api: 'http://api.internal:8081/rimdian' });
		const probe = rimdian.credentialProbe(custom, endpoints);
		assert.equal(probe.url, 'http://api.internal:8081/rimdian/api/dataLog.list?limit=1&workspace_id=acme');
		assert.equal(rimdian.login?.(custom, endpoints)?.url, 'http://api.internal:8081/rimdian/api/account.login');
	});

	test('left empty, the Base URL serves both', () => {
		for (const rimdianApiBaseUrl of [undefined, '', '  ']) {
			assert.deepEqual(rimdian.resolveEndpoints(rimdianApiBaseUrl === undefined ? custom : { ...custom, rimdianApiBaseUrl }), {
				data: 'http://collector.internal:8080',
				api: 'http://collector.internal:8080',
			});
		}
	});

	test('the API URL is checked like the Base URL (plain http needs "Allow Plain HTTP")', () => {
		assert.throws(
			() => rimdian.resolveEndpoints({ ...custom, allowInsecureHttp: false, baseUrl: 'https://c.example.com', rimdianApiBaseUrl: 'http://api.example.com' }),
			/Refusing plain http:\/\/ to api\.example\.com/,
		);
	});

	test('the service account signs in at the API URL', async () => {
		const seen: string[] = [];
		const helper = {
			helpers: {
				httpRequest: async (options: IHttpRequestOptions) => {
					seen.push(options.url);
					return { access_token: 'token' };
				},
			},
		} as unknown as IHttpRequestHelper;
		const answer = await rimdian.preAuthenticate!.call(helper, { ...custom, rimdianApiBaseUrl: 'http://api.internal:8081' });
		assert.deepEqual(answer, { sessionToken: 'token' });
		assert.deepEqual(seen, ['http://api.internal:8081/api/account.login']);
	});

	test('the EU endpoints ignore a leftover API URL', () => {
		assert.deepEqual(rimdian.resolveEndpoints({ ...custom, rimdianRegion: 'eu', rimdianApiBaseUrl: 'http://x' }), {
			data: 'https://collector-eu.rimdian.com',
			api: 'https://api-eu.rimdian.com',
		});
	});
});
