/**
 * What Rimdian's field rules are made of: the rule of each field, the code lists some rules check
 * against, and the fields every item may carry (the `user` object) or an order's line items hold.
 * Each kind's own fields are in kinds.ts.
 */

export const MAX_ID_LENGTH = 255;

// ISO 3166-1 alpha-2 (249 codes).
export const COUNTRIES = new Set(
	'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'.split(
		' ',
	),
);
// ISO 639-1 (184 codes).
export const LANGUAGES = new Set(
	'aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu'.split(
		' ',
	),
);
/** Currencies Rimdian is known to convert; no page says another is refused, so another warns. */
export const CURRENCIES_LIST =
	'USD EUR GBP CAD AUD SGD JPY BGN CZK DKK HUF PLN RON SEK CHF ISK NOK HRK RUB TRY BRL CNY HKD IDR ILS INR KRW MXN MYR NZD PHP THB ZAR';
export const CURRENCIES = new Set(CURRENCIES_LIST.split(' '));
export const DEVICE_TYPES = new Set([
	'desktop',
	'console',
	'mobile',
	'tablet',
	'smarttv',
	'wearable',
	'embedded',
]);
/** Each `/`-separated part of a zone name starts with an upper-case letter (`Europe/Paris`). */
export const ZONE_SHAPE_RE = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*)*$/;

export type Rule =
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

export interface FieldSpec {
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
export const TEXT_RULES = new Set<Rule>([
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

export const EXPECTED: Readonly<Record<Rule, string>> = {
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

export const f = (key: string, rule: Rule, extra?: Partial<FieldSpec>): FieldSpec => ({
	key,
	rule,
	...extra,
});
export const req = (key: string, rule: Rule, extra?: Partial<FieldSpec>): FieldSpec => ({
	key,
	rule,
	required: true,
	...extra,
});

export const CREATED = req('created_at', 'timestamp');
export const UPDATED = f('updated_at', 'timestamp', { nullable: false });

/** The `user` object, checked wherever it appears (Rimdian processes it with every item). */
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

/** An entry of an order's or a cart's `items[]`. */
const LINE_ITEM: FieldSpec[] = [
	req('external_id', 'id'),
	req('name', 'text'),
	req('product_external_id', 'id'),
	req('price', 'cents'),
	req('quantity', 'count'),
];

export interface CompiledSpecs {
	byKey: Map<string, FieldSpec>;
	required: FieldSpec[];
}

export function compileSpecs(specs: readonly FieldSpec[]): CompiledSpecs {
	return {
		byKey: new Map(specs.map((spec) => [spec.key, spec])),
		required: specs.filter((spec) => spec.required),
	};
}

export const USER_FIELDS = compileSpecs(USER);
export const LINE_ITEM_FIELDS = compileSpecs(LINE_ITEM);

/** Any other `*_at` key is a timestamp too (Rimdian's naming): RFC 3339, future allowed. */
export const OTHER_TIMESTAMP: FieldSpec = { key: '*_at', rule: 'timestampAny' };
export const NO_FIELDS = compileSpecs([]);

/** Whether a key ends in `_at` (after at least one other character). */
export function isTimestampKey(key: string): boolean {
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
export function isStatedPlaceholder(value: string, reason: string): boolean {
	return (
		reason.startsWith('is required') ||
		reason.includes('unresolved template') ||
		value.trim().toLowerCase() === 'user_id'
	);
}
