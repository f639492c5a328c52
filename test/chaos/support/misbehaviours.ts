import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, startFakeUnipile } from '../../../tools/fake-unipile/server.js';
import {
  apiHeaders,
  CHAOS_SECRETS,
  type GatewayProcess,
  startGateway,
  WEBHOOK_PATH,
} from './gateway-process.js';

/**
 * Issue 29's misbehaving provider, one misbehaviour per gateway process (so each has its own peak
 * RSS), against the fake provider's misbehaviours (tools/fake-unipile/misbehave.ts). Used by the
 * chaos scenario test/chaos/provider-misbehaves.test.ts and by
 * test/chaos/measure-misbehaviours.ts, which runs them against any checkout (before/after figures).
 */

/** What one misbehaviour cost the gateway, and how it ended. */
export interface MisbehaviourFigures {
  id: MisbehaviourId;
  /** The provider calls the misbehaviour drew (which ones: `calls`). */
  providerCalls: number;
  calls: string;
  /** The gateway process's peak RSS (VmHWM), start-up included, in MiB. */
  peakRssMiB: number;
  /** Its RSS once it answered /healthz, before the misbehaviour, in MiB. */
  startRssMiB: number;
  /** Whether it ended by itself within the phase's time cap (a send settled, a run finished, …). */
  ended: boolean;
  /** How it ended, in a few words. */
  outcome: string;
  /** Webhooks of a well-behaved account delivered meanwhile: acknowledged, and found stored. */
  acknowledged: number;
  stored: number;
  /** Log lines that are stack-trace frames (`    at …`). */
  stackLines: number;
  /** Seconds the phase took. */
  seconds: number;
}

/** The misbehaviours, in order of harm. */
export const MISBEHAVIOURS = [
  'unconfirmed-send',
  'messages-cursor-cycle',
  'accounts-cursor-cycle',
  'attendees-cursor-cycle',
  'poisoned-items',
  'huge-answer',
  'slow-answer',
  'refused-key',
] as const;
/** One misbehaviour's id. */
export type MisbehaviourId = (typeof MISBEHAVIOURS)[number];

/** Where and how long the phases run. */
export interface MisbehaviourOptions {
  databaseUrl: string;
  /** The checkout whose gateway runs (`server/main.ts` there). Default this one. */
  cwd?: string;
  /** Longest one phase may take before it is called not ended. Default 8000 ms. */
  capMs?: number;
  /** Bytes of the huge answer. Default 256 MiB. */
  hugeBytes?: number;
  /** Webhooks of a well-behaved account delivered during each phase. Default 10. */
  webhooks?: number;
}

/** How many of `ids` the account's messages hold. */
async function storedCount(databaseUrl: string, accountId: string, ids: string[]): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ n: number }>(
      'select count(*)::int as n from messages where account_id = $1 and id = any($2)',
      [accountId, ids],
    );
    return result.rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
}

/** Polls `done` every 50 ms until it is true or `capMs` passed; returns whether it came true. */
async function until(done: () => Promise<boolean> | boolean, capMs: number): Promise<boolean> {
  const deadline = Date.now() + capMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(done)
        .catch(() => false)
    )
      return true;
    await sleep(50);
  }
  return false;
}

async function api(gateway: GatewayProcess, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    ...init,
    headers: { ...apiHeaders, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
}

/** A run's status, or undefined while `POST /api/sync` has not answered. */
async function runStatus(gateway: GatewayProcess, id: string) {
  const response = await api(gateway, `/api/sync/${id}`);
  return (await response.json()) as {
    status: string;
    newMessages?: number;
    skipped?: number;
    error?: unknown;
  };
}

/** Starts a sync of one account and waits for its run to end (or the cap). */
async function syncAccount(gateway: GatewayProcess, accountId: string, capMs: number) {
  const started = await api(gateway, '/api/sync', { method: 'POST', body: JSON.stringify({ accountId }) });
  const { id } = (await started.json()) as { id: string };
  let last: Awaited<ReturnType<typeof runStatus>> | undefined;
  const ended = await until(async () => {
    last = await runStatus(gateway, id);
    return last.status !== 'running';
  }, capMs);
  const reason = (last?.error as { details?: { reason?: string } } | undefined)?.details?.reason;
  return { ended, outcome: `run ${last?.status ?? 'unknown'}${reason ? ` (${reason})` : ''}`, last };
}

const callsTo = (fake: FakeUnipile, suffix: string) =>
  fake.state.requests.filter((request) => request.path.endsWith(suffix)).length;

type Phase = (ctx: {
  gateway: GatewayProcess;
  fake: FakeUnipile;
  capMs: number;
  hugeBytes: number;
}) => Promise<{ providerCalls: number; calls: string; ended: boolean; outcome: string }>;

const PHASES: Record<MisbehaviourId, Phase> = {
  async 'unconfirmed-send'({ gateway, fake, capMs }) {
    const account = fakeAccount();
    const { payload } = await fake.sendMessage({ account });
    fake.sends.next('unlisted', 1000);
    const text = 'A reply the provider never confirms';
    const sent = await api(gateway, `/api/chats/${payload.chat_id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ accountId: account.id, text }),
    });
    const { localId } = (await sent.json()) as { localId: string };
    let status = 'pending';
    const ended = await until(async () => {
      const response = await api(gateway, `/api/chats/${payload.chat_id}/messages?accountId=${account.id}`);
      const items = (
        (await response.json()) as { items: { localId?: string; status?: string; reason?: string }[] }
      ).items;
      const item = items.find((candidate) => candidate.localId === localId);
      status = `${item?.status ?? 'missing'}${item?.reason ? ` (${item.reason})` : ''}`;
      return item?.status === 'failed' || item?.status === 'sent';
    }, capMs);
    const posts = fake.sends.received.filter((request) => request.text === text).length;
    return {
      providerCalls: posts,
      calls: 'POST /chats/{id}/messages of the reply',
      ended,
      outcome: `send ${status}`,
    };
  },
  async 'messages-cursor-cycle'({ gateway, fake, capMs }) {
    const account = fakeAccount();
    fake.misbehave.set({ cycle: ['messages'] });
    const run = await syncAccount(gateway, account.id, capMs);
    return { providerCalls: callsTo(fake, '/messages'), calls: 'GET /messages', ...run };
  },
  async 'accounts-cursor-cycle'({ gateway, fake, capMs }) {
    fake.misbehave.set({ cycle: ['accounts'] });
    const answered = await api(gateway, '/api/sync', {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(capMs),
    }).then(
      (response) => response.status,
      () => undefined,
    );
    return {
      providerCalls: callsTo(fake, '/accounts'),
      calls: 'GET /accounts',
      ended: answered !== undefined,
      outcome:
        answered === undefined ? 'POST /api/sync never answered' : `POST /api/sync answered ${answered}`,
    };
  },
  async 'attendees-cursor-cycle'({ fake, capMs }) {
    fake.misbehave.set({ cycle: ['attendees'] });
    // A webhook that names no attendees starts the background fill of its chat.
    await fake.deliver({ ...messageReceived({ account: fakeAccount() }), attendees: [] });
    let seen = -1;
    const ended = await until(async () => {
      const now = callsTo(fake, '/attendees');
      const still = now > 0 && now === seen;
      seen = now;
      if (!still) await sleep(450);
      return still;
    }, capMs);
    return {
      providerCalls: callsTo(fake, '/attendees'),
      calls: 'GET /chats/{id}/attendees',
      ended,
      outcome: ended ? 'fill ended' : 'fill still calling',
    };
  },
  async 'poisoned-items'({ gateway, fake, capMs }) {
    const account = fakeAccount();
    const chat = messageReceived({ account, timestamp: new Date(Date.now() - 3_600_000) });
    fake.history.record(chat);
    fake.misbehave.poison(fake.history, account.id, chat.chat_id, new Date(Date.now() - 60_000));
    const run = await syncAccount(gateway, account.id, capMs);
    const counts = run.last?.newMessages === undefined ? '' : `, ${run.last.newMessages} stored`;
    const skipped = run.last?.skipped === undefined ? '' : `, ${run.last.skipped} kept aside`;
    return {
      providerCalls: callsTo(fake, '/messages'),
      calls: 'GET /messages',
      ended: run.ended,
      outcome: `${run.outcome}${counts}${skipped}`,
    };
  },
  async 'huge-answer'({ gateway, fake, capMs, hugeBytes }) {
    fake.misbehave.set({ hugeBytes });
    const run = await syncAccount(gateway, fakeAccount().id, capMs);
    const served = Math.round(fake.misbehave.bytesServed / 1024 / 1024);
    return {
      providerCalls: callsTo(fake, '/messages'),
      calls: 'GET /messages',
      ended: run.ended,
      outcome: `${run.outcome}, ${served} MiB of ${Math.round(hugeBytes / 1024 / 1024)} MiB written by the fake`,
    };
  },
  async 'slow-answer'({ gateway, fake, capMs }) {
    fake.misbehave.set({ trickleMs: 100 });
    const run = await syncAccount(gateway, fakeAccount().id, capMs);
    return { providerCalls: callsTo(fake, '/messages'), calls: 'GET /messages', ...run };
  },
  async 'refused-key'({ gateway, fake, capMs }) {
    await sleep(Math.min(capMs, 2500));
    const ready = (await (await fetch(`${gateway.url}/readyz`)).json()) as {
      checks?: { registration?: { reason?: string } };
    };
    return {
      providerCalls: fake.state.requests.length,
      calls: 'registration calls in 2.5 s',
      ended: true,
      outcome: `/readyz registration reason: ${ready.checks?.registration?.reason ?? 'none'}`,
    };
  },
};

/** Runs one misbehaviour against a fresh fake provider and gateway process, and measures it. */
export async function runMisbehaviour(
  id: MisbehaviourId,
  options: MisbehaviourOptions,
): Promise<MisbehaviourFigures> {
  const started = Date.now();
  const fake = await startFakeUnipile({ delivery: { timeoutMs: 5000, retries: 1, retryDelayMs: 200 } });
  const gateway = await startGateway({
    databaseUrl: options.databaseUrl,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: {
      UNIPILE_DSN: fake.url,
      UNIPILE_API_KEY: fake.apiKey,
      UNIPILE_SYNC_INTERVAL_SECONDS: '0',
      // The default call timeout for the huge answer, so that only its size can stop it; a short
      // one for the trickled answer, which only the timeout ends.
      UNIPILE_TIMEOUT_MS: id === 'huge-answer' ? '10000' : id === 'slow-answer' ? '400' : '1000',
      UNIPILE_RETRY_MIN_MS: '50',
      SEND_LOOKUP_DELAY_MS: '300',
      SEND_RETRY_MIN_MS: '50',
      SEND_POLL_INTERVAL_MS: '50',
      SEND_TIMEOUT_MS: '2000',
      SEND_LEASE_MS: '10000',
      // A key refused at start-up stops the gateway (docs/operations.md, "Start-up errors"); this
      // phase is the key refused while running, which the registration re-check finds.
      ...(id === 'refused-key'
        ? { WEBHOOK_BASE_URL: 'https://hooks.example.com', UNIPILE_REGISTRATION_CHECK_SECONDS: '1' }
        : {}),
    },
  });
  if (id === 'refused-key') fake.misbehave.set({ refuseKey: true });
  fake.addWebhook({
    request_url: `${gateway.url}${WEBHOOK_PATH}`,
    headers: [{ key: 'Unipile-Auth', value: CHAOS_SECRETS.INBOUND_SECRET }],
  });
  const capMs = options.capMs ?? 8000;
  const startRssMiB = Math.round(await procStatus(gateway.child.pid ?? 0, 'VmRSS'));
  try {
    const phase = PHASES[id]({ gateway, fake, capMs, hugeBytes: options.hugeBytes ?? 256 * 1024 * 1024 });
    // Meanwhile, a well-behaved account's webhooks: every one acknowledged must be stored.
    const bystander = fakeAccount();
    const deliveries = Promise.all(
      Array.from({ length: options.webhooks ?? 10 }, () =>
        fake.sendMessage({ account: bystander }).then(({ payload, deliveries: results }) => ({
          id: payload.message_id,
          acknowledged: results.length > 0 && results.every((result) => result.acknowledged),
        })),
      ),
    );
    const figures = await phase;
    const delivered = await deliveries;
    const acknowledged = delivered.filter((delivery) => delivery.acknowledged).map((delivery) => delivery.id);
    const stored = await storedCount(options.databaseUrl, bystander.id, acknowledged);
    const peakRssMiB = Math.round(await procStatus(gateway.child.pid ?? 0, 'VmHWM'));
    // JSON log lines spell a stack's line breaks `\n`: each `\n    at ` is one frame.
    const stackLines = gateway.output().match(/\\n\s+at /g)?.length ?? 0;
    return {
      id,
      ...figures,
      peakRssMiB,
      startRssMiB,
      acknowledged: acknowledged.length,
      stored,
      stackLines,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    await gateway.kill();
    await fake.close();
  }
}
