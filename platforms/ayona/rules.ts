/**
 * Entry rules of Ayona's REST source import (`payload: [{date, name, content}]`); the source of
 * each rule is in docs/sources.md. Only what the page states refuses an entry; the rest warns.
 *
 * - `date`: required; read like every date of the package (ISO 8601 with or without offset,
 *   `YYYY/MM/DD`, RFC 2822, Date objects; zone-less values in `timezone`) and written
 *   `YYYY-MM-DD HH:mm:ss` in `timezone`, the page's form (a value already written so is kept
 *   byte-identical; fractions of a second are dropped). Future dates are accepted unless
 *   `rejectFutureDates`; a date before 1900 is sent with a warning.
 * - `name`, `content`: strings, as the page types them. A finite number is converted to its
 *   decimal string only with `coerceStrings`; otherwise it is refused, as are booleans, objects
 *   and arrays. The page requires neither to be non-empty: an empty `name` is an anonymous entry
 *   (a missing or null one is sent as `""`), an empty `content` is sent with a warning. Lengths
 *   past local guards warn (Ayona publishes no limit).
 * - any other key (`row_number` from Google Sheets, …) is left out of what is sent and named in
 *   the warnings: the page's payload holds these three fields only.
 *
 * The returned value is the item itself when nothing changed, else a new `{date, name, content}`.
 */
import {
	ErrorList,
	expectedGot,
	isBlank,
	isRecord,
	neverThrowing,
	own,
} from '../../core/validation/checks';
import { compileDateNormalizer, type DateNormalizer } from '../../core/validation/dates';
import type { FieldError, ItemValidator, ValidatorOptions } from '../../core/validation/types';
import { WarningList, earlyDateReason } from '../../core/validation/warnings';

export interface AyonaValidatorOptions extends ValidatorOptions {
	/** Refuse dates after now(). Default false. */
	rejectFutureDates?: boolean;
}

export const AYONA_FIELDS = ['date', 'name', 'content'] as const;
export const AYONA_MAX_NAME_LENGTH = 1_000;
export const AYONA_MAX_CONTENT_LENGTH = 100_000;

const FIELDS = new Set<string>(AYONA_FIELDS);

/** A missing field's error also names the fields the item has instead: a mapping mistake shows both sides. */
function withOtherFields(list: FieldError[], extras: string[]): FieldError[] {
	if (extras.length === 0) return list;
	const others = extras.slice(0, 5).join(', ') + (extras.length > 5 ? ', …' : '');
	return list.map((error) =>
		error.reason.startsWith('is required')
			? {
					field: error.field,
					reason: `${error.reason} (the item's other fields are not Ayona's: ${others})`,
				}
			: error,
	);
}

/** Compiles the Ayona entry validator (see the module comment for the rules). */
export function compileAyonaValidator(options: AyonaValidatorOptions): ItemValidator {
	const checker = new AyonaEntryChecker(options);
	return neverThrowing((entry) => checker.validate(entry), checker);
}

/** The checks of one entry, in named steps; one instance per compiled validator. */
class AyonaEntryChecker {
	readonly errors = new ErrorList();
	readonly warnings = new WarningList();
	private readonly normalizeDate: DateNormalizer;
	private readonly coerce: boolean;

	constructor(options: AyonaValidatorOptions) {
		this.normalizeDate = compileDateNormalizer({
			timezone: options.timezone,
			output: 'ayona',
			now: options.now,
			allowFuture: options.rejectFutureDates !== true,
			// Any year the date form can write: an early one only warns (no page sets a bound).
			minYear: 1,
		});
		this.coerce = options.coerceStrings === true;
	}

	validate(entry: unknown): ReturnType<ItemValidator> {
		if (!isRecord(entry)) {
			return { ok: false, errors: [{ field: '(item)', reason: expectedGot('an object', entry) }] };
		}
		this.errors.reset();
		this.warnings.reset();
		const dateValue = own(entry, 'date');
		const date = this.readDate(dateValue);
		const name = this.readText(entry, 'name', AYONA_MAX_NAME_LENGTH);
		const content = this.readText(entry, 'content', AYONA_MAX_CONTENT_LENGTH);
		const extras = this.extraKeys(entry);
		if (!this.errors.empty || date === undefined || name === undefined || content === undefined) {
			this.warnings.reset();
			return { ok: false, errors: withOtherFields(this.errors.take(), extras) };
		}
		const said = this.warnings.take();
		const same =
			extras.length === 0 &&
			date === dateValue &&
			name === own(entry, 'name') &&
			content === own(entry, 'content');
		const value = same ? entry : { date, name, content };
		return said === undefined ? { ok: true, value } : { ok: true, value, warnings: said };
	}

	/** Returns the date written in Ayona's form, or undefined after an error. */
	private readDate(value: unknown): string | undefined {
		if (value === undefined || value === null) {
			this.errors.add('date', value === null ? 'is required (got null)' : 'is required');
			return undefined;
		}
		const result = this.normalizeDate(value);
		if (!result.ok) {
			this.errors.add('date', result.reason);
			return undefined;
		}
		const early = earlyDateReason(result.value, 'Ayona');
		if (early !== undefined) this.warnings.add('date', early);
		return result.value;
	}

	/** Returns the text to send (maybe converted), or undefined after an error. */
	private readText(
		entry: Record<string, unknown>,
		key: 'name' | 'content',
		max: number,
	): string | undefined {
		const value = own(entry, key);
		if (value === undefined || value === null) {
			// The page gives an entry a name but does not say it must be known: anonymous.
			if (key === 'name') return '';
			this.errors.add(key, value === null ? 'is required (got null)' : 'is required');
			return undefined;
		}
		let text: string;
		if (typeof value === 'string') text = value;
		else if (typeof value === 'number' && Number.isFinite(value) && this.coerce)
			text = String(value);
		else {
			const hint = typeof value === 'number' ? ' (convert it to text first)' : '';
			this.errors.add(key, `${expectedGot('a string', value)}${hint}`);
			return undefined;
		}
		if (key === 'content' && isBlank(text)) {
			this.warnings.add(
				key,
				'is empty: sent as it is (an entry without feedback; check the mapping)',
			);
		}
		if (text.length > max) {
			this.warnings.add(
				key,
				`is ${text.length} characters long: sent as it is (Ayona publishes no limit; over ${max} is unusual)`,
			);
		}
		return text;
	}

	/** The entry's keys other than Ayona's fields, each named in the warnings (not sent). */
	private extraKeys(entry: Record<string, unknown>): string[] {
		const extras: string[] = [];
		for (const key in entry) {
			if (!Object.prototype.hasOwnProperty.call(entry, key) || FIELDS.has(key)) continue;
			extras.push(key);
			this.warnings.add(key, 'is not an Ayona field: not sent');
		}
		return extras;
	}
}
