import type { RealtimeEventRow } from './queries/realtime-reads.js';

/** How the feed reads committed events and hands them to the hub. */
export interface RealtimeFeedOptions {
  /** Reads up to `limit` events with `seq > afterSeq`, in `seq` order. */
  read(afterSeq: number, limit: number): Promise<RealtimeEventRow[]>;
  /** Receives each page, in order. */
  publish(rows: readonly RealtimeEventRow[]): void;
  /** Called when a read fails; the next wake-up or poll retries from the same `seq`. */
  onError(error: unknown): void;
  /** Rows per read. */
  pageSize: number;
  /** Whether any socket would receive what a read returns. */
  hasSubscribers(): boolean;
}

/**
 * The one reader of new realtime events per instance. Wake-ups (the in-process commit signal,
 * NOTIFY, the poll) are hints only: it always reads rows after the last `seq` it published, so a
 * hint that is lost, late or repeated changes nothing but latency. Reads never overlap: a wake-up
 * during a read makes that read loop once more.
 */
export class RealtimeFeed {
  readonly #options: RealtimeFeedOptions;
  #lastSeen: number;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(options: RealtimeFeedOptions, startAfterSeq: number) {
    this.#options = options;
    this.#lastSeen = startAfterSeq;
  }

  /** The highest `seq` published: every event after it reaches subscribers added now. */
  get lastSeen(): number {
    return this.#lastSeen;
  }

  /**
   * Reads and publishes new events; `hintSeq` at or below what was already seen skips the read.
   *
   * With no socket to publish to, a hint is taken as read without reading: hints are the highest
   * `seq` of a committed transaction, and `seq` order is commit order, so every event up to the
   * hint is committed (or a hole) and a socket that connects later replays it from the database
   * (see runSession). An instance nobody is connected to then reads nothing back per commit.
   */
  wake(hintSeq?: number): void {
    if (hintSeq !== undefined && hintSeq <= this.#lastSeen) return;
    if (hintSeq !== undefined && !this.#running && !this.#options.hasSubscribers()) {
      this.#lastSeen = hintSeq;
      return;
    }
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves when no read is in progress (for shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    do {
      this.#again = false;
      try {
        for (;;) {
          const rows = await this.#options.read(this.#lastSeen, this.#options.pageSize);
          const last = rows.at(-1);
          if (!last) break;
          this.#options.publish(rows);
          this.#lastSeen = last.seq;
          if (rows.length < this.#options.pageSize) break;
        }
      } catch (error) {
        this.#options.onError(error);
        return;
      }
    } while (this.#again);
  }
}
