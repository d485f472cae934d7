/**
 * The rules of each Rimdian kind, one entry per kind: the fields of the kind's object, which of
 * the context objects (`user`, `session`, `device`) the item needs, and the rules across objects.
 * A kind outside the table (an app kind, or one listed in `knownKinds`) gets the generic checks.
 */
import { ErrorList, isRecord, own } from '../../core/validation/checks';

import {
	CREATED,
	NO_FIELDS,
	UPDATED,
	USER_FIELDS,
	compileSpecs,
	f,
	req,
	type CompiledSpecs,
} from './fields';

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

const APP_KIND_RE = /^appx?_[a-z0-9][a-z0-9_]*$/;

/** Why an item of `kind` needs a context object; written only when the object is missing. */
export type MissingReason = (kind: string) => string;

interface KindRules {
	/** The fields of the kind's object. */
	fields: CompiledSpecs;
	/**
	 * The kinds `user`, `session` and `device` carry their object as the context object of the
	 * same name (`item.user`, …), checked with the context objects rather than as `item[kind]`.
	 */
	objectIsContext?: boolean;
	/** Set when the item needs its `user` object. */
	userMissing?: MissingReason;
	/** Set when the item needs its `session` object. */
	sessionMissing?: MissingReason;
	/** Set when the item needs its `device` object. */
	deviceMissing?: MissingReason;
	/** Rules across the item's objects, after each object's own checks. */
	across?: (
		item: Record<string, unknown>,
		user: Record<string, unknown> | undefined,
		errors: ErrorList,
	) => void;
}

/** A kind's rules with every property set, so that the validator reads them from one object shape. */
export interface KindChecker {
	fields: CompiledSpecs;
	objectIsContext: boolean;
	userMissing: MissingReason | undefined;
	sessionMissing: MissingReason | undefined;
	deviceMissing: MissingReason | undefined;
	across: KindRules['across'];
}

function checkerOf(rules: KindRules): KindChecker {
	return {
		fields: rules.fields,
		objectIsContext: rules.objectIsContext === true,
		userMissing: rules.userMissing,
		sessionMissing: rules.sessionMissing,
		deviceMissing: rules.deviceMissing,
		across: rules.across,
	};
}

/** `an order`, `a user`, `an app_x`. */
export function withArticle(kind: string): string {
	const c = kind.charCodeAt(0);
	return c === 97 || c === 101 || c === 105 || c === 111 ? `an ${kind}` : `a ${kind}`;
}

function needsUser(kind: string): string {
	return `${withArticle(kind)} item needs the "user" object (external_id, is_authenticated, created_at)`;
}

function checkOrderUser(
	_item: Record<string, unknown>,
	user: Record<string, unknown> | undefined,
	errors: ErrorList,
): void {
	if (user !== undefined && own(user, 'is_authenticated') === false) {
		errors.add(
			'user.is_authenticated',
			'must be true for an order: Rimdian refuses orders of anonymous users',
		);
	}
}

function checkMessageStatus(
	item: Record<string, unknown>,
	_user: unknown,
	errors: ErrorList,
): void {
	const message = own(item, 'message');
	if (!isRecord(message)) return;
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

/** The built-in kinds. Every kind but `user` and `user_alias` needs the `user` object. */
const KIND_RULES: Readonly<Record<string, KindRules>> = {
	user: {
		fields: USER_FIELDS,
		objectIsContext: true,
		userMissing: () => 'a user item carries its fields in an object named "user"',
	},
	user_alias: {
		fields: compileSpecs([
			req('from_user_external_id', 'userId'),
			req('to_user_external_id', 'userId'),
			f('to_user_is_authenticated', 'boolean'),
			f('to_user_created_at', 'timestamp'),
		]),
	},
	device: {
		fields: compileSpecs([
			req('external_id', 'id'),
			CREATED,
			UPDATED,
			f('device_type', 'deviceType'),
			f('user_agent', 'text'),
			f('ad_blocker', 'boolean'),
			f('in_webview', 'boolean'),
		]),
		objectIsContext: true,
		userMissing: needsUser,
		deviceMissing: () => 'a device item carries its fields in an object named "device"',
	},
	session: {
		fields: compileSpecs([
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
		]),
		objectIsContext: true,
		userMissing: needsUser,
		sessionMissing: () => 'a session item carries its fields in an object named "session"',
	},
	pageview: {
		fields: compileSpecs([
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
		]),
		userMissing: needsUser,
		sessionMissing: () => 'a pageview item needs the "session" object it belongs to',
	},
	order: {
		fields: compileSpecs([
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
		]),
		userMissing: needsUser,
		across: checkOrderUser,
	},
	cart: {
		fields: compileSpecs([
			req('external_id', 'id'),
			req('domain_id', 'id'),
			CREATED,
			UPDATED,
			req('currency', 'currency'),
			f('session_external_id', 'id'),
			f('public_url', 'url'),
			f('status', 'integer'),
			f('items', 'items'),
		]),
		userMissing: needsUser,
	},
	postview: {
		fields: compileSpecs([
			req('external_id', 'id'),
			CREATED,
			UPDATED,
			req('utm_source', 'text'),
			req('utm_medium', 'text'),
			f('device_external_id', 'id'),
			f('country', 'country'),
		]),
		userMissing: needsUser,
	},
	custom_event: {
		fields: compileSpecs([
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
		]),
		userMissing: needsUser,
	},
	subscription_list_user: {
		fields: compileSpecs([
			req('subscription_list_id', 'id'),
			CREATED,
			UPDATED,
			req('status', 'integer', { nullable: false, min: 0, max: 3 }),
			f('comment', 'text'),
		]),
		userMissing: needsUser,
	},
	message: {
		fields: compileSpecs([
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
		]),
		userMissing: needsUser,
		across: checkMessageStatus,
	},
};

const KIND_CHECKERS: Readonly<Record<string, KindChecker>> = Object.fromEntries(
	Object.entries(KIND_RULES).map(([kind, rules]) => [kind, checkerOf(rules)]),
);
/** The fields of the context objects, checked wherever they appear. */
export const SESSION_FIELDS = KIND_RULES.session.fields;
export const DEVICE_FIELDS = KIND_RULES.device.fields;

/** `app_…`/`appx_…` kinds: free-form columns, no `user` object needed. */
const APP_KIND_CHECKER = checkerOf({ fields: NO_FIELDS });
/** A kind listed in `knownKinds` that is neither built in nor an app kind: its object and `user`. */
const LISTED_KIND_CHECKER = checkerOf({ fields: NO_FIELDS, userMissing: needsUser });

export interface KindFilter {
	(kind: string): boolean;
	listed: string;
}

/** Whether a kind is accepted (`knownKinds`, or the default), and the list an error names. */
export function compileKindFilter(known: readonly string[] | undefined): KindFilter {
	if (known === undefined) {
		const filter = ((kind: string) =>
			Object.prototype.hasOwnProperty.call(KIND_CHECKERS, kind) ||
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

/** The checker of an accepted kind. */
export function kindChecker(kind: string): KindChecker {
	if (Object.prototype.hasOwnProperty.call(KIND_CHECKERS, kind)) return KIND_CHECKERS[kind];
	return APP_KIND_RE.test(kind) ? APP_KIND_CHECKER : LISTED_KIND_CHECKER;
}
