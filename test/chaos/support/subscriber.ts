import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** How the subscriber answers right now. */
export type SubscriberMode = 'up' | 'unavailable' | 'hold';

export interface Subscriber {
  /** `http://127.0.0.1:<port>/hook`; the port survives {@link Subscriber.goOffline}. */
  readonly url: string;
  /** Every request that arrived, in order, redeliveries included. */
  readonly requests: Array<{ webhookId: string; answered: number | 'held' }>;
  /** Webhook ids processed once each (a verified request answered 200), with their bodies. */
  readonly processed: Map<string, { messageId?: string }>;
  /** Requests answered 200 for an id already processed: at-least-once redeliveries, deduped here. */
  readonly redeliveries: number;
  /** Requests whose Standard Webhooks signature did not verify. */
  readonly badSignatures: number;
  /** Requests being held open right now. */
  readonly held: number;
  /** The endpoint's `whsec_` secret, known once the endpoint is created. */
  useSecret(secret: string): void;
  setMode(mode: SubscriberMode): void;
  /** Closes the listening socket (connections are refused) until {@link Subscriber.goOnline}. */
  goOffline(): Promise<void>;
  goOnline(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A subscriber endpoint that behaves like a careful real one: it verifies every signature with
 * the independent `standardwebhooks` library and dedupes by `webhook-id`, so redeliveries (which
 * at-least-once delivery allows) are counted but processed once.
 */
export async function startSubscriber(initialMode: SubscriberMode): Promise<Subscriber> {
  let mode = initialMode;
  let verifier: Webhook | undefined;
  let redeliveries = 0;
  let badSignatures = 0;
  const requests: Subscriber['requests'] = [];
  const processed: Subscriber['processed'] = new Map();
  const open = new Set<ServerResponse>();

  const handle = (headers: IncomingHttpHeaders, body: string, response: ServerResponse) => {
    const webhookId = String(headers['webhook-id']);
    if (mode === 'hold') {
      requests.push({ webhookId, answered: 'held' });
      return;
    }
    const status = mode === 'up' ? 200 : 503;
    requests.push({ webhookId, answered: status });
    if (status === 200) {
      let payload: { data?: { messageId?: string } } | undefined;
      try {
        payload = verifier?.verify(body, headers as Record<string, string>) as typeof payload;
      } catch {
        payload = undefined;
      }
      if (!payload) {
        badSignatures++;
        response.writeHead(400).end();
        return;
      }
      if (processed.has(webhookId)) redeliveries++;
      else processed.set(webhookId, payload.data?.messageId ? { messageId: payload.data.messageId } : {});
    }
    response.writeHead(status).end();
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    open.add(response);
    response.on('close', () => open.delete(response));
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request.headers, Buffer.concat(chunks).toString('utf8'), response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const goOffline = async () => {
    for (const response of open) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    processed,
    get redeliveries() {
      return redeliveries;
    },
    get badSignatures() {
      return badSignatures;
    },
    get held() {
      return open.size;
    },
    useSecret: (secret) => {
      verifier = new Webhook(secret);
    },
    setMode: (next) => {
      mode = next;
    },
    goOffline,
    goOnline: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: () => (server.listening ? goOffline() : Promise.resolve()),
  };
}
