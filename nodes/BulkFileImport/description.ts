import type { INodeProperties } from 'n8n-workflow';

import { platformIdsWhere } from '../../platforms';
import {
	alphabetical,
	platformProperties,
	sendOptionProperties,
	userpilotJobOptionProperties,
} from '../shared/properties';

/** Platforms that take a file as a job (whatever its mode is named), and those that take batches. */
const JOB_PLATFORMS = platformIdsWhere((platform) => platform.delivery.mode !== 'batch');
const BATCH_PLATFORMS = platformIdsWhere((platform) => platform.delivery.mode === 'batch');

export const bulkFileImportProperties: INodeProperties[] = [
	...platformProperties,
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the input binary field holding the CSV or NDJSON file',
	},
	{
		displayName: 'File Format',
		name: 'fileFormat',
		type: 'options',
		options: [
			{
				name: 'Auto-Detect',
				value: 'auto',
				description: 'From the file name, its type, or its first character',
			},
			{
				name: 'CSV',
				value: 'csv',
				description: 'A header row, then one row per item (the delimiter is set in Options)',
			},
			{
				name: 'NDJSON (One JSON Object per Line)',
				value: 'ndjson',
				description: 'One JSON object per line, also called JSON Lines',
			},
		],
		default: 'auto',
		description: 'How to read the file',
	},
	{
		displayName: 'Send',
		name: 'userpilotUpload',
		type: 'options',
		options: [
			{
				name: 'The File As It Is (Fastest)',
				value: 'asIs',
				description:
					"The bytes of the file are streamed unchanged: for files already in Userpilot's format (UTF-8, commas, nothing to fill in). A file that would need rewriting is refused, saying why.",
			},
			{
				name: 'Validated Rows as NDJSON',
				value: 'normalized',
				description:
					'Rows are checked, completed (default source, empty metadata) and dates normalized, then sent as NDJSON',
			},
		],
		default: 'normalized',
		description: 'What is uploaded to Userpilot as the import file',
		displayOptions: { show: { platform: JOB_PLATFORMS } },
	},
	{
		displayName: 'Validate Before Upload',
		name: 'validateFirst',
		type: 'boolean',
		default: true,
		description:
			"Whether to read the whole file once (streamed) and refuse it before uploading if any row breaks Userpilot's rules or would need rewriting (e.g. a default source filled in). Userpilot fails a whole job for one bad row.",
		displayOptions: { show: { platform: JOB_PLATFORMS, userpilotUpload: ['asIs'] } },
	},
	{
		displayName: 'Invalid Rows',
		name: 'onInvalid',
		type: 'options',
		options: [
			{
				name: 'Skip and Report Them',
				value: 'skip',
				description: 'Valid rows are sent; invalid ones are counted and listed with their reasons',
			},
			{
				name: 'Stop Before Sending Anything',
				value: 'stop',
				description: 'The file is read once to check every row; if any is invalid nothing is sent',
			},
		],
		default: 'skip',
		description:
			"What to do with rows that break the platform's rules. With \"Validate Only\" on, invalid rows are listed in the summary, never an error.",
		displayOptions: { show: { platform: BATCH_PLATFORMS } },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: alphabetical([
			...sendOptionProperties,
			...userpilotJobOptionProperties,
			{
				displayName: 'CSV Delimiter',
				name: 'delimiter',
				type: 'string',
				default: ',',
				description:
					'The character between fields of a CSV file (e.g. ; or a tab typed as \\t). Not set: a tab for .tsv files, a comma otherwise.',
			},
			{
				displayName: 'Output Rejected Rows as File',
				name: 'rejectedRowsFile',
				type: 'boolean',
				default: false,
				description:
					'Whether to add a CSV binary ("rejected") holding every rejected row with its row number and reason, to fix and feed back',
			},
			{
				displayName: 'Part Size Limit (MB)',
				name: 'partSizeMb',
				type: 'number',
				typeOptions: { minValue: 0.001 },
				default: 1000,
				description:
					'Userpilot: files above this are split into parts when "Split Large Files" is on (the API takes up to 1 GB)',
			},
			{
				displayName: 'Start at Row',
				name: 'startAtRow',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 1,
				description:
					'Data row (1-based, the CSV header not counted) to start from, to finish an import that stopped half-way: a failed run says where to resume ("resumeFromRow")',
			},
			{
				displayName: 'Split Large Files',
				name: 'splitLargeFiles',
				type: 'boolean',
				default: true,
				description:
					"Whether to split a Userpilot file above the part size limit at row boundaries (the CSV header repeated in every part) and import the parts one job after another. Off, such a file fails with the API's 413.",
			},
		]),
	},
];
