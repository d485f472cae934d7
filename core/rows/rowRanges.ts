/**
 * Row numbers kept as ranges: rows of one batch are reported one after another, so a batch
 * costs one range, not a number per row (a 1 GB file has millions of rows).
 */
export class RowRanges {
	private readonly ranges: Array<{ from: number; to: number }> = [];
	count = 0;

	add(row: number): void {
		this.count++;
		const last = this.ranges[this.ranges.length - 1];
		if (last !== undefined && row === last.to + 1) last.to = row;
		else this.ranges.push({ from: row, to: row });
	}

	/** Sorted, adjacent and overlapping ranges merged; at most `limit` of them, and how many more. */
	list(limit: number): { ranges: Array<{ from: number; to: number }>; more: number } {
		// Batches finish out of order: sort, then merge.
		const sorted = [...this.ranges].sort((a, b) => a.from - b.from);
		const merged: Array<{ from: number; to: number }> = [];
		for (const range of sorted) {
			const last = merged[merged.length - 1];
			if (last !== undefined && range.from <= last.to + 1) last.to = Math.max(last.to, range.to);
			else merged.push({ ...range });
		}
		return { ranges: merged.slice(0, limit), more: Math.max(0, merged.length - limit) };
	}
}
