/** One CSV line (RFC 4180 quoting), for writing rejected rows back out. */
export function csvLine(cells: unknown[], delimiter = ','): string {
	let out = '';
	for (let i = 0; i < cells.length; i++) {
		if (i > 0) out += delimiter;
		const value = cells[i];
		const text =
			value === undefined || value === null
				? ''
				: typeof value === 'string'
					? value
					: JSON.stringify(value);
		out +=
			text.includes(delimiter) || text.includes('"') || text.includes('\n') || text.includes('\r')
				? `"${text.replace(/"/g, '""')}"`
				: text;
	}
	return out + '\r\n';
}
