import type {
	IDataObject,
	ILoadOptionsFunctions,
	INode,
	INodeExecutionData,
	INodeListSearchResult,
	INodeType,
	INodeTypeDescription,
	IPollFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { testDataImportCredential } from '../shared/credentialTest';
import type { JobEvent } from '../../platforms/userpilot/transitions';
import { CREDENTIAL_TYPE, PlatformRequestError, PlatformTransport } from '../../core/transport';
import { getPlatform } from '../../platforms';
import { userpilot } from '../../platforms/userpilot';
import { listJobs } from '../../platforms/userpilot/jobs';
import { POLL_RETRY_POLICY, type PollOutcome } from '../../core/watch';
import { jobStatusTriggerProperties } from './description';
import { hasRimdianBaseline, pollRimdian, RIMDIAN_STATE_KEY } from '../../platforms/rimdian/watcher';
import {
	hasUserpilotBaseline,
	JobNotFoundError,
	pollUserpilot,
	USERPILOT_STATE_KEY,
} from '../../platforms/userpilot/watcher';

const AYONA_MESSAGE =
	'Ayona publishes no import status API: there is nothing this trigger can watch';

/** Passing failures in a row that are only logged; every this many, the check fails visibly. */
const REPORT_FAILURE_EVERY = 10;

interface FailureCount {
	count: number;
	since: number;
}

function toNodeError(node: INode, failure: unknown): NodeApiError | NodeOperationError {
	if (failure instanceof NodeApiError || failure instanceof NodeOperationError) return failure;
	if (failure instanceof JobNotFoundError) {
		return new NodeOperationError(node, failure.message, {
			description:
				'Check the job ID (a Bulk File Import node puts it out as job_id), and that the credential is the API key that created the job.',
		});
	}
	if (failure instanceof PlatformRequestError) {
		let description: string;
		if (failure.status === 401 || failure.status === 403) {
			description = 'The platform refused the credential: check its key or token.';
		} else if (failure.status === 404) {
			description = "Nothing answers this path at the credential's endpoint: check the base URL.";
		} else if (failure.retryable) {
			description = `The platform did not answer properly, ${failure.retries} ${failure.retries === 1 ? 'retry' : 'retries'} included. Nothing was emitted; the next check catches up.`;
		} else {
			description = "Check the credential's endpoint and the platform's status.";
		}
		return new NodeApiError(node, { message: failure.message } as JsonObject, {
			message: failure.message,
			description,
			httpCode: failure.status !== undefined ? String(failure.status) : undefined,
		});
	}
	const message = failure instanceof Error ? failure.message : String(failure);
	return new NodeOperationError(node, failure instanceof Error ? failure : message, {
		message: `Job Status Trigger failed: ${message}`,
	});
}

export class JobStatusTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Job Status Trigger',
		name: 'jobStatusTrigger',
		icon: { light: 'file:jobStatus.svg', dark: 'file:jobStatus.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle:
			'={{ { rimdian: "Rimdian failed items", userpilot: "Userpilot import jobs", ayona: "Ayona: no status API" }[$parameter["platform"]] }}',
		description:
			'Starts a workflow when a Userpilot import job completes or fails, or when Rimdian rejects an imported item',
		defaults: { name: 'Job Status Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'dataImportApi', required: true, testedBy: 'dataImportApiTest' }],
		properties: jobStatusTriggerProperties,
	};

	methods = {
		credentialTest: { dataImportApiTest: testDataImportCredential },
		listSearch: {
			async searchJobs(
				this: ILoadOptionsFunctions,
				filter?: string,
			): Promise<INodeListSearchResult> {
				const credentials = await this.getCredentials(CREDENTIAL_TYPE);
				if (credentials.platform !== 'userpilot') {
					throw new NodeOperationError(
						this.getNode(),
						'The credential is not a Userpilot one: only Userpilot has jobs to pick',
					);
				}
				// The transport only needs the request helper, which load-options functions have too.
				const context = this as unknown as IPollFunctions;
				const transport = new PlatformTransport(context, userpilot, credentials, POLL_RETRY_POLICY);
				const jobs = await listJobs(transport);
				const needle = (filter ?? '').trim().toLowerCase();
				const results = jobs
					.filter(
						(job) =>
							needle === '' ||
							job.job_id.toLowerCase().includes(needle) ||
							String(job.filename ?? '')
								.toLowerCase()
								.includes(needle),
					)
					.slice(0, 200)
					.map((job) => ({
						name: `${String(job.filename ?? job.job_id)} · ${job.status}${job.start_time ? ` · ${String(job.start_time).slice(0, 19)}` : ''}`,
						value: job.job_id,
					}));
				return { results };
			},
		},
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const node = this.getNode();
		const manual = this.getMode() === 'manual';
		const platform = getPlatform(this.getNodeParameter('platform'));
		if (platform.id !== 'userpilot' && platform.id !== 'rimdian') {
			throw new NodeOperationError(node, AYONA_MESSAGE, {
				description: `${platform.displayName} cannot be watched: pick Userpilot or Rimdian, or remove this trigger. Import Items reports the result of every ${platform.displayName} batch as it sends it.`,
			});
		}
		const credentials = await this.getCredentials(CREDENTIAL_TYPE);
		if (credentials.platform !== platform.id) {
			throw new NodeOperationError(
				node,
				`The credential is for ${getPlatform(credentials.platform).displayName}, but the trigger is set to ${platform.displayName}`,
				{
					description:
						'Pick a credential of the same platform, or change the trigger\'s "Platform".',
				},
			);
		}
		const transport = new PlatformTransport(this, platform, credentials, POLL_RETRY_POLICY);
		const staticData = this.getWorkflowStaticData('node');
		const credentialId = node.credentials?.[CREDENTIAL_TYPE]?.id ?? '';
		const now = () => Date.now();

		let outcome: PollOutcome | undefined;
		let failure: unknown;
		let hasBaseline: boolean;
		if (platform.id === 'userpilot') {
			const events = this.getNodeParameter('events', []) as JobEvent[];
			if (events.length === 0)
				throw new NodeOperationError(node, 'Pick at least one event in "Trigger On"');
			let jobId: string | undefined;
			if (this.getNodeParameter('jobsToWatch', 'all') === 'one') {
				jobId = String(this.getNodeParameter('jobId', '', { extractValue: true }) ?? '').trim();
				if (jobId === '')
					throw new NodeOperationError(node, 'Pick the job to watch, or watch all jobs');
			}
			const scope = JSON.stringify([
				'userpilot',
				transport.endpoints.api,
				credentialId,
				jobId ?? '*',
			]);
			const previous = staticData[USERPILOT_STATE_KEY];
			hasBaseline = hasUserpilotBaseline(previous, scope);
			try {
				outcome = await pollUserpilot(transport, { events, jobId, scope }, previous, manual, now);
			} catch (error) {
				failure = error;
			}
		} else {
			const workspaceId = String(credentials.workspaceId ?? '').trim();
			if (workspaceId === '')
				throw new NodeOperationError(node, 'The Rimdian credential has no workspace ID');
			const options = this.getNodeParameter('options', {}) as IDataObject;
			const kind = String(options.kind ?? '').trim();
			const includeRetryable = this.getNodeParameter('includeRetryable', false) as boolean;
			const scope = JSON.stringify([
				'rimdian',
				transport.endpoints.api,
				credentialId,
				workspaceId,
				kind,
			]);
			const previous = staticData[RIMDIAN_STATE_KEY];
			hasBaseline = hasRimdianBaseline(previous, scope);
			try {
				outcome = await pollRimdian(
					transport,
					{ workspaceId, includeRetryable, kind, scope },
					previous,
					manual,
					now,
				);
			} catch (error) {
				failure = error;
			}
		}

		if (failure !== undefined || !outcome) {
			const error = toNodeError(node, failure);
			// A passing failure (5xx, 429, time-out) once the baseline exists: nothing is emitted and
			// the state stays as it was, so the next check catches up. Only repeated ones are raised.
			const passing = failure instanceof PlatformRequestError && failure.retryable;
			if (!manual && passing && hasBaseline) {
				const previous = staticData.failures as FailureCount | undefined;
				const failures: FailureCount = {
					count: (previous?.count ?? 0) + 1,
					since: previous?.since ?? Date.now(),
				};
				staticData.failures = failures as unknown as IDataObject;
				this.logger.warn(
					`Job Status Trigger: ${error.message} (${failures.count} failed check${failures.count === 1 ? '' : 's'} in a row); nothing emitted, the next check catches up`,
				);
				if (failures.count % REPORT_FAILURE_EVERY !== 0) return null;
			}
			throw error;
		}

		if (manual)
			return outcome.items.length > 0 ? [this.helpers.returnJsonArray(outcome.items)] : null;
		if (outcome.stateKey !== undefined) {
			staticData[outcome.stateKey] = outcome.nextState as IDataObject;
			// The state of the platform this node watched before, if it was switched, is of no use.
			for (const key of [USERPILOT_STATE_KEY, RIMDIAN_STATE_KEY]) {
				if (key !== outcome.stateKey && staticData[key] !== undefined) delete staticData[key];
			}
		}
		if (staticData.failures !== undefined) delete staticData.failures;
		if (outcome.baseline) {
			this.logger.info(
				`Job Status Trigger: baseline taken for ${platform.displayName}; changes from now on will fire`,
			);
		}
		return outcome.items.length > 0 ? [this.helpers.returnJsonArray(outcome.items)] : null;
	}
}
