/**
 * What the end-to-end suites share: a sandbox in this process, a real n8n with this package,
 * credentials pointed at the sandbox, and the example workflows adapted to a test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { AYONA_KEY, RIMDIAN_TOKEN, RIMDIAN_WORKSPACE, USERPILOT_KEY, RIMDIAN_SERVICE_EMAIL, RIMDIAN_SERVICE_PASSWORD } from '../../sandbox/defaults';
import type { Sandbox } from '../../sandbox/server';
import { REPO_ROOT, type CredentialInput } from './harness';

/** Every secret a test uses: none may appear in any output, error or log line. */
export const SECRETS = [RIMDIAN_TOKEN, USERPILOT_KEY, AYONA_KEY, RIMDIAN_SERVICE_PASSWORD];

export function sandboxCredentials(sandbox: Sandbox): CredentialInput[] {
	return [
		{
			id: 'sandboxRimdian',
			name: 'Rimdian (sandbox)',
			type: 'dataImportApi',
			data: {
				platform: 'rimdian',
				rimdianAuthentication: 'accessToken',
				rimdianRegion: 'custom',
				baseUrl: sandbox.url,
				apiKey: RIMDIAN_TOKEN,
				workspaceId: RIMDIAN_WORKSPACE,
			},
		},
		{
			id: 'sandboxRimdianService',
			name: 'Rimdian service account (sandbox)',
			type: 'dataImportApi',
			data: {
				platform: 'rimdian',
				rimdianAuthentication: 'serviceAccount',
				rimdianRegion: 'custom',
				baseUrl: sandbox.url,
				email: RIMDIAN_SERVICE_EMAIL,
				password: RIMDIAN_SERVICE_PASSWORD,
				workspaceId: RIMDIAN_WORKSPACE,
			},
		},
		{
			id: 'sandboxUserpilot',
			name: 'Userpilot (sandbox)',
			type: 'dataImportApi',
			data: { platform: 'userpilot', userpilotRegion: 'custom', baseUrl: sandbox.url, apiKey: USERPILOT_KEY },
		},
		{
			id: 'sandboxAyona',
			name: 'Ayona (sandbox)',
			type: 'dataImportApi',
			data: { platform: 'ayona', baseUrl: sandbox.url, apiKey: AYONA_KEY },
		},
	];
}

type Workflow = {
	id?: string;
	name: string;
	nodes: Array<{ name: string; type: string; parameters: Record<string, unknown>; credentials?: Record<string, { id: string; name: string }> }>;
	[key: string]: unknown;
};

export function loadExample(file: string): Workflow {
	return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', file), 'utf8')) as Workflow;
}

/** A copy of a workflow with a new id and name, and changes to named nodes' parameters. */
export function variant(
	workflow: Workflow,
	id: string,
	changes: Record<string, Record<string, unknown>>,
	credentialId?: string,
): Workflow {
	const copy = JSON.parse(JSON.stringify(workflow)) as Workflow;
	copy.id = id;
	copy.name = `${workflow.name} (${id})`;
	for (const node of copy.nodes) {
		if (changes[node.name]) node.parameters = { ...node.parameters, ...changes[node.name] };
		if (credentialId && node.credentials?.dataImportApi) {
			node.credentials.dataImportApi = { id: credentialId, name: credentialId };
		}
	}
	return copy;
}

/** Lists every place a secret occurs in a text. */
export function findSecrets(text: string): string[] {
	return SECRETS.filter((secret) => text.includes(secret));
}

export async function sandboxGet<T>(sandbox: Sandbox, route: string): Promise<T> {
	const response = await fetch(`${sandbox.url}${route}`);
	return (await response.json()) as T;
}
