import assert from 'node:assert/strict';

import { checkBaseUrl } from '../../core/baseUrl';
import { toBatches } from '../../core/delivery/batch';
import { canonicalJson } from '../../core/canonicalJson';
import { multipartFile } from '../../core/delivery/multipart';
import { setPath } from '../../core/paths';
import { rimdian } from '../../platforms/rimdian';

test('canonical JSON: same item, same bytes, whatever the key order', () => {
	const a = {
		kind: 'user',
		user: { external_id: 'u1', created_at: '2024-01-01T00:00:00Z', is_authenticated: true },
	};
	const b = {
		user: { is_authenticated: true, created_at: '2024-01-01T00:00:00Z', external_id: 'u1' },
		kind: 'user',
	};
	assert.equal(canonicalJson(a), canonicalJson(b));
	assert.equal(
		canonicalJson(a),
		'{"kind":"user","user":{"created_at":"2024-01-01T00:00:00Z","external_id":"u1","is_authenticated":true}}',
	);
	assert.deepEqual(JSON.parse(canonicalJson({ x: [1, 'é', null, { b: 1, a: undefined }] })), {
		x: [1, 'é', null, { b: 1 }],
	});
});

test('canonical JSON: key lists met before are sorted as they were, more shapes than it keeps included', () => {
	// The sorted order of recent key lists is kept for the next items: interleave more shapes
	// than it keeps, same keys in other orders, and lists that share a prefix.
	const shapes = Array.from({ length: 12 }, (_, shape) =>
		Array.from({ length: 2 + (shape % 5) }, (_, key) => `k${(shape * 7 + key * 3) % 10}_${key}`),
	);
	for (let round = 0; round < 3; round++) {
		for (const keys of shapes) {
			for (const order of [keys, [...keys].reverse()]) {
				const value: Record<string, number> = {};
				for (const key of order) value[key] = key.length;
				const expected = `{${[...keys]
					.sort()
					.map((key) => `"${key}":${key.length}`)
					.join(',')}}`;
				assert.equal(canonicalJson({ z: 1, a: value }), `{"a":${expected},"z":1}`);
			}
		}
	}
	assert.equal(canonicalJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
	assert.equal(canonicalJson({ b: 1, a: 2, c: 3 }), '{"a":2,"b":1,"c":3}');
	assert.equal(canonicalJson({ b: 1 }), '{"b":1}');
});

test('canonical JSON: keys in code-unit order at every level, even where JavaScript orders them otherwise', () => {
	// Integer-like keys come first in a JavaScript object whatever their insertion order, and
	// "__proto__" cannot be copied as data: both must still be written in sorted order.
	assert.equal(
		canonicalJson({ b: 1, 10: 'ten', 9: 'nine', a: 2 }),
		'{"10":"ten","9":"nine","a":2,"b":1}',
	);
	assert.equal(
		canonicalJson({ list: [{ y: 1, x: 2 }, JSON.parse('{"z":1,"__proto__":{"b":1,"a":2}}')] }),
		'{"list":[{"x":2,"y":1},{"__proto__":{"a":2,"b":1},"z":1}]}',
	);
	assert.equal(canonicalJson({ é: 1, e: 2, E: 3, '': 4 }), '{"":4,"E":3,"e":2,"é":1}');
});

test('canonical JSON: what JSON cannot hold is written as the piece-by-piece writer always wrote it', () => {
	const when = new Date(Date.UTC(2024, 0, 2));
	const value = {
		f: () => 1,
		u: undefined,
		s: Symbol('s'),
		n: NaN,
		d: when,
		a: [undefined, () => 1, Symbol('t'), Infinity, { b: undefined }],
	};
	const expected =
		'{"a":[null,null,null,null,{}],"d":"2024-01-02T00:00:00.000Z","n":null,"s":null}';
	assert.equal(canonicalJson(value), expected);
	// The same value with an integer-like key goes through the other writer: same text.
	assert.equal(canonicalJson({ ...value, 7: 0 }), `{"7":0,${expected.slice(1)}`);
	assert.equal(canonicalJson(undefined), 'null');
	assert.equal(canonicalJson('x'), '"x"');
	assert.equal(canonicalJson(new Map([['a', 1]])), '{}');
});

test('canonical JSON: key lists sorted once and remembered never give one shape the order of another', () => {
	// The sorted order of a key list is remembered; lists of the same length but other names,
	// more shapes than are remembered, and lists too long to keep must each still sort on their own.
	const reference = (value: Record<string, number>) =>
		`{${Object.keys(value)
			.sort()
			.map((key) => `${JSON.stringify(key)}:${value[key]}`)
			.join(',')}}`;
	const shapes: Array<Record<string, number>> = [];
	for (let shape = 0; shape < 20; shape++) {
		const value: Record<string, number> = {};
		for (let k = 0; k < 5; k++) value[`k${(shape * 7 + k * 3) % 11}_${shape % 3}`] = k;
		shapes.push(value);
	}
	const long: Record<string, number> = {};
	for (let k = 100; k > 0; k--) long[`key${k}`] = k;
	for (let round = 0; round < 3; round++) {
		for (const value of [
			...shapes,
			long,
			{ b: 1, a: 2 },
			{ b: 1, c: 2 },
			{ a: 2, c: 1 },
			{ a: 2, b: 1 },
		]) {
			assert.equal(canonicalJson(value), reference(value));
		}
	}
	assert.equal(
		canonicalJson({ y: { b: 1, a: 2 }, x: { c: 1, a: 2 } }),
		'{"x":{"a":2,"c":1},"y":{"a":2,"b":1}}',
	);
});

test('base URLs: https anywhere, http only on loopback unless allowed', () => {
	assert.equal(checkBaseUrl('https://api.example.com/'), 'https://api.example.com');
	assert.equal(checkBaseUrl('http://127.0.0.1:8787'), 'http://127.0.0.1:8787');
	assert.equal(checkBaseUrl('http://localhost:1'), 'http://localhost:1');
	assert.equal(checkBaseUrl('http://[::1]:1'), 'http://[::1]:1');
	assert.throws(
		() => checkBaseUrl('http://api.example.com'),
		/Refusing plain http:\/\/ to api.example.com/,
	);
	assert.equal(checkBaseUrl('http://10.0.0.5', true), 'http://10.0.0.5');
	assert.throws(() => checkBaseUrl('ftp://x'), /must start with https/);
	assert.throws(() => checkBaseUrl('not a url'), /is not a URL/);
	assert.throws(() => checkBaseUrl(''), /empty/);
	assert.throws(() => checkBaseUrl('https://user:pw@x.com'), /user name or password/);
});

test('batches: never more than the size, nothing lost, order kept', () => {
	const items = Array.from({ length: 250 }, (_, index) => ({ index, serialized: String(index) }));
	const batches = [...toBatches(items, 100)];
	assert.deepEqual(
		batches.map((b) => b.items.length),
		[100, 100, 50],
	);
	assert.deepEqual(
		batches.flatMap((b) => b.items.map((i) => i.index)),
		items.map((i) => i.index),
	);
	assert.deepEqual(
		batches.map((b) => b.number),
		[1, 2, 3],
	);
});

test('Rimdian body is built around serialized items without re-serializing them', () => {
	if (rimdian.delivery.mode !== 'batch') throw new Error('batch expected');
	const body = rimdian.delivery.buildBody(
		['{"kind":"user"}', '{"kind":"user"}'],
		{ workspaceId: 'ws"1' },
		{ timezone: 'UTC' },
	);
	assert.deepEqual(JSON.parse(body), {
		workspace_id: 'ws"1',
		items: [{ kind: 'user' }, { kind: 'user' }],
	});
});

test('Rimdian wraps flat records as the chosen kind, keeping user/session/device beside it', () => {
	assert.deepEqual(
		rimdian.mapItem({ external_id: 'u' }, { timezone: 'UTC', rimdianKind: 'user' }),
		{
			kind: 'user',
			user: { external_id: 'u' },
		},
	);
	assert.deepEqual(
		rimdian.mapItem(
			{ external_id: 'o', user: { external_id: 'u' } },
			{ timezone: 'UTC', rimdianKind: 'order' },
		),
		{ kind: 'order', order: { external_id: 'o' }, user: { external_id: 'u' } },
	);
	const own = { kind: 'user', user: { external_id: 'u' } };
	assert.equal(rimdian.mapItem(own, { timezone: 'UTC', rimdianKind: 'order' }), own);
});

test('dotted field names build nested objects and refuse prototype keys', () => {
	const target = {};
	setPath(target, 'user.external_id', 'u1');
	setPath(target, 'user.is_authenticated', true);
	setPath(target, 'kind', 'user');
	assert.deepEqual(target, { user: { external_id: 'u1', is_authenticated: true }, kind: 'user' });
	assert.throws(() => setPath({}, '__proto__.polluted', 1), /not allowed/);
});

test('multipart body: the file between one part header and the closing boundary', async () => {
	const file = multipartFile('file', 'a.ndjson', 'application/x-ndjson', Buffer.from('{"a":1}\n'));
	const body = file.body() as Buffer;
	assert.equal(body.length, file.length);
	const boundary = file.contentType.split('boundary=')[1];
	const text = body.toString();
	assert.ok(
		text.startsWith(
			`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.ndjson"\r\n`,
		),
	);
	assert.ok(text.endsWith(`\r\n{"a":1}\n\r\n--${boundary}--\r\n`));
});
