/**
 * Inputs that make the validators say everything they can say: the golden corpora (dates,
 * Userpilot rows) and, for Rimdian and Ayona, good items with one field at a time replaced by
 * values from a pool of odd ones. sources.test.ts checks each message against docs/sources.md.
 */
import { compileAyonaValidator } from '../../platforms/ayona/rules';
import { compileRimdianValidator } from '../../platforms/rimdian/rules';
import { compileUserpilotValidator } from '../../platforms/userpilot/rules';
import { compileDateNormalizer } from '../../core/validation/dates';
import type { ItemValidator } from '../../core/validation/types';
import { DATE_SETTINGS, GOLDEN_NOW, ROW_SETTINGS, dateCorpus, rowCorpus } from './goldenCorpus';

export interface Said {
	platform: 'ayona' | 'rimdian' | 'userpilot' | 'dates';
	kind: 'error' | 'warning';
	text: string;
}

const T = '2024-01-01T10:00:00Z';
const user = { external_id: 'u-1', is_authenticated: true, created_at: T };
const session = { external_id: 's-1', created_at: T, domain_id: 'web', utm_source: 'g', utm_medium: 'cpc' };
const line = { external_id: 'l-1', name: 'Shoe', product_external_id: 'p-1', price: 100, quantity: 1 };

const RIMDIAN_ITEMS: Array<Record<string, unknown>> = [
	{ kind: 'user', user: { ...user, email: 'a@b.co', telephone: '+33612345678', country: 'FR', language: 'fr', timezone: 'Europe/Paris', gender: 'male', birthday: '1990-01-01', photo_url: 'https://x.io/a.png', email_md5: '0'.repeat(32), email_sha1: '0'.repeat(40), email_sha256: '0'.repeat(64), latitude: 1, consent_all: true, last_interaction_at: T } },
	{ kind: 'user_alias', user_alias: { from_user_external_id: 'a', to_user_external_id: 'b', to_user_is_authenticated: true, to_user_created_at: T } },
	{ kind: 'device', device: { external_id: 'd', created_at: T, device_type: 'mobile', user_agent: 'x', ad_blocker: false }, user },
	{ kind: 'session', session: { ...session, duration: 5, timezone: 'UTC' }, user },
	{ kind: 'pageview', pageview: { external_id: 'p', page_id: 'x', title: 't', created_at: T, domain_id: 'web', product_price: 5, product_currency: 'EUR', duration: 3 }, session, user },
	{ kind: 'order', order: { external_id: 'o', created_at: T, domain_id: 'web', currency: 'EUR', subtotal_price: 1, total_price: 1, items: [line], cancelled_at: T }, user },
	{ kind: 'cart', cart: { external_id: 'c', domain_id: 'web', created_at: T, currency: 'EUR', items: [line], public_url: 'https://x.io', status: 1 }, user },
	{ kind: 'postview', postview: { external_id: 'p', created_at: T, utm_source: 'a', utm_medium: 'b', country: 'FR' }, user },
	{ kind: 'custom_event', custom_event: { external_id: 'e', label: 'l', created_at: T, domain_id: 'web', number_value: 1, boolean_value: true }, user },
	{ kind: 'subscription_list_user', subscription_list_user: { subscription_list_id: 's', created_at: T, status: 1 }, user },
	{ kind: 'message', message: { external_id: 'm', created_at: T, channel: 'email', status: 1, status_at: T, scheduled_at: T, data: {}, retry_count: 1 }, user },
	{ kind: 'app_table', app_table: { external_id: 'a', created_at: T, deep: { a: 1 } }, user },
];

const deep = (n: number): unknown => (n === 0 ? 1 : { a: deep(n - 1) });
const ODD: unknown[] = [
	undefined, null, '', ' ', 'x', 'none', 'user_id', '{{ $json.id }}', 'x'.repeat(300), 'EN', 'en-US', 'eur', 'XYZ', 'xx', 'Mars/Olympus',
	'ftp://x', 'a@b', 'fr', '2999-01-01T00:00:00Z', '1850-01-01T00:00:00Z', '31/12/2023', '2024-02-30 10:00:00', 'true', '42', '4.5',
	5, -1, 1.5, 7, Number.NaN, true, {}, [], [1], ['x'], [{}], deep(12), 10n, () => 1,
];

function* mutations(items: Array<Record<string, unknown>>): Generator<unknown> {
	for (const item of items) {
		yield item;
		for (const [key, part] of Object.entries(item)) {
			for (const value of ODD) yield { ...item, [key]: value };
			if (part === null || typeof part !== 'object' || Array.isArray(part)) continue;
			for (const field of Object.keys(part)) {
				for (const value of ODD) yield { ...item, [key]: { ...(part as object), [field]: value } };
				const { [field]: _gone, ...without } = part as Record<string, unknown>;
				yield { ...item, [key]: without };
			}
			yield { ...item, [key]: { ...(part as object), extra_at: 'x', row_number: 2 } };
		}
		const { user: _user, ...noUser } = item;
		yield noUser;
	}
	yield { user }; // no kind
	yield { kind: 'mystery', mystery: {} };
	yield { kind: 'order', order: { ...(RIMDIAN_ITEMS[5].order as object), items: [{ ...line, price: 1.5, name: '' }, 'x'] }, user: { ...user, is_authenticated: false } };
	yield { kind: 'message', message: { external_id: 'm', created_at: T, channel: 'email', status: 1 }, user };
	yield 'not an object';
	const cyclic: Record<string, unknown> = { a: 1 };
	cyclic.self = cyclic;
	yield { kind: 'app_table', app_table: { external_id: 'a', loop: cyclic }, user };
	const many: Record<string, unknown> = { kind: 'order', order: {}, user: {} };
	yield many;
}

const AYONA_ENTRY = { date: '2024-03-08 00:29:00', name: 'User 1', content: 'Feedback' };

function* ayonaCorpus(): Generator<unknown> {
	yield* mutations([AYONA_ENTRY as Record<string, unknown>]);
	yield { ...AYONA_ENTRY, row_number: 2 };
	yield { ...AYONA_ENTRY, name: 'n'.repeat(1001), content: 'c'.repeat(100_001) };
	yield { date: AYONA_ENTRY.date, name: 'x', text: 'misplaced' };
	yield { date: 'x', name: 1, content: null };
}

function collect(platform: Said['platform'], validate: ItemValidator, inputs: Iterable<unknown>, out: Said[]): void {
	for (const input of inputs) {
		const result = validate(input);
		if (result.ok) for (const text of result.warnings ?? []) out.push({ platform, kind: 'warning', text });
		else for (const error of result.errors) out.push({ platform, kind: 'error', text: error.reason });
	}
}

/** Every message the validators give over the corpora (repeats included). */
export function everythingSaid(): Said[] {
	const out: Said[] = [];
	const now = () => GOLDEN_NOW;
	for (const coerceStrings of [false, true]) {
		collect('rimdian', compileRimdianValidator({ timezone: 'Europe/Paris', now, coerceStrings }), mutations(RIMDIAN_ITEMS), out);
		for (const rejectFutureDates of [false, true])
			collect('ayona', compileAyonaValidator({ timezone: 'Europe/Paris', now, coerceStrings, rejectFutureDates }), ayonaCorpus(), out);
	}
	const rows = rowCorpus();
	for (const setting of ROW_SETTINGS) collect('userpilot', compileUserpilotValidator({ timezone: 'UTC', now, ...setting }), rows, out);
	const dates = dateCorpus();
	for (const setting of DATE_SETTINGS) {
		const normalize = compileDateNormalizer({ ...setting, now });
		for (const value of dates) {
			const result = normalize(value);
			if (!result.ok) out.push({ platform: 'dates', kind: 'error', text: result.reason });
		}
	}
	return out;
}
