/** The time zone a normalizer reads zone-less inputs in: offsets in seconds, cached for IANA zones. */
import { IANAZone, Info } from 'luxon';

import { quote as quoteForReason } from '../checks';

const UTC_NAMES = new Set([
	'utc',
	'etc/utc',
	'gmt',
	'etc/gmt',
	'z',
	'zulu',
	'etc/zulu',
	'uct',
	'etc/uct',
	'universal',
	'etc/universal',
	'greenwich',
	'etc/greenwich',
	'gmt0',
	'etc/gmt0',
	'gmt+0',
	'gmt-0',
	'etc/gmt+0',
	'etc/gmt-0',
]);

/** Offset caches shared by every normalizer of a zone (an execution compiles several). */
const OFFSET_CACHES = new Map<string, Map<number, number>>();

function offsetCacheOf(zoneName: string): Map<number, number> {
	let cache = OFFSET_CACHES.get(zoneName);
	if (cache === undefined) {
		if (OFFSET_CACHES.size >= 64) OFFSET_CACHES.clear();
		cache = new Map<number, number>();
		OFFSET_CACHES.set(zoneName, cache);
	}
	return cache;
}

/** Offset arithmetic for the configured zone, in seconds, with a cache for IANA zones. */
export class ZoneCalc {
	readonly isUtc: boolean;
	readonly name: string;
	private readonly fixed: number;
	private readonly iana: IANAZone | undefined;
	/** 15-minute bucket of UTC seconds → offset in seconds, for buckets without a transition. */
	private cache = new Map<number, number>();

	constructor(timezone: string) {
		if (typeof timezone !== 'string' || timezone.trim() === '') {
			throw new Error(
				'The time zone is empty: expected an IANA name such as Europe/Paris, or UTC.',
			);
		}
		const tz = timezone.trim();
		this.name = tz;
		if (UTC_NAMES.has(tz.toLowerCase())) {
			this.isUtc = true;
			this.fixed = 0;
			return;
		}
		if (IANAZone.isValidZone(tz)) {
			this.iana = IANAZone.create(tz);
			this.cache = offsetCacheOf(this.iana.name);
			this.isUtc = false;
			this.fixed = 0;
			return;
		}
		const zone = Info.normalizeZone(tz);
		if (zone && zone.isValid && zone.isUniversal) {
			this.fixed = Math.round(zone.offset(0) * 60);
			this.isUtc = this.fixed === 0;
			return;
		}
		throw new Error(
			`Unknown time zone ${quoteForReason(tz)}: expected an IANA name such as Europe/Paris, or UTC.`,
		);
	}

	private raw(utcSeconds: number): number {
		return Math.round((this.iana as IANAZone).offset(utcSeconds * 1000) * 60);
	}

	/** Offset from UTC, in seconds, at an instant given in UTC seconds. */
	offsetAt(utcSeconds: number): number {
		if (this.iana === undefined) return this.fixed;
		const bucket = Math.floor(utcSeconds / 900);
		const hit = this.cache.get(bucket);
		if (hit !== undefined) return hit;
		const start = this.raw(bucket * 900);
		const end = this.raw(bucket * 900 + 899);
		if (start === end) {
			if (this.cache.size >= 100_000) this.cache.clear();
			this.cache.set(bucket, start);
			return start;
		}
		return this.raw(utcSeconds);
	}

	/**
	 * The instant (UTC seconds) of a wall-clock time (seconds since 1970-01-01 as if UTC) in this
	 * zone; the earlier one when the wall time occurs twice; NaN when it does not occur at all.
	 */
	toUtc(localSeconds: number): number {
		if (this.iana === undefined) return localSeconds - this.fixed;
		const before = this.offsetAt(localSeconds - 86400);
		const after = this.offsetAt(localSeconds + 86400);
		const t1 = localSeconds - before;
		const ok1 = this.offsetAt(t1) === before;
		if (before === after) {
			if (ok1) return t1;
		}
		const t2 = localSeconds - after;
		const ok2 = this.offsetAt(t2) === after;
		if (ok1 && ok2) return t1 < t2 ? t1 : t2;
		if (ok1) return t1;
		if (ok2) return t2;
		return NaN;
	}

	/** For a wall time a clock change skipped: the instant the clocks jumped to (luxon's rule). */
	toUtcShifted(localSeconds: number): number {
		if (this.iana === undefined) return localSeconds - this.fixed;
		return localSeconds - this.offsetAt(localSeconds - 86400);
	}
}
