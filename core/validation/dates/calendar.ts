/**
 * Calendar arithmetic (proleptic Gregorian, exact on integers, no Date objects) and the writing
 * of its fields.
 */

export function isLeapYear(y: number): boolean {
	return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function daysInMonth(y: number, m: number): number {
	if (m === 2) return isLeapYear(y) ? 29 : 28;
	return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a calendar date (month 1-12). */
export function daysFromCivil(y: number, m: number, d: number): number {
	const yy = m <= 2 ? y - 1 : y;
	const era = Math.floor(yy / 400);
	const yoe = yy - era * 400;
	const mp = m > 2 ? m - 3 : m + 9;
	const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
	const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
	return era * 146097 + doe - 719468;
}

/** Wall-clock fields of a count of seconds since 1970-01-01T00:00:00 (any offset already applied). */
export class Civil {
	y = 0;
	m = 0;
	d = 0;
	h = 0;
	mi = 0;
	s = 0;
	set(totalSeconds: number): this {
		const days = Math.floor(totalSeconds / 86400);
		let rest = totalSeconds - days * 86400;
		this.h = Math.floor(rest / 3600);
		rest -= this.h * 3600;
		this.mi = Math.floor(rest / 60);
		this.s = rest - this.mi * 60;
		const z = days + 719468;
		const era = Math.floor(z / 146097);
		const doe = z - era * 146097;
		const yoe = Math.floor(
			(doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
		);
		const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
		const mp = Math.floor((5 * doy + 2) / 153);
		this.d = doy - Math.floor((153 * mp + 2) / 5) + 1;
		this.m = mp < 10 ? mp + 3 : mp - 9;
		this.y = yoe + era * 400 + (this.m <= 2 ? 1 : 0);
		return this;
	}
}

export function pad2(n: number): string {
	return n < 10 ? `0${n}` : `${n}`;
}

export function pad4(n: number): string {
	if (n >= 1000) return `${n}`;
	if (n >= 100) return `0${n}`;
	if (n >= 10) return `00${n}`;
	return `000${n}`;
}

export function formatOffset(seconds: number): string {
	if (seconds === 0) return 'Z';
	const sign = seconds < 0 ? '-' : '+';
	const minutes = Math.floor(Math.abs(seconds) / 60);
	return `${sign}${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`;
}
