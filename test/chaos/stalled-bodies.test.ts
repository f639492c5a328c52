import { afterAll, expect, it } from 'vitest';
import { describePostgres } from '../support/databases.js';
import { openStalledRequest, type StalledRequest } from '../support/raw-connections.js';
import { waitFor } from '../support/wait.js';
import { type ChaosDatabase, createChaosDatabase } from './support/chaos-database.js';
import {
  CHAOS_SECRETS,
  killAllGateways,
  printGatewayLogsOnFailure,
  startGateway,
  WEBHOOK_PATH,
} from './support/gateway-process.js';
import { recordScenario } from './support/results.js';

/** Stalled connections per wave. */
const STALLED = 2000;
/** Opened this many at a time, so the gateway's accept queue is not what refuses them. */
const OPEN_AT_ONCE = 200;
const REQUEST_TIMEOUT_MS = 5000;
/** Shorter than the request timeout: at shutdown only the shutdown itself can end the second wave. */
const SHUTDOWN_TIMEOUT_MS = 4000;

/** Authenticated webhooks that announce 1,000 bytes of body and send 100. */
const HEAD =
  `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUnipile-Auth: ${CHAOS_SECRETS.INBOUND_SECRET}\r\n` +
  'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n';

async function openWave(port: number): Promise<StalledRequest[]> {
  const opened: StalledRequest[] = [];
  for (let start = 0; start < STALLED; start += OPEN_AT_ONCE) {
    opened.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(OPEN_AT_ONCE, STALLED - start) }, () =>
          openStalledRequest(port, HEAD, 100),
        ),
      )),
    );
  }
  return opened;
}

/** Milliseconds one `GET /healthz` takes. */
async function healthLatency(url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/healthz`);
  await response.text();
  return { status: response.status, ms: Math.round(performance.now() - started) };
}

/**
 * Issue 17: request bodies that never finish. Each connection must be closed by the request
 * timeout (408), the gateway must keep serving meanwhile, and a graceful shutdown with thousands
 * of them attached must still end cleanly (exit 0) within its budget.
 */
describePostgres('2,000 stalled request bodies', () => {
  let database: ChaosDatabase | undefined;
  afterAll(async () => {
    await killAllGateways();
    await database?.dispose();
  });

  it('closes every stalled body at the request timeout, and shuts down with 0 while stalled', async () => {
    printGatewayLogsOnFailure();
    database = await createChaosDatabase();
    const gateway = await startGateway({
      databaseUrl: database.url,
      env: {
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_HEADERS_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        // The stalled clients all come from 127.0.0.1: what is measured is the timeout, not the
        // per-address cap, which would close half of them on arrival.
        HTTP_MAX_CONNECTIONS_PER_ADDRESS: String(4 * STALLED),
      },
    });

    const first = await openWave(gateway.port);
    const openedAt = performance.now();
    const whileStalled = await healthLatency(gateway.url);
    await waitFor(
      () => first.every((request) => request.socket.destroyed),
      'the request timeout closes every body',
      {
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );
    const closedAfterSeconds = (performance.now() - openedAt) / 1000;
    const timedOut = first.filter((request) => /^HTTP\/1\.1 408 /.test(request.answer())).length;

    const second = await openWave(gateway.port);
    const stopping = performance.now();
    const exitCode = await gateway.stop();
    const shutdownSeconds = (performance.now() - stopping) / 1000;
    await waitFor(
      () => second.every((request) => request.socket.destroyed),
      'the shutdown closes every body',
    );

    await recordScenario({
      id: 'stalled-bodies',
      scenario:
        `${STALLED} authenticated webhooks that send 100 of 1,000 announced body bytes and stall ` +
        `(HTTP_REQUEST_TIMEOUT_MS=${REQUEST_TIMEOUT_MS}); then ${STALLED} more, and SIGTERM ` +
        `with them attached (SHUTDOWN_TIMEOUT_MS=${SHUTDOWN_TIMEOUT_MS})`,
      sent: 2 * STALLED,
      acknowledged: timedOut + second.length,
      stored: null,
      delivered: null,
      lost: 0,
      duplicated: 0,
      notes:
        `sent = stalled connections, acknowledged = closed by the gateway (first wave answered 408: ` +
        `${timedOut}; second wave closed by the shutdown: ${second.length}); all of the first wave closed ` +
        `${closedAfterSeconds.toFixed(1)} s after the last opened; /healthz while stalled: ` +
        `${whileStalled.status} in ${whileStalled.ms} ms; shutdown exit code ${exitCode} after ` +
        `${shutdownSeconds.toFixed(1)} s`,
    });
    expect(timedOut).toBe(STALLED);
    expect(whileStalled.status).toBe(200);
    expect(exitCode).toBe(0);
    expect(gateway.output()).not.toMatch(/graceful shutdown timed out/);
  });
});
