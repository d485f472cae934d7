import type {
	FieldType,
	ICredentialDataDecryptedObject,
	IDataObject,
	IHttpRequestHelper,
	INodeListSearchResult,
	INodeProperties,
} from 'n8n-workflow';

import type { MultipartFile } from './delivery/multipart';
import type { FileSettings, PreparedRow } from './rows/fileRows';
import type { BinarySource } from './rows/readers';
import type { PlatformTransport } from './transport';
import type { ItemValidator, ValidatorOptions } from './validation/types';
import type { PollOutcome } from './watch';

/** A platform's key in `platforms/index.ts`; core lists no platform. */
export type PlatformId = string;

/** Where a platform's requests go, resolved from the credentials. */
export interface Endpoints {
	/** Base URL of the data (import) endpoint. */
	data: string;
	/** Base URL of the account, job status and log endpoints. */
	api: string;
}

/** What a failed HTTP exchange looked like, for a platform to turn into a clear message. */
export interface FailedResponse {
	status?: number;
	body: unknown;
	contentType?: string;
}

/** Options every platform's mapper and validator understand, set in a node's UI. */
export interface PlatformItemOptions extends ValidatorOptions {
	/** Rimdian: the kind used for items that carry no `kind` of their own. */
	rimdianKind?: string;
	/** Userpilot: `source` for rows that carry none. */
	defaultSource?: string;
	/** Userpilot: `event_type` for rows that carry none. */
	defaultEventType?: string;
	/** Ayona: the REST source the entries belong to. */
	sourceId?: string;
}

/**
 * One field of the platform's item, as "Map Each Field Manually" lists it. Derived from the
 * platform's own rules, so that the list and the validator cannot say different things.
 */
export interface MappingField {
	/** The field's name in the item before `mapItem`; dots nest it (`user.external_id`). */
	id: string;
	/** The validator refuses an item without it. */
	required: boolean;
	/** What the editor offers for it; the validator, not n8n, judges the value. */
	type: FieldType;
	/** The values an `options` field takes. */
	options?: string[];
}

/** Platforms that take items as JSON batches (Rimdian, Ayona). */
export interface BatchDelivery {
	mode: 'batch';
	/** Hard limit of the API (undefined when none is published). */
	maxBatchSize?: number;
	defaultBatchSize: number;
	/** Path of the import endpoint, relative to `Endpoints.data`. */
	path: string;
	/** Deterministic serialization of one validated item (same item, same bytes). */
	serializeItem(item: IDataObject): string;
	/** The request body around already-serialized items, built without re-serializing them. */
	buildBody(
		serializedItems: string[],
		credentials: ICredentialDataDecryptedObject,
		options: PlatformItemOptions,
	): string;
	/** Why a 2xx answer is not the platform's acceptance (a proxy page, an unexpected body); undefined when it is. */
	checkAnswer(body: unknown): string | undefined;
	/** The item's own key, when it has one that makes a re-send safe (idempotent). */
	idempotencyKey?(item: IDataObject): string | undefined;
	/** The platform drops an item it already received byte for byte, so a re-send adds nothing. */
	dedupesIdenticalItems?: boolean;
	/** Its items nest objects, which a CSV holds as JSON text in a cell: such cells are parsed. */
	csvCellsHoldJson?: boolean;
}

/** An import job as a job platform reports it (its own fields besides). */
export interface ImportJob extends IDataObject {
	job_id: string;
	status: string;
}

/** How a node sends files as jobs, read from its "Options" by the platform. */
export interface JobOptions {
	pollMs: number;
	timeoutMs: number;
	signal?: AbortSignal;
	/** When another job of the account is in progress: wait for it to end, or fail at once. */
	whenJobRunning: 'wait' | 'fail';
	/** Wait for each job to end (else a part is done once its job is created). */
	waitForCompletion: boolean;
	/** Told the job after each poll of its status (progress lines). */
	onPoll?: (job: ImportJob) => void;
}

/** One upload's job, created or found already uploaded by an earlier attempt of the execution. */
export interface UploadedJob {
	job: ImportJob;
	retries: number;
	foundUploaded: boolean;
}

/**
 * Checks that a file can be uploaded as it is: its rows, validated with `file`, are handed to `row`;
 * `refused` gives the outcome of a file that would need rewriting.
 */
export interface AsIsCheck {
	readonly file: FileSettings;
	row(prepared: PreparedRow): void;
	refused(summary: IDataObject): { summary: IDataObject; failure: string } | undefined;
}

/** Platforms that take a file as an asynchronous import job (Userpilot). */
export interface JobDelivery {
	mode: 'job';
	maxFileBytes: number;
	/** Path of the upload endpoint, relative to `Endpoints.data`. */
	path: string;
	/** Path of the list of jobs, relative to `Endpoints.api`. */
	jobsPath: string;
	serializeItem(item: IDataObject): string;
	readJobOptions(options: IDataObject, signal?: AbortSignal): JobOptions;
	/**
	 * Uploads one file as a job. With `lookFirst` (a name that is the same when n8n runs the
	 * execution again) a file the job list already holds is not uploaded again.
	 */
	upload(
		transport: PlatformTransport,
		file: MultipartFile,
		filename: string,
		options: JobOptions & { lookFirst?: boolean },
	): Promise<UploadedJob>;
	/** Waits for the job to end (or to have landed); throws a PlatformRequestError when it cannot tell. */
	waitForJob(transport: PlatformTransport, job: ImportJob, options: JobOptions): Promise<ImportJob>;
	/**
	 * Why an ended job did not import the rows sent (their count, when known), in words, and
	 * whether some of them may be in; undefined when it did.
	 */
	judgeJob(job: ImportJob, rowsSent?: number): { message: string; partly: boolean } | undefined;
	/** Rows the job says it imported, when it says. */
	rowsOf(job: ImportJob): number | undefined;
	/** The check of a file sent as it is, when the platform takes files unchanged. */
	openAsIsCheck?(source: BinarySource, file: FileSettings): Promise<AsIsCheck>;
}

/** What the Job Status Trigger reads to set up one check of a platform. */
export interface WatchInput {
	/** A trigger field's value, as n8n's getNodeParameter gives it. */
	parameter(name: string, fallback: unknown, options?: { extractValue?: boolean }): unknown;
	credentials: ICredentialDataDecryptedObject;
	endpoints: Endpoints;
	/** Id of the credential the trigger uses ('' when n8n gives none). */
	credentialId: string;
}

/** A searchable list of a trigger field (an n8n listSearch method), fed by the platform. */
export interface WatchListSearch {
	/** What the list holds, plural ("jobs"), for the message when the credential is not this platform's. */
	items: string;
	search(transport: PlatformTransport, filter?: string): Promise<INodeListSearchResult>;
}

/** How the Job Status Trigger watches a platform that publishes the status of its imports. */
export interface StatusWatcher<Watch = unknown> {
	/** The trigger's subtitle for this platform. */
	subtitle: string;
	/** The description of this platform in the trigger's platform picker. */
	description: string;
	/** Trigger fields only this platform has; shown when the trigger's platform is this one. */
	triggerProperties: INodeProperties[];
	/** listSearch methods those fields name, by method name. */
	listSearch?: Record<string, WatchListSearch>;
	/** Key of the node's static data this watcher's state goes to. */
	stateKey: string;
	/** What to watch, read from the trigger's fields; throws a WatchError when one is missing. */
	readWatch(input: WatchInput): { watch: Watch; scope: string };
	/** The state kept is a baseline taken for this scope. */
	hasBaseline(previous: unknown, scope: string): boolean;
	/** One check: manual, a sample and no state; otherwise what changed since `previous`. */
	poll(
		transport: PlatformTransport,
		watch: Watch,
		previous: unknown,
		manual: boolean,
		now: () => number,
	): Promise<PollOutcome>;
}

/**
 * Everything specific to one platform. A new platform is one new folder under `platforms/`
 * implementing this, added to `platforms/index.ts`.
 */
export interface Platform {
	id: PlatformId;
	displayName: string;
	/** What the platform takes, in the platform pickers of the nodes. */
	description: string;
	/** What the platform is in the credential's platform picker. */
	credentialDescription: string;
	/** Node fields only this platform has; shown when a node's `platform` parameter is this one. */
	nodeProperties: INodeProperties[];
	/** Reads those node fields (by name) into the options of the mapper and validator. */
	readNodeOptions(get: (name: string) => unknown): Partial<PlatformItemOptions>;
	/** A sentence saying what is missing or wrong in those options, before anything is sent. */
	checkNodeOptions?(options: PlatformItemOptions): string | undefined;
	/** Credential fields only this platform has; shown when the credential's platform is this one. */
	credentialProperties: INodeProperties[];
	resolveEndpoints(credentials: ICredentialDataDecryptedObject): Endpoints;
	/** Headers that authenticate a request (the credential type's `authenticate` calls this). */
	authHeaders(credentials: ICredentialDataDecryptedObject): Record<string, string>;
	/** A cheap authenticated request proving the credentials work (the credential form's Test). */
	credentialProbe(
		credentials: ICredentialDataDecryptedObject,
		endpoints: Endpoints,
	): { method: 'GET' | 'POST'; url: string; body?: IDataObject; acceptedStatuses?: number[] };
	/** The login request, when these credentials are exchanged for a short-lived token. */
	login?(
		credentials: ICredentialDataDecryptedObject,
		endpoints: Endpoints,
	): { url: string; body: IDataObject } | undefined;
	/** Obtains a short-lived token when the platform needs one (n8n's preAuthentication). */
	preAuthenticate?(
		this: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
	): Promise<IDataObject>;
	/** Turns an error answer into a sentence a user can act on (never echoing secrets). */
	describeError(response: FailedResponse): string;
	/** The fields of one item under these node options, for "Map Each Field Manually". */
	mappingFields(options: PlatformItemOptions): MappingField[];
	/** n8n item JSON to the platform's item shape, before validation. */
	mapItem(json: IDataObject, options: PlatformItemOptions): unknown;
	compileValidator(options: PlatformItemOptions): ItemValidator;
	delivery: BatchDelivery | JobDelivery;
	/** How the Job Status Trigger watches it; none when the platform publishes no status. */
	statusWatcher?: StatusWatcher;
}
