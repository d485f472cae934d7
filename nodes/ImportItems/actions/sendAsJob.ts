import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { PreparedItem } from '../../../core/delivery/batch';
import { multipartFile } from '../../../core/delivery/multipart';
import type { ItemResult } from '../../../core/results';
import type { SendSettings } from '../../shared/settings';
import { PlatformRequestError, type PlatformTransport } from '../../../core/transport';
import { uploadToken } from '../../../core/delivery/uploadName';
import {
	createImportJob,
	readJobWaitOptions,
	rowsOf,
	waitForJob,
} from '../../../platforms/userpilot/jobs';

/** Splits NDJSON lines into files under the platform's size limit, at line boundaries. */
function* filesUnder(prepared: PreparedItem[], maxBytes: number): Generator<PreparedItem[]> {
	let part: PreparedItem[] = [];
	let size = 0;
	for (const item of prepared) {
		const bytes = Buffer.byteLength(item.serialized) + 1;
		if (part.length > 0 && size + bytes > maxBytes) {
			yield part;
			part = [];
			size = 0;
		}
		part.push(item);
		size += bytes;
	}
	if (part.length > 0) yield part;
}

/**
 * Userpilot takes files, not batches: the items go as NDJSON in one import job (several when
 * past the size limit, one after another since only one job runs at a time).
 */
export async function sendItemsAsJob(
	this: IExecuteFunctions,
	transport: PlatformTransport,
	settings: SendSettings,
	prepared: PreparedItem[],
	report: (item: PreparedItem, result: ItemResult) => void,
): Promise<PlatformRequestError | undefined> {
	if (settings.platform.delivery.mode !== 'file')
		throw new Error('sendItemsAsJob needs a file platform');
	const { options } = settings;
	const wait = readJobWaitOptions(options, this.getExecutionCancelSignal());
	const { waitForCompletion } = wait;
	const parts = [...filesUnder(prepared, settings.platform.delivery.maxFileBytes)];
	// the same names when n8n runs this execution again, so parts uploaded before are found
	const { token, deterministic } = uploadToken(
		this,
		0,
		prepared.length,
		parts.length,
		prepared[0]?.serialized ?? '',
	);

	for (let p = 0; p < parts.length; p++) {
		const part = parts[p];
		const content = Buffer.from(part.map((item) => item.serialized).join('\n') + '\n');
		const filename = `n8n-${token}-part${p + 1}.ndjson`;
		const fail = (error: PlatformRequestError, jobId?: string) => {
			for (const item of part) {
				report(item, {
					status: 'failed',
					message: error.message,
					httpCode: error.status,
					batch: p + 1,
					retries: error.retries,
					possiblyDelivered: error.possiblyDelivered,
					jobId,
				});
			}
			return error;
		};
		let job;
		let retries = 0;
		try {
			({ job, retries } = await createImportJob(
				transport,
				multipartFile('file', filename, 'application/x-ndjson', content),
				filename,
				{ ...wait, lookFirst: deterministic },
			));
		} catch (error) {
			if (!(error instanceof PlatformRequestError))
				throw new NodeOperationError(this.getNode(), error as Error);
			return fail(error);
		}
		if (!waitForCompletion) {
			for (const item of part)
				report(item, { status: 'queued', jobId: job.job_id, batch: p + 1, retries });
			continue;
		}
		let final;
		try {
			final = await waitForJob(transport, job, wait);
		} catch (error) {
			if (!(error instanceof PlatformRequestError))
				throw new NodeOperationError(this.getNode(), error as Error);
			return fail(error, job.job_id);
		}
		if (final.status === 'failed') {
			const reasons = Array.isArray(final.reason_for_failure) ? final.reason_for_failure : [];
			return fail(
				new PlatformRequestError(
					`Userpilot import job ${final.job_id} failed: ${reasons.join('; ') || 'no reason given'}`,
					{ retries },
				),
				final.job_id,
			);
		}
		const rows = rowsOf(final);
		if (rows !== undefined && rows !== part.length) {
			return fail(
				new PlatformRequestError(
					`Userpilot job ${final.job_id} completed with total_rows ${rows}, but ${part.length} rows were sent`,
					{ retries, possiblyDelivered: true },
				),
				final.job_id,
			);
		}
		for (const item of part) {
			report(item, {
				status: 'accepted',
				batch: p + 1,
				retries,
				jobId: final.job_id,
				key: item.key,
			});
		}
	}
	return undefined;
}
