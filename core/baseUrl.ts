/**
 * Checks a base URL (scheme and host) before any request is made with it, so that a key never
 * crosses a network in clear text and a typo fails with a clear message instead of a DNS error.
 */
export class InsecureEndpointError extends Error {}

const LOOPBACK_V4 = /^127(?:\.\d{1,3}){3}$/;

export function isLoopbackHost(hostname: string): boolean {
	const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
	return host === 'localhost' || host === '::1' || LOOPBACK_V4.test(host);
}

/** Returns the URL without a trailing slash; throws InsecureEndpointError on a URL it refuses. */
export function checkBaseUrl(raw: unknown, allowInsecureHttp = false): string {
	if (typeof raw !== 'string' || raw.trim() === '') {
		throw new InsecureEndpointError('The base URL is empty: set it in the credentials.');
	}
	const text = raw.trim();
	const url = URL.canParse(text) ? new URL(text) : undefined;
	if (!url) {
		throw new InsecureEndpointError(
			`The base URL "${text}" is not a URL: write it as https://host[:port][/path].`,
		);
	}
	if (url.username || url.password) {
		throw new InsecureEndpointError(
			'The base URL must not carry a user name or password: put secrets in the credential fields.',
		);
	}
	if (url.protocol === 'http:') {
		if (!isLoopbackHost(url.hostname) && !allowInsecureHttp) {
			throw new InsecureEndpointError(
				`Refusing plain http:// to ${url.hostname}: the key would cross the network unencrypted. ` +
					'Use https://, or turn on "Allow Plain HTTP" in the credentials if this network is trusted.',
			);
		}
	} else if (url.protocol !== 'https:') {
		throw new InsecureEndpointError(
			`The base URL must start with https:// (got ${url.protocol}//).`,
		);
	}
	if (url.search || url.hash) {
		throw new InsecureEndpointError('The base URL must not contain a query string or a fragment.');
	}
	return url.toString().replace(/\/+$/, '');
}
