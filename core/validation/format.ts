/**
 * Turning FieldErrors into messages a user reads in n8n.
 *
 * Item and row numbers are 1-based, the way people count rows in a sheet or items in n8n's table:
 * the first item is "Item 1". Callers pass `index + 1`; for CSV files whose first line is a header,
 * whether to count that line is the caller's choice (pass the number the user will look for).
 */
import type { FieldError } from './types';

export type ItemLabel = 'item' | 'row';

/** One item at fault: its 1-based number and its errors. */
export interface InvalidItem {
	number: number;
	errors: readonly FieldError[];
}

const ITEM_FIELD = '(item)';

function capitalized(label: ItemLabel): string {
	return label === 'row' ? 'Row' : 'Item';
}

/** `field "user.created_at": <reason>`, or the bare reason for errors of the item itself. */
export function formatFieldError(error: FieldError): string {
	return error.field === ITEM_FIELD || error.field === ''
		? error.reason
		: `field "${error.field}": ${error.reason}`;
}

/**
 * `Item 3: field "user.created_at": <reason>; field "user.external_id": is required`.
 * `number` is 1-based (pass index + 1).
 */
export function formatItemErrors(
	label: ItemLabel,
	number: number,
	errors: readonly FieldError[],
): string {
	const head = `${capitalized(label)} ${number}`;
	if (errors.length === 0) return `${head}: invalid`;
	let text = `${head}: ${formatFieldError(errors[0])}`;
	for (let i = 1; i < errors.length; i++) text += `; ${formatFieldError(errors[i])}`;
	return text;
}

/**
 * One message for a batch: the total count of items at fault, then the first `max` of them, one per
 * line. `2 items are invalid:\nItem 1: …\nItem 4: …`, or with more than `max`:
 * `7 items are invalid; the first 3:\n…\n(4 more not shown)`.
 */
export function summarizeInvalid(
	list: readonly InvalidItem[],
	max = 5,
	label: ItemLabel = 'item',
): string {
	const total = list.length;
	if (total === 0) return `No ${label}s are invalid.`;
	const shown = Math.max(1, Math.min(Math.floor(max), total));
	const noun = total === 1 ? `1 ${label} is invalid` : `${total} ${label}s are invalid`;
	let text = shown < total ? `${noun}; the first ${shown}:` : `${noun}:`;
	for (let i = 0; i < shown; i++) {
		text += `\n${formatItemErrors(label, list[i].number, list[i].errors)}`;
	}
	if (shown < total) text += `\n(${total - shown} more not shown)`;
	return text;
}
