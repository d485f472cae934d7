import type { IDataObject } from 'n8n-workflow';

import type { Platform, PlatformItemOptions } from '../platform';
import type { PreparedItem } from '../delivery/batch';
import type { ItemResult } from '../results';
import { formatItemErrors } from '../validation/format';

export type Prepared =
	| { ok: true; item: PreparedItem }
	| { ok: false; result: ItemResult & { status: 'invalid' } };

/**
 * The one path from an input record (an n8n item's JSON or a file row) to what is sent:
 * platform mapping, validation (compiled once here), deterministic serialization.
 */
export function compilePreparer(
	platform: Platform,
	itemOptions: PlatformItemOptions,
	label: 'item' | 'row' = 'item',
): (record: unknown, index: number) => Prepared {
	const validate = platform.compileValidator(itemOptions);
	const serialize = platform.delivery.serializeItem;
	const keyOf = platform.delivery.mode === 'batch' ? platform.delivery.idempotencyKey : undefined;
	return (record, index) => {
		let mapped: unknown = record;
		let unreadable: string | undefined;
		if (record !== null && typeof record === 'object' && !Array.isArray(record)) {
			try {
				mapped = platform.mapItem(record as IDataObject, itemOptions);
			} catch (error) {
				// A record whose fields throw when read (a hostile proxy) is this record's problem.
				unreadable = `could not be read: ${(error as Error)?.message ?? String(error)}`;
			}
		}
		const validation = unreadable
			? { ok: false as const, errors: [{ field: '(item)', reason: unreadable }] }
			: validate(mapped);
		if (!validation.ok) {
			return {
				ok: false,
				result: {
					status: 'invalid',
					errors: validation.errors,
					message: formatItemErrors(label, index + 1, validation.errors),
				},
			};
		}
		const value = validation.value as IDataObject;
		const item: PreparedItem = { index, serialized: serialize(value), key: keyOf?.(value) };
		if (validation.warnings !== undefined) item.warnings = validation.warnings;
		return { ok: true, item };
	};
}
