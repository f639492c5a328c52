import { prepareEvent } from './envelope.js';
import type { RealtimeMetrics } from './metrics.js';
import type { RealtimeEventRow } from './queries/realtime-reads.js';
import type { Subscriber } from './subscriber.js';

/**
 * This instance's open sockets, indexed by account so that publishing one event touches only the
 * sockets that want it. Each event is serialized once whatever the number of recipients.
 */
export class RealtimeHub {
  readonly #byAccount = new Map<string, Set<Subscriber>>();
  /** Sockets of all-accounts (dev) tokens. */
  readonly #everyAccount = new Set<Subscriber>();
  readonly #all = new Set<Subscriber>();
  readonly #metrics: RealtimeMetrics;
  /** Numbers the pages published, for the subscribers' once-per-page buffer check. */
  #page = 0;
  /** The heartbeat round in progress: the sockets it visits, and how far it got. */
  #round: { sockets: Subscriber[]; slice: number } = { sockets: [], slice: Number.POSITIVE_INFINITY };

  constructor(metrics: RealtimeMetrics) {
    this.#metrics = metrics;
  }

  get size(): number {
    return this.#all.size;
  }

  add(subscriber: Subscriber): void {
    this.#all.add(subscriber);
    const { scope } = subscriber.grant;
    if (scope.kind === 'all') {
      this.#everyAccount.add(subscriber);
    } else {
      for (const accountId of scope.accountIds) {
        let set = this.#byAccount.get(accountId);
        if (!set) {
          set = new Set();
          this.#byAccount.set(accountId, set);
        }
        set.add(subscriber);
      }
    }
    this.#metrics.connections.set(this.#all.size);
  }

  remove(subscriber: Subscriber): void {
    if (!this.#all.delete(subscriber)) return;
    this.#everyAccount.delete(subscriber);
    const { scope } = subscriber.grant;
    if (scope.kind === 'accounts') {
      for (const accountId of scope.accountIds) {
        const set = this.#byAccount.get(accountId);
        set?.delete(subscriber);
        if (set?.size === 0) this.#byAccount.delete(accountId);
      }
    }
    this.#metrics.connections.set(this.#all.size);
  }

  /** Live delivery of committed events, in `seq` order, to every socket scoped to their account. */
  publish(rows: readonly RealtimeEventRow[]): void {
    const page = ++this.#page;
    for (const row of rows) {
      const targets = this.#byAccount.get(row.accountId);
      if (!targets && this.#everyAccount.size === 0) continue;
      const event = prepareEvent(row);
      for (const subscriber of targets ?? []) subscriber.offer(event, page);
      for (const subscriber of this.#everyAccount) subscriber.offer(event, page);
      this.#metrics.fanoutLatency.observe(Math.max(0, Date.now() - row.createdAt.getTime()) / 1000);
    }
  }

  /**
   * One slice of the heartbeat: the next `1 / slices` of the sockets open when the current round
   * began. Each is terminated if it did not answer its previous ping, closed if its token expired,
   * or pinged. Called `slices` times per heartbeat interval, so every socket is visited once per
   * interval, and 10,000 pings (one write each) are spread over the interval instead of blocking
   * the event loop for a few hundred milliseconds at once. One timer for all sockets.
   */
  heartbeatSlice(nowSeconds: number, slices: number): void {
    if (this.#round.slice >= slices) this.#round = { sockets: [...this.#all], slice: 0 };
    const { sockets } = this.#round;
    const slice = this.#round.slice++;
    const end = Math.floor(((slice + 1) * sockets.length) / slices);
    for (let index = Math.floor((slice * sockets.length) / slices); index < end; index++) {
      const subscriber = sockets[index];
      if (subscriber && this.#all.has(subscriber)) this.#heartbeat(subscriber, nowSeconds);
    }
  }

  #heartbeat(subscriber: Subscriber, nowSeconds: number): void {
    if (!subscriber.alive) {
      subscriber.socket.terminate();
      return;
    }
    if (subscriber.grant.expiresAt <= nowSeconds) {
      subscriber.close('tokenExpired');
      return;
    }
    subscriber.alive = false;
    subscriber.ping();
  }

  /** Closes every socket of a revoked session with 4003. */
  closeSession(sessionId: string): void {
    for (const subscriber of this.#all) {
      if (subscriber.grant.session?.id === sessionId) subscriber.close('sessionRevoked');
    }
  }

  /** Closes every socket, for shutdown. */
  closeAll(): void {
    for (const subscriber of this.#all) subscriber.close('shutdown');
  }
}
