// A file checked by "Validate Only (Send Nothing)": every row read and prepared as a real import
// would (batch or job platform alike), tallied like one, and nothing sent.
import type { IDataObject } from 'n8n-workflow';

import { prepareRowChunks, type FileSettings, type PreparedRow } from '../rows/fileRows';
import type { BinarySource, ReadResult } from '../rows/readers';
import type { RejectedRowsFile } from '../rows/rejectedFile';
import { listed, Rejections, WarningTally, type ProgressCounts } from './fileBatches';
import { firstLinesAsSent, PREVIEW_LINES } from './preview';
import type { SendSettings } from './sendSettings';

export interface FileValidation {
	summary: IDataObject;
	/** Every rejected row as CSV in a temporary file, when asked: the caller disposes of it. */
	rejectedFile?: RejectedRowsFile;
}

/**
 * The summary of a file as an import would give it, with status `validated`, the first rows as
 * they would be sent, and, on a batch platform, the body of the first request.
 */
export async function validateFileRows(
	source: BinarySource,
	file: FileSettings,
	settings: SendSettings,
	keepRejectedFile: boolean,
	progress: ProgressCounts = { read: 0, sent: 0, accepted: 0 },
): Promise<FileValidation> {
	return await Rejections.around(keepRejectedFile, file.csv.delimiter, (rejections) =>
		validateWithRejections(source, file, settings, rejections, progress),
	);
}

async function validateWithRejections(
	source: BinarySource,
	file: FileSettings,
	settings: SendSettings,
	rejections: Rejections,
	progress: ProgressCounts,
): Promise<FileValidation> {
	const readResult: ReadResult = { headerEndOffset: 0 };
	const warnings = new WarningTally();
	const first: PreparedRow[] = [];
	let valid = 0;
	let skipped = 0;
	const chunks = prepareRowChunks(
		source,
		file,
		(rejected, raw) => {
			progress.read++;
			rejections.add(rejected, raw.cells, readResult.columns, true);
		},
		readResult,
		() => skipped++,
	);
	for await (const rows of chunks) {
		valid += rows.length;
		progress.read += rows.length;
		for (const row of rows) warnings.add(row.warnings, row.index + 1);
		if (first.length < PREVIEW_LINES) first.push(...rows.slice(0, PREVIEW_LINES - first.length));
	}
	return {
		summary: {
			file: source.fileName,
			format: file.format,
			platform: settings.platform.id,
			status: 'validated',
			rowsRead: valid + rejections.count,
			valid,
			invalid: rejections.invalid,
			...(skipped > 0 ? { skippedBeforeStartRow: skipped } : {}),
			...(warnings.list().length > 0 ? { warnings: warnings.list() } : {}),
			firstRowsAsSent: firstLinesAsSent(first),
			...firstRequestBody(settings, first),
			rejected: listed(rejections),
		},
		rejectedFile: rejections.file(),
	};
}

/** On a batch platform, the body of a request made of the first rows (a real batch is larger). */
function firstRequestBody(settings: SendSettings, first: PreparedRow[]): IDataObject {
	const { delivery } = settings.platform;
	if (delivery.mode !== 'batch' || first.length === 0) return {};
	const body = delivery.buildBody(
		first.map((row) => row.serialized),
		settings.credentials,
		settings.itemOptions,
	);
	return { requestBodyOfFirstRows: JSON.parse(body) as IDataObject };
}
