import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** One file as a multipart/form-data body, streamed, with its exact length when the file's is known. */
export interface MultipartFile {
	contentType: string;
	/** Total bytes of the body, when the file's size is known. */
	length?: number;
	/** Bytes of the file alone (what a platform reports as the file's size), when known. */
	fileSize?: number;
	/** A fresh body for each attempt (a stream can be read once). */
	body(): Readable | Buffer;
}

function quoteName(name: string): string {
	return name.replace(/["\r\n\\]/g, '_');
}

export function multipartFile(
	field: string,
	filename: string,
	fileContentType: string,
	content: Buffer | (() => Readable),
	fileSize?: number,
): MultipartFile {
	const boundary = `----n8nDataImport${randomBytes(12).toString('hex')}`;
	const head = Buffer.from(
		`--${boundary}\r\nContent-Disposition: form-data; name="${quoteName(field)}"; filename="${quoteName(filename)}"\r\n` +
			`Content-Type: ${fileContentType}\r\n\r\n`,
	);
	const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
	const size = Buffer.isBuffer(content) ? content.length : fileSize;
	return {
		contentType: `multipart/form-data; boundary=${boundary}`,
		length: size === undefined ? undefined : head.length + size + tail.length,
		fileSize: size,
		body() {
			if (Buffer.isBuffer(content)) return Buffer.concat([head, content, tail]);
			const stream = content();
			return Readable.from(
				(async function* () {
					yield head;
					for await (const chunk of stream) yield chunk as Buffer;
					yield tail;
				})(),
				{ objectMode: false },
			);
		},
	};
}
