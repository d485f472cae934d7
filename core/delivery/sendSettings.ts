import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

import type { Platform, PlatformItemOptions } from '../platform';
import type { RetryPolicy } from '../transport';

/**
 * What a sending node was asked to do, read once per execution (by the nodes' settings reader):
 * the shape the core's deliveries take, whatever reads it.
 */
export interface SendSettings {
	platform: Platform;
	credentials: ICredentialDataDecryptedObject;
	itemOptions: PlatformItemOptions;
	batchSize?: number;
	concurrency: number;
	policy: RetryPolicy;
	options: IDataObject;
}
