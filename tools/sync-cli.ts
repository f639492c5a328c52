import { parseArgs } from 'node:util';
import { readConfigFromEnv } from '../server/config.js';
import { ERROR_STATUS, type ErrorCode, HooklineError, startupFailureLine } from '../server/errors.js';
import { resolveSecrets } from '../server/secrets.js';
import { progressLine, type SyncProgress, summaryLine } from './sync-progress.js';

/**
 * `npm run sync -- [--account ID] [--since ISO] [--url URL]`: starts a catch-up sync on a running
 * gateway through `POST /api/sync` and prints its progress until it ends. The gateway's URL comes
 * from `PORT`/`HOST` (or `--url`), the API token from `API_TOKEN` or `DATA_DIR`'s secrets: the same
 * defaults the gateway uses. Exits 1 when the sync failed or could not start, with one line saying
 * what to do.
 */
const usage = `usage: npm run sync -- [--account ID] [--since ISO] [--url URL]
  Starts a catch-up sync from the provider on a running gateway and shows its progress.
  --account   sync this account only (default: every account the provider lists)
  --since     read back to this time, ISO 8601 (default: each account's watermark)
  --url       the gateway's base URL (default: http://HOST:PORT, as the gateway listens)
  The API token is API_TOKEN, or the one the gateway generated in DATA_DIR/secrets.json.`;

const POLL_MS = 250;

/** A request to the gateway; an unreachable gateway is a failure saying how to reach it. */
async function call(
  url: string,
  init: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? 'unreachable';
    throw new HooklineError(
      'HL_ERR_UNAVAILABLE',
      `--url: no gateway answers at ${new URL(url).origin} (${cause}): start it (npm start), or point --url (or PORT and HOST) at it`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: response.status, body };
}

/** What the gateway's error answer means for this command. */
function refused(status: number, body: Record<string, unknown>): HooklineError {
  const error = body.error as { code?: string; message?: string; details?: { reason?: string } } | undefined;
  if (status === 401 || status === 403) {
    return new HooklineError(
      'HL_ERR_UNAUTHORIZED',
      "API_TOKEN: the gateway refused the API token: set API_TOKEN to the gateway's, or DATA_DIR to the gateway's data directory",
    );
  }
  if (error?.details?.reason === 'sync_not_configured') {
    return new HooklineError(
      'HL_ERR_UNAVAILABLE',
      'UNIPILE_DSN: the gateway has no provider to sync from: start it with UNIPILE_DSN and UNIPILE_API_KEY',
    );
  }
  // Anything else is the gateway's own answer (an invalid --since, say): its message and code.
  const code = error?.code && error.code in ERROR_STATUS ? (error.code as ErrorCode) : 'HL_ERR_INTERNAL';
  return new HooklineError(code, `the gateway answered ${status}: ${error?.message ?? 'no error body'}`);
}

function options() {
  try {
    return parseArgs({
      options: {
        account: { type: 'string' },
        since: { type: 'string' },
        url: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    throw new HooklineError(
      'HL_ERR_CONFIG',
      `${(error as Error).message} (npm run sync -- --help lists the options)`,
    );
  }
}

async function main(): Promise<void> {
  const values = options();
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const config = readConfigFromEnv();
  const { secrets } = await resolveSecrets(config);
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  const base = values.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
  const headers = { authorization: `Bearer ${secrets.apiToken}`, 'content-type': 'application/json' };
  const began = performance.now();
  const started = await call(`${base}/api/sync`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      ...(values.account ? { accountId: values.account } : {}),
      ...(values.since ? { since: values.since } : {}),
    }),
  });
  const id = started.body.id;
  if (started.status !== 202 || typeof id !== 'string') throw refused(started.status, started.body);
  if (Array.isArray(started.body.runs) && started.body.runs.length === 0) {
    process.stdout.write('the provider lists no connected account: nothing to sync\n');
    return;
  }
  const tty = process.stdout.isTTY;
  let shown = '';
  for (;;) {
    const polled = await call(`${base}/api/sync/${id}`, { headers });
    if (polled.status !== 200) throw refused(polled.status, polled.body);
    const progress = polled.body as unknown as SyncProgress;
    const elapsed = performance.now() - began;
    const line = `${id} ${progressLine(progress, elapsed)}`;
    // On a terminal the line is redrawn; in a log, a line is added only when something moved.
    if (tty) process.stdout.write(`\r${line}\u001b[K`);
    else if (line.replace(/\d+ messages\/s/, '') !== shown) process.stdout.write(`${line}\n`);
    shown = line.replace(/\d+ messages\/s/, '');
    if (progress.status !== 'running') {
      process.stdout.write(`${tty ? '\n' : ''}${summaryLine(progress, elapsed)}\n`);
      if (progress.status !== 'done') process.exitCode = 1;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`sync: ${startupFailureLine(error)}\n`);
  process.exit(1);
});
