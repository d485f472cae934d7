import { createHash, randomBytes } from 'node:crypto';

import type { UploadToken } from './job';

/** What the token reads of the node's execute context (n8n's IExecuteFunctions has them all). */
export interface UploadContext {
	getExecutionId(): string | undefined;
	evaluateExpression(expression: string, itemIndex: number): unknown;
	getWorkflow(): { id?: string };
	getNode(): { name: string };
}

/**
 * A token for the names of the files an execution uploads: the same for the same execution, node,
 * run, item and input, so that when n8n runs an execution again (queue mode re-runs the execution
 * of a worker that died), the node finds in the job list what the first attempt already uploaded
 * instead of importing it twice. Without an execution id, a random token (nothing to find).
 */
export function uploadToken(
	context: UploadContext,
	itemIndex: number,
	...input: Array<string | number>
): UploadToken {
	const executionId = context.getExecutionId();
	if (!executionId) {
		return {
			token: `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`,
			deterministic: false,
		};
	}
	let runIndex: unknown = 0;
	try {
		// no getter for it on IExecuteFunctions; the expression's $runIndex is public
		runIndex = context.evaluateExpression('{{ $runIndex }}', itemIndex);
	} catch {
		runIndex = 0;
	}
	const key = [
		context.getWorkflow().id ?? '',
		executionId,
		context.getNode().name,
		String(runIndex),
		String(itemIndex),
		...input.map(String),
	].join('\n');
	return {
		token: `x${executionId}-${createHash('sha256').update(key).digest('hex').slice(0, 10)}`,
		deterministic: true,
	};
}
