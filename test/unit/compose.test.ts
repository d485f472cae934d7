/**
 * README's docker-compose file (docs/docker-compose.yml) has exactly the queue-mode settings
 * `npm run test:queue` runs n8n with (test/queue/cluster.ts's queueEnv for PostgreSQL): the same
 * keys, the same values but for addresses and secrets (DEPLOYMENT_SPECIFIC), the same worker
 * concurrency and two workers, and the n8n version the test installs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { COMPOSE_FILE, DEPLOYMENT_SPECIFIC, queueEnv, readCompose, WORKER_CONCURRENCY } from '../queue/cluster';

const text = fs.readFileSync(COMPOSE_FILE, 'utf8');
const compose = readCompose(text);
const tested = queueEnv(6379, { database: 'postgres', postgresPort: 5432 });

test('the compose file sets the keys the test sets, and the shared encryption key', () => {
	expect(Object.keys(compose.env).sort()).toEqual([...Object.keys(tested), 'N8N_ENCRYPTION_KEY'].sort());
});

test('each value is the one the test runs with, but addresses and secrets', () => {
	const differing = Object.keys(tested).filter((key) => !DEPLOYMENT_SPECIFIC.includes(key) && compose.env[key] !== tested[key]);
	expect(differing.map((key) => `${key}: compose ${compose.env[key]}, test ${tested[key]}`)).toEqual([]);
	// n8n 2.x's database binary store, PostgreSQL and queue mode, the point of the file.
	expect([compose.env.EXECUTIONS_MODE, compose.env.DB_TYPE, compose.env.N8N_DEFAULT_BINARY_DATA_MODE]).toEqual(['queue', 'postgresdb', 'database']);
	// Secrets come from the environment, never written in the file.
	for (const key of ['DB_POSTGRESDB_PASSWORD', 'N8N_ENCRYPTION_KEY']) expect(compose.env[key]).toMatch(/^\$\{[A-Z0-9_]+:\?/);
});

test('two workers with the test\'s concurrency, on the n8n version the test installs', () => {
	expect(compose.workerConcurrency).toEqual([WORKER_CONCURRENCY]);
	expect(text).toMatch(/replicas: 2\b/);
	const n8n2 = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'e2e', 'n8n2', 'package.json'), 'utf8')) as { dependencies: { n8n: string } };
	expect(text).toContain(`image: docker.n8n.io/n8nio/n8n:${n8n2.dependencies.n8n}\n`);
});

test('README shows this file', () => {
	const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
	const shown = /```yaml\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Running at scale')));
	expect(shown?.[1].trim()).toBe(text.trim());
});
