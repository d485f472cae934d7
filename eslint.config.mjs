// n8n's own lint rules for community nodes, without the n8n Cloud-only ones: this package is
// for self-hosted n8n, where a streamed 1 GB import needs runtime dependencies (csv-parse,
// luxon) and timers, both of which Cloud verification bans.
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{ ignores: ['e2e/**', 'sandbox/**', 'test/**', 'bench/**', 'scripts/**', '.tmp/**', 'dist/**'] },
	{
		files: ['package.json'],
		rules: { '@n8n/community-nodes/no-runtime-dependencies': 'off' },
	},
];
