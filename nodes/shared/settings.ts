import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { getPlatform } from '../../platforms';
import type { SendSettings } from '../../core/delivery/sendSettings';
import type { PlatformItemOptions } from '../../core/platform';
import { CREDENTIAL_TYPE, DEFAULT_RETRY_POLICY } from '../../core/transport';

/** Reads the platform, its credential and the shared options; refuses a mismatched credential. */
export async function readSendSettings(ctx: IExecuteFunctions): Promise<SendSettings> {
	const platform = getPlatform(ctx.getNodeParameter('platform', 0));
	const credentials = await ctx.getCredentials(CREDENTIAL_TYPE);
	if (credentials.platform !== platform.id) {
		throw new NodeOperationError(
			ctx.getNode(),
			`The credential is for ${getPlatform(credentials.platform).displayName}, but the node is set to ${platform.displayName}`,
			{ description: 'Pick a credential of the same platform, or change the node\'s "Platform".' },
		);
	}
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	// Empty (the default) means the workflow's own timezone, as n8n's date nodes read dates.
	const timezone = ((options.timezone as string | undefined)?.trim() || ctx.getTimezone()).trim();
	const itemOptions: PlatformItemOptions = {
		timezone,
		...platform.readNodeOptions((name) => ctx.getNodeParameter(name, 0, undefined)),
	};
	const problem = platform.checkNodeOptions?.(itemOptions);
	if (problem) throw new NodeOperationError(ctx.getNode(), problem);
	return {
		platform,
		credentials,
		itemOptions,
		batchSize: options.batchSize as number | undefined,
		concurrency: Math.max(1, Math.floor((options.concurrency as number) ?? 4)),
		policy: {
			...DEFAULT_RETRY_POLICY,
			maxRetries: Math.max(
				0,
				Math.floor((options.maxRetries as number) ?? DEFAULT_RETRY_POLICY.maxRetries),
			),
			timeoutMs:
				Math.max(1, (options.timeoutSeconds as number) ?? DEFAULT_RETRY_POLICY.timeoutMs / 1000) *
				1000,
			maxRequestsPerMinute: Math.max(0, (options.maxRequestsPerMinute as number) ?? 0),
		},
		options,
	};
}
