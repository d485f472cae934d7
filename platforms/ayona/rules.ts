/**
 * Entry rules of Ayona's REST source import (`payload: [{date, name, content}]`).
 *
 * - `date`: required; read like every date of the package (ISO 8601 with or without offset,
 *   `YYYY/MM/DD`, RFC 2822, Date objects; zone-less values in `timezone`) and written
 *   `YYYY-MM-DD HH:mm:ss` in `timezone` (a value already written so is kept byte-identical;
 *   fractions of a second are dropped). Future dates are accepted unless `rejectFutureDates`
 *   (Ayona documents no such rule).
 * - `name`, `content`: required, non-blank strings (at most 1,000 and 100,000 characters, local
 *   guards: Ayona publishes no limit). A finite number is converted to its decimal string only
 *   with `coerceStrings`; otherwise it is refused, as are booleans, objects and arrays.
 * - any other key is an error naming it: the API takes exactly these three fields, and dropping
 *   data silently would hide a mapping mistake. Map the item to {date, name, content} first.
 *
 * The returned value is the item itself when nothing changed, else a new `{date, name, content}`.
 */
import {
	ErrorList,
	describeValue,
	expectedGot,
	isBlank,
	isRecord,
	own,
} from '../../lib/validation/checks';
import { compileDateNormalizer } from '../../lib/validation/dates';
import type { ItemValidator, ValidatorOptions } from '../../lib/validation/types';

export interface AyonaValidatorOptions extends ValidatorOptions {
	/** Refuse dates after now(). Default false. */
	rejectFutureDates?: boolean;
}

export const AYONA_FIELDS = ['date', 'name', 'content'] as const;
export const AYONA_MAX_NAME_LENGTH = 1_000;
export const AYONA_MAX_CONTENT_LENGTH = 100_000;

const FIELDS = new Set<string>(AYONA_FIELDS);

/** Compiles the Ayona entry validator (see the module comment for the rules). */
export function compileAyonaValidator(options: AyonaValidatorOptions): ItemValidator {
	const normalizeDate = compileDateNormalizer({
		timezone: options.timezone,
		output: 'ayona',
		now: options.now,
		allowFuture: options.rejectFutureDates !== true,
	});
	const coerce = options.coerceStrings === true;
	const errors = new ErrorList();

	/** Returns the text to send (maybe converted), or undefined after an error. */
	function readText(
		entry: Record<string, unknown>,
		key: 'name' | 'content',
		max: number,
	): string | undefined {
		const value = own(entry, key);
		if (value === undefined || value === null) {
			errors.add(key, value === null ? 'is required (got null)' : 'is required');
			return undefined;
		}
		let text: string;
		if (typeof value === 'string') text = value;
		else if (typeof value === 'number' && Number.isFinite(value) && coerce) text = String(value);
		else {
			const hint = typeof value === 'number' ? ' (convert it to text first)' : '';
			errors.add(key, `${expectedGot('a string', value)}${hint}`);
			return undefined;
		}
		if (isBlank(text)) {
			errors.add(
				key,
				text === '' ? 'is required (got an empty string)' : 'is required (got only spaces)',
			);
			return undefined;
		}
		if (text.length > max) {
			errors.add(key, `is ${text.length} characters long; at most ${max} are accepted`);
			return undefined;
		}
		return text;
	}

	function validate(entry: unknown): ReturnType<ItemValidator> {
		if (!isRecord(entry)) {
			return { ok: false, errors: [{ field: '(item)', reason: expectedGot('an object', entry) }] };
		}
		errors.reset();
		const dateValue = own(entry, 'date');
		let date: string | undefined;
		if (dateValue === undefined || dateValue === null) {
			errors.add('date', dateValue === null ? 'is required (got null)' : 'is required');
		} else {
			const result = normalizeDate(dateValue);
			if (result.ok) date = result.value;
			else errors.add('date', result.reason);
		}
		const name = readText(entry, 'name', AYONA_MAX_NAME_LENGTH);
		const content = readText(entry, 'content', AYONA_MAX_CONTENT_LENGTH);
		for (const key in entry) {
			if (!Object.prototype.hasOwnProperty.call(entry, key) || FIELDS.has(key)) continue;
			errors.add(
				key,
				`is not a field Ayona accepts (only date, name and content; got ${describeValue(entry[key])}): map the item to those three fields`,
			);
		}
		if (!errors.empty || date === undefined || name === undefined || content === undefined) {
			return { ok: false, errors: errors.take() };
		}
		if (date === dateValue && name === own(entry, 'name') && content === own(entry, 'content')) {
			return { ok: true, value: entry };
		}
		return { ok: true, value: { date, name, content } };
	}

	return function validateAyonaEntry(entry: unknown) {
		try {
			return validate(entry);
		} catch (error) {
			errors.reset();
			return {
				ok: false,
				errors: [
					{
						field: '(item)',
						reason: `could not be read: ${String((error as Error)?.message ?? error)}`,
					},
				],
			};
		}
	};
}
