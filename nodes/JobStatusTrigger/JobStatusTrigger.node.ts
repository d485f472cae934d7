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
import { labelOfPlatform } from '../shared/properties';
import { CREDENTIAL_TYPE, PlatformRequestError, PlatformTransport } from '../../core/transport';
import { getPlatform, PLATFORMS, type Platform } from '../../platforms';
import type { StatusWatcher, WatchInput } from '../../core/platform';
import { attempt, POLL_RETRY_POLICY, WatchError, type PollOutcome } from '../../core/watch';
import { jobStatusTriggerProperties, watchedPlatforms } from './description';

/** "A", "A or B", "A, B or C". */
function orList(names: string[]): string {
	return names.length <= 1
		? (names[0] ?? '')
		: `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

function unwatchableError(node: INode, platform: Platform): NodeOperationError {
	const name = platform.displayName;
	const watchable = orList(watchedPlatforms().map((watched) => watched.displayName));
	return new NodeOperationError(
		node,
		`${name} publishes no import status API: there is nothing this trigger can watch`,
		{
			description: `${name} cannot be watched: pick ${watchable}, or remove this trigger. Import Items reports the result of every ${name} batch as it sends it.`,
		},
	);
}

/** Passing failures in a row that are only logged; every this many, the check fails visibly. */
const REPORT_FAILURE_EVERY = 10;

interface FailureCount {
	count: number;
	since: number;
}

function toNodeError(node: INode, failure: unknown): NodeApiError | NodeOperationError {
	if (failure instanceof NodeApiError || failure instanceof NodeOperationError) return failure;
	if (failure instanceof WatchError) {
		return new NodeOperationError(
			node,
			failure.message,
			failure.description !== undefined ? { description: failure.description } : {},
		);
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

type ListSearchMethod = (
	this: ILoadOptionsFunctions,
	filter?: string,
) => Promise<INodeListSearchResult>;

/** The lists the watchers' fields search (n8n's listSearch methods), each on its platform. */
function listSearchMethods(): Record<string, ListSearchMethod> {
	const methods: Record<string, ListSearchMethod> = {};
	for (const platform of Object.values(PLATFORMS)) {
		for (const [name, list] of Object.entries(platform.statusWatcher?.listSearch ?? {})) {
			methods[name] = async function (this: ILoadOptionsFunctions, filter?: string) {
				const credentials = await this.getCredentials(CREDENTIAL_TYPE);
				if (credentials.platform !== platform.id) {
					throw new NodeOperationError(
						this.getNode(),
						`The credential is not a ${platform.displayName} one: only ${platform.displayName} has ${list.items} to pick`,
					);
				}
				// The transport only needs the request helper, which load-options functions have too.
				const context = this as unknown as IPollFunctions;
				const transport = new PlatformTransport(context, platform, credentials, POLL_RETRY_POLICY);
				return await list.search(transport, filter);
			};
		}
	}
	return methods;
}

/** What to watch, from the trigger's fields; a field the watcher misses is the node's error. */
function readWatch(
	node: INode,
	watcher: StatusWatcher,
	input: WatchInput,
): { watch: unknown; scope: string } {
	try {
		return watcher.readWatch(input);
	} catch (error) {
		throw error instanceof WatchError ? toNodeError(node, error) : error;
	}
}

/** A failed check: a passing one is only logged, unless it is the latest of many in a row. */
function failedCheck(
	ctx: IPollFunctions,
	staticData: IDataObject,
	error: NodeApiError | NodeOperationError,
	mayPass: boolean,
): null {
	if (!mayPass) throw error;
	const previous = staticData.failures as FailureCount | undefined;
	const failures: FailureCount = {
		count: (previous?.count ?? 0) + 1,
		since: previous?.since ?? Date.now(),
	};
	staticData.failures = failures as unknown as IDataObject;
	ctx.logger.warn(
		`Job Status Trigger: ${error.message} (${failures.count} failed check${failures.count === 1 ? '' : 's'} in a row); nothing emitted, the next check catches up`,
	);
	if (failures.count % REPORT_FAILURE_EVERY !== 0) return null;
	throw error;
}

/** Keeps the state a check returned; the state of a platform watched before is of no use. */
function keepState(staticData: IDataObject, outcome: PollOutcome): void {
	if (outcome.stateKey !== undefined) {
		staticData[outcome.stateKey] = outcome.nextState as IDataObject;
		for (const platform of Object.values(PLATFORMS)) {
			const key = platform.statusWatcher?.stateKey;
			if (key !== undefined && key !== outcome.stateKey && staticData[key] !== undefined)
				delete staticData[key];
		}
	}
	if (staticData.failures !== undefined) delete staticData.failures;
}

export class JobStatusTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Job Status Trigger',
		name: 'jobStatusTrigger',
		icon: { light: 'file:jobStatus.svg', dark: 'file:jobStatus.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: `={{ ${labelOfPlatform((platform) => platform.statusWatcher?.subtitle ?? `${platform.displayName}: no status API`)} }}`,
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
		listSearch: listSearchMethods(),
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const node = this.getNode();
		const manual = this.getMode() === 'manual';
		const platform = getPlatform(this.getNodeParameter('platform'));
		const watcher = platform.statusWatcher;
		if (!watcher) throw unwatchableError(node, platform);
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
		const { watch, scope } = readWatch(node, watcher, {
			parameter: (name, fallback, options) => this.getNodeParameter(name, fallback, options),
			credentials,
			endpoints: transport.endpoints,
			credentialId: node.credentials?.[CREDENTIAL_TYPE]?.id ?? '',
		});
		const previous = staticData[watcher.stateKey];
		const hasBaseline = watcher.hasBaseline(previous, scope);
		const checked = await attempt(() =>
			watcher.poll(transport, watch, previous, manual, () => Date.now()),
		);
		if ('error' in checked) {
			// A passing failure (5xx, 429, time-out) once the baseline exists: nothing is emitted and
			// the state stays as it was, so the next check catches up. Only repeated ones are raised.
			const passing = checked.error instanceof PlatformRequestError && checked.error.retryable;
			return failedCheck(
				this,
				staticData,
				toNodeError(node, checked.error),
				!manual && passing && hasBaseline,
			);
		}
		const outcome = checked.value;
		if (manual)
			return outcome.items.length > 0 ? [this.helpers.returnJsonArray(outcome.items)] : null;
		keepState(staticData, outcome);
		if (outcome.baseline) {
			this.logger.info(
				`Job Status Trigger: baseline taken for ${platform.displayName}; changes from now on will fire`,
			);
		}
		return outcome.items.length > 0 ? [this.helpers.returnJsonArray(outcome.items)] : null;
	}
}
