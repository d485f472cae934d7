import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { RunSummary } from '../../core/results';
import type { ResultTally } from '../../core/resultTally';
import { withErrorOutputRouting } from '../shared/output';

/** What Import Items puts out: read from its "Output" option. */
export type OutputChoice = 'perItem' | 'withInput' | 'summary';

/** The key the result goes under beside the input's fields ("Include Input Fields"). */
export const RESULT_KEY = 'importResult';

export const outputOptionProperties: INodeProperties[] = [
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		options: [
			{
				name: 'Include Input Fields',
				value: 'withInput',
				description: `One output item per input item: the input item's fields, and its result under "${RESULT_KEY}"`,
			},
			{
				name: 'One Result per Item',
				value: 'perItem',
				description: 'One output item per input item: its result only (status, batch, errors…)',
			},
			{
				name: 'One Summary Item',
				value: 'summary',
				description:
					'A single output item: counts by status, requests, retries, and the first problems with item, field and reason. Keeps memory down on very large imports.',
			},
		],
		default: 'perItem',
		description: 'What the node puts out once the import has run',
	},
];

export function readOutputChoice(options: IDataObject): OutputChoice {
	const value = options.output;
	return value === 'withInput' || value === 'summary' ? value : 'perItem';
}

/**
 * One output item of "One Result per Item" or "Include Input Fields". Beside the input, the
 * result keeps its own `error`; the error output still gets the item (routing reads the result).
 */
export function resultItem(
	ctx: IExecuteFunctions,
	choice: OutputChoice,
	result: IDataObject,
	input: INodeExecutionData,
	index: number,
): INodeExecutionData {
	const routed = withErrorOutputRouting(ctx, { json: result, pairedItem: { item: index } }, index);
	if (choice !== 'withInput') return routed;
	return {
		// The input's binary goes on too: n8n shares it by reference, nothing is copied.
		...(input.binary ? { binary: input.binary } : {}),
		...(routed.error ? { error: routed.error } : {}),
		json: { ...input.json, [RESULT_KEY]: result },
		pairedItem: { item: index },
	};
}

/** The single item of "One Summary Item": every item counted, the first problems listed. */
export function summaryItem(
	platform: string,
	tally: ResultTally,
	summary: RunSummary,
	validateOnly: boolean,
): INodeExecutionData {
	const { problems, problemItemsNotListed } = tally.problems();
	const { counts } = tally;
	const problemCount = counts.invalid + counts.failed + counts.notSent;
	const json: IDataObject = {
		platform,
		status: validateOnly ? 'validated' : problemCount === 0 ? 'completed' : 'completedWithProblems',
		items: tally.items,
		...(validateOnly ? { valid: counts.valid } : { accepted: counts.accepted }),
		...(counts.queued > 0 ? { queued: counts.queued } : {}),
		invalid: counts.invalid,
		failed: counts.failed,
		notSent: counts.notSent,
		skipped: counts.skipped,
		possiblyDuplicated: tally.possiblyDuplicated,
		withWarnings: tally.withWarnings,
		requests: summary.requests,
		retries: summary.retries,
		retryReasons: summary.retryReasons,
		problems: problems as unknown as IDataObject[],
		problemItemsNotListed,
	};
	// Paired with the first input item only: a pairing per input would cost what this output saves.
	return { json, pairedItem: { item: 0 } };
}
