/**
 * Warnings: remarks on an item that is still sent. A rule that only an inference supports (no
 * platform page states it) must not refuse a row, so it speaks here instead; a field the platform
 * does not take is left out and named here. See docs/sources.md.
 */

/** One item's warnings, collected while it is validated. */
export class WarningList {
	private list: string[] | undefined;
	/** Texts built once per field and reason: a large sheet repeats the same few. */
	private readonly texts = new Map<string, string>();

	/** `field "<field>" <reason>`, the form every warning of the package takes. */
	add(field: string, reason: string): void {
		const key = `${field}\u0000${reason}`;
		let text = this.texts.get(key);
		if (text === undefined) {
			text = `field "${field}" ${reason}`;
			if (this.texts.size >= 1000) this.texts.clear();
			this.texts.set(key, text);
		}
		const list = (this.list ??= []);
		if (!list.includes(text)) list.push(text);
	}

	reset(): void {
		this.list = undefined;
	}

	/** The warnings (undefined when none), and a fresh list for the next item. */
	take(): string[] | undefined {
		const list = this.list;
		this.list = undefined;
		return list;
	}
}

/** Earliest year that no platform page is needed for: older dates are sent with a warning. */
const USUAL_MIN_YEAR = 1900;

/** Reason of the warning for a date written before USUAL_MIN_YEAR (dates written year first). */
export function earlyDateReason(written: string, platform: string): string | undefined {
	const year = leadingYear(written);
	return year < USUAL_MIN_YEAR
		? `is dated ${written.slice(0, 4)}, before ${USUAL_MIN_YEAR}: sent as it is (${platform}'s pages set no earliest date; check it is not a mistake)`
		: undefined;
}

/** The number the first four characters write: read digit by digit, as every date here starts. */
function leadingYear(written: string): number {
	let year = 0;
	for (let i = 0; i < 4; i++) {
		const digit = written.charCodeAt(i) - 48;
		// Not four digits (never so for a date the normalizer wrote): read as before.
		if (!(digit >= 0 && digit <= 9)) return Number(written.slice(0, 4));
		year = year * 10 + digit;
	}
	return year;
}
