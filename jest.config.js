// Unit tests (test/unit) on jest, TypeScript through ts-jest in transpile-only mode
// (isolatedModules): types are checked by `npm run typecheck`, not here.
// `npm run test:unit` adds --coverage: text summary + lcov in coverage/, with a floor.
// The suites that drive a real n8n (test/e2e, queue, browser, load, pack) stay on node:test.
// The shipped code.
const shipped = ['core', 'platforms', 'nodes', 'credentials'];

/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	// Only these folders are crawled (not e2e/n8n*/node_modules, dist, .tmp); imports outside
	// them (sandbox/, test/fixtures/) still resolve.
	roots: ['<rootDir>/test/unit', ...shipped.map((dir) => `<rootDir>/${dir}`)],
	testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }] },
	// `import ... from './x.node.js'` names the compiled file; here it is the .ts beside it.
	moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
	setupFiles: ['<rootDir>/test/unit/jest.setup.ts'],
	// node:test sets no time limit; jest's default of 5 s is too short for the sandbox-driven
	// tests on a busy 2-core machine with coverage on. Slower tests set their own.
	testTimeout: 30_000,
	collectCoverageFrom: [...shipped.map((dir) => `${dir}/**/*.ts`), '!**/*.d.ts'],
	coverageDirectory: 'coverage',
	coverageReporters: ['text-summary', 'lcov'],
	coverageThreshold: {
		global: { statements: 88, branches: 79, functions: 87, lines: 90 },
	},
};
