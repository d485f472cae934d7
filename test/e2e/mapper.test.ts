/**
 * Import Items in "Map Each Field Manually" (n8n's resource mapper) in a real n8n, against the
 * sandbox: the platform receives exactly the fields mapped, nested where the id is dotted; the
 * platform's rules, not n8n's type check, judge each value; "Map Automatically" takes the
 * input's fields by name.
 *   npm run build && E2E_FILES=test/e2e/mapper.test.ts npm run -s test:e2e   (and test:e2e:n8n2)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import type { Platform, PlatformItemOptions } from '../../core/platform';
import { ayona as ayonaPlatform } from '../../platforms/ayona';
import { rimdian as rimdianPlatform } from '../../platforms/rimdian';
import { userpilot as userpilotPlatform } from '../../platforms/userpilot';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createN8n, type ExecutionResult, type N8nInstance } from './harness';
import { loadExample, sandboxCredentials, sandboxGet, variant } from './setup';

let sandbox: Sandbox;
let n8n: N8nInstance;

/** The parameter as the editor saves it: the mapping mode, the values, and the list it showed. */
function columns(
	platform: Platform,
	options: Partial<PlatformItemOptions>,
	value: Record<string, unknown> | null,
	mappingMode = 'defineBelow',
) {
	const schema = platform.mappingFields({ timezone: 'UTC', ...options }).map((field) => ({
		id: field.id,
		displayName: field.id,
		required: field.required,
		defaultMatch: false,
		display: true,
		type: field.type,
		canBeUsedToMatch: false,
		...(field.options ? { options: field.options.map((v) => ({ name: v, value: v })) } : {}),
	}));
	return { mappingMode, value, matchingColumns: [], schema, attemptToConvertTypes: false, convertFieldsToString: false };
}

/** Two orders as a shop's export gives them (prices as text, as a CSV or a sheet gives them); the second lacks its customer. */
const ORDERS = `return [
  { json: { order_no: 'A-1', placed: '2024-03-08T09:15:30Z', shop: 'shop.example', cur: 'EUR', subtotal: '1000', total: '1200', customer: 'c-42', email: 'ana@example.com', note: 'not mapped' } },
  { json: { order_no: 'A-2', placed: '2024-03-09T10:00:00Z', shop: 'shop.example', cur: 'EUR', subtotal: '500', total: '500', email: 'ben@example.com' } },
];`;

const rimdianOrders = variant(loadExample('rimdian-users.json'), 'mapperRimdianOrders', {
	'Source Records': { jsCode: ORDERS },
	'Import Items': {
		rimdianKind: 'order',
		dataMode: 'mapper',
		onInvalid: 'skip',
		columns: columns(rimdianPlatform, { rimdianKind: 'order' }, {
			external_id: '={{ $json.order_no }}',
			created_at: '={{ $json.placed }}',
			domain_id: '={{ $json.shop }}',
			currency: '={{ $json.cur }}',
			subtotal_price: '={{ $json.subtotal }}',
			total_price: '={{ $json.total }}',
			'user.external_id': '={{ $json.customer }}',
			'user.is_authenticated': true,
			'user.created_at': '2024-01-01T00:00:00Z',
			'user.email': '={{ $json.email }}',
			'user.telephone': '',
		}),
	},
});

/**
 * n8n's own date-time check would take both dates, the second as August 3rd; the package reads the
 * first and refuses the second as ambiguous (day or month first), so it is reported, not sent.
 */
const FEEDBACK = `return [
  { json: { when: '2024/03/08 09:15:30', who: 'Ana', text: 'The CSV export saved my week.', row_number: 2 } },
  { json: { when: '08/03/2024 10:00', who: 'Ben', text: 'Which day is this?', row_number: 3 } },
];`;

const ayonaDefined = variant(loadExample('ayona-feedback.json'), 'mapperAyonaDefined', {
	'Source Records': { jsCode: FEEDBACK },
	'Import Items': {
		dataMode: 'mapper',
		onInvalid: 'skip',
		columns: columns(ayonaPlatform, {}, { date: '={{ $json.when }}', name: '={{ $json.who }}', content: '={{ $json.text }}' }),
	},
});

const ayonaAuto = variant(loadExample('ayona-feedback.json'), 'mapperAyonaAuto', {
	'Import Items': { dataMode: 'mapper', columns: columns(ayonaPlatform, {}, null, 'autoMapInputData') },
});

const TRACKS = `return [
  { json: { who: 'User-1', what: 'Exported CSV', at: '2024-03-08T09:15:30Z', plan: 'pro' } },
];`;

const userpilotTrack = variant(loadExample('userpilot-events.json'), 'mapperUserpilotTrack', {
	'Source Records': { jsCode: TRACKS },
	'Import Items': {
		defaultEventType: 'track',
		dataMode: 'mapper',
		columns: columns(userpilotPlatform, { defaultEventType: 'track', defaultSource: 'backend-http-import' }, {
			user_id: '={{ $json.who }}',
			event_name: '={{ $json.what }}',
			inserted_at: '={{ $json.at }}',
			metadata: '={{ { plan: $json.plan } }}',
		}),
	},
});

type Workflow = ReturnType<typeof loadExample>;

/**
 * The four cases as branches of one workflow, so that n8n starts once for all of them (each
 * branch's nodes renamed after its case: "<case> Source", "<case> Import").
 */
function branches(cases: Record<string, Workflow>): Workflow {
	const trigger = rimdianOrders.nodes[0];
	const nodes: Workflow['nodes'] = [trigger];
	const connections: Record<string, unknown> = {};
	const link = (to: string) => ({ main: [[{ node: to, type: 'main', index: 0 }]] });
	const targets: Array<{ node: string; type: string; index: number }> = [];
	Object.entries(cases).forEach(([name, workflow], row) => {
		const [source, importer] = ['Source Records', 'Import Items'].map((node) => workflow.nodes.find((n) => n.name === node)!);
		nodes.push(
			{ ...source, id: `${workflow.id}-source`, name: `${name} Source`, position: [220, row * 200] } as Workflow['nodes'][number],
			{ ...importer, id: `${workflow.id}-import`, name: `${name} Import`, position: [440, row * 200] } as Workflow['nodes'][number],
		);
		targets.push({ node: `${name} Source`, type: 'main', index: 0 });
		connections[`${name} Source`] = link(`${name} Import`);
	});
	connections[trigger.name] = { main: [targets] };
	return { ...rimdianOrders, id: 'mapperCases', name: 'Map Each Field Manually (e2e)', nodes, connections };
}

const CASES = { Orders: rimdianOrders, Feedback: ayonaDefined, AutoFeedback: ayonaAuto, Tracks: userpilotTrack };
let result: ExecutionResult;

before(async () => {
	sandbox = await startSandbox({ jobStepMs: 50 });
	n8n = await createN8n();
	await n8n.importCredentials(sandboxCredentials(sandbox));
	await n8n.importWorkflows([branches(CASES)]);
	result = await n8n.execute('mapperCases');
});

function outputOf(name: keyof typeof CASES) {
	assert.equal(result.status, 'success', result.error?.message);
	return result.nodeOutput(`${name} Import`);
}

after(async () => {
	await n8n?.dispose();
	await sandbox?.close();
});

test('Rimdian orders: exactly the mapped fields arrive, dotted ones in the user object, prices as numbers; an order without its customer is reported', async () => {
	const output = outputOf('Orders');
	assert.deepEqual(output.map((item) => item.status), ['accepted', 'invalid']);
	assert.match(String(output[1].message), /user\.external_id/);
	const stored = [...sandbox.state.rimdian.records.values()].map((record) => JSON.parse(record.raw));
	assert.deepEqual(stored, [
		{
			kind: 'order',
			order: {
				external_id: 'A-1',
				created_at: '2024-03-08T09:15:30Z',
				domain_id: 'shop.example',
				currency: 'EUR',
				subtotal_price: 1000,
				total_price: 1200,
			},
			user: { external_id: 'c-42', is_authenticated: true, created_at: '2024-01-01T00:00:00Z', email: 'ana@example.com' },
		},
	]);
});

test("Ayona, fields below: the package's date rules judge, not n8n's (an ambiguous date is reported, not sent as August); row_number, unmapped, is not sent", async () => {
	const output = outputOf('Feedback');
	assert.deepEqual(output.map((item) => item.status), ['accepted', 'invalid']);
	assert.match(String(output[1].message), /"08\/03\/2024 10:00"/);
	assert.deepEqual(
		sandbox.state.ayona.entries
			.filter((entry) => !/^User /.test(entry.name))
			.map(({ date, name, content }) => ({ date, name, content })),
		[{ date: '2024-03-08 09:15:30', name: 'Ana', content: 'The CSV export saved my week.' }],
	);
});

test('Ayona, Map Automatically: the input fields of the same names arrive', async () => {
	const output = outputOf('AutoFeedback');
	assert.deepEqual(output.map((item) => item.status), ['accepted', 'accepted', 'accepted']);
	const names = sandbox.state.ayona.entries.map((entry) => entry.name).filter((name) => /^User /.test(name));
	assert.deepEqual(names, ['User 1', 'User 2', 'User 3']);
});

test('Userpilot track rows: the event type from the node, the mapped fields and metadata object in the uploaded file', async () => {
	const output = outputOf('Tracks');
	assert.deepEqual(output.map((item) => item.status), ['accepted']);
	const records = await sandboxGet<{ rows: { items: Array<Record<string, unknown>> } }>(sandbox, '/__sandbox/records/userpilot');
	assert.deepEqual(records.rows.items, [
		{
			event_type: 'track',
			user_id: 'User-1',
			event_name: 'Exported CSV',
			inserted_at: '2024-03-08T09:15:30Z',
			metadata: { plan: 'pro' },
			source: 'backend-http-import',
		},
	]);
});
