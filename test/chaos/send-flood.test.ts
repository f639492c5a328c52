import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { afterAll, expect, it } from 'vitest';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, startFakeUnipile } from '../../tools/fake-unipile/server.js';
import { describePostgres } from '../support/databases.js';
import { type ChaosDatabase, createChaosDatabase } from './support/chaos-database.js';
import {
  deliverWebhook,
  type GatewayProcess,
  killAllGateways,
  printGatewayLogsOnFailure,
  startGateway,
} from './support/gateway-process.js';
import { mintToken } from './support/realtime-observer.js';
import { recordScenario } from './support/results.js';

/** How long the flood lasts, and how many sends it keeps in flight. */
const FLOOD_MS = 8000;
const CONCURRENCY = 32;
/** ~20 KB of text per send, as in the report that found the flood. */
const TEXT = 'x'.repeat(20_000);
/** The provider answers every call this late: the queue cannot drain during the flood. */
const PROVIDER_LATENCY_MS = 2000;
const UPLOADS = 32;
const UPLOAD_FILE_BYTES = 12 * 1024 * 1024;
const MiB = 1024 * 1024;
/** Bounds well above what the gateway holds, far below what an unbounded flood reached. */
const RSS_LIMIT_BYTES = 400 * MiB;

async function rssBytes(gateway: GatewayProcess): Promise<number> {
  const status = await readFile(`/proc/${gateway.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024;
}

/**
 * A multipart send of two 12 MiB files streamed as fast as the socket takes it, stopped when the
 * answer comes: resolves with the status, when it came, and how much of the body was written.
 */
function upload(url: string, path: string, token: string, accountId: string) {
  const boundary = 'hookline-chaos-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="accountId"\r\n\r\n${accountId}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nfiles\r\n`,
  );
  const fileHead = (index: number) =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="f${index}.bin"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const chunk = Buffer.alloc(256 * 1024, 7);
  const length = head.length + 2 * (fileHead(0).length + UPLOAD_FILE_BYTES) + 2 + tail.length;
  const started = performance.now();
  return new Promise<{ status: number | null; ms: number; writtenBytes: number }>((resolve) => {
    let written = 0;
    let answered = false;
    const request = httpRequest(new URL(path, url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': length,
      },
    });
    const finish = (status: number | null) => {
      if (answered) return;
      answered = true;
      resolve({ status, ms: performance.now() - started, writtenBytes: written });
      request.destroy();
    };
    request.on('response', (response) => {
      response.resume();
      finish(response.statusCode ?? null);
    });
    request.on('error', () => finish(null));
    const write = async () => {
      const parts: Buffer[] = [head];
      for (let file = 0; file < 2; file++) {
        parts.push(fileHead(file));
        for (let sent = 0; sent < UPLOAD_FILE_BYTES; sent += chunk.length) parts.push(chunk);
        if (file === 0) parts.push(Buffer.from('\r\n'));
      }
      parts.push(Buffer.from('\r\n'), tail.subarray(2));
      for (const part of parts) {
        if (answered) return;
        written += part.length;
        if (!request.write(part)) await new Promise((drained) => request.once('drain', drained));
      }
      request.end();
    };
    void write();
  });
}

describePostgres('send flood', () => {
  let database: ChaosDatabase | undefined;
  let fake: FakeUnipile | undefined;
  afterAll(async () => {
    await killAllGateways();
    await fake?.close();
    await database?.dispose();
  });

  it('keeps one token within its budget, and the queue and RSS bounded, with the provider slow', async () => {
    printGatewayLogsOnFailure();
    database = await createChaosDatabase();
    fake = await startFakeUnipile({ latencyMs: PROVIDER_LATENCY_MS });
    const gateway = await startGateway({
      databaseUrl: database.url,
      env: {
        UNIPILE_DSN: fake.url,
        UNIPILE_API_KEY: fake.apiKey,
        SEND_TIMEOUT_MS: '10000',
        SEND_LEASE_MS: '20000',
      },
    });
    const account = fakeAccount();
    const opening = messageReceived({ account });
    const opened = await deliverWebhook(gateway.url, opening);
    expect(opened.status).toBe(200);
    const mint = (scopes: string[]) => mintToken(gateway.url, [account.id], scopes);
    const token = await mint(['read', 'send']);
    const rssBefore = await rssBytes(gateway);

    const answers = new Map<number, number>();
    const until = Date.now() + FLOOD_MS;
    const flooder = async () => {
      while (Date.now() < until) {
        const response = await fetch(`${gateway.url}/api/chats/${opening.chat_id}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ accountId: account.id, text: TEXT }),
        }).catch(() => undefined);
        const status = response?.status ?? 0;
        await response?.arrayBuffer().catch(() => undefined);
        answers.set(status, (answers.get(status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, flooder));
    const rssAfterFlood = await rssBytes(gateway);
    const queued = Number(
      (
        await database.pool.query(
          "select count(*) as n from sends where status in ('queued', 'sending', 'unknown')",
        )
      ).rows[0]?.n ?? 0,
    );
    const stored = Number((await database.pool.query('select count(*) as n from sends')).rows[0]?.n ?? 0);
    const accepted = answers.get(202) ?? 0;
    const sent = [...answers.values()].reduce((sum, count) => sum + count, 0);

    // 32 read-only uploads of 24 MiB each, at once: refused before their bodies are read.
    const readOnly = await mint(['read']);
    const rssBeforeUploads = await rssBytes(gateway);
    const uploads = await Promise.all(
      Array.from({ length: UPLOADS }, () =>
        upload(gateway.url, `/api/chats/${opening.chat_id}/messages`, readOnly, account.id),
      ),
    );
    const rssAfterUploads = await rssBytes(gateway);
    const uploadStatuses = new Map<string, number>();
    for (const answer of uploads) {
      const key = String(answer.status);
      uploadStatuses.set(key, (uploadStatuses.get(key) ?? 0) + 1);
    }
    const slowest403Ms = Math.max(...uploads.map((answer) => answer.ms));
    const mostWritten = Math.max(...uploads.map((answer) => answer.writtenBytes));
    expect(await gateway.stop()).toBe(0);

    await recordScenario({
      id: 'send-flood',
      scenario:
        `one send-scoped token floods POST /api/chats/:chatId/messages (${CONCURRENCY} in flight, 20 KB each) for ` +
        `${FLOOD_MS / 1000} s, provider answering after ${PROVIDER_LATENCY_MS / 1000} s; then ${UPLOADS} concurrent ` +
        `24 MiB multipart sends from a read-only token`,
      sent,
      acknowledged: accepted,
      stored,
      delivered: null,
      lost: 0,
      duplicated: 0,
      notes:
        `answers: ${[...answers].map(([status, count]) => `${status} ×${count}`).join(', ')}; ` +
        `queue after the flood: ${queued}; RSS ${Math.round(rssBefore / MiB)} → ${Math.round(rssAfterFlood / MiB)} MiB; ` +
        `uploads: ${[...uploadStatuses].map(([status, count]) => `${status} ×${count}`).join(', ')}, the last answer ` +
        `after ${Math.round(slowest403Ms)} ms with at most ${(mostWritten / MiB).toFixed(1)} of 24 MiB written; ` +
        `RSS ${Math.round(rssBeforeUploads / MiB)} → ${Math.round(rssAfterUploads / MiB)} MiB`,
    });

    // SEND_RATE_PER_MINUTE (60): a minute's worth at once, then one a second; every other is a 429.
    const budget = 60 + Math.ceil(FLOOD_MS / 1000) + 1;
    expect(accepted).toBeLessThanOrEqual(budget);
    expect(accepted + (answers.get(429) ?? 0)).toBe(sent);
    expect(stored).toBe(accepted);
    expect(queued).toBeLessThanOrEqual(budget);
    expect(rssAfterFlood).toBeLessThan(RSS_LIMIT_BYTES);
    expect(uploadStatuses.get('403')).toBe(UPLOADS);
    expect(mostWritten).toBeLessThan(2 * UPLOAD_FILE_BYTES);
    expect(rssAfterUploads).toBeLessThan(RSS_LIMIT_BYTES);
  });
});
