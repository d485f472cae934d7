/** Helpers to read an error answer whatever shape it came in (JSON, text, HTML, buffer). */

const MAX_QUOTE = 300;

export function bodyText(body: unknown): string {
	if (body === undefined || body === null) return '';
	if (typeof body === 'string') return body;
	if (Buffer.isBuffer(body)) return body.toString('utf8');
	try {
		return JSON.stringify(body);
	} catch {
		return String(body);
	}
}

export function looksLikeHtml(body: unknown, contentType?: string): boolean {
	// A JSON body is the API's own answer, whatever content type a server put on it.
	if (body !== null && typeof parseMaybeJson(body) === 'object') return false;
	if (contentType?.includes('text/html')) return true;
	const text = bodyText(body).trimStart().slice(0, 100).toLowerCase();
	return text.startsWith('<!doctype html') || text.startsWith('<html');
}

/** A short, single-line quote of an answer for an error message. */
export function quote(text: string): string {
	const line = text.replace(/\s+/g, ' ').trim();
	return line.length > MAX_QUOTE ? `${line.slice(0, MAX_QUOTE)}…` : line;
}

export function htmlAnswerMessage(status: number | undefined): string {
	return (
		`The server answered${status ? ` ${status}` : ''} with an HTML page instead of the API's answer: ` +
		'a proxy, a login page or a wrong base URL is in the way.'
	);
}

/** Parses a JSON body that arrived as text; returns the text itself when it is not JSON. */
export function parseMaybeJson(body: unknown): unknown {
	if (typeof body !== 'string') return body;
	const trimmed = body.trim();
	if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return body;
	try {
		return JSON.parse(trimmed);
	} catch {
		return body;
	}
}

/**
 * Why a 2xx answer is not the platform's acknowledgement, naming what came instead; `expected`
 * says what was looked for (e.g. \`"queued"\`).
 */
export function unexpectedSuccessMessage(
	platform: string,
	expected: string,
	body: unknown,
): string {
	if (looksLikeHtml(body)) {
		return `${platform} answered 2xx with an HTML page instead of ${expected} (a login page, a proxy or a wrong base URL?): the batch is not known to be accepted.`;
	}
	return `${platform} answered 2xx without ${expected} (${quote(bodyText(body)) || 'an empty body'}): the batch is not known to be accepted.`;
}
