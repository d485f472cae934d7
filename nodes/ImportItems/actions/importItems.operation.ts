import type { IDataObject, IExecuteFunctions, INodeExecutionData, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { PreparedItem } from '../../../core/delivery/batch';
import {
	deliverItems,
	finalResults,
	invalidSummary,
	prepareItems,
	type PreparedInput,
} from '../../../core/delivery/items';
import { PartsNotSentError } from '../../../core/delivery/job';
import { validatedResults } from '../../../core/delivery/preview';
import type { SendSettings } from '../../../core/delivery/sendSettings';
import { uploadToken } from '../../../core/delivery/uploadName';
import type { ItemResult, RunSummary } from '../../../core/results';
import { summarize } from '../../../core/results';
import type { ProgressReporter } from '../../../core/progress';
import { ResultTally, tallySums } from '../../../core/resultTally';
import { startProgress } from '../../shared/progress';
import {
	readOutputChoice,
	RESULT_KEY,
	resultItem,
	summaryItem,
	type OutputChoice,
} from '../output';
import { readSendSettings } from '../../shared/settings';
import {
	ExecutionCancelledError,
	PlatformRequestError,
	PlatformTransport,
} from '../../../core/transport';
import { setPath } from '../../../core/paths';
import { fieldMapOf, mappedRecord } from '../mapping';

/** The item as the user built it in "Define Fields Below", or the input item's own fields. */
function recordOf(ctx: IExecuteFunctions, mode: string, index: number, json: IDataObject): unknown {
	if (mode !== 'define') return json;
	const fields = ctx.getNodeParameter('fields.field', index, []) as Array<{
		name: string;
		value: unknown;
	}>;
	const record: IDataObject = {};
	for (const { name, value } of fields) {
		if (name) setPath(record, name, value);
	}
	return record;
}

function toOutput(
	result: ItemResult,
	settings: SendSettings,
	withErrorField: boolean,
): IDataObject {
	// The result object itself becomes the output (each item has its own): a copy would double
	// the results in memory at the end of a large run.
	const json = result as unknown as IDataObject;
	json.platform = settings.platform.id;
	if (
		withErrorField &&
		(result.status === 'invalid' || result.status === 'failed' || result.status === 'notSent')
	) {
		json.error = result.message;
	}
	return json;
}

/** Each input item mapped, validated and serialized once, or its result when it will not be sent. */
async function prepareInput(
	ctx: IExecuteFunctions,
	items: INodeExecutionData[],
	settings: SendSettings,
): Promise<PreparedInput> {
	const mode = ctx.getNodeParameter('dataMode', 0) as string;
	const startAt = Math.max(
		1,
		Math.floor((settings.options.startAtItem as number | undefined) ?? 1),
	);
	const fields =
		mode === 'mapper'
			? fieldMapOf(settings.platform.mappingFields(settings.itemOptions))
			: undefined;
	const recordAt = (index: number) =>
		fields
			? mappedRecord(ctx, index, items[index].json, fields)
			: recordOf(ctx, mode, index, items[index].json);
	return await prepareItems(items.length, recordAt, settings, startAt);
}

/** Sends the prepared items as the platform takes them: JSON batches, or files as jobs. */
async function deliver(
	ctx: IExecuteFunctions,
	transport: PlatformTransport,
	settings: SendSettings,
	prepared: PreparedItem[],
	report: (item: PreparedItem, result: ItemResult) => void,
): Promise<PlatformRequestError | undefined> {
	const choices = {
		stopOnFailure: !ctx.continueOnFail(),
		signal: ctx.getExecutionCancelSignal(),
		nameToken: (...input: Array<string | number>) => uploadToken(ctx, 0, ...input),
	};
	try {
		return await deliverItems(transport, settings, prepared, choices, report);
	} catch (error) {
		throw asNodeError(ctx, error);
	}
}

/** Sending the jobs broke down (a cancellation, a bug): the node's own error, saying why. */
function asNodeError(ctx: IExecuteFunctions, error: unknown): unknown {
	if (error instanceof PartsNotSentError) {
		return new NodeOperationError(ctx.getNode(), error.reason as Error);
	}
	return error;
}

/** Where a stopped run's failures begin: the first failed item, and the first not known in. */
interface StopPoint {
	firstFailed?: number;
	firstNotIn?: number;
}

/** The error that stops the node when a send failed for good: what got in, and how to finish. */
function stoppedError(
	ctx: IExecuteFunctions,
	fatal: PlatformRequestError,
	summary: RunSummary,
	stop: StopPoint,
): NodeOperationError | NodeApiError {
	const resumeFrom = (stop.firstNotIn ?? -1) + 1;
	const description =
		`${summary.accepted} of ${summary.items} items were accepted before this failure, ${summary.failed} failed, ` +
		`${summary.notSent} were not sent (${summary.requests} requests, ${summary.retries} retries). ` +
		`Every item before item ${resumeFrom} is in: to finish, run again with "Start at Item" set to ${resumeFrom}, ` +
		'or turn on "Continue On Fail" to get one result per item instead.';
	const itemIndex = stop.firstFailed;
	if (fatal.status === undefined) {
		// No HTTP answer (connection lost, time-out): NodeApiError would replace the message
		// with n8n's generic wording and lose which batch failed and after how many retries.
		return new NodeOperationError(ctx.getNode(), fatal.message, { description, itemIndex });
	}
	return new NodeApiError(ctx.getNode(), { message: fatal.message } as JsonObject, {
		message: fatal.message,
		description,
		httpCode: String(fatal.status),
		itemIndex,
	});
}

/** "Validate Only": every item's result as a preview, or their summary. */
function previewOutput(
	ctx: IExecuteFunctions,
	items: INodeExecutionData[],
	settings: SendSettings,
	input: PreparedInput,
	choice: OutputChoice,
): INodeExecutionData[] {
	const previews = validatedResults(settings, input);
	if (choice === 'summary') {
		const tally = new ResultTally();
		previews.forEach((result, index) => tally.add(index, result));
		const stats = { requests: 0, retries: 0, retryReasons: {} };
		return [summaryItem(settings.platform.id, tally, { ...tallySums(tally), ...stats }, true)];
	}
	// A preview: invalid items are results like the others, never an error nor the error output.
	return previews.map((result, index) => {
		const json = toOutput(result, settings, false);
		if (choice === 'perItem') return { json, pairedItem: { item: index } };
		return { json: { ...items[index].json, [RESULT_KEY]: json }, pairedItem: { item: index } };
	});
}

/** What the sending tells as it goes: the progress reporter, and each result kept or counted. */
function resultSink(
	input: PreparedInput,
	progress: ProgressReporter,
	tally: ResultTally | undefined,
	reported: Uint8Array | undefined,
) {
	return (item: PreparedItem, result: ItemResult) => {
		if (result.status !== 'notSent') progress.sent++;
		if (result.status === 'accepted' || result.status === 'queued') progress.accepted++;
		if (tally && reported) {
			// Counted and let go: "One Summary Item" keeps no result object per item.
			tally.add(item.index, result, item.warnings !== undefined);
			reported[item.index] = 1;
		} else input.results[item.index] = result;
	};
}

/** Sends the prepared items with progress told on the way; the failure that stopped it, if any. */
async function sendWithProgress(
	ctx: IExecuteFunctions,
	transport: PlatformTransport,
	settings: SendSettings,
	input: PreparedInput,
	report: (item: PreparedItem, result: ItemResult) => void,
	progress: ProgressReporter,
): Promise<PlatformRequestError | undefined> {
	let fatal: PlatformRequestError | undefined;
	let crash: unknown;
	try {
		if (input.prepared.length > 0) {
			fatal = await deliver(ctx, transport, settings, input.prepared, report);
		}
	} catch (error) {
		crash = error;
	} finally {
		transport.close();
		progress.finish();
	}
	// Every item's serialized form is sent (or never will be): let it go before the output is
	// built, the moment the node needs most memory (about 250 bytes an item, 240 MB at 1,000,000).
	input.prepared.length = 0;
	if (crash instanceof NodeOperationError || crash instanceof NodeApiError) throw crash;
	if (crash) {
		throw new NodeOperationError(ctx.getNode(), crash as Error, {
			message:
				crash instanceof ExecutionCancelledError
					? crash.message
					: `Import failed: ${(crash as Error).message}`,
		});
	}
	return fatal;
}

/** The items not reported by the sending (invalid, skipped, never sent) counted in item order. */
function tallyTheRest(tally: ResultTally, input: PreparedInput, reported: Uint8Array): void {
	input.results.forEach((result, index) => {
		if (result !== undefined) tally.add(index, result);
	});
	for (let index = 0; index < reported.length; index++) {
		if (reported[index] === 0 && input.results[index] === undefined) tally.add(index, NOT_SENT);
	}
}

const NOT_SENT: ItemResult = {
	status: 'notSent',
	message: 'Not sent: the import stopped before this item',
};

export async function importItems(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const settings = await readSendSettings(this);
	const choice = readOutputChoice(settings.options);
	const onInvalid = this.getNodeParameter('onInvalid', 0) as 'stop' | 'skip';
	const continueOnFail = this.continueOnFail();

	const input = await prepareInput(this, items, settings);
	if (settings.options.validateOnly === true) {
		return [previewOutput(this, items, settings, input, choice)];
	}
	const { results, warnings } = input;
	if (onInvalid === 'stop' && results.some((result) => result?.status === 'invalid')) {
		const { message, description, first } = invalidSummary(results);
		throw new NodeOperationError(this.getNode(), message, { description, itemIndex: first });
	}

	const transport = new PlatformTransport(
		this,
		settings.platform,
		settings.credentials,
		settings.policy,
	);
	const tally = choice === 'summary' ? new ResultTally() : undefined;
	const reported = tally ? new Uint8Array(items.length) : undefined;
	const progress = startProgress(this, {
		label: 'Import Items',
		unit: 'items',
		total: input.prepared.length,
		stats: transport.stats,
	});
	progress.read = items.length;
	const report = resultSink(input, progress, tally, reported);
	const fatal = await sendWithProgress(this, transport, settings, input, report, progress);

	if (tally && reported) {
		tallyTheRest(tally, input, reported);
		const { requests, retries, retryReasons } = transport.stats;
		const summary = { ...tallySums(tally), requests, retries, retryReasons };
		if (fatal && !continueOnFail) throw stoppedError(this, fatal, summary, tally);
		logRetries(this, summary);
		return [[summaryItem(settings.platform.id, tally, summary, false)]];
	}
	const final = finalResults(results, warnings);
	const summary = summarize(final, transport.stats);
	if (fatal && !continueOnFail) throw stoppedError(this, fatal, summary, stopPointOf(final));
	logRetries(this, summary);
	return [
		final.map((result, index) =>
			resultItem(this, choice, toOutput(result, settings, continueOnFail), items[index], index),
		),
	];
}

function stopPointOf(final: ItemResult[]): StopPoint {
	const firstFailed = final.findIndex((result) => result.status === 'failed');
	const firstNotIn = final.findIndex(
		(result) => result.status === 'failed' || result.status === 'notSent',
	);
	return {
		firstFailed: firstFailed >= 0 ? firstFailed : undefined,
		firstNotIn: firstNotIn >= 0 ? firstNotIn : undefined,
	};
}

/** Retries and possible duplicates go to n8n's log, where an operator looks for them. */
function logRetries(ctx: IExecuteFunctions, summary: RunSummary): void {
	if (summary.retries > 0 || summary.possiblyDuplicated > 0) {
		ctx.logger.info(
			`Import Items: ${summary.accepted}/${summary.items} accepted, ${summary.requests} requests, ${summary.retries} retries, ${summary.possiblyDuplicated} possibly duplicated`,
		);
	}
}
