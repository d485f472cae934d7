/**
 * The workflows of the queue-mode test. Each starts from a Webhook (in queue mode the main
 * receives the call and a worker runs the execution) and answers with the last node's first item,
 * which carries `$execution.id` so that the test can tell which worker ran it.
 */
import { randomUUID } from 'node:crypto';

import { PACKAGE_NAME } from '../e2e/harness';

type Node = {
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string; name: string }>;
	webhookId?: string;
	executeOnce?: boolean;
};

export interface Workflow {
	id: string;
	name: string;
	active?: boolean;
	nodes: Node[];
	connections: Record<string, { main: Array<Array<{ node: string; type: 'main'; index: number }>> }>;
	settings: Record<string, unknown>;
}

function chain(id: string, name: string, nodes: Node[]): Workflow {
	const connections: Workflow['connections'] = {};
	for (let i = 0; i + 1 < nodes.length; i++) {
		connections[nodes[i].name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
	}
	return { id, name, nodes, connections, settings: { executionOrder: 'v1' } };
}

function webhook(path: string, options: Record<string, unknown> = {}): Node {
	return {
		name: 'Webhook',
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		position: [0, 0],
		webhookId: randomUUID(),
		parameters: { httpMethod: 'POST', path, responseMode: 'lastNode', responseData: 'firstEntryJson', options },
	};
}

function code(name: string, jsCode: string, x: number): Node {
	return { name, type: 'n8n-nodes-base.code', typeVersion: 2, position: [x, 0], parameters: { jsCode } };
}

/**
 * POST {users: [...]} (Rimdian), {entries: [...]} (Ayona) or {events: [...]} (Userpilot) → Split Out (one item per record) →
 * Import Items → Summary {executionId, items, accepted}. The items come in the request (no Code
 * node: n8n's Code sandbox would cost more CPU than the import itself), so a re-run with the same
 * body sends byte-identical items; `?startAtItem=` sets the node's "Start at Item".
 */
export function importUsersWorkflow(id: string, path: string, credentialId: string, concurrency: number, platform: 'rimdian' | 'ayona' | 'userpilot' = 'rimdian'): Workflow {
	const startAtItem = "={{ Number($('Webhook').first().json.query.startAtItem || 1) }}";
	const platformParameters = {
		rimdian: { platform, rimdianKind: 'user', dataMode: 'autoMap', onInvalid: 'stop', options: { concurrency, startAtItem } },
		ayona: { platform, sourceId: 'sandbox-source', dataMode: 'autoMap', onInvalid: 'stop', options: { concurrency, startAtItem, timezone: 'UTC' } },
		userpilot: { platform, defaultSource: 'backend-http-import', dataMode: 'autoMap', onInvalid: 'stop', options: { waitForCompletion: true, pollIntervalSeconds: 0.5, startAtItem } },
	}[platform];
	const records = { rimdian: 'users', ayona: 'entries', userpilot: 'events' }[platform];
	return chain(id, `Queue: import ${records} (${path})`, [
		webhook(path),
		{
			name: 'Split Out Records',
			type: 'n8n-nodes-base.splitOut',
			typeVersion: 1,
			position: [220, 0],
			parameters: { fieldToSplitOut: `body.${records}`, include: 'noOtherFields', options: {} },
		},
		{
			name: 'Import Items',
			type: `${PACKAGE_NAME}.importItems`,
			typeVersion: 1,
			position: [440, 0],
			parameters: platformParameters,
			credentials: { dataImportApi: { id: credentialId, name: credentialId } },
		},
		{
			name: 'Summary',
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			position: [660, 0],
			executeOnce: true,
			parameters: {
				mode: 'manual',
				assignments: {
					assignments: [
						{ id: randomUUID(), name: 'executionId', type: 'string', value: '={{ $execution.id }}' },
						{ id: randomUUID(), name: 'items', type: 'number', value: '={{ $input.all().length }}' },
						{ id: randomUUID(), name: 'accepted', type: 'number', value: "={{ $input.all().filter((item) => item.json.status === 'accepted').length }}" },
					],
				},
				options: {},
			},
		} as Node,
	]);
}

/** Ayona entries `<prefix>-<n>` (the content names the entry: Ayona has no key of its own). */
export function entries(prefix: string, count: number): Array<Record<string, unknown>> {
	const start = Date.UTC(2024, 0, 1);
	return Array.from({ length: count }, (_, index) => {
		const i = index + 1;
		return { date: new Date(start + i * 60000).toISOString(), name: `Customer ${i}`, content: `${prefix}-${String(i).padStart(6, '0')}` };
	});
}

/** Userpilot track events of users `<prefix>-<n>`. */
export function events(prefix: string, count: number): Array<Record<string, unknown>> {
	return Array.from({ length: count }, (_, index) => {
		const i = index + 1;
		return { event_type: 'track', event_name: 'imported_event', source: 'backend-http', user_id: `${prefix}-${String(i).padStart(6, '0')}`, inserted_at: `2024-05-01 10:00:00.${String(i).padStart(6, '0')}` };
	});
}

/** The users a request carries: `<prefix>-<n>`, the same every time for the same prefix. */
export function users(prefix: string, count: number): Array<Record<string, unknown>> {
	const start = Date.UTC(2024, 0, 1);
	return Array.from({ length: count }, (_, index) => {
		const i = index + 1;
		return {
			external_id: `${prefix}-${String(i).padStart(6, '0')}`,
			is_authenticated: true,
			created_at: new Date(start + i * 60000).toISOString(),
			email: `${prefix}.${i}@example.com`,
			first_name: `First${i}`,
		};
	});
}

/**
 * The request body (a CSV file) → Bulk File Import → the node's summary and the execution id.
 * The Webhook (on the main) writes the body into n8n's binary store; the worker streams it from there.
 * Userpilot: the file is streamed as it is after one validating pass. Rimdian: rows in batches of
 * 100, one batch in flight, starting at the row given as `?startAtRow=` (the node's "Start at Row").
 */
export function uploadFileWorkflow(id: string, path: string, credentialId: string, platform: 'userpilot' | 'rimdian'): Workflow {
	const parameters =
		platform === 'userpilot'
			? {
					platform,
					binaryPropertyName: 'data',
					fileFormat: 'csv',
					userpilotUpload: 'asIs',
					validateFirst: true,
					options: { waitForCompletion: true, pollIntervalSeconds: 0.5 },
				}
			: {
					platform,
					rimdianKind: 'user',
					binaryPropertyName: 'data',
					fileFormat: 'csv',
					onInvalid: 'skip',
					options: { concurrency: 1, startAtRow: "={{ Number($json.query.startAtRow || 1) }}" },
				};
	return chain(id, `Queue: import a file into ${platform} (${path})`, [
		webhook(path, { binaryData: true, binaryPropertyName: 'data' }),
		{
			name: 'Bulk File Import',
			type: `${PACKAGE_NAME}.bulkFileImport`,
			typeVersion: 1,
			position: [220, 0],
			parameters,
			credentials: { dataImportApi: { id: credentialId, name: credentialId } },
		},
		code('Summary', `return [{ json: { ...$input.first().json, jobs: undefined, rejected: undefined, executionId: $execution.id } }];`, 440),
	]);
}

/**
 * Job Status Trigger on Userpilot (every 5 s: a cron listing seconds, which n8n 1.x accepts; every minute on n8n 2.x) → each
 * emission POSTed to `evidenceUrl`, with the id of the execution that carried it.
 */
export function jobStatusWorkflow(id: string, credentialId: string, evidenceUrl: string, everyMinute = false): Workflow {
	const workflow = chain(id, 'Queue: Userpilot job status', [
		{
			name: 'Job Status Trigger',
			type: `${PACKAGE_NAME}.jobStatusTrigger`,
			typeVersion: 1,
			position: [0, 0],
			parameters: {
				// n8n 2.x polls at most once a minute (as test/e2e/jobStatusTrigger.test.ts finds).
				pollTimes: { item: [everyMinute ? { mode: 'everyMinute' } : { mode: 'custom', cronExpression: '0,5,10,15,20,25,30,35,40,45,50,55 * * * * *' }] },
				platform: 'userpilot',
				events: ['completed', 'failed'],
				jobsToWatch: 'all',
			},
			credentials: { dataImportApi: { id: credentialId, name: credentialId } },
		},
		{
			name: 'Evidence',
			type: 'n8n-nodes-base.httpRequest',
			typeVersion: 4.2,
			position: [220, 0],
			parameters: {
				method: 'POST',
				url: evidenceUrl,
				sendBody: true,
				specifyBody: 'json',
				jsonBody: '={{ JSON.stringify({ executionId: $execution.id, job_id: $json.job_id, transition: $json.transition, filename: $json.filename, total_rows: $json.total_rows }) }}',
				options: {},
			},
		},
	]);
	workflow.active = true;
	return workflow;
}
