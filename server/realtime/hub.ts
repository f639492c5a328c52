import type { RealtimeEventRow } from '../db/realtime-reads.js';
import { prepareEvent } from './envelope.js';
import type { RealtimeMetrics } from './metrics.js';
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
   * One heartbeat for every socket: terminate those that did not answer the previous ping, close
   * those whose token expired, ping the rest. One timer for all sockets, not one each.
   */
  heartbeat(nowSeconds: number): void {
    for (const subscriber of this.#all) {
      if (!subscriber.alive) {
        subscriber.socket.terminate();
        continue;
      }
      if (subscriber.grant.expiresAt <= nowSeconds) {
        subscriber.close('tokenExpired');
        continue;
      }
      subscriber.alive = false;
      subscriber.socket.ping();
    }
  }

  /** Closes every socket, for shutdown. */
  closeAll(): void {
    for (const subscriber of this.#all) subscriber.close('shutdown');
  }
}
