// Runs in each test file's context before it (jest.config.js setupFiles).
//
// Jest runs each test file in its own vm context, but Node's fetch (undici) stays in the outer
// one: Response.json() would build its objects and arrays there, with another realm's
// Object.prototype and Array.prototype, and node:assert's deepStrictEqual, which compares
// prototypes, would call them different from the test's own literals ("Compared values have no
// visual difference"). Parsed here, with this context's JSON, they are the test's own, as they
// were under node:test.
Object.defineProperty(Response.prototype, 'json', {
	configurable: true,
	writable: true,
	value: async function json(this: Response): Promise<unknown> {
		return JSON.parse(await this.text());
	},
});
