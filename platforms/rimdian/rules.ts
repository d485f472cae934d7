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
import { IANAZone } from 'luxon';

import {
	DEFAULT_MAX_DEPTH,
	ErrorList,
	checkNesting,
	describeValue,
	expectedGot,
	isE164,
	isEmail,
	isHex,
	isBlank,
	isHttpUrl,
	isOnlyDeep,
	isRecord,
	joinPath,
	own,
	parseBooleanString,
	parseIntegerString,
	parseNumberString,
	placeholderReason,
	quote,
} from '../../core/validation/checks';
import {
	compileDateNormalizer,
	isCalendarDate,
	type DateNormalizer,
} from '../../core/validation/dates';
import type { ItemValidator, ValidatorOptions } from '../../core/validation/types';
import { WarningList, earlyDateReason } from '../../core/validation/warnings';

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

export const RIMDIAN_KINDS = [
	'user',
	'user_alias',
	'device',
	'session',
	'pageview',
	'order',
	'cart',
	'postview',
	'custom_event',
	'subscription_list_user',
	'message',
] as const;

/** Kinds that do not need the `user` object. */
const WITHOUT_USER = new Set(['user', 'user_alias']);
const APP_KIND_RE = /^appx?_[a-z0-9][a-z0-9_]*$/;
const MAX_ID_LENGTH = 255;

// ISO 3166-1 alpha-2 (249 codes).
const COUNTRIES = new Set(
	'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'.split(
		' ',
	),
);
// ISO 639-1 (184 codes).
const LANGUAGES = new Set(
	'aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu'.split(
		' ',
	),
);
/** Currencies Rimdian is known to convert; no page says another is refused, so another warns. */
const CURRENCIES_LIST =
	'USD EUR GBP CAD AUD SGD JPY BGN CZK DKK HUF PLN RON SEK CHF ISK NOK HRK RUB TRY BRL CNY HKD IDR ILS INR KRW MXN MYR NZD PHP THB ZAR';
const CURRENCIES = new Set(CURRENCIES_LIST.split(' '));
const DEVICE_TYPES = new Set([
	'desktop',
	'console',
	'mobile',
	'tablet',
	'smarttv',
	'wearable',
	'embedded',
]);
/** Each `/`-separated part of a zone name starts with an upper-case letter (`Europe/Paris`). */
const ZONE_SHAPE_RE = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*)*$/;

type Rule =
	| 'userId'
	| 'id'
	| 'text'
	| 'timestamp'
	| 'timestampAny'
	| 'boolean'
	| 'cents'
	| 'count'
	| 'integer'
	| 'number'
	| 'email'
	| 'md5'
	| 'sha1'
	| 'sha256'
	| 'telephone'
	| 'gender'
	| 'birthday'
	| 'url'
	| 'country'
	| 'language'
	| 'timezone'
	| 'currency'
	| 'deviceType'
	| 'object'
	| 'items';

interface FieldSpec {
	key: string;
	rule: Rule;
	required?: boolean;
	/** When false, `null` is refused (Rimdian fails on it). Default true. */
	nullable?: boolean;
	/** Inclusive bounds for integer rules. */
	min?: number;
	max?: number;
}

/** Rules whose values are strings where Rimdian reads `""` as "not given". */
const TEXT_RULES = new Set<Rule>([
	'userId',
	'id',
	'text',
	'email',
	'md5',
	'sha1',
	'sha256',
	'telephone',
	'gender',
	'birthday',
	'url',
	'country',
	'language',
	'timezone',
	'currency',
	'deviceType',
]);

const EXPECTED: Readonly<Record<Rule, string>> = {
	userId: 'a string (the user id)',
	id: 'a string',
	text: 'a string',
	timestamp: 'an RFC 3339 date-time such as 2024-01-31T10:00:00Z',
	timestampAny: 'an RFC 3339 date-time such as 2024-01-31T10:00:00Z',
	boolean: 'true or false',
	cents: 'an integer amount in cents, 0 or more',
	count: 'an integer, 0 or more',
	integer: 'an integer',
	number: 'a number',
	email: 'an email address',
	md5: 'an MD5 hex digest (32 hex characters)',
	sha1: 'a SHA-1 hex digest (40 hex characters)',
	sha256: 'a SHA-256 hex digest (64 hex characters)',
	telephone: 'an E.164 telephone number such as +33612345678',
	gender: '"male" or "female"',
	birthday: 'a date written YYYY-MM-DD',
	url: 'an http(s) URL',
	country: 'an ISO 3166-1 alpha-2 country code such as FR',
	language: 'an ISO 639-1 language code such as en',
	timezone: 'an IANA time zone such as Europe/Paris',
	currency: 'a currency code such as EUR',
	deviceType: `one of ${[...DEVICE_TYPES].join(', ')}`,
	object: 'an object',
	items: 'an array of objects',
};

const f = (key: string, rule: Rule, extra?: Partial<FieldSpec>): FieldSpec => ({
	key,
	rule,
	...extra,
});
const req = (key: string, rule: Rule, extra?: Partial<FieldSpec>): FieldSpec => ({
	key,
	rule,
	required: true,
	...extra,
});

const CREATED = req('created_at', 'timestamp');
const UPDATED = f('updated_at', 'timestamp', { nullable: false });

const USER: FieldSpec[] = [
	req('external_id', 'userId'),
	req('is_authenticated', 'boolean'),
	CREATED,
	UPDATED,
	f('last_interaction_at', 'timestamp', { nullable: false }),
	f('signed_up_at', 'timestamp'),
	f('email', 'email'),
	f('email_md5', 'md5'),
	f('email_sha1', 'sha1'),
	f('email_sha256', 'sha256'),
	f('telephone', 'telephone'),
	f('country', 'country'),
	f('language', 'language'),
	f('timezone', 'timezone'),
	f('gender', 'gender'),
	f('birthday', 'birthday'),
	f('photo_url', 'url'),
	f('consent_all', 'boolean'),
	f('consent_personalization', 'boolean'),
	f('consent_marketing', 'boolean'),
	f('user_centric_consent', 'boolean'),
	f('latitude', 'number'),
	f('longitude', 'number'),
];

const LINE_ITEM: FieldSpec[] = [
	req('external_id', 'id'),
	req('name', 'text'),
	req('product_external_id', 'id'),
	req('price', 'cents'),
	req('quantity', 'count'),
];

const KIND_FIELD_LISTS: Readonly<Record<string, FieldSpec[]>> = {
	user: USER,
	user_alias: [
		req('from_user_external_id', 'userId'),
		req('to_user_external_id', 'userId'),
		f('to_user_is_authenticated', 'boolean'),
		f('to_user_created_at', 'timestamp'),
	],
	device: [
		req('external_id', 'id'),
		CREATED,
		UPDATED,
		f('device_type', 'deviceType'),
		f('user_agent', 'text'),
		f('ad_blocker', 'boolean'),
		f('in_webview', 'boolean'),
	],
	session: [
		req('external_id', 'id'),
		CREATED,
		UPDATED,
		req('domain_id', 'id'),
		req('utm_source', 'text'),
		req('utm_medium', 'text'),
		f('timezone', 'timezone'),
		f('device_external_id', 'id'),
		f('duration', 'count'),
		f('pageviews_count', 'count'),
		f('interactions_count', 'count'),
	],
	pageview: [
		req('external_id', 'id'),
		req('page_id', 'text'),
		req('title', 'text'),
		CREATED,
		UPDATED,
		req('domain_id', 'id'),
		f('session_external_id', 'id'),
		f('duration', 'count'),
		f('product_price', 'cents'),
		f('product_currency', 'currency'),
	],
	order: [
		req('external_id', 'id'),
		CREATED,
		UPDATED,
		req('domain_id', 'id'),
		req('currency', 'currency'),
		req('subtotal_price', 'cents'),
		req('total_price', 'cents'),
		f('cancelled_at', 'timestamp'),
		f('session_external_id', 'id'),
		f('items', 'items'),
	],
	cart: [
		req('external_id', 'id'),
		req('domain_id', 'id'),
		CREATED,
		UPDATED,
		req('currency', 'currency'),
		f('session_external_id', 'id'),
		f('public_url', 'url'),
		f('status', 'integer'),
		f('items', 'items'),
	],
	postview: [
		req('external_id', 'id'),
		CREATED,
		UPDATED,
		req('utm_source', 'text'),
		req('utm_medium', 'text'),
		f('device_external_id', 'id'),
		f('country', 'country'),
	],
	custom_event: [
		req('external_id', 'id'),
		req('label', 'text'),
		CREATED,
		UPDATED,
		req('domain_id', 'id'),
		f('session_external_id', 'id'),
		f('string_value', 'text'),
		f('number_value', 'number'),
		f('boolean_value', 'boolean'),
		f('non_interactive', 'boolean'),
	],
	subscription_list_user: [
		req('subscription_list_id', 'id'),
		CREATED,
		UPDATED,
		req('status', 'integer', { nullable: false, min: 0, max: 3 }),
		f('comment', 'text'),
	],
	message: [
		req('external_id', 'id'),
		CREATED,
		UPDATED,
		req('channel', 'text'),
		f('status', 'integer', { nullable: false }),
		f('status_at', 'timestamp'),
		f('sent_at', 'timestamp'),
		f('scheduled_at', 'timestampAny'),
		f('delivered_at', 'timestamp'),
		f('first_open_at', 'timestamp'),
		f('first_click_at', 'timestamp'),
		f('data', 'object'),
		f('is_inbound', 'boolean'),
		f('is_transactional', 'boolean'),
		f('is_sent', 'boolean'),
		f('retry_count', 'count'),
		f('message_template_id', 'id'),
		f('message_template_version', 'integer'),
		f('subscription_list_id', 'id'),
		f('domain_id', 'id'),
	],
};

interface CompiledSpecs {
	byKey: Map<string, FieldSpec>;
	required: FieldSpec[];
}

function compileSpecs(specs: readonly FieldSpec[]): CompiledSpecs {
	return {
		byKey: new Map(specs.map((spec) => [spec.key, spec])),
		required: specs.filter((spec) => spec.required),
	};
}

const KIND_FIELDS: Readonly<Record<string, CompiledSpecs>> = Object.fromEntries(
	Object.entries(KIND_FIELD_LISTS).map(([kind, specs]) => [kind, compileSpecs(specs)]),
);
const USER_FIELDS = KIND_FIELDS.user;
const LINE_ITEM_FIELDS = compileSpecs(LINE_ITEM);

/** Any other `*_at` key is a timestamp too (Rimdian's naming): RFC 3339, future allowed. */
const OTHER_TIMESTAMP: FieldSpec = { key: '*_at', rule: 'timestampAny' };
const NO_FIELDS = compileSpecs([]);

function isTimestampKey(key: string): boolean {
	const n = key.length;
	return (
		n > 3 &&
		key.charCodeAt(n - 1) === 116 &&
		key.charCodeAt(n - 2) === 97 &&
		key.charCodeAt(n - 3) === 95
	);
}

/**
 * Whether a placeholder reason is one Rimdian's own code gives (blank, `user_id`, templates, see
 * field-rules.md): the package's other guesses (`none`, `null`, `id`, …) only warn.
 */
function isStatedPlaceholder(value: string, reason: string): boolean {
	return (
		reason.startsWith('is required') ||
		reason.includes('unresolved template') ||
		value.trim().toLowerCase() === 'user_id'
	);
}

/** Returned by a field check to ask that the key be removed (empty CSV cell). */
const REMOVE: unique symbol = Symbol('remove');

/** `an order`, `a user`, `an app_x`. */
function withArticle(kind: string): string {
	const c = kind.charCodeAt(0);
	return c === 97 || c === 101 || c === 105 || c === 111 ? `an ${kind}` : `a ${kind}`;
}

interface KindFilter {
	(kind: string): boolean;
	listed: string;
}

function compileKindFilter(known: readonly string[] | undefined): KindFilter {
	if (known === undefined) {
		const filter = ((kind: string) =>
			Object.prototype.hasOwnProperty.call(KIND_FIELDS, kind) ||
			APP_KIND_RE.test(kind)) as KindFilter;
		filter.listed = `${RIMDIAN_KINDS.join(', ')}, app_…, appx_…`;
		return filter;
	}
	const exact = new Set<string>();
	const prefixes: string[] = [];
	for (const entry of known) {
		if (typeof entry !== 'string' || entry === '') continue;
		if (entry.endsWith('*')) prefixes.push(entry.slice(0, -1));
		else exact.add(entry);
	}
	const filter = ((kind: string) => {
		if (exact.has(kind)) return true;
		for (const prefix of prefixes)
			if (kind.startsWith(prefix) && kind.length > prefix.length) return true;
		return false;
	}) as KindFilter;
	filter.listed = [...exact, ...prefixes.map((p) => `${p}…`)].join(', ');
	return filter;
}

/** Compiles the Rimdian item validator (see the module comment for the rules). */
export function compileRimdianValidator(options: RimdianValidatorOptions): ItemValidator {
	const pastOnly: DateNormalizer = compileDateNormalizer({
		timezone: options.timezone,
		output: 'rfc3339',
		now: options.now,
		allowFuture: false,
		// Any year RFC 3339 writes: an early one only warns (no page sets a bound).
		minYear: 1,
	});
	const anyTime: DateNormalizer = compileDateNormalizer({
		timezone: options.timezone,
		output: 'rfc3339',
		now: options.now,
		allowFuture: true,
		minYear: 1,
	});
	const coerce = options.coerceStrings === true;
	const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
	const acceptKind = compileKindFilter(options.knownKinds);
	const errors = new ErrorList();
	const warnings = new WarningList();
	const zoneCache = new Map<string, boolean>();

	function isZone(name: string): boolean {
		let known = zoneCache.get(name);
		if (known === undefined) {
			known = ZONE_SHAPE_RE.test(name) && IANAZone.isValidZone(name);
			if (zoneCache.size >= 10_000) zoneCache.clear();
			zoneCache.set(name, known);
		}
		return known;
	}

	// Path of the field being checked, joined only when an error is written.
	let atPrefix = '';
	let atKey = '';
	function at(): string {
		return joinPath(atPrefix, atKey);
	}

	function warnLongId(value: string): void {
		if (value.length > MAX_ID_LENGTH) {
			warnings.add(
				at(),
				`is ${value.length} characters long: sent as it is (no page states a limit; ids over ${MAX_ID_LENGTH} are unusual)`,
			);
		}
	}

	function expectString(value: unknown): value is string {
		if (typeof value === 'string') return true;
		errors.add(at(), expectedGot('a string', value));
		return false;
	}

	function integerRule(spec: FieldSpec, value: unknown, min: number | undefined): unknown {
		let n = value;
		if (typeof value === 'string' && coerce) {
			const parsed = parseIntegerString(value);
			if (parsed !== undefined) n = parsed;
		}
		if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
			let reason = expectedGot(EXPECTED[spec.rule], value);
			if (spec.rule === 'cents' && typeof n === 'number' && Number.isFinite(n)) {
				reason += ` (write ${Math.round(n * 100)} for ${n})`;
			}
			errors.add(at(), reason);
			return value;
		}
		const low = spec.min ?? min;
		// Prices and quantities of at least 0 are stated; other bounds are the package's reading.
		const stated = spec.rule === 'cents' || spec.key === 'quantity';
		if (low !== undefined && n < low) {
			if (stated) errors.add(at(), `must be ${low} or more, got ${n}`);
			else warnings.add(at(), `is ${n}, below ${low}: sent as it is`);
		} else if (spec.max !== undefined && n > spec.max) {
			warnings.add(at(), `is ${n}, above ${spec.max}: sent as it is`);
		}
		return n;
	}

	/** Checks one present value; returns it, its normalized replacement, or REMOVE. */
	function checkValue(spec: FieldSpec, value: unknown): unknown {
		if (value === undefined) {
			if (spec.required) errors.add(at(), 'is required');
			return value;
		}
		if (value === null) {
			if (spec.required) errors.add(at(), 'is required (got null)');
			else if (spec.nullable === false) {
				errors.add(at(), `must not be null: write ${EXPECTED[spec.rule]}, or leave the field out`);
			}
			return value;
		}
		if (typeof value === 'string' && (value === '' || (spec.required === true && isBlank(value)))) {
			if (spec.required) {
				errors.add(
					at(),
					value === '' ? 'is required (got an empty string)' : 'is required (got only spaces)',
				);
				return value;
			}
			if (TEXT_RULES.has(spec.rule)) return value;
			if (coerce) return REMOVE;
			errors.add(at(), `is empty: write ${EXPECTED[spec.rule]}, or leave the field out`);
			return value;
		}
		switch (spec.rule) {
			case 'userId': {
				if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
				if (!expectString(value)) return value;
				const reason = placeholderReason(value);
				if (reason === undefined) warnLongId(value);
				else if (isStatedPlaceholder(value, reason)) errors.add(at(), reason);
				else
					warnings.add(
						at(),
						`${quote(value)} looks like a placeholder, not an id: sent as it is (check the mapping)`,
					);
				return value;
			}
			case 'id':
				if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
				if (expectString(value)) warnLongId(value);
				return value;
			case 'text':
				expectString(value);
				return value;
			case 'timestamp':
			case 'timestampAny': {
				const result = (spec.rule === 'timestamp' ? pastOnly : anyTime)(value);
				if (!result.ok) {
					// A key Rimdian does not document is a timestamp only by its name: sent as it is.
					if (spec === OTHER_TIMESTAMP)
						warnings.add(at(), `${result.reason}: sent as it is (a timestamp only by its name)`);
					else errors.add(at(), result.reason);
					return value;
				}
				const early = earlyDateReason(result.value, 'Rimdian');
				if (early !== undefined) warnings.add(at(), early);
				return result.value === value ? value : result.value;
			}
			case 'boolean': {
				if (typeof value === 'boolean') return value;
				if (typeof value === 'string' && coerce) {
					const parsed = parseBooleanString(value);
					if (parsed !== undefined) return parsed;
				}
				errors.add(at(), expectedGot('true or false', value));
				return value;
			}
			case 'cents':
			case 'count':
				return integerRule(spec, value, 0);
			case 'integer':
				return integerRule(spec, value, undefined);
			case 'number': {
				if (typeof value === 'number' && Number.isFinite(value)) return value;
				if (typeof value === 'string' && coerce) {
					const parsed = parseNumberString(value);
					if (parsed !== undefined) return parsed;
				}
				errors.add(at(), expectedGot('a number', value));
				return value;
			}
			case 'email':
				if (expectString(value) && !isEmail(value)) {
					errors.add(at(), `${quote(value)} is not an email address`);
				}
				return value;
			case 'md5':
			case 'sha1':
			case 'sha256':
				if (expectString(value)) {
					const length = spec.rule === 'md5' ? 32 : spec.rule === 'sha1' ? 40 : 64;
					if (!isHex(value, length))
						errors.add(at(), `${quote(value)} is not ${EXPECTED[spec.rule]}`);
				}
				return value;
			case 'telephone':
				if (expectString(value) && !isE164(value)) {
					errors.add(
						at(),
						`${quote(value)} is not an E.164 number: write + then the country code and the number, digits only, e.g. +33612345678`,
					);
				}
				return value;
			case 'gender':
				if (expectString(value) && value !== 'male' && value !== 'female') {
					errors.add(at(), `${quote(value)} is not accepted: expected "male" or "female"`);
				}
				return value;
			case 'birthday':
				if (expectString(value) && !isCalendarDate(value)) {
					errors.add(at(), `${quote(value)} is not a date written YYYY-MM-DD, e.g. 1990-04-25`);
				}
				return value;
			case 'url':
				if (expectString(value) && !isHttpUrl(value)) {
					// The pages check photo_url; another URL field's form is the package's reading.
					if (atKey === 'photo_url')
						errors.add(
							at(),
							`${quote(value)} is not an http(s) URL such as https://example.com/photo.jpg`,
						);
					else warnings.add(at(), `${quote(value)} is not an http(s) URL: sent as it is`);
				}
				return value;
			case 'country':
				if (expectString(value) && !COUNTRIES.has(value)) {
					const upper = value.toUpperCase();
					const hint =
						upper !== value && COUNTRIES.has(upper) ? ` (write "${upper}", upper case)` : '';
					errors.add(
						at(),
						`${quote(value)} is not an ISO 3166-1 alpha-2 country code such as FR${hint}`,
					);
				}
				return value;
			case 'language':
				if (expectString(value) && !LANGUAGES.has(value)) {
					const short = value.slice(0, 2).toLowerCase();
					const hint = LANGUAGES.has(short) ? `; "${short}" is` : '';
					warnings.add(
						at(),
						`${quote(value)} is not a two-letter ISO 639-1 code${hint}: sent as it is (the pages do not say which codes Rimdian takes)`,
					);
				}
				return value;
			case 'timezone':
				if (expectString(value) && !isZone(value)) {
					errors.add(at(), `${quote(value)} is not an IANA time zone name such as Europe/Paris`);
				}
				return value;
			case 'currency':
				if (expectString(value) && !CURRENCIES.has(value)) {
					warnings.add(
						at(),
						`${quote(value)} is not among the currencies Rimdian is known to convert (${CURRENCIES_LIST.split(' ').join(', ')}): sent as it is`,
					);
				}
				return value;
			case 'deviceType':
				// No page lists the device types: another one is sent.
				if (expectString(value) && !DEVICE_TYPES.has(value)) {
					warnings.add(
						at(),
						`${quote(value)} is not one of the known device types (${[...DEVICE_TYPES].join(', ')}): sent as it is`,
					);
				}
				return value;
			case 'object':
				if (!isRecord(value)) errors.add(at(), expectedGot('an object', value));
				return value;
			case 'items':
				return checkLineItems(value, at());
		}
	}

	/** Checks the fields of `specs` in `record`; returns `record` or a copy with replacements. */
	function checkRecord(
		specs: CompiledSpecs,
		record: Record<string, unknown>,
		path: string,
	): Record<string, unknown> {
		let out: Record<string, unknown> | undefined;
		for (const key in record) {
			let spec = specs.byKey.get(key);
			if (spec === undefined) {
				if (!isTimestampKey(key)) continue;
				spec = OTHER_TIMESTAMP;
			}
			if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
			const value = record[key];
			atPrefix = path;
			atKey = key;
			const next = checkValue(spec, value);
			if (next !== value) {
				if (out === undefined) out = { ...record };
				if (next === REMOVE) delete out[key];
				else out[key] = next;
			}
		}
		const required = specs.required;
		for (let i = 0; i < required.length; i++) {
			const key = required[i].key;
			if (record[key] === undefined && !Object.prototype.hasOwnProperty.call(record, key)) {
				errors.add(joinPath(path, key), 'is required');
			}
		}
		return out ?? record;
	}

	function checkLineItems(value: unknown, path: string): unknown {
		if (!Array.isArray(value)) {
			errors.add(path, expectedGot('an array of objects', value));
			return value;
		}
		let out: unknown[] | undefined;
		for (let i = 0; i < value.length; i++) {
			const entry: unknown = value[i];
			const entryPath = `${path}[${i}]`;
			if (!isRecord(entry)) {
				errors.add(entryPath, expectedGot('an object', entry));
				continue;
			}
			const next = checkRecord(LINE_ITEM_FIELDS, entry, entryPath);
			if (next !== entry) {
				if (out === undefined) out = value.slice();
				out[i] = next;
			}
		}
		return out ?? value;
	}

	/** Checks `item[key]` as an object of `specs`; returns the (maybe replaced) object or undefined. */
	function checkPart(
		item: Record<string, unknown>,
		key: string,
		specs: CompiledSpecs,
		required: string | undefined,
	): Record<string, unknown> | undefined {
		const part = own(item, key);
		if (part === undefined || part === null) {
			if (required !== undefined)
				errors.add(
					key,
					part === null ? `is required (got null): ${required}` : `is required: ${required}`,
				);
			return undefined;
		}
		if (!isRecord(part)) {
			errors.add(key, expectedGot('an object', part));
			return undefined;
		}
		return checkRecord(specs, part, key);
	}

	function validate(item: unknown): ReturnType<ItemValidator> {
		if (!isRecord(item)) {
			return { ok: false, errors: [{ field: '(item)', reason: expectedGot('an object', item) }] };
		}
		errors.reset();
		warnings.reset();
		const kind = own(item, 'kind');
		if (typeof kind !== 'string' || kind === '') {
			errors.add(
				'kind',
				kind === undefined || kind === null || kind === ''
					? `is required: one of ${acceptKind.listed}`
					: expectedGot('a string', kind),
			);
			return { ok: false, errors: errors.take() };
		}
		if (!acceptKind(kind)) {
			errors.add(
				'kind',
				`${quote(kind)} is not a kind accepted here: expected one of ${acceptKind.listed}`,
			);
			return { ok: false, errors: errors.take() };
		}
		const isApp =
			APP_KIND_RE.test(kind) && !Object.prototype.hasOwnProperty.call(KIND_FIELDS, kind);
		const kindSpecs = Object.prototype.hasOwnProperty.call(KIND_FIELDS, kind)
			? KIND_FIELDS[kind]
			: undefined;

		// The kind's own object (user/session/device kinds: that object is the context object).
		const needsUser = !WITHOUT_USER.has(kind) && !isApp;
		let kindBefore: unknown;
		let kindAfter: Record<string, unknown> | undefined;
		if (kind !== 'user' && kind !== 'session' && kind !== 'device') {
			kindBefore = own(item, kind);
			if (kindBefore === undefined || kindBefore === null) {
				errors.add(
					kind,
					`is required: ${withArticle(kind)} item carries its fields in an object named "${kind}"`,
				);
			} else if (!isRecord(kindBefore)) {
				errors.add(kind, expectedGot('an object', kindBefore));
			} else {
				kindAfter = checkRecord(kindSpecs ?? NO_FIELDS, kindBefore, kind);
			}
		}
		const userBefore = own(item, 'user');
		const user = checkPart(
			item,
			'user',
			USER_FIELDS,
			kind === 'user'
				? 'a user item carries its fields in an object named "user"'
				: needsUser
					? `${withArticle(kind)} item needs the "user" object (external_id, is_authenticated, created_at)`
					: undefined,
		);
		const sessionBefore = own(item, 'session');
		const session = checkPart(
			item,
			'session',
			KIND_FIELDS.session,
			kind === 'session'
				? 'a session item carries its fields in an object named "session"'
				: kind === 'pageview'
					? 'a pageview item needs the "session" object it belongs to'
					: undefined,
		);
		const deviceBefore = own(item, 'device');
		const device = checkPart(
			item,
			'device',
			KIND_FIELDS.device,
			kind === 'device'
				? 'a device item carries its fields in an object named "device"'
				: undefined,
		);

		// Rules across fields.
		if (kind === 'order' && user !== undefined) {
			const authenticated = own(user, 'is_authenticated');
			if (authenticated === false) {
				errors.add(
					'user.is_authenticated',
					'must be true for an order: Rimdian refuses orders of anonymous users',
				);
			}
		}
		if (kind === 'message') {
			const message = own(item, 'message');
			if (isRecord(message)) {
				const status = own(message, 'status');
				const statusAt = own(message, 'status_at');
				if (
					status !== undefined &&
					status !== null &&
					status !== '' &&
					(statusAt === undefined || statusAt === null || statusAt === '')
				) {
					errors.add('message.status_at', 'is required when message.status is set');
				}
			}
		}

		// Everything must survive JSON serialization, within the nesting limit.
		for (const key in item) {
			if (!Object.prototype.hasOwnProperty.call(item, key)) continue;
			const value = item[key];
			if (typeof value === 'object' && value !== null) {
				const issue = checkNesting(value, key, maxDepth);
				if (issue !== undefined && !errors.hasField(issue.field) && !isOnlyDeep(value, issue))
					errors.add(issue.field, issue.reason);
			} else if (
				typeof value === 'bigint' ||
				typeof value === 'function' ||
				typeof value === 'symbol'
			) {
				errors.add(key, `holds ${describeValue(value)}, which JSON cannot represent`);
			}
		}

		const said = warnings.take();
		if (!errors.empty) return { ok: false, errors: errors.take() };
		const value = rebuilt(item, kind, kindBefore, kindAfter, [
			[userBefore, user],
			[sessionBefore, session],
			[deviceBefore, device],
		]);
		return said === undefined ? { ok: true, value } : { ok: true, value, warnings: said };
	}

	/** The item, or a copy with the checked objects that changed put in place. */
	function rebuilt(
		item: Record<string, unknown>,
		kind: string,
		kindBefore: unknown,
		kindAfter: Record<string, unknown> | undefined,
		parts: Array<[unknown, Record<string, unknown> | undefined]>,
	): Record<string, unknown> {
		const [[userBefore, user], [sessionBefore, session], [deviceBefore, device]] = parts;
		const changed =
			(kindAfter !== undefined && kindAfter !== kindBefore) ||
			(user !== undefined && user !== userBefore) ||
			(session !== undefined && session !== sessionBefore) ||
			(device !== undefined && device !== deviceBefore);
		if (!changed) return item;
		const out: Record<string, unknown> = { ...item };
		if (kindAfter !== undefined && kindAfter !== kindBefore) out[kind] = kindAfter;
		if (user !== undefined && user !== userBefore) out.user = user;
		if (session !== undefined && session !== sessionBefore) out.session = session;
		if (device !== undefined && device !== deviceBefore) out.device = device;
		return out;
	}

	return function validateRimdianItem(item: unknown) {
		try {
			return validate(item);
		} catch (error) {
			// Only hostile inputs get here (a getter or proxy that throws).
			errors.reset();
			warnings.reset();
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
