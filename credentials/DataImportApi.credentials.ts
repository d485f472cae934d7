import type {
	IAuthenticate,
	ICredentialDataDecryptedObject,
	ICredentialType,
	IDataObject,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import { authenticateRequest } from '../core/authenticate';
import { DEFAULT_PLATFORM, PLATFORMS, getPlatform, platformsByName } from '../platforms';

/** Platform-specific fields, each shown only when its platform is picked. */
const platformProperties: INodeProperties[] = Object.values(PLATFORMS).flatMap(
	(platform) => platform.credentialProperties,
);

export class DataImportApi implements ICredentialType {
	name = 'dataImportApi';

	displayName = 'Data Import API';

	icon: Icon = {
		light: 'file:../nodes/ImportItems/dataImport.svg',
		dark: 'file:../nodes/ImportItems/dataImport.dark.svg',
	};

	documentationUrl = 'https://github.com/n8n-nodes-data-import/n8n-nodes-data-import#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'Platform',
			name: 'platform',
			type: 'options',
			options: platformsByName().map((platform) => ({
				name: platform.displayName,
				value: platform.id,
				description: platform.credentialDescription,
			})),
			default: DEFAULT_PLATFORM,
			description: 'The platform this key or account belongs to; the fields below follow it',
		},
		...platformProperties,
		{
			displayName: 'Allow Plain HTTP',
			name: 'allowInsecureHttp',
			type: 'boolean',
			default: false,
			description:
				'Whether to allow http:// to hosts other than this machine. Off, such a URL is refused so the key never crosses a network unencrypted.',
		},
		{
			displayName: 'Session Token',
			name: 'sessionToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
	];

	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const platform = getPlatform(credentials.platform);
		if (!platform.preAuthenticate) return {};
		return (await platform.preAuthenticate.call(this, credentials)) as IDataObject;
	}

	authenticate: IAuthenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => {
		// One implementation with the transport's own requests: same check, same headers.
		return authenticateRequest(getPlatform(credentials.platform), credentials, requestOptions);
	};
}
