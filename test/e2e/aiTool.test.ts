/**
 * Import Items used as an AI tool (`usableAsTool: true`) in a real n8n (1.123; 2.40 too), called the way an
 * AI Agent calls it: n8n builds the tool variant `n8n-nodes-data-import.importItemsTool` from the
 * node, turns its `$fromAI(...)` parameters into the tool's argument schema, and runs the node
 * with the arguments as its input item (n8n-core's createNodeAsTool / makeHandleToolInvocation).
 *
 * No language model exists on this machine, so the caller is n8n's own "Tool Executor"
 * (@n8n/n8n-nodes-langchain.toolExecutor, the hidden node the editor uses to run a tool on its
 * own): it takes the arguments a model would have produced, as JSON, and invokes every connected
 * tool through the same LangChain tool object an agent gets.
 *   node --import tsx --test test/e2e/aiTool.test.ts   (after npm run build)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, PACKAGE_NAME, type N8nInstance } from './harness';
import { findSecrets, sandboxCredentials } from './setup';

let sandbox: Sandbox;
let n8n: N8nInstance;

/** Manual Trigger → Tool Executor, with Import Items (tool variant) on its ai_tool input. */
function toolCall(id: string, args: Record<string, unknown>) {
	return {
		id,
		name: `AI tool call (${id})`,
		nodes: [
			{ name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				name: 'Call Tool',
				type: '@n8n/n8n-nodes-langchain.toolExecutor',
				typeVersion: 1,
				position: [220, 0],
				// n8n 1.x hands the query to the tool as it is; n8n 2.x hands each tool the value under
				// its name (the node's name, spaces as underscores). The tool's schema drops the other keys.
				parameters: { query: JSON.stringify({ ...args, Record_Feedback: args }), toolName: '' },
			},
			{
				name: 'Record Feedback',
				type: `${PACKAGE_NAME}.importItemsTool`,
				typeVersion: 1,
				position: [220, 200],
				parameters: {
					toolDescription: 'Records one piece of customer feedback in Ayona',
					platform: 'ayona',
					sourceId: 'sandbox-source',
					dataMode: 'define',
					fields: {
						field: [
							{ name: 'date', value: "={{ $fromAI('date', 'When the customer gave the feedback, ISO 8601', 'string') }}" },
							{ name: 'name', value: "={{ $fromAI('customer', 'The customer\\'s name', 'string') }}" },
							{ name: 'content', value: "={{ $fromAI('feedback', 'The feedback, word for word', 'string') }}" },
						],
					},
					onInvalid: 'stop',
					options: { timezone: 'UTC' },
				},
				credentials: { dataImportApi: { id: 'sandboxAyona', name: 'Ayona (sandbox)' } },
			},
		],
		connections: {
			Start: { main: [[{ node: 'Call Tool', type: 'main', index: 0 }]] },
			'Record Feedback': { ai_tool: [[{ node: 'Call Tool', type: 'ai_tool', index: 0 }]] },
		},
	};
}

const good = toolCall('aiToolGood', { date: '2024-03-08T09:15:30+02:00', customer: 'Ana', feedback: 'The import finished while I slept.' });
const badDate = toolCall('aiToolBadDate', { date: '03/04/2024', customer: 'Ben', feedback: 'Which day is this?' });

before(async () => {
	sandbox = await startSandbox();
	n8n = await createN8n();
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflows([good, badDate]);
});

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
});

test('a tool call with $fromAI arguments imports the entry and answers with the per-item result', async () => {
	await sandbox.reset();
	const result = await n8n.execute(good.id);
	assert.equal(result.status, 'success', `${result.error?.message}\n${result.error?.description ?? ''}\n${result.stdout.slice(-3000)}`);
	// What the tool answered the caller (an agent would read this).
	// The tool hands the caller its output items as JSON text; the Tool Executor puts it out as is.
	const answers = result.nodeItems('Call Tool');
	assert.equal(answers.length, 1);
	const answer = JSON.parse(answers[0].json as unknown as string) as Array<Record<string, unknown>>;
	assert.deepEqual(answer.map(({ status, platform }) => ({ status, platform })), [{ status: 'accepted', platform: 'ayona' }]);
	// What Ayona received: the arguments, the date rewritten in UTC as Ayona wants it.
	assert.deepEqual(
		sandbox.state.ayona.entries.map(({ source_id, date, name, content }) => ({ source_id, date, name, content })),
		[{ source_id: 'sandbox-source', date: '2024-03-08 07:15:30', name: 'Ana', content: 'The import finished while I slept.' }],
	);
	// The tool node's own run is recorded as n8n records a tool call.
	assert.ok(result.runData['Record Feedback']?.length >= 1, Object.keys(result.runData).join(', '));
	assert.deepEqual(findSecrets(result.stdout + result.stderr), []);
});

test('a tool call with an ambiguous date is refused with the reason, and nothing is sent', async () => {
	await sandbox.reset();
	const result = await n8n.execute(badDate.id);
	assert.equal(result.status, 'error');
	const text = `${result.error?.message ?? ''} ${result.error?.description ?? ''}`;
	// What the caller is told: the field and the reason.
	assert.match(text, /Error executing tool: 1 of 1 items are invalid; nothing was sent/, text);
	assert.match(text, /field "date": "03\/04\/2024" is ambiguous/, text);
	assert.equal(sandbox.state.ayona.entries.length, 0);
	assert.equal(sandbox.state.ayona.requests, 0);
	assert.deepEqual(findSecrets(result.stdout + result.stderr + n8n.logs()), []);
});
