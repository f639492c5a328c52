import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatSummary, runTraffic } from './traffic.js';

/**
 * `npm run fake-provider -- --target http://127.0.0.1:3000 --rate 200 --duration 10`: sends
 * realistic Unipile webhook traffic to a running gateway and prints a summary. Exit code 1 when
 * some webhook was never acknowledged.
 */
const usage = `usage: npm run fake-provider -- --target URL [--rate N] [--duration S] [--secret S | --data-dir DIR]
  --target           gateway base URL (default http://127.0.0.1:3000)
  --rate             webhooks per second (default 50)
  --duration         seconds to send (default 10)
  --secret           the gateway's INBOUND_SECRET (default: read from DATA_DIR/secrets.json)
  --data-dir         the gateway's DATA_DIR (default ./data)
  --timeout-ms       per-attempt timeout (default 30000, as Unipile)
  --retry-delay-ms   first retry delay, doubling per retry (default 1000)
  --retries          retries after the first attempt (default 5, as Unipile)
  --concurrency      most webhooks in flight (default 256)
  --seed             replay the same stream (default: a new one each run, printed)`;

async function secretFrom(dataDir: string): Promise<string> {
  const file = join(dataDir, 'secrets.json');
  const content = JSON.parse(await readFile(file, 'utf8')) as { INBOUND_SECRET?: string };
  if (!content.INBOUND_SECRET) throw new Error(`${file} has no INBOUND_SECRET; pass --secret`);
  return content.INBOUND_SECRET;
}

function positive(name: string, value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new Error(`--${name}: expected a number, got ${value}`);
  return number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', default: 'http://127.0.0.1:3000' },
      rate: { type: 'string', default: '50' },
      duration: { type: 'string', default: '10' },
      secret: { type: 'string' },
      'data-dir': { type: 'string', default: './data' },
      'timeout-ms': { type: 'string', default: '30000' },
      'retry-delay-ms': { type: 'string', default: '1000' },
      retries: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '256' },
      seed: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const secret = values.secret ?? (await secretFrom(values['data-dir']));
  const rate = positive('rate', values.rate);
  const duration = positive('duration', values.duration);
  if (Math.round(rate * duration) < 1) {
    throw new Error(`--rate ${rate} for --duration ${duration} s sends no webhook: raise either`);
  }
  const seed = values.seed === undefined ? Math.floor(Math.random() * 1e9) : positive('seed', values.seed);
  process.stdout.write(
    `sending ${Math.round(rate * duration)} webhooks to ${values.target} at ${rate}/s (seed ${seed})\n`,
  );
  const summary = await runTraffic({
    target: values.target,
    secret,
    rate,
    durationSeconds: duration,
    seed,
    concurrency: Math.max(1, positive('concurrency', values.concurrency)),
    delivery: {
      timeoutMs: positive('timeout-ms', values['timeout-ms']),
      retryDelayMs: positive('retry-delay-ms', values['retry-delay-ms']),
      retries: positive('retries', values.retries),
    },
  });
  process.stdout.write(`${formatSummary(summary)}\n`);
  if (summary.failed > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `fake-provider: ${error instanceof Error ? error.message : String(error)}\n${usage}\n`,
  );
  process.exit(2);
});
