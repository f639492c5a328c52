import type { Config } from '../../config.js';
import { HooklineError, StartupError } from '../../errors.js';
import { type ProviderProblem, UnipileClient } from './client.js';

/** The longest the start-up check waits for Unipile: an unresponsive provider must not hold the start. */
const KEY_CHECK_TIMEOUT_MS = 5000;

/** What {@link checkUnipileKey} found when it did not refuse to start. */
export type UnipileKeyCheck =
  | { state: 'not-configured' }
  | { state: 'accepted' }
  /** The provider could not say (unreachable, failing on its side): registration retries later. */
  | { state: 'unverified'; reason: string };

/**
 * The start-up check of the Unipile credentials, before the database starts: with UNIPILE_DSN set,
 * UNIPILE_API_KEY must be set too, and a key the provider refuses (401/403) stops the start with a
 * {@link StartupError} naming the setting. A provider that cannot be reached does not: the gateway
 * serves without it and registration retries (server/providers/unipile/registration.ts).
 */
export async function checkUnipileKey(
  config: Pick<Config, 'UNIPILE_DSN' | 'UNIPILE_API_KEY' | 'UNIPILE_TIMEOUT_MS'>,
): Promise<UnipileKeyCheck> {
  if (!config.UNIPILE_DSN) return { state: 'not-configured' };
  if (!config.UNIPILE_API_KEY) {
    throw new StartupError('HL_ERR_PROVIDER_KEY_MISSING', {
      setting: 'UNIPILE_API_KEY',
      problem: 'not set, while UNIPILE_DSN is',
      fix: 'set it to an API key from the Unipile dashboard (Access tokens), or unset UNIPILE_DSN to run without the provider',
    });
  }
  const client = new UnipileClient({
    dsn: config.UNIPILE_DSN,
    apiKey: config.UNIPILE_API_KEY,
    timeoutMs: Math.min(config.UNIPILE_TIMEOUT_MS, KEY_CHECK_TIMEOUT_MS),
  });
  try {
    await client.listWebhooks();
    return { state: 'accepted' };
  } catch (error) {
    if (!(error instanceof HooklineError) || error.code !== 'HL_ERR_PROVIDER') throw error;
    const status = (error.details as ProviderProblem | undefined)?.status;
    if (status === 401 || status === 403) {
      throw new StartupError('HL_ERR_PROVIDER_KEY_REFUSED', {
        setting: 'UNIPILE_API_KEY',
        problem: `Unipile at ${client.baseUrl} refused it (${status})`,
        fix: 'copy a current API key from the Unipile dashboard into UNIPILE_API_KEY, and check that UNIPILE_DSN is your account’s',
        cause: error,
      });
    }
    return { state: 'unverified', reason: error.message };
  } finally {
    await client.close();
  }
}
