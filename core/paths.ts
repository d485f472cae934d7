import type { IDataObject } from 'n8n-workflow';

const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

/** Sets `a.b.c` in an object, creating the objects on the way; refuses prototype keys. */
export function setPath(target: IDataObject, path: string, value: unknown): void {
	const parts = path.split('.');
	let node = target;
	for (let i = 0; i < parts.length - 1; i++) {
		const part = parts[i];
		if (UNSAFE.has(part)) throw new Error(`Field name "${path}" is not allowed`);
		const next = node[part];
		if (next === undefined) node[part] = {};
		else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
			throw new Error(
				`Field "${path}" conflicts with field "${parts.slice(0, i + 1).join('.')}", which is not an object`,
			);
		}
		node = node[part] as IDataObject;
	}
	const last = parts[parts.length - 1];
	if (UNSAFE.has(last)) throw new Error(`Field name "${path}" is not allowed`);
	const existing = node[last];
	if (existing !== null && typeof existing === 'object' && !Array.isArray(existing)) {
		throw new Error(`Field "${path}" conflicts with the fields set inside it ("${path}.…")`);
	}
	node[last] = value as IDataObject[string];
}
