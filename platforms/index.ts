import type { Platform, PlatformId } from '../core/platform';
import { ayona } from './ayona';
import { rimdian } from './rimdian';
import { userpilot } from './userpilot';

/**
 * Every platform the package supports, and the only list of them: the nodes' and the
 * credential's pickers, fields and subtitles are built from it. A new one is a folder beside
 * these and a line here.
 */
export const PLATFORMS: Record<PlatformId, Platform> = { ayona, rimdian, userpilot };

/** The platform a new Import Items or Bulk File Import node, and a new credential, start on. */
export const DEFAULT_PLATFORM: PlatformId = 'rimdian';

/** The platform a new Job Status Trigger starts on. */
export const DEFAULT_WATCHED_PLATFORM: PlatformId = 'userpilot';

export function getPlatform(id: unknown): Platform {
	const platform = Object.hasOwn(PLATFORMS, String(id)) ? PLATFORMS[String(id)] : undefined;
	if (!platform) {
		throw new Error(
			`Unknown platform "${String(id)}": expected one of ${Object.keys(PLATFORMS).join(', ')}.`,
		);
	}
	return platform;
}

/** Every platform in the order of its name, as n8n lists the options of a picker. */
export function platformsByName(): Platform[] {
	return Object.values(PLATFORMS).sort((a, b) => a.displayName.localeCompare(b.displayName));
}

/** Ids of the platforms that pass `test`, for a field's displayOptions. */
export function platformIdsWhere(test: (platform: Platform) => boolean): PlatformId[] {
	return Object.values(PLATFORMS)
		.filter(test)
		.map((platform) => platform.id);
}

export type { Platform, PlatformId } from '../core/platform';
