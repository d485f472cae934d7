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
import type { ItemResult } from '../../../core/results';
import { summarize } from '../../../core/results';
import { withErrorOutputRouting } from '../../shared/output';
import { readSendSettings } from '../../shared/settings';
import {
	ExecutionCancelledError,
	PlatformRequestError,
	PlatformTransport,
} from '../../../core/transport';
import { setPath } from '../../../core/paths';

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
	const json = Object.assign(result as unknown as IDataObject, { platform: settings.platform.id });
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
	const recordAt = (index: number) => recordOf(ctx, mode, index, items[index].json);
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

/** The error that stops the node when a send failed for good: what got in, and how to finish. */
function stoppedError(
	ctx: IExecuteFunctions,
	fatal: PlatformRequestError,
	final: ItemResult[],
	summary: ReturnType<typeof summarize>,
): NodeOperationError | NodeApiError {
	const firstFailed = final.findIndex((result) => result.status === 'failed');
	const resumeFrom =
		final.findIndex((result) => result.status === 'failed' || result.status === 'notSent') + 1;
	const description =
		`${summary.accepted} of ${summary.items} items were accepted before this failure, ${summary.failed} failed, ` +
		`${summary.notSent} were not sent (${summary.requests} requests, ${summary.retries} retries). ` +
		`Every item before item ${resumeFrom} is in: to finish, run again with "Start at Item" set to ${resumeFrom}, ` +
		'or turn on "Continue On Fail" to get one result per item instead.';
	const itemIndex = firstFailed >= 0 ? firstFailed : undefined;
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

export async function importItems(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const settings = await readSendSettings(this);
	const onInvalid = this.getNodeParameter('onInvalid', 0) as 'stop' | 'skip';
	const continueOnFail = this.continueOnFail();

	const input = await prepareInput(this, items, settings);
	if (settings.options.validateOnly === true) {
		// A preview: invalid items are results like the others, never an error nor the error output.
		return [
			validatedResults(settings, input).map((result, index) => ({
				json: toOutput(result, settings, false),
				pairedItem: { item: index },
			})),
		];
	}
	const { results, prepared, warnings } = input;
	const invalidCount = results.filter((result) => result?.status === 'invalid').length;
	if (invalidCount > 0 && onInvalid === 'stop') {
		const { message, description, first } = invalidSummary(results);
		throw new NodeOperationError(this.getNode(), message, { description, itemIndex: first });
	}

	const transport = new PlatformTransport(
		this,
		settings.platform,
		settings.credentials,
		settings.policy,
	);
	const report = (item: PreparedItem, result: ItemResult) => {
		results[item.index] = result;
	};
	let fatal: PlatformRequestError | undefined;
	let crash: unknown;
	try {
		if (prepared.length > 0) fatal = await deliver(this, transport, settings, prepared, report);
	} catch (error) {
		crash = error;
	} finally {
		transport.close();
	}
	// Every item's serialized form is sent (or never will be): let it go before the output is
	// built, the moment the node needs most memory (about 250 bytes an item, 240 MB at 1,000,000).
	prepared.length = 0;
	if (crash instanceof NodeOperationError || crash instanceof NodeApiError) throw crash;
	if (crash) {
		throw new NodeOperationError(this.getNode(), crash as Error, {
			message:
				crash instanceof ExecutionCancelledError
					? crash.message
					: `Import failed: ${(crash as Error).message}`,
		});
	}

	const final = finalResults(results, warnings);
	const summary = summarize(final, transport.stats);
	if (fatal && !continueOnFail) throw stoppedError(this, fatal, final, summary);
	if (summary.retries > 0 || summary.possiblyDuplicated > 0) {
		this.logger.info(
			`Import Items: ${summary.accepted}/${summary.items} accepted, ${summary.requests} requests, ${summary.retries} retries, ${summary.possiblyDuplicated} possibly duplicated`,
		);
	}
	return [
		final.map((result, index) =>
			withErrorOutputRouting(
				this,
				{ json: toOutput(result, settings, continueOnFail), pairedItem: { item: index } },
				index,
			),
		),
	];
}
