import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

/**
 * With "On Error: Continue (using error output)", n8n routes an item by its own error object
 * (a json `error` beside other fields is not enough) and then replaces its json with that error's
 * message: the rest of the item goes into the error's description, so nothing is lost. Under any
 * other setting the item keeps its json and gets no error object.
 */
export function withErrorOutputRouting(
	context: IExecuteFunctions,
	item: INodeExecutionData,
	itemIndex: number,
): INodeExecutionData {
	const message = item.json.error;
	if (typeof message !== 'string' || context.getNode().onError !== 'continueErrorOutput')
		return item;
	const details = { ...item.json };
	delete details.error;
	return {
		...item,
		error: new NodeOperationError(context.getNode(), message, {
			itemIndex,
			description: JSON.stringify(details).slice(0, 4000),
		}),
	};
}
