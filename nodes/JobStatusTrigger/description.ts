import type { INodeProperties } from 'n8n-workflow';

import { DEFAULT_WATCHED_PLATFORM, platformsByName, type Platform } from '../../platforms';

/** The platforms the trigger can watch: the one it starts on first, then the others by name. */
export function watchedPlatforms(): Platform[] {
	const watched = platformsByName().filter((platform) => platform.statusWatcher);
	return [
		...watched.filter((platform) => platform.id === DEFAULT_WATCHED_PLATFORM),
		...watched.filter((platform) => platform.id !== DEFAULT_WATCHED_PLATFORM),
	];
}

/** Why the trigger cannot be set to a platform that publishes no import status. */
function unwatchableNotice(platform: Platform): INodeProperties {
	const name = platform.displayName;
	return {
		displayName: `${name} publishes no import status API, so there is nothing this trigger could watch: a workflow with this trigger set to ${name} cannot be activated. Import Items reports the result of every ${name} batch as it sends it.`,
		name: `${platform.id}Notice`,
		type: 'notice',
		default: '',
		displayOptions: { show: { platform: [platform.id] } },
	};
}

export const jobStatusTriggerProperties: INodeProperties[] = [
	{
		displayName: 'Platform',
		name: 'platform',
		type: 'options',
		noDataExpression: true,
		options: platformsByName().map((platform) => ({
			name: platform.displayName,
			value: platform.id,
			description:
				platform.statusWatcher?.description ?? 'Publishes no status API: cannot be watched',
		})),
		default: DEFAULT_WATCHED_PLATFORM,
		description: 'What to watch; must be the platform of the credential picked above',
	},
	...platformsByName()
		.filter((platform) => !platform.statusWatcher)
		.map(unwatchableNotice),
	...watchedPlatforms().flatMap((platform) => platform.statusWatcher?.triggerProperties ?? []),
];
