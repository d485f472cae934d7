import type { RejectedRowsFile } from '../../core/rows/rejectedFile';

/** The text of a rejected-rows file read as the node reads it (a stream), then disposed of. */
export async function textOf(file: RejectedRowsFile | undefined): Promise<string> {
	if (!file) return '';
	const chunks: Buffer[] = [];
	try {
		for await (const chunk of file.open()) chunks.push(chunk as Buffer);
	} finally {
		await file.dispose();
	}
	return Buffer.concat(chunks).toString('utf8');
}
