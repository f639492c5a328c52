import { parseArgs } from 'node:util';
import { readConfigFromEnv } from '../server/config.js';
import { resolveSecrets } from '../server/secrets.js';

/**
 * `npm run sync -- [--account ID] [--since ISO] [--url URL]`: starts a catch-up sync on a running
 * gateway through `POST /api/sync` and prints its progress until it ends. The gateway's URL comes
 * from `PORT`/`HOST` (or `--url`), the API token from `API_TOKEN` or `DATA_DIR`'s secrets: the same
 * defaults the gateway uses. Exits 1 when the sync failed.
 */
interface Progress {
  status: string;
  messages: number;
  newMessages: number;
  duplicates: number;
  updated: number;
  runs?: {
    accountId: string;
    status: string;
    oldestSeen: string | null;
    windowFrom: string;
    windowTo: string;
  }[];
  oldestSeen?: string | null;
  windowFrom?: string;
  windowTo?: string;
}

/** How far down its window (newest first) a run has got, 0-1. */
function fraction(run: {
  oldestSeen?: string | null;
  windowFrom?: string;
  windowTo?: string;
  status: string;
}) {
  if (run.status !== 'running') return 1;
  if (!run.oldestSeen || !run.windowFrom || !run.windowTo) return 0;
  const span = Date.parse(run.windowTo) - Date.parse(run.windowFrom);
  return span <= 0 ? 1 : Math.min(1, (Date.parse(run.windowTo) - Date.parse(run.oldestSeen)) / span);
}

function bar(done: number, width = 30): string {
  const filled = Math.round(done * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(done * 100).toFixed(0).padStart(3)}%`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { account: { type: 'string' }, since: { type: 'string' }, url: { type: 'string' } },
  });
  const config = readConfigFromEnv();
  const { secrets } = await resolveSecrets(config);
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  const base = values.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
  const headers = { authorization: `Bearer ${secrets.apiToken}`, 'content-type': 'application/json' };
  const body = {
    ...(values.account ? { accountId: values.account } : {}),
    ...(values.since ? { since: values.since } : {}),
  };
  const started = await fetch(`${base}/api/sync`, { method: 'POST', headers, body: JSON.stringify(body) });
  const answer = (await started.json()) as {
    id?: string;
    runs?: unknown[];
    error?: { code: string; message: string };
  };
  if (started.status !== 202 || !answer.id) {
    process.stderr.write(
      `sync not started: ${answer.error?.code ?? started.status} ${answer.error?.message ?? ''}\n`,
    );
    process.exit(1);
  }
  if (answer.runs?.length === 0) {
    process.stdout.write('the provider lists no connected account: nothing to sync\n');
    process.exit(0);
  }
  const tty = process.stdout.isTTY;
  for (;;) {
    const response = await fetch(`${base}/api/sync/${answer.id}`, { headers });
    const progress = (await response.json()) as Progress & { error?: { code: string } };
    if (!response.ok) {
      process.stderr.write(`\nprogress unavailable: ${progress.error?.code ?? response.status}\n`);
      process.exit(1);
    }
    const runs = progress.runs ?? [progress];
    const done = runs.length === 0 ? 1 : runs.reduce((sum, run) => sum + fraction(run), 0) / runs.length;
    const line = `${answer.id} ${bar(done)} ${progress.messages} read, ${progress.newMessages} new, ${progress.duplicates} duplicates, ${progress.updated} updated`;
    process.stdout.write(tty ? `\r${line}` : `${line}\n`);
    if (progress.status !== 'running') {
      process.stdout.write(`${tty ? '\n' : ''}${progress.status}\n`);
      process.exit(progress.status === 'done' ? 0 : 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
