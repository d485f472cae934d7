import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { importFileRows } from '../../../core/delivery/fileBatches';
import { uploadFileAsJobs } from '../../../core/delivery/fileJob';
import { validateFileRows } from '../../../core/delivery/fileValidation';
import { PartsNotSentError } from '../../../core/delivery/job';
import type { SendSettings } from '../../../core/delivery/sendSettings';
import { uploadToken } from '../../../core/delivery/uploadName';
import type { FileSettings } from '../../../core/rows/fileRows';
import type { RejectedRowsFile } from '../../../core/rows/rejectedFile';
import {
	detectFormat,
	FileFormatError,
	openBinary,
	type BinarySource,
} from '../../../core/rows/readers';
import { readSendSettings } from '../../shared/settings';
import {
	ExecutionCancelledError,
	PlatformRequestError,
	PlatformTransport,
} from '../../../core/transport';
import { withErrorOutputRouting } from '../../shared/output';
import { startProgress } from '../../shared/progress';

/** The delimiter the user set; unset, a tab for .tsv files and a comma otherwise. */
function delimiterOf(raw: unknown, fileName: string): string {
	if (typeof raw !== 'string' || raw === '') return /\.tsv$/i.test(fileName) ? '\t' : ',';
	return raw === '\\t' ? '\t' : raw;
}

/** The progress lines of one file, named after it. */
function fileProgress(ctx: IExecuteFunctions, source: BinarySource, transport: PlatformTransport) {
	return startProgress(ctx, {
		label: `Bulk File Import (${source.fileName})`,
		unit: 'rows',
		stats: transport.stats,
	});
}

/** Sending the parts broke down (a cancellation, a bug): the node's own error, saying why. */
function asNodeError(ctx: IExecuteFunctions, error: unknown): unknown {
	if (error instanceof PartsNotSentError) {
		return new NodeOperationError(ctx.getNode(), error.reason as Error);
	}
	return error;
}

/** A job platform: the file uploaded as one job or several, summarized in one output item. */
async function uploadOne(
	ctx: IExecuteFunctions,
	source: BinarySource,
	file: FileSettings,
	settings: SendSettings,
	transport: PlatformTransport,
	index: number,
): Promise<INodeExecutionData> {
	const validateFirst = ctx.getNodeParameter('validateFirst', index, true) as boolean;
	const normalized = ctx.getNodeParameter('userpilotUpload', index, 'normalized') === 'normalized';
	const { options } = settings;
	const partLimit = Math.floor(Math.max(0.001, (options.partSizeMb as number) ?? 1000) * 1_000_000);
	const split = (options.splitLargeFiles as boolean | undefined) ?? true;
	const nameToken = () =>
		uploadToken(
			ctx,
			index,
			source.fileName,
			source.size,
			file.fromRow ?? 1,
			normalized ? 'normalized' : 'asIs',
			partLimit,
		);
	const progress = fileProgress(ctx, source, transport);
	let outcome;
	try {
		outcome = await uploadFileAsJobs(source, file, settings, transport, {
			validateFirst,
			normalized,
			partLimit,
			split,
			signal: ctx.getExecutionCancelSignal(),
			nameToken,
			progress,
		});
	} catch (error) {
		throw asNodeError(ctx, error);
	} finally {
		progress.finish();
	}
	if (outcome.failure && !ctx.continueOnFail()) {
		const resume = outcome.summary.resumeFromRow
			? `To finish the import, run again with "Start at Row" set to ${outcome.summary.resumeFromRow as number}.\n`
			: '';
		throw new NodeOperationError(ctx.getNode(), outcome.failure, {
			itemIndex: index,
			description:
				resume +
				JSON.stringify(
					outcome.summary.rejected ?? outcome.summary.jobs ?? outcome.summary,
					null,
					2,
				).slice(0, 4000),
		});
	}
	const json: IDataObject = outcome.failure
		? { ...outcome.summary, error: outcome.failure }
		: outcome.summary;
	return withErrorOutputRouting(ctx, { json, pairedItem: { item: index } }, index);
}

/**
 * The rejected rows as a CSV file named after the input, when they were kept: streamed from the
 * temporary file into n8n's binary store, which then holds the only copy.
 */
async function rejectedBinary(
	ctx: IExecuteFunctions,
	source: BinarySource,
	rejectedFile: RejectedRowsFile | undefined,
): Promise<INodeExecutionData['binary']> {
	if (!rejectedFile) return undefined;
	try {
		return {
			rejected: await ctx.helpers.prepareBinaryData(
				rejectedFile.open(),
				`${source.fileName.replace(/\.[^.]+$/, '')}.rejected.csv`,
				'text/csv',
			),
		};
	} finally {
		await rejectedFile.dispose();
	}
}

/** A batch platform: the file's rows sent in batches, summarized in one output item. */
async function importOne(
	ctx: IExecuteFunctions,
	source: BinarySource,
	file: FileSettings,
	settings: SendSettings,
	transport: PlatformTransport,
	index: number,
): Promise<INodeExecutionData> {
	const continueOnFail = ctx.continueOnFail();
	const stopOnInvalid = ctx.getNodeParameter('onInvalid', index, 'skip') === 'stop';
	const keepRejected = (settings.options.rejectedRowsFile as boolean | undefined) ?? false;
	const progress = fileProgress(ctx, source, transport);
	let outcome;
	try {
		outcome = await importFileRows(source, file, settings, transport, {
			stopOnInvalid,
			keepRejectedFile: keepRejected,
			continueOnFail,
			progress,
		});
	} finally {
		progress.finish();
	}
	if (outcome.fatal && !continueOnFail) await outcome.rejectedFile?.dispose();
	if (outcome.fatal && !continueOnFail) {
		const s = outcome.summary;
		// NodeOperationError keeps the message as written; NodeApiError would swap a
		// connection failure's for n8n's generic wording, losing which batch and why.
		throw new NodeOperationError(ctx.getNode(), outcome.fatal, {
			itemIndex: index,
			description:
				`${s.accepted ?? 0} rows were accepted before this, ${s.failed ?? 0} failed, ${s.notSent ?? 0} were not sent, ` +
				`${s.invalid ?? 0} were invalid (${s.requests ?? 0} requests, ${s.retries ?? 0} retries).` +
				(s.resumeFromRow
					? ` To finish the import, run again with "Start at Row" set to ${s.resumeFromRow as number}.`
					: ''),
		});
	}
	const binary = await rejectedBinary(ctx, source, outcome.rejectedFile);
	const item: INodeExecutionData = {
		json: outcome.summary,
		pairedItem: { item: index },
		...(binary ? { binary } : {}),
	};
	if (outcome.fatal) item.json.error = outcome.fatal;
	return withErrorOutputRouting(ctx, item, index);
}

/** "Validate Only": the file's rows checked and summarized, as they would be sent; none is. */
async function validateOne(
	ctx: IExecuteFunctions,
	source: BinarySource,
	file: FileSettings,
	settings: SendSettings,
	transport: PlatformTransport,
	index: number,
): Promise<INodeExecutionData> {
	const keepRejected = (settings.options.rejectedRowsFile as boolean | undefined) ?? false;
	// A large file takes a while to check too: the same lines, nothing sent.
	const progress = fileProgress(ctx, source, transport);
	let validation;
	try {
		validation = await validateFileRows(source, file, settings, keepRejected, progress);
	} finally {
		progress.finish();
	}
	const { summary, rejectedFile } = validation;
	const binary = await rejectedBinary(ctx, source, rejectedFile);
	return { json: summary, pairedItem: { item: index }, ...(binary ? { binary } : {}) };
}

/** The output item of a file that failed, when the node continues on fail; else the error. */
function failedItem(ctx: IExecuteFunctions, failure: unknown, index: number): INodeExecutionData {
	const continueOnFail = ctx.continueOnFail();
	if (failure instanceof NodeOperationError || failure instanceof NodeApiError) {
		if (!continueOnFail) throw failure;
		return {
			json: { error: failure.message, description: failure.description },
			pairedItem: { item: index },
			...(ctx.getNode().onError === 'continueErrorOutput' ? { error: failure } : {}),
		};
	}
	const message =
		failure instanceof FileFormatError ||
		failure instanceof PlatformRequestError ||
		failure instanceof ExecutionCancelledError
			? failure.message
			: `Import failed: ${(failure as Error).message}`;
	if (!continueOnFail) throw new NodeOperationError(ctx.getNode(), message, { itemIndex: index });
	return withErrorOutputRouting(
		ctx,
		{ json: { error: message }, pairedItem: { item: index } },
		index,
	);
}

/** One output item per input file: its summary, and its rejected rows as a file when asked. */
export async function importFile(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const settings = await readSendSettings(this);
	const { platform, options } = settings;
	const output: INodeExecutionData[] = [];

	for (let index = 0; index < items.length; index++) {
		let failure: unknown;
		try {
			const property = this.getNodeParameter('binaryPropertyName', index) as string;
			const source = await openBinary(this, index, property);
			const file: FileSettings = {
				fromRow: Math.max(1, Math.floor((options.startAtRow as number | undefined) ?? 1)),
				format: await detectFormat(source, this.getNodeParameter('fileFormat', index) as string),
				csv: {
					delimiter: delimiterOf(options.delimiter, source.fileName),
					parseJsonCells:
						platform.delivery.mode === 'batch' && platform.delivery.csvCellsHoldJson === true,
				},
				platform,
				itemOptions: settings.itemOptions,
			};
			const transport = new PlatformTransport(
				this,
				platform,
				settings.credentials,
				settings.policy,
			);
			const send =
				options.validateOnly === true
					? validateOne
					: platform.delivery.mode === 'job'
						? uploadOne
						: importOne;
			try {
				output.push(await send(this, source, file, settings, transport, index));
			} finally {
				transport.close();
			}
		} catch (error) {
			failure = error;
		}
		if (failure !== undefined) output.push(failedItem(this, failure, index));
	}
	return [output];
}
