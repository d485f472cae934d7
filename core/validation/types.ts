/** One broken rule of one item: which field, and why, in words a user can act on. */
export interface FieldError {
	/** Dotted path of the field in the platform item, e.g. `user.created_at`; `(item)` for the item itself. */
	field: string;
	reason: string;
}

/**
 * A validated item is returned normalized (dates rewritten, defaults applied), ready to send.
 * `warnings` name what was accepted on an inference, or left out of what is sent: they never
 * refuse the item, only tell the user (absent when there is nothing to say).
 */
export type Validation<T = Record<string, unknown>> =
	| { ok: true; value: T; warnings?: string[] }
	| { ok: false; errors: FieldError[] };

export interface ValidatorOptions {
	/** IANA zone used to read dates that carry no offset, and to write zone-less dates (Ayona). */
	timezone: string;
	/** Clock, injectable for tests (ms since epoch). Used for "date in the future" rules. */
	now?: () => number;
	/**
	 * Rows read from CSV carry every value as a string: when true, strings that spell a value of the
	 * field's declared type ("true", "42") are converted before the rules run.
	 */
	coerceStrings?: boolean;
}

/** Compiled once per execution, called once per item. Never throws on bad input. */
export type ItemValidator<T = Record<string, unknown>> = (item: unknown) => Validation<T>;
