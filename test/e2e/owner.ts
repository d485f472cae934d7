/**
 * The owner account of a started n8n, set up through n8n's REST API as the editor's setup page
 * does it. Shared by the browser tests and `npm run dev` (scripts/dev.ts).
 */

export interface Owner {
	email: string;
	firstName: string;
	lastName: string;
	/** n8n wants 8 to 64 characters, a number and a capital letter. */
	password: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Whether the instance still asks for its owner (a new instance). /rest/settings is public (the
 * sign-in page reads it); undefined while n8n does not answer it yet.
 */
async function asksForOwner(baseUrl: string): Promise<boolean | undefined> {
	try {
		const response = await fetch(`${baseUrl}/rest/settings`);
		if (response.status !== 200) return undefined;
		const body = (await response.json()) as { data?: { userManagement?: { showSetupOnFirstLoad?: boolean } } };
		const flag = body.data?.userManagement?.showSetupOnFirstLoad;
		return typeof flag === 'boolean' ? flag : undefined;
	} catch {
		return undefined;
	}
}

/**
 * Sets up `owner` on an instance that has none yet; leaves an instance that has one as it is.
 * Resolves 'created' or 'existing'. /healthz answers before every REST route is mounted (seen on
 * n8n 2.x under load): a 404 means "not yet", for up to `timeoutMs`.
 */
export async function setUpOwner(baseUrl: string, owner: Owner, timeoutMs = 60_000): Promise<'created' | 'existing'> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const asks = await asksForOwner(baseUrl);
		if (asks === false) return 'existing';
		if (asks === true) {
			const setup = await fetch(`${baseUrl}/rest/owner/setup`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(owner),
			});
			if (setup.status === 200) return 'created';
			if (setup.status !== 404) throw new Error(`n8n refused the owner setup (${setup.status}): ${await setup.text()}`);
		}
		if (Date.now() > deadline) throw new Error(`n8n did not answer /rest/settings and /rest/owner/setup within ${timeoutMs} ms`);
		await sleep(1000);
	}
}
