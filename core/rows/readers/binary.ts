import type { IExecuteFunctions } from 'n8n-workflow';
import { Readable } from 'node:stream';

/** A file handed to a node as binary data, readable as a stream as many times as needed. */
export interface BinarySource {
	fileName: string;
	mimeType?: string;
	/** Exact size in bytes. */
	size: number;
	/** A fresh stream of bytes [start, end) of the file. */
	open(start?: number, end?: number): Promise<Readable>;
}

/** Yields bytes [start, end) of a stream that begins at offset 0. */
async function* byteRange(stream: Readable, start: number, end: number): AsyncGenerator<Buffer> {
	let position = 0;
	try {
		for await (const chunk of stream as AsyncIterable<Buffer>) {
			const chunkStart = position;
			position += chunk.length;
			if (position <= start) continue;
			const from = Math.max(0, start - chunkStart);
			const to = Math.min(chunk.length, end - chunkStart);
			if (to > from) yield chunk.subarray(from, to);
			if (position >= end) break;
		}
	} finally {
		stream.destroy();
	}
}

/**
 * Opens the item's binary property. With n8n's filesystem (or S3) binary mode it is streamed
 * from its store (getBinaryStream), never loaded whole; only a binary that n8n already holds in
 * memory is read as a buffer.
 */
export async function openBinary(
	ctx: IExecuteFunctions,
	itemIndex: number,
	property: string,
): Promise<BinarySource> {
	const binary = ctx.helpers.assertBinaryData(itemIndex, property);
	const fileName = binary.fileName ?? `${property}.${binary.fileExtension ?? 'dat'}`;
	if (binary.id) {
		const id = binary.id;
		const metadata = await ctx.helpers.getBinaryMetadata(id);
		let size = Number(metadata.fileSize);
		if (!Number.isSafeInteger(size) || size < 0) {
			// No usable size in the store's metadata: count the bytes once (splitting needs it).
			size = 0;
			const stream = await ctx.helpers.getBinaryStream(id, 1024 * 1024);
			for await (const chunk of stream as AsyncIterable<Buffer>) size += chunk.length;
		}
		return {
			fileName,
			mimeType: binary.mimeType,
			size,
			async open(start = 0, end = size) {
				const stream = await ctx.helpers.getBinaryStream(id, 1024 * 1024);
				if (start === 0 && end >= size) return stream;
				return Readable.from(byteRange(stream, start, end), { objectMode: false });
			},
		};
	}
	const buffer = await ctx.helpers.getBinaryDataBuffer(itemIndex, property);
	return {
		fileName,
		mimeType: binary.mimeType,
		size: buffer.length,
		async open(start = 0, end = buffer.length) {
			return Readable.from([buffer.subarray(start, end)], { objectMode: false });
		},
	};
}

export type FileFormat = 'csv' | 'ndjson';

/** The format from the user's choice, else the file's name or type, else its first byte. */
export async function detectFormat(source: BinarySource, choice: string): Promise<FileFormat> {
	if (choice === 'csv' || choice === 'ndjson') return choice;
	const name = source.fileName.toLowerCase();
	if (
		/\.(ndjson|jsonl|json)$/.test(name) ||
		/ndjson|jsonl|x-json-stream/.test(source.mimeType ?? '')
	)
		return 'ndjson';
	if (/\.(csv|tsv|txt)$/.test(name) || /csv/.test(source.mimeType ?? '')) return 'csv';
	const head = await source.open(0, Math.min(source.size, 4096));
	let text = '';
	for await (const chunk of head as AsyncIterable<Buffer>) text += chunk.toString('utf8');
	const firstChar = text.replace(/^\ufeff/, '').trimStart()[0];
	return firstChar === '{' || firstChar === '[' ? 'ndjson' : 'csv';
}
