import assert from 'node:assert/strict';

import type { FieldError, Validation } from '../../core/validation/types';
import { MAX_ERRORS_PER_ITEM } from '../../core/validation/checks';
import { compileRimdianValidator, RIMDIAN_KINDS, type RimdianValidatorOptions } from '../../platforms/rimdian/rules';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const T = '2024-01-01T10:00:00Z';

function validator(options: Partial<RimdianValidatorOptions> = {}) {
	return compileRimdianValidator({ timezone: 'UTC', now: () => NOW, ...options });
}

const validate = validator();
const validateCsv = validator({ coerceStrings: true });

function errorsOf(result: Validation): FieldError[] {
	assert.equal(result.ok, false, result.ok ? `unexpectedly valid: ${JSON.stringify(result.value)}` : '');
	return (result as { errors: FieldError[] }).errors;
}

function valueOf(result: Validation): Record<string, unknown> {
	assert.equal(result.ok, true, result.ok ? '' : JSON.stringify((result as { errors: FieldError[] }).errors));
	return (result as { value: Record<string, unknown> }).value;
}

/** Asserts that the item is sent as it is, with a warning on `field` whose text matches. */
function hasWarning(result: Validation, field: string, text: RegExp): Record<string, unknown> {
	const value = valueOf(result);
	const warnings = (result as { warnings?: string[] }).warnings ?? [];
	const found = warnings.find((warning) => warning.startsWith(`field "${field}" `));
	assert.ok(found, `no warning on ${field}; got ${JSON.stringify(warnings)}`);
	assert.match(found, text);
	return value;
}

/** Asserts that the item has an error on `field` whose reason matches. */
function hasError(result: Validation, field: string, reason: RegExp): void {
	const errors = errorsOf(result);
	const found = errors.find((error) => error.field === field);
	assert.ok(found, `no error on ${field}; got ${JSON.stringify(errors)}`);
	assert.match(found.reason, reason);
}

const user = () => ({ external_id: 'user-1', is_authenticated: true, created_at: T });
const session = () => ({
	external_id: 'sess-1',
	created_at: T,
	domain_id: 'web',
	utm_source: 'google',
	utm_medium: 'cpc',
});
const lineItem = () => ({ external_id: 'line-1', name: 'Shoe', product_external_id: 'prod-1', price: 4990, quantity: 2 });

/** One valid item of every kind. */
function sample(kind: string): Record<string, unknown> {
	switch (kind) {
		case 'user':
			return { kind, user: user() };
		case 'user_alias':
			return { kind, user_alias: { from_user_external_id: 'anon-1', to_user_external_id: 'user-1' } };
		case 'device':
			return { kind, user: user(), device: { external_id: 'dev-1', created_at: T, device_type: 'mobile' } };
		case 'session':
			return { kind, user: user(), session: session() };
		case 'pageview':
			return {
				kind,
				user: user(),
				session: session(),
				pageview: { external_id: 'pv-1', page_id: 'https://shop.example/', title: 'Home', created_at: T, domain_id: 'web' },
			};
		case 'order':
			return {
				kind,
				user: user(),
				order: {
					external_id: 'ord-1',
					created_at: T,
					domain_id: 'web',
					currency: 'EUR',
					subtotal_price: 9980,
					total_price: 9980,
					items: [lineItem()],
				},
			};
		case 'cart':
			return {
				kind,
				user: user(),
				cart: { external_id: 'cart-1', domain_id: 'web', created_at: T, currency: 'USD', items: [lineItem()] },
			};
		case 'postview':
			return { kind, user: user(), postview: { external_id: 'post-1', created_at: T, utm_source: 'fb', utm_medium: 'social' } };
		case 'custom_event':
			return { kind, user: user(), custom_event: { external_id: 'ev-1', label: 'signup', created_at: T, domain_id: 'web' } };
		case 'subscription_list_user':
			return { kind, user: user(), subscription_list_user: { subscription_list_id: 'news', created_at: T, status: 1 } };
		case 'message':
			return { kind, user: user(), message: { external_id: 'msg-1', created_at: T, channel: 'email' } };
		default:
			throw new Error(kind);
	}
}

const REQUIRED: Record<string, string[]> = {
	user: ['external_id', 'is_authenticated', 'created_at'],
	user_alias: ['from_user_external_id', 'to_user_external_id'],
	device: ['external_id', 'created_at'],
	session: ['external_id', 'created_at', 'domain_id', 'utm_source', 'utm_medium'],
	pageview: ['external_id', 'page_id', 'title', 'created_at', 'domain_id'],
	order: ['external_id', 'created_at', 'domain_id', 'currency'],
	cart: ['external_id', 'domain_id', 'created_at', 'currency'],
	postview: ['external_id', 'created_at', 'utm_source', 'utm_medium'],
	custom_event: ['external_id', 'label', 'created_at', 'domain_id'],
	subscription_list_user: ['subscription_list_id', 'created_at', 'status'],
	message: ['external_id', 'created_at', 'channel'],
};

describe('rimdian: kinds and required fields', () => {
	for (const kind of RIMDIAN_KINDS) {
		test(`${kind}: a complete item passes unchanged (same object)`, () => {
			const item = sample(kind);
			const before = JSON.stringify(item);
			const result = validate(item);
			assert.equal(valueOf(result), item);
			assert.equal(JSON.stringify(item), before, 'the input is not mutated');
		});

		test(`${kind}: each required field is named when missing, null or empty`, () => {
			for (const field of REQUIRED[kind]) {
				for (const missing of [undefined, null, '']) {
					const item = sample(kind);
					const own = item[kind] as Record<string, unknown>;
					if (missing === undefined) delete own[field];
					else own[field] = missing;
					if (missing === '' && field === 'status') continue; // a number field: "" is a type error
					if (missing === '' && field === 'is_authenticated') continue;
					hasError(validate(item), `${kind}.${field}`, /^is required/);
				}
			}
		});

		if (kind !== 'user' && kind !== 'user_alias') {
			test(`${kind}: the user object is required`, () => {
				const item = sample(kind);
				delete item.user;
				hasError(validate(item), 'user', /^is required: an? \w+ item needs the "user" object/);
				item.user = 'user-1';
				hasError(validate(item), 'user', /^expected an object, got string "user-1"/);
			});
		}
	}

	test('user_alias and app kinds do not need the user object', () => {
		valueOf(validate(sample('user_alias')));
		valueOf(validate({ kind: 'app_shop_points', app_shop_points: { external_id: 'p1', points: 10 } }));
		valueOf(validate({ kind: 'appx_loyalty', appx_loyalty: {} }));
	});

	test('an app kind still needs its object', () => {
		hasError(validate({ kind: 'app_shop_points' }), 'app_shop_points', /is required: an app_shop_points item carries its fields/);
	});

	test('the kind object is required and must be an object', () => {
		hasError(validate({ kind: 'order', user: user() }), 'order', /^is required: an order item carries its fields in an object named "order"/);
		hasError(validate({ kind: 'order', user: user(), order: [] }), 'order', /^expected an object, got an empty array/);
		hasError(validate({ kind: 'user' }), 'user', /^is required: a user item carries its fields in an object named "user"/);
	});

	test('kind itself', () => {
		hasError(validate({ user: user() }), 'kind', /^is required: one of user, user_alias/);
		hasError(validate({ kind: 3 }), 'kind', /^expected a string, got number 3/);
		hasError(validate({ kind: 'purchase', purchase: {} }), 'kind', /"purchase" is not a kind accepted here: expected one of user/);
		hasError(validate({ kind: 'App_X', App_X: {} }), 'kind', /not a kind accepted here/);
	});

	test('knownKinds restricts the kinds, with prefixes', () => {
		const only = validator({ knownKinds: ['user', 'order', 'app_shop_*'] });
		valueOf(only(sample('user')));
		valueOf(only(sample('order')));
		valueOf(only({ kind: 'app_shop_points', app_shop_points: {} }));
		hasError(only(sample('cart')), 'kind', /"cart" is not a kind accepted here: expected one of user, order, app_shop_…/);
		hasError(only({ kind: 'app_other', app_other: {} }), 'kind', /not a kind accepted here/);
		// A listed kind that is not built in gets the generic checks.
		const extended = validator({ knownKinds: ['refund'] });
		valueOf(extended({ kind: 'refund', user: user(), refund: { anything: 1 } }));
		hasError(extended({ kind: 'refund', refund: {} }), 'user', /is required/);
	});

	test('items that are not objects', () => {
		for (const item of [null, undefined, 'x', 42, [], [sample('user')], new Date()]) {
			const errors = errorsOf(validate(item));
			assert.equal(errors.length, 1);
			assert.equal(errors[0].field, '(item)');
			assert.match(errors[0].reason, /^expected an object, got /);
		}
	});
});

describe('rimdian: the user object', () => {
	const withUser = (fields: Record<string, unknown>, kind = 'user') => {
		const item = sample(kind);
		Object.assign(item.user as Record<string, unknown>, fields);
		return item;
	};

	test('placeholder external ids Rimdian names are refused; the package\'s guesses warn', () => {
		for (const id of ['user_id', 'USER_ID', '{{user_id}}', '{{ $json.id }}', 'id-{{ x }}', '  ']) {
			hasError(validate(withUser({ external_id: id })), 'user.external_id', /placeholder|unresolved template|is required/);
		}
		// No page names these: a real id may be spelled so, and the row is sent.
		for (const id of ['none', 'nil', 'null', 'id', 'undefined', '$user_id', 'NaN']) {
			const value = hasWarning(validate(withUser({ external_id: id })), 'user.external_id', /looks like a placeholder, not an id: sent as it is/);
			assert.equal((value.user as Record<string, unknown>).external_id, id);
		}
		hasError(validate(withUser({ external_id: '{{ user_id }}' })), 'user.external_id', /"\{\{ user_id \}\}" is an unresolved template, not an id/);
		hasError(validate(withUser({ external_id: 4.2 })), 'user.external_id', /^expected a string, got number 4\.2$/);
		// A safe integer is written as its decimal string, as Rimdian reads it.
		assert.equal((valueOf(validate(withUser({ external_id: 42 }))).user as Record<string, unknown>).external_id, '42');
		hasWarning(validate(withUser({ external_id: 'x'.repeat(256) })), 'user.external_id', /is 256 characters long: sent as it is/);
		const order = sample('order');
		assert.equal((validate(order) as { warnings?: string[] }).warnings, undefined);
		(order.order as Record<string, unknown>).external_id = 'o'.repeat(300);
		hasWarning(validate(order), 'order.external_id', /^field "order.external_id" is 300 characters long: sent as it is/);
		valueOf(validate(withUser({ external_id: 'user_id_42' })));
	});

	test('the placeholder rule also applies to the user of other kinds', () => {
		hasError(validate(withUser({ external_id: '{{user_id}}' }, 'order')), 'user.external_id', /unresolved template/);
	});

	test('is_authenticated is a boolean, not null', () => {
		hasError(validate(withUser({ is_authenticated: null })), 'user.is_authenticated', /^is required \(got null\)/);
		hasError(validate(withUser({ is_authenticated: 'true' })), 'user.is_authenticated', /^expected true or false, got string "true"/);
		hasError(validate(withUser({ is_authenticated: 1 })), 'user.is_authenticated', /got number 1/);
		valueOf(validate(withUser({ is_authenticated: false })));
	});

	const fieldCases: Array<[string, unknown[], unknown[], RegExp]> = [
		['email', ['a@b.co', 'first.last+tag@sub.example.org'], ['a@b', 'a b@c.com', '@c.com', 'a@@c.com', 'a@c..com', 5], /is not an email address|expected a string/],
		['email_md5', ['0cc175b9c0f1b6a831c399e269772661'], ['0cc175b9', 'z'.repeat(32)], /is not an MD5 hex digest/],
		['email_sha1', ['86f7e437faa5a7fce15d1ddcb9eaeaea377667b8'], ['86f7e437'], /is not a SHA-1 hex digest/],
		['email_sha256', ['ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb'], ['ca97'], /is not a SHA-256 hex digest/],
		['telephone', ['+33612345678', '+14155552671'], ['0612345678', '+33 6 12 34 56 78', '+0123456789', '33612345678', '+1'], /is not an E\.164 number/],
		['gender', ['male', 'female'], ['Male', 'm', 'other'], /expected "male" or "female"/],
		['birthday', ['1990-04-25', '2000-02-29'], ['1990-02-30', '25/04/1990', '1990-4-25', '1990-04-25T00:00:00Z'], /is not a date written YYYY-MM-DD/],
		['photo_url', ['https://cdn.example.com/a.png', 'http://x.io'], ['ftp://x.io/a.png', 'cdn.example.com/a.png', 'https://', 'https://a b.com'], /is not an http\(s\) URL/],
		['country', ['FR', 'US', 'GB'], ['fr', 'FRA', 'UK', 'XX'], /is not an ISO 3166-1 alpha-2 country code/],
		['timezone', ['Europe/Paris', 'America/Argentina/Buenos_Aires', 'UTC', 'Etc/GMT+5'], ['europe/paris', 'Mars/Olympus', 'CEST', '+02:00'], /is not an IANA time zone name/],
	];
	for (const [field, good, bad, reason] of fieldCases) {
		test(`user.${field}`, () => {
			for (const value of good) valueOf(validate(withUser({ [field]: value })));
			for (const value of bad) hasError(validate(withUser({ [field]: value })), `user.${field}`, reason);
			// Empty and null mean "not given" for these fields, as in Rimdian.
			valueOf(validate(withUser({ [field]: '' })));
			valueOf(validate(withUser({ [field]: null })));
		});
	}

	test('hints for near misses', () => {
		hasError(validate(withUser({ country: 'fr' })), 'user.country', /write "FR", upper case/);
	});

	test('user.language: a two-letter code goes as it is; any other is sent with a warning', () => {
		// The pages name a fixed list but not its form: en-US or eng may be what Rimdian takes.
		for (const language of ['en', 'fr', 'zh', '', null]) {
			const result = validate(withUser({ language }));
			valueOf(result);
			assert.equal((result as { warnings?: string[] }).warnings, undefined);
		}
		hasWarning(validate(withUser({ language: 'en-US' })), 'user.language', /"en-US" is not a two-letter ISO 639-1 code; "en" is: sent as it is/);
		for (const language of ['EN', 'eng', 'xx']) hasWarning(validate(withUser({ language })), 'user.language', /sent as it is/);
		hasError(validate(withUser({ language: 5 })), 'user.language', /^expected a string, got number 5$/);
	});

	test('a date before 1900 is sent with a warning', () => {
		const value = hasWarning(validate(withUser({ created_at: '1850-03-01T10:00:00Z' })), 'user.created_at', /is dated 1850, before 1900: sent as it is/);
		assert.equal((value.user as Record<string, unknown>).created_at, '1850-03-01T10:00:00Z');
		hasWarning(validate(withUser({ birthday_at: '0999-01-01T00:00:00Z' })), 'user.birthday_at', /is dated 0999/);
	});

	test('the zone check is cached per distinct value', () => {
		const many = validator();
		for (let i = 0; i < 2000; i++) valueOf(many(withUser({ timezone: i % 2 ? 'Europe/Paris' : 'Asia/Tokyo' })));
	});

	test('consents and coordinates', () => {
		valueOf(validate(withUser({ consent_marketing: true, consent_all: null, latitude: 48.85, longitude: 2.35 })));
		hasError(validate(withUser({ consent_marketing: 'yes' })), 'user.consent_marketing', /expected true or false/);
		hasError(validate(withUser({ latitude: '48.85' })), 'user.latitude', /expected a number, got string "48.85"/);
	});
});

describe('rimdian: timestamps', () => {
	test('valid RFC 3339 is kept byte-identical; the item is the same object', () => {
		const item = sample('order');
		(item.order as Record<string, unknown>).created_at = '2024-07-28T08:55:35.874555+02:00';
		const out = valueOf(validate(item));
		assert.equal(out, item);
		assert.equal((out.order as Record<string, unknown>).created_at, '2024-07-28T08:55:35.874555+02:00');
	});

	test('other accepted forms are rewritten, in place, without reordering keys', () => {
		const item = {
			kind: 'user',
			user: { created_at: '2024-01-01 10:00:00', external_id: 'u', is_authenticated: true, email: 'a@b.co' },
			extra: { a: 1 },
		};
		const out = valueOf(validator({ timezone: 'Europe/Paris' })(item));
		assert.notEqual(out, item);
		assert.deepEqual(Object.keys(out), Object.keys(item));
		assert.deepEqual(Object.keys(out.user as object), Object.keys(item.user));
		assert.equal((out.user as Record<string, unknown>).created_at, '2024-01-01T10:00:00+01:00');
		assert.equal(out.extra, item.extra, 'untouched parts are shared');
		assert.equal(item.user.created_at, '2024-01-01 10:00:00', 'the input is not mutated');
	});

	test('timestamps of the session, device and line items are checked too', () => {
		const item = sample('pageview');
		(item.session as Record<string, unknown>).created_at = '2024/01/01 10:00';
		const out = valueOf(validate(item));
		assert.equal((out.session as Record<string, unknown>).created_at, '2024-01-01T10:00:00Z');
		assert.equal(out.pageview, item.pageview);
	});

	test('a timestamp in the future is refused (injected clock)', () => {
		const item = sample('custom_event');
		(item.custom_event as Record<string, unknown>).created_at = '2025-01-15T12:00:01Z';
		hasError(validate(item), 'custom_event.created_at', /"2025-01-15T12:00:01Z" is in the future \(now is 2025-01-15T12:00:00\.000Z\)/);
		(item.custom_event as Record<string, unknown>).created_at = '2025-01-15T12:00:00Z';
		valueOf(validate(item));
	});

	test('message.scheduled_at may be in the future', () => {
		const item = sample('message');
		Object.assign(item.message as object, { scheduled_at: '2030-01-01T00:00:00Z', sent_at: '2024-01-01T00:00:00Z' });
		valueOf(validate(item));
		Object.assign(item.message as object, { sent_at: '2030-01-01T00:00:00Z' });
		hasError(validate(item), 'message.sent_at', /in the future/);
	});

	test('unreadable timestamps name the field and the form', () => {
		const item = sample('user');
		Object.assign(item.user as object, { created_at: '03/04/2024', updated_at: 1704103200 });
		const errors = errorsOf(validate(item));
		assert.deepEqual(
			errors.map((error) => error.field),
			['user.created_at', 'user.updated_at'],
		);
		assert.match(errors[0].reason, /is ambiguous: day and month order unknown; use YYYY-MM-DD/);
		assert.match(errors[1].reason, /^a number is not a date: write an RFC 3339 date-time/);
	});

	test('any other key ending in _at is a timestamp too (future allowed), app kinds included', () => {
		const app = valueOf(validate({ kind: 'app_loyalty', app_loyalty: { external_id: 'p', created_at: '2024-01-01', app_loyalty_expires_at: '2031-01-01T00:00:00Z' } }));
		assert.deepEqual(app.app_loyalty, { external_id: 'p', created_at: '2024-01-01T00:00:00Z', app_loyalty_expires_at: '2031-01-01T00:00:00Z' });
		const item = sample('order');
		(item.order as Record<string, unknown>).shipped_at = '12/01/2024';
		const cart = sample('cart');
		(cart.cart as Record<string, unknown>).public_url = 'shop/cart/1';
		hasWarning(validate(cart), 'cart.public_url', /"shop\/cart\/1" is not an http\(s\) URL: sent as it is$/);
		// Only its name says it is a timestamp: sent as it is, with the reason as a warning.
		hasWarning(validate(item), 'order.shipped_at', /is ambiguous.*: sent as it is \(a timestamp only by its name\)$/);
		(item.order as Record<string, unknown>).shipped_at = null;
		valueOf(validate(item));
		// Keys that only look alike are not timestamps.
		valueOf(validate({ kind: 'app_x', app_x: { at: 'x', _at: 'y', format: 'z' } }));
	});

	test('null: allowed where Rimdian allows it', () => {
		const item = sample('user');
		Object.assign(item.user as object, { signed_up_at: null });
		valueOf(validate(item));
		Object.assign(item.user as object, { updated_at: null });
		hasError(validate(item), 'user.updated_at', /^must not be null: write an RFC 3339 date-time/);
	});
});

describe('rimdian: money, line items and cross-field rules', () => {
	const order = (fields: Record<string, unknown>) => {
		const item = sample('order');
		Object.assign(item.order as object, fields);
		return item;
	};

	test('prices are integer cents ≥ 0', () => {
		hasError(validate(order({ total_price: 12.5 })), 'order.total_price', /^expected an integer amount in cents, 0 or more, got number 12\.5 \(write 1250 for 12\.5\)/);
		hasError(validate(order({ subtotal_price: -1 })), 'order.subtotal_price', /^must be 0 or more, got -1/);
		hasError(validate(order({ total_price: '1200' })), 'order.total_price', /got string "1200"/);
		valueOf(validate(order({ total_price: 0, subtotal_price: 0 })));
		hasError(validate(order({ subtotal_price: null })), 'order.subtotal_price', /^is required \(got null\)/);
	});

	test('a currency outside the list Rimdian is known to convert is sent with a warning', () => {
		for (const currency of ['eur', 'XYZ', 'VND', 'AED']) {
			const value = hasWarning(validate(order({ currency })), 'order.currency', /is not among the currencies Rimdian is known to convert \(USD, EUR,.*\): sent as it is/);
			assert.equal((value.order as Record<string, unknown>).currency, currency);
		}
		assert.equal((validate(order({ currency: 'EUR' })) as { warnings?: string[] }).warnings, undefined);
		hasError(validate(order({ currency: 978 })), 'order.currency', /^expected a string, got number 978$/);
		hasError(validate(order({ currency: '' })), 'order.currency', /^is required/);
	});

	test('line items', () => {
		hasError(validate(order({ items: {} })), 'order.items', /^expected an array of objects, got an object/);
		hasError(validate(order({ items: [lineItem(), 'x'] })), 'order.items[1]', /^expected an object, got string "x"/);
		const bad = [{ ...lineItem(), name: '' }, { ...lineItem(), price: -5 }, { ...lineItem(), quantity: 1.5 }, { external_id: 'l' }];
		const result = validate(order({ items: bad }));
		hasError(result, 'order.items[0].name', /^is required/);
		hasError(result, 'order.items[1].price', /^must be 0 or more, got -5/);
		hasError(result, 'order.items[2].quantity', /^expected an integer, 0 or more, got number 1\.5/);
		hasError(result, 'order.items[3].name', /^is required/);
		hasError(result, 'order.items[3].product_external_id', /^is required/);
		hasError(validate(order({ items: [{ ...lineItem(), price: null }] })), 'order.items[0].price', /^is required \(got null\)/);
		const noQuantity: Record<string, unknown> = lineItem();
		delete noQuantity.quantity;
		hasError(validate(order({ items: [noQuantity] })), 'order.items[0].quantity', /^is required$/);
		// Carts follow the same rules.
		const cart = sample('cart');
		(cart.cart as Record<string, unknown>).items = [{ ...lineItem(), quantity: -1 }];
		hasError(validate(cart), 'cart.items[0].quantity', /must be 0 or more/);
	});

	test('an order needs an authenticated user', () => {
		const item = sample('order');
		(item.user as Record<string, unknown>).is_authenticated = false;
		hasError(validate(item), 'user.is_authenticated', /must be true for an order/);
		const cart = sample('cart');
		(cart.user as Record<string, unknown>).is_authenticated = false;
		valueOf(validate(cart));
	});

	test('message.status_at is required when status is set', () => {
		const item = sample('message');
		(item.message as Record<string, unknown>).status = 2;
		hasError(validate(item), 'message.status_at', /^is required when message\.status is set/);
		(item.message as Record<string, unknown>).status_at = T;
		valueOf(validate(item));
		(item.message as Record<string, unknown>).status = null;
		hasError(validate(item), 'message.status', /must not be null/);
		(item.message as Record<string, unknown>).status = 'sent';
		hasError(validate(item), 'message.status', /^expected an integer, got string "sent"/);
	});

	test('subscription_list_user.status is a number from 0 to 3', () => {
		const item = sample('subscription_list_user');
		const own = item.subscription_list_user as Record<string, unknown>;
		for (const status of [0, 1, 2, 3]) {
			own.status = status;
			valueOf(validate(item));
		}
		// The pages say "numeric status" only: a status past the known ones is sent, with a warning.
		own.status = 4;
		hasWarning(validate(item), 'subscription_list_user.status', /^field "subscription_list_user.status" is 4, above 3: sent as it is$/);
		own.status = -1;
		hasWarning(validate(item), 'subscription_list_user.status', /is -1, below 0: sent as it is$/);
		own.status = 'active';
		hasError(validate(item), 'subscription_list_user.status', /^expected an integer, got string "active"/);
	});

	test('a pageview needs its session, and the session is checked', () => {
		const item = sample('pageview');
		delete item.session;
		hasError(validate(item), 'session', /a pageview item needs the "session" object/);
		const other = sample('pageview');
		delete (other.session as Record<string, unknown>).utm_medium;
		hasError(validate(other), 'session.utm_medium', /^is required/);
	});

	test('session and device objects given with any kind are checked', () => {
		const item = sample('order');
		item.device = { external_id: 'd', created_at: T, device_type: 'phone' };
		// No page lists the device types: another one is sent, with a warning.
		hasWarning(validate(item), 'device.device_type', /"phone" is not one of the known device types \(desktop, .*\): sent as it is$/);
		item.device = { external_id: 'd', created_at: T, device_type: 'mobile' };
		item.session = { external_id: 's', created_at: T };
		hasError(validate(item), 'session.domain_id', /^is required/);
	});
});

describe('rimdian: CSV rows (coerceStrings)', () => {
	test('declared booleans and integers are converted', () => {
		const item = {
			kind: 'order',
			user: { external_id: 'u', is_authenticated: 'TRUE', created_at: T },
			order: { external_id: 'o', created_at: T, domain_id: 'web', currency: 'EUR', subtotal_price: '1200', total_price: '1200', items: [{ ...lineItem(), price: '100', quantity: ' 3 ' }] },
		};
		const out = valueOf(validateCsv(item));
		assert.equal((out.user as Record<string, unknown>).is_authenticated, true);
		assert.equal((out.order as Record<string, unknown>).total_price, 1200);
		const line = ((out.order as Record<string, unknown>).items as Array<Record<string, unknown>>)[0];
		assert.equal(line.price, 100);
		assert.equal(line.quantity, 3);
		assert.equal(item.user.is_authenticated, 'TRUE', 'the input is not mutated');
	});

	test('strings that do not spell the type stay errors', () => {
		const item = sample('order');
		Object.assign(item.order as object, { total_price: '12.50' });
		Object.assign(item.user as object, { is_authenticated: 'yes' });
		const result = validateCsv(item);
		hasError(result, 'order.total_price', /got string "12\.50"/);
		hasError(result, 'user.is_authenticated', /expected true or false, got string "yes"/);
	});

	test('an empty message.status cell is no status (no status_at needed)', () => {
		const item = sample('message');
		Object.assign(item.message as object, { status: '', status_at: '' });
		const out = valueOf(validateCsv(item));
		assert.equal('status' in (out.message as object), false);
		Object.assign(item.message as object, { status: '2' });
		hasError(validateCsv(item), 'message.status_at', /is required when message\.status is set/);
	});

	test('empty cells of optional typed fields are removed, not sent', () => {
		const item = sample('user');
		Object.assign(item.user as object, { updated_at: '', consent_marketing: '', latitude: '', email: '' });
		const out = valueOf(validateCsv(item));
		assert.deepEqual(Object.keys(out.user as object), ['external_id', 'is_authenticated', 'created_at', 'email']);
		// Without coercion an empty timestamp is an error.
		hasError(validate(item), 'user.updated_at', /^is empty: write an RFC 3339 date-time/);
	});
});

describe('rimdian: free-form values, error cap, determinism, robustness', () => {
	test('deep values are sent (no page sets a limit); cycles and what JSON cannot hold are refused', () => {
		let deep: Record<string, unknown> = { leaf: 1 };
		for (let i = 0; i < 12; i++) deep = { deep };
		const item = sample('message');
		(item.message as Record<string, unknown>).data = deep;
		assert.equal((valueOf(validate(item)).message as Record<string, unknown>).data, deep);
		const cyclic: Record<string, unknown> = { a: 1 };
		cyclic.self = cyclic;
		(item.message as Record<string, unknown>).data = cyclic;
		hasError(validate(item), 'message', /refers to itself/);
		const app = { kind: 'app_x', app_x: { big: 10n, nan: Number.NaN } };
		hasError(validate(app), 'app_x.big', /holds a bigint \(10n\), which JSON cannot represent/);
		valueOf(validator({ maxDepth: 2 })({ kind: 'app_x', app_x: { a: { b: 1 } } }));
		valueOf(validator({ maxDepth: 2 })({ kind: 'app_x', app_x: { a: { b: { c: 1 } } } }));
	});

	test('all errors of an item are given, at most 20', () => {
		const bad = { ...lineItem(), external_id: '', name: '', product_external_id: '', price: -1, quantity: -1 };
		const item = sample('order');
		(item.order as Record<string, unknown>).items = Array.from({ length: 10 }, () => ({ ...bad }));
		const errors = errorsOf(validate(item));
		assert.equal(errors.length, MAX_ERRORS_PER_ITEM);
		assert.equal(errors[0].field, 'order.items[0].external_id');
		assert.deepEqual(errors.at(-1), { field: '(item)', reason: '31 more errors not shown (at most 20 per item)' });
		// Several errors of different objects in one item.
		const several = errorsOf(validate({ kind: 'order', user: { external_id: 'user_id' }, order: { currency: 'EUR' } }));
		assert.deepEqual(
			several.map((error) => error.field).sort(),
			['order.created_at', 'order.domain_id', 'order.external_id', 'order.subtotal_price', 'order.total_price', 'user.created_at', 'user.external_id', 'user.is_authenticated'],
		);
	});

	test('deterministic: same input, same output, same bytes', () => {
		const v1 = validator({ timezone: 'Europe/Paris' });
		const v2 = validator({ timezone: 'Europe/Paris' });
		const make = () => ({ kind: 'user', user: { external_id: 'u', is_authenticated: true, created_at: '2024-07-28 08:55:35.874555' } });
		const a = v1(make());
		const b = v1(make());
		const c = v2(make());
		assert.deepEqual(a, b);
		assert.equal(JSON.stringify(a), JSON.stringify(c));
		// Validating the output again changes nothing (and returns it as it is).
		const out = valueOf(a);
		assert.equal(valueOf(v1(out)), out);
	});

	test('never throws on hostile input', () => {
		const cyclic: Record<string, unknown> = { kind: 'user' };
		cyclic.user = cyclic;
		const throwing = new Proxy({}, {
			get() {
				throw new Error('boom');
			},
			ownKeys() {
				throw new Error('boom');
			},
		});
		const getter = {
			kind: 'user',
			get user(): unknown {
				throw new Error('getter');
			},
		};
		const values: unknown[] = [cyclic, throwing, getter, { kind: 'user', user: throwing }, Object.create(null), { __proto__: { kind: 'user' } }, { kind: 'constructor' }, { kind: '__proto__' }, { kind: 'toString', toString: {} }];
		// Generated: every sample with each field replaced by odd values.
		const odd: unknown[] = [null, undefined, '', ' ', 0, -1, 1.5, NaN, Infinity, true, 'x'.repeat(5000), [], {}, [[[]]], 10n, Symbol('s'), () => 1, new Date(NaN), cyclic];
		for (const kind of RIMDIAN_KINDS) {
			const item = sample(kind);
			for (const part of Object.keys(item)) {
				const object = item[part];
				if (typeof object !== 'object' || object === null) {
					for (const value of odd) values.push({ ...item, [part]: value });
					continue;
				}
				for (const key of Object.keys(object)) {
					for (const value of odd) values.push({ ...item, [part]: { ...object, [key]: value } });
				}
			}
		}
		for (const csv of [false, true]) {
			const v = validator({ coerceStrings: csv });
			for (const value of values) {
				const result = v(value);
				assert.equal(typeof result.ok, 'boolean');
				if (!result.ok) {
					assert.ok(result.errors.length > 0 && result.errors.length <= MAX_ERRORS_PER_ITEM);
					for (const error of result.errors) assert.ok(typeof error.field === 'string' && typeof error.reason === 'string');
				}
			}
		}
		hasError(validate(getter), '(item)', /^could not be read: getter/);
	});
});
