import { parseArgs } from 'node:util';
import { readConfigFromEnv } from '../server/config.js';
import { resolveSecrets } from '../server/secrets.js';

/**
 * `npm run inbox-link [-- --url URL]`: prints a fresh single-use inbox login link (valid 15
 * minutes) for a running gateway, through `POST /api/realtime/login-codes`, so nobody restarts the
 * gateway to get in. The gateway's URL comes from `PORT`/`HOST` (or `--url`), the API token from
 * `API_TOKEN` or `DATA_DIR`'s secrets: the same defaults the gateway uses.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: 'string' } } });
  const config = readConfigFromEnv();
  const { secrets } = await resolveSecrets(config);
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  const base = values.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
  let response: Response;
  try {
    response = await fetch(`${base}/api/realtime/login-codes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets.apiToken}` },
    });
  } catch (error) {
    process.stderr.write(
      `inbox-link: no gateway answers at ${base} (${String(error)}); start it with npm start\n`,
    );
    process.exit(1);
  }
  const answer = (await response.json()) as { url?: string; expiresAt?: string; error?: { code: string } };
  if (response.status !== 201 || !answer.url) {
    process.stderr.write(`inbox-link: ${answer.error?.code ?? response.status} from ${base}\n`);
    process.exit(1);
  }
  process.stdout.write(`${answer.url}\n(single use, valid until ${answer.expiresAt})\n`);
}

void main();
