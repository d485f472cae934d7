import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { testDataImportCredential } from '../shared/credentialTest';
import { labelOfPlatform } from '../shared/properties';

import { importItems } from './actions/importItems.operation';
import { importItemsProperties } from './description';
import { getPlatformFields } from './mapping';

export class ImportItems implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Import Items',
		name: 'importItems',
		icon: { light: 'file:dataImport.svg', dark: 'file:dataImport.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: `={{ "into " + ${labelOfPlatform((platform) => platform.displayName)} }}`,
		description:
			'Validate, batch and send items to Rimdian, Userpilot or Ayona, with a result for every item',
		defaults: { name: 'Import Items' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: [{ name: 'dataImportApi', required: true, testedBy: 'dataImportApiTest' }],
		properties: importItemsProperties,
	};

	methods = {
		credentialTest: { dataImportApiTest: testDataImportCredential },
		resourceMapping: { getPlatformFields },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await importItems.call(this);
	}
}
