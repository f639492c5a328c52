import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { appendEvents, messageNew, metricValue, mintToken } from '../../support/realtime.js';
import { waitFor } from '../../support/wait.js';
import { connectClient, messagesUrl } from '../../support/ws-client.js';

const CAP = 64 * 1024;
const TEXT = 'x'.repeat(8 * 1024);
const BATCH = 50;
/** The cap is checked before each page the shared reader publishes: here one batch per page. */
const BOUND = CAP + BATCH * (TEXT.length + 1024);

describe.each(testDatabaseKinds())('slow consumers on %s', (kind) => {
  const t = useTestApp(kind, { env: { REALTIME_MAX_BUFFERED_BYTES: String(CAP) } });

  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  it('closes a client that stops reading with 1013, its unsent bytes bounded by the cap plus one page', async () => {
    const token = await mintToken(t.app, ['acc-slow']);
    const slow = await connectClient(messagesUrl(t.app, { token }));
    const healthy = await connectClient(messagesUrl(t.app, { token }));
    slow.socket.pause();

    // Up to 16 MiB: far more than the bound plus both kernels' socket buffers.
    let peak = 0;
    let last = 0;
    for (
      let batch = 0;
      batch < 40 && (await metricValue(t.app, 'hookline_realtime_slow_consumers_total')) === 0;
      batch++
    ) {
      last = await appendEvents(
        t.app,
        Array.from({ length: BATCH }, (_, i) => messageNew('acc-slow', batch * BATCH + i, TEXT)),
      );
      for (const socket of t.app.websocketServer.clients) peak = Math.max(peak, socket.bufferedAmount);
      // The healthy client keeps up; the slow one falls further behind with every batch.
      await waitFor(() => healthy.events().at(-1)?.seq === last, 'the healthy client keeps up');
    }
    await waitFor(
      async () => (await metricValue(t.app, 'hookline_realtime_slow_consumers_total')) === 1,
      'the slow consumer is dropped',
    );
    slow.socket.resume();
    expect(await slow.closed).toBe(1013);
    expect(peak).toBeLessThanOrEqual(BOUND);

    await waitFor(() => t.app.websocketServer.clients.size === 1, 'the server forgets the slow socket');
    expect(await metricValue(t.app, 'hookline_realtime_connections')).toBe(1);
    expect(await metricValue(t.app, 'hookline_realtime_slow_consumers_total')).toBe(1);
    await healthy.close();
  });
});
