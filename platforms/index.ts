import type { Platform, PlatformId } from '../core/platform';
import { ayona } from './ayona';
import { rimdian } from './rimdian';
import { userpilot } from './userpilot';

/** Every platform the package supports; a new one is a folder beside these and a line here. */
export const PLATFORMS: Record<PlatformId, Platform> = { ayona, rimdian, userpilot };

export function getPlatform(id: unknown): Platform {
	const platform = PLATFORMS[id as PlatformId];
	if (!platform) {
		throw new Error(
			`Unknown platform "${String(id)}": expected one of ${Object.keys(PLATFORMS).join(', ')}.`,
		);
	}
	return platform;
}

export type { Platform, PlatformId } from '../core/platform';
