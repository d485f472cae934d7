// n8n's own lint rules for community nodes, without the n8n Cloud-only ones: this package is
// for self-hosted n8n, where a streamed 1 GB import needs runtime dependencies (csv-parse,
// luxon) and timers, both of which Cloud verification bans.
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{ ignores: ['e2e/**', 'sandbox/**', 'test/**', 'bench/**', 'scripts/**', '.tmp/**', 'dist/**'] },
	// Layers point down only: nodes → platforms → core. n8n's config already registers import-x.
	{
		files: ['core/**/*.ts', 'platforms/**/*.ts', 'credentials/**/*.ts'],
		rules: {
			'import-x/no-restricted-paths': [
				'error',
				{
					zones: [
						{
							target: './core',
							from: ['./platforms', './nodes', './credentials'],
							message: 'core/ is the bottom layer: it imports nothing from platforms/, nodes/ or credentials/.',
						},
						{
							target: './platforms',
							from: ['./nodes', './credentials'],
							message: 'platforms/ may import core/ only, never the nodes or the credential.',
						},
					],
				},
			],
		},
	},
	// Functions short enough to read at once (n8n's model nodes keep an operation's execute short).
	{
		files: ['core/**/*.ts', 'platforms/**/*.ts', 'nodes/**/*.ts', 'credentials/**/*.ts'],
		rules: { 'max-lines-per-function': ['error', { max: 100 }] },
	},
	{
		files: ['package.json'],
		rules: { '@n8n/community-nodes/no-runtime-dependencies': 'off' },
	},
];
