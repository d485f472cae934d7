import type { JobDelivery } from '../../core/platform';
import { AsIsCheck } from './asIs';
import { createImportJob, readJobWaitOptions, rowsOf, waitForJob, type UserpilotJob } from './jobs';

/**
 * What the job delivery does with Userpilot's jobs. Each calls through at call time: jobs.ts
 * reads `./index`, which spreads this object, so a module loaded first must not be read early.
 */
export const userpilotJobOperations: Pick<
	JobDelivery,
	'readJobOptions' | 'upload' | 'waitForJob' | 'judgeJob' | 'rowsOf' | 'openAsIsCheck'
> = {
	readJobOptions: (options, signal) => readJobWaitOptions(options, signal),
	upload: (transport, file, filename, options) =>
		createImportJob(transport, file, filename, options),
	waitForJob: (transport, job, options) => waitForJob(transport, job as UserpilotJob, options),
	judgeJob: (job, rowsSent) => {
		if (job.status === 'failed') {
			const reasons = Array.isArray(job.reason_for_failure) ? job.reason_for_failure : [];
			const said = reasons.join('; ') || 'no reason given';
			return { message: `Userpilot import job ${job.job_id} failed: ${said}`, partly: false };
		}
		const rows = rowsOf(job as UserpilotJob);
		if (rowsSent === undefined || rows === undefined || rows === rowsSent) return undefined;
		return {
			message: `Userpilot job ${job.job_id} completed with total_rows ${rows}, but ${rowsSent} rows were sent`,
			partly: true,
		};
	},
	rowsOf: (job) => rowsOf(job as UserpilotJob),
	openAsIsCheck: (source, file) => AsIsCheck.open(source, file),
};
