/**
 * Field rules of Rimdian Collector items (`POST /data`), checked before sending so that a bad item
 * is reported at once, with its field, instead of later in Rimdian's data log.
 *
 * An item is `{kind, [kind]: {...}, user?, session?, device?}`; for the kinds `user`, `session` and
 * `device` the kind's object is `item.user`, `item.session`, `item.device`. What is checked:
 * - `kind`: a string, one of the built-in kinds or `app_…`/`appx_…` (or of `knownKinds` when
 *   given); `item[kind]` an object.
 * - every kind but `user`, `user_alias` and `app_…`/`appx_…` needs the `user` object;
 *   `pageview` needs the `session` object; `user`, `session`, `device` objects are checked with
 *   their own rules wherever they appear (Rimdian processes them with every item).
 * - the required fields of each kind, the types of the known optional ones, timestamps (RFC 3339,
 *   not in the future, rewritten to RFC 3339 only when they were not already valid RFC 3339; any
 *   other key ending in `_at`, app kinds included, is a timestamp too, future allowed),
 * - ids (`external_id`, `*_external_id`, `domain_id`, …): strings; a safe integer is written as
 *   its decimal string (Rimdian reads it so too), other numbers are refused,
 *   integer cents ≥ 0 (an order's subtotal_price and total_price required), order/cart `items[]`
 *   (external_id, name, product_external_id, price, quantity required), an order's user authenticated, `message.status_at`
 *   with `message.status`, `subscription_list_user.status` a number 0-3;
 * - user fields when present and not empty: email (and md5/sha1/sha256 hex), telephone (E.164),
 *   gender, birthday, photo_url, country (ISO 3166-1 alpha-2, upper case), timezone (IANA);
 * - what only an inference supports warns and is sent (docs/sources.md names each rule's source):
 *   a language outside the two-letter ISO 639-1 codes, a currency outside the list Rimdian is
 *   known to convert, an id over 255 characters, a user id that looks like a placeholder other
 *   than the ones Rimdian's code names (`user_id`, templates), a date before 1900, a device type
 *   outside the known ones, a URL field other than photo_url that is not http(s), bounds other than
 *   prices and quantities, an unreadable value of a key that is a timestamp only by its `_at` name;
 * - free-form values (message.data, app columns, any other key) must be JSON-representable; a
 *   value deeper than `maxDepth` is checked for cycles (refused) and otherwise sent.
 * Unknown keys are kept untouched (app_ extra columns and fields Rimdian adds over time).
 *
 * Empty strings: in an optional text-like field (email, telephone, …) Rimdian treats `""` as "not
 * given", so it passes. In an optional timestamp, number or boolean field it is an error, except
 * with `coerceStrings` (CSV rows, where an empty cell means "no value") where the key is removed.
 *
 * The returned value is the item itself when nothing had to change (same object, same key order);
 * otherwise a copy with the changed fields replaced in place (key order kept).
 */
import {
	DEFAULT_MAX_DEPTH,
	expectedGot,
	isRecord,
	neverThrowing,
	own,
	quote,
} from '../../core/validation/checks';
import { compileDateNormalizer } from '../../core/validation/dates';
import type { ItemValidator, ValidatorOptions } from '../../core/validation/types';

import { USER_FIELDS } from './fields';
import {
	DEVICE_FIELDS,
	SESSION_FIELDS,
	compileKindFilter,
	kindChecker,
	withArticle,
	type KindChecker,
	type KindFilter,
} from './kinds';
import { RimdianFieldChecker } from './values';

export { RIMDIAN_KINDS } from './kinds';

export interface RimdianValidatorOptions extends ValidatorOptions {
	/**
	 * Kinds accepted. Entries ending in `*` are prefixes (`app_*`). Default: every built-in kind, and
	 * `app_*`/`appx_*`. A listed kind that is not built in gets the generic checks: its object, and
	 * the `user` object.
	 */
	knownKinds?: readonly string[];
	/** Depth past which a free-form value is checked for cycles (refused) before it is sent. Default 10. */
	maxDepth?: number;
}

/** Compiles the Rimdian item validator (see the module comment for the rules). */
export function compileRimdianValidator(options: RimdianValidatorOptions): ItemValidator {
	const fields = new RimdianFieldChecker({
		coerce: options.coerceStrings === true,
		maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
		pastOnly: compileDateNormalizer({
			timezone: options.timezone,
			output: 'rfc3339',
			now: options.now,
			allowFuture: false,
			// Any year RFC 3339 writes: an early one only warns (no page sets a bound).
			minYear: 1,
		}),
		anyTime: compileDateNormalizer({
			timezone: options.timezone,
			output: 'rfc3339',
			now: options.now,
			allowFuture: true,
			minYear: 1,
		}),
	});
	const acceptKind = compileKindFilter(options.knownKinds);

	return neverThrowing((item) => validateItem(fields, acceptKind, item), fields);
}

/** Checks one item: its kind picks the checker, whose rules run on the item's objects. */
function validateItem(
	fields: RimdianFieldChecker,
	acceptKind: KindFilter,
	item: unknown,
): ReturnType<ItemValidator> {
	if (!isRecord(item)) {
		return { ok: false, errors: [{ field: '(item)', reason: expectedGot('an object', item) }] };
	}
	const { errors, warnings } = fields;
	errors.reset();
	warnings.reset();
	const kind = own(item, 'kind');
	if (!isAcceptedKind(fields, acceptKind, kind)) return { ok: false, errors: errors.take() };
	const checker = kindChecker(kind);

	// The kind's own object (user/session/device kinds: that object is the context object).
	const kindBefore = checker.objectIsContext ? undefined : own(item, kind);
	const kindAfter = checker.objectIsContext
		? undefined
		: checkKindObject(fields, checker, kind, kindBefore);
	const userBefore = own(item, 'user');
	const user = fields.checkPart(item, 'user', USER_FIELDS, checker.userMissing, kind);
	const sessionBefore = own(item, 'session');
	const session = fields.checkPart(item, 'session', SESSION_FIELDS, checker.sessionMissing, kind);
	const deviceBefore = own(item, 'device');
	const device = fields.checkPart(item, 'device', DEVICE_FIELDS, checker.deviceMissing, kind);
	if (checker.across !== undefined) checker.across(item, user, errors);
	fields.checkSerializable(item);

	const said = warnings.take();
	if (!errors.empty) return { ok: false, errors: errors.take() };
	let value = withReplaced(item, item, kind, kindBefore, kindAfter);
	value = withReplaced(value, item, 'user', userBefore, user);
	value = withReplaced(value, item, 'session', sessionBefore, session);
	value = withReplaced(value, item, 'device', deviceBefore, device);
	return said === undefined ? { ok: true, value } : { ok: true, value, warnings: said };
}

/** Whether `kind` is a string of a kind accepted here; adds the error when not. */
function isAcceptedKind(
	fields: RimdianFieldChecker,
	acceptKind: KindFilter,
	kind: unknown,
): kind is string {
	if (typeof kind !== 'string' || kind === '') {
		fields.errors.add(
			'kind',
			kind === undefined || kind === null || kind === ''
				? `is required: one of ${acceptKind.listed}`
				: expectedGot('a string', kind),
		);
		return false;
	}
	if (!acceptKind(kind)) {
		fields.errors.add(
			'kind',
			`${quote(kind)} is not a kind accepted here: expected one of ${acceptKind.listed}`,
		);
		return false;
	}
	return true;
}

/** Checks `item[kind]`; returns the (maybe replaced) object, or undefined after an error. */
function checkKindObject(
	fields: RimdianFieldChecker,
	checker: KindChecker,
	kind: string,
	object: unknown,
): Record<string, unknown> | undefined {
	if (object === undefined || object === null) {
		fields.errors.add(
			kind,
			`is required: ${withArticle(kind)} item carries its fields in an object named "${kind}"`,
		);
		return undefined;
	}
	if (!isRecord(object)) {
		fields.errors.add(kind, expectedGot('an object', object));
		return undefined;
	}
	return fields.checkRecord(checker.fields, object, kind);
}

/**
 * `value` (the item or its copy) with `item[key]` replaced when its check changed it; the item is
 * copied at the first change, so that an unchanged item is returned as it is.
 */
function withReplaced(
	value: Record<string, unknown>,
	item: Record<string, unknown>,
	key: string,
	before: unknown,
	after: Record<string, unknown> | undefined,
): Record<string, unknown> {
	if (after === undefined || after === before) return value;
	const out = value === item ? { ...item } : value;
	out[key] = after;
	return out;
}
