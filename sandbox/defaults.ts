/**
 * Well-known accounts of the local sandbox. These are fake, sandbox-only credentials: tests,
 * examples and benchmarks import them to talk to `startSandbox()` / `npm run sandbox`.
 */

/** Rimdian: a static access token that never expires (accepted by POST /data and the API). */
export const RIMDIAN_TOKEN = 'sandbox-rimdian-token';
/** Rimdian: the one workspace the sandbox knows. */
export const RIMDIAN_WORKSPACE = 'sandbox_workspace';
/** Rimdian: service account for POST /api/account.login. */
export const RIMDIAN_SERVICE_EMAIL = 'service@sandbox.test';
/** Rimdian: service account password (service accounts have 16+ characters). */
export const RIMDIAN_SERVICE_PASSWORD = 'sandbox-service-password';
/** Rimdian: account id of the service account (the data log's `origin_id` for items it posts). */
export const RIMDIAN_ACCOUNT_ID = 'sandbox_service_account';
/** Rimdian: the workspace's known domain ids (`domain_id` must be one of these). */
export const RIMDIAN_DOMAINS: readonly string[] = ['web', 'app'];

/** Userpilot: the write (import) API key, sent as `Authorization: Token <key>`. */
export const USERPILOT_KEY = 'sandbox-userpilot-key';
/**
 * Userpilot: a read-only (export) key. It authenticates the job-status endpoints but
 * POST /v1/imports answers 403 with it, as the real write-token check does.
 */
export const USERPILOT_READ_KEY = 'sandbox-userpilot-read-key';

/** Ayona: the API key, sent as `X-API-KEY`. */
export const AYONA_KEY = '5b0f1e9c-6a3d-4e8f-9b21-3c4d5e6f7a80';
/** Ayona: the configured REST source. */
export const AYONA_SOURCE_ID = 'sandbox-source';

/** Default port of the CLI (`npm run sandbox`). In-process `startSandbox()` uses port 0. */
export const DEFAULT_CLI_PORT = 8787;
