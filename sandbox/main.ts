/**
 * CLI: `npm run sandbox` (tsx sandbox/main.ts) [--port N] [--verbose] [--job-step-ms N]
 * Port: --port, else env SANDBOX_PORT, else 8787. Stops cleanly on SIGINT / SIGTERM.
 */
import {
	AYONA_KEY,
	AYONA_SOURCE_ID,
	DEFAULT_CLI_PORT,
	RIMDIAN_DOMAINS,
	RIMDIAN_SERVICE_EMAIL,
	RIMDIAN_SERVICE_PASSWORD,
	RIMDIAN_TOKEN,
	RIMDIAN_WORKSPACE,
	USERPILOT_KEY,
	USERPILOT_READ_KEY,
} from './defaults';
import { startSandbox, type SandboxOptions } from './server';

function usage(msg?: string): never {
	if (msg) process.stderr.write(`${msg}\n`);
	process.stderr.write('usage: tsx sandbox/main.ts [--port N] [--verbose] [--job-step-ms N]\n');
	process.exit(2);
}

function parsePort(v: string | undefined, what: string): number {
	if (v === undefined || !/^\d+$/.test(v) || +v > 65535) usage(`invalid ${what}: ${v ?? '(missing)'}`);
	return +v;
}

function parseArgs(argv: string[]): SandboxOptions {
	const opts: SandboxOptions = {};
	let port: number | null = null;
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
		const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
		switch (flag) {
			case '--port':
			case '-p':
				port = parsePort(value(), '--port');
				break;
			case '--verbose':
			case '-v':
				opts.verbose = true;
				break;
			case '--job-step-ms': {
				const v = value();
				if (v === undefined || !/^\d+$/.test(v)) usage(`invalid --job-step-ms: ${v ?? '(missing)'}`);
				opts.jobStepMs = +v;
				break;
			}
			case '--help':
			case '-h':
				usage();
				break;
			default:
				usage(`unknown argument: ${a}`);
		}
	}
	if (port === null) {
		const env = process.env.SANDBOX_PORT;
		port = env !== undefined && env !== '' ? parsePort(env, 'SANDBOX_PORT') : DEFAULT_CLI_PORT;
	}
	opts.port = port;
	return opts;
}

async function main(): Promise<void> {
	// A closed stdout (e.g. piped into `head`) must not crash the sandbox or skip its clean-up.
	process.stdout.on('error', () => undefined);
	const opts = parseArgs(process.argv.slice(2));
	const sandbox = await startSandbox(opts);
	const u = sandbox.url;
	process.stdout.write(
		[
			`sandbox listening on ${u}`,
			`  admin      ${u}/__sandbox/health | /stats | /config | /reset | /records/{rimdian,userpilot,ayona}`,
			`  rimdian    POST ${u}/data  (Authorization: Bearer ${RIMDIAN_TOKEN}, workspace_id ${RIMDIAN_WORKSPACE}, domains ${RIMDIAN_DOMAINS.join(', ')})`,
			`             POST ${u}/api/account.login  (email ${RIMDIAN_SERVICE_EMAIL}, password ${RIMDIAN_SERVICE_PASSWORD})`,
			`  userpilot  POST ${u}/v1/imports  (Authorization: Token ${USERPILOT_KEY}; read-only key ${USERPILOT_READ_KEY})`,
			`  ayona      POST ${u}/api/v1/source/import  (X-API-KEY: ${AYONA_KEY}, source_id ${AYONA_SOURCE_ID})`,
			'',
		].join('\n'),
	);

	let stopping = false;
	const stop = (signal: string): void => {
		if (stopping) return;
		stopping = true;
		process.stdout.write(`sandbox stopping (${signal})\n`);
		sandbox.close().then(
			() => process.exit(0),
			(err: Error) => {
				process.stderr.write(`sandbox close failed: ${err.message}\n`);
				process.exit(1);
			},
		);
	};
	process.on('SIGINT', () => stop('SIGINT'));
	process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: Error) => {
	process.stderr.write(`sandbox failed to start: ${err.message}\n`);
	process.exit(1);
});
