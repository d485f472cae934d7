// The rejected-rows CSV written to a temporary file as rows are rejected, a few kilobytes at a
// time: a file with a million rejected rows is never whole in memory. The node hands the file to
// n8n's binary store as a stream, then disposes of it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';

/** Bytes gathered before one write: few system calls, little memory. */
const FLUSH_AT = 64 * 1024;

/** The written file: read it once as a stream, then dispose of it (always, even on failure). */
export interface RejectedRowsFile {
	open(): Readable;
	/** Bytes in the file. */
	size: number;
	dispose(): Promise<void>;
}

export class RejectedRowsWriter {
	private folder?: string;
	private fd?: number;
	private pending: string[] = [];
	private pendingLength = 0;
	private written = 0;

	/** Adds one line (already CSV, with its line break). The file is created on the first. */
	write(line: string): void {
		this.pending.push(line);
		this.pendingLength += line.length;
		if (this.pendingLength >= FLUSH_AT) this.flush();
	}

	private flush(): void {
		if (this.pending.length === 0) return;
		if (this.fd === undefined) {
			this.folder = fs.mkdtempSync(path.join(os.tmpdir(), 'data-import-rejected-'));
			this.fd = fs.openSync(path.join(this.folder, 'rejected.csv'), 'w', 0o600);
		}
		const bytes = Buffer.from(this.pending.join(''));
		fs.writeSync(this.fd, bytes);
		this.written += bytes.length;
		this.pending = [];
		this.pendingLength = 0;
	}

	/** The file with every line written; undefined when none was. */
	close(): RejectedRowsFile | undefined {
		this.flush();
		if (this.fd === undefined || this.folder === undefined) return undefined;
		fs.closeSync(this.fd);
		this.fd = undefined;
		const folder = this.folder;
		const file = path.join(folder, 'rejected.csv');
		return {
			open: () => fs.createReadStream(file),
			size: this.written,
			dispose: async () => await fs.promises.rm(folder, { recursive: true, force: true }),
		};
	}

	/** The import broke down: the file goes, unused. */
	async discard(): Promise<void> {
		await this.close()?.dispose();
	}
}
