import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { testDataImportCredential } from '../shared/credentialTest';
import { labelOfPlatform } from '../shared/properties';

import { importFile } from './actions/importFile.operation';
import { bulkFileImportProperties } from './description';

export class BulkFileImport implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Bulk File Import',
		name: 'bulkFileImport',
		icon: { light: 'file:bulkFileImport.svg', dark: 'file:bulkFileImport.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: `={{ "CSV/NDJSON into " + ${labelOfPlatform((platform) => platform.displayName)} }}`,
		description: 'Stream a CSV or NDJSON file of any size into Rimdian, Userpilot or Ayona',
		defaults: { name: 'Bulk File Import' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: [{ name: 'dataImportApi', required: true, testedBy: 'dataImportApiTest' }],
		properties: bulkFileImportProperties,
	};

	methods = { credentialTest: { dataImportApiTest: testDataImportCredential } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await importFile.call(this);
	}
}
