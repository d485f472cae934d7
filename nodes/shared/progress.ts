import type { IExecuteFunctions } from 'n8n-workflow';

import { ProgressReporter, progressIntervalMs, type ProgressOptions } from '../../core/progress';

/**
 * A started progress reporter whose lines go to n8n's logger and, in a run started from the
 * editor, to the browser (sendMessageToUI shows them in its console). Finish it in a `finally`.
 */
export function startProgress(
	ctx: IExecuteFunctions,
	options: Omit<ProgressOptions, 'emit' | 'intervalMs'>,
): ProgressReporter {
	const toEditor = ctx.getMode() === 'manual';
	const emit = (line: string) => {
		ctx.logger.info(line);
		// The editor is a courtesy: a closed tab or a lost push connection must not fail the import.
		if (toEditor) {
			try {
				ctx.sendMessageToUI(line);
			} catch {
				// nothing to do: the logger has the line
			}
		}
	};
	return new ProgressReporter({
		...options,
		emit,
		intervalMs: progressIntervalMs(process.env.DATA_IMPORT_PROGRESS_INTERVAL_MS),
	}).start();
}
