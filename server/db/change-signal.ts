/** What one committed ingest transaction changed, for in-process wake-ups. */
export interface CommittedChange {
  /** Highest realtime `seq` the transaction appended, if any. */
  realtimeSeq?: number;
  /** How many outbound deliveries it enqueued. */
  deliveries?: number;
}

/** A subscriber of {@link ChangeSignal}, called synchronously after each commit; a throw is ignored. */
export type ChangeListener = (change: CommittedChange) => void;

/**
 * In-process fan-out of "a transaction committed": the realtime hub and the outbound worker of
 * this instance wake on it at once, without waiting for NOTIFY (which other instances use) or a
 * poll. A hint only: listeners read rows from the database, never data from here.
 */
export class ChangeSignal {
  readonly #listeners = new Set<ChangeListener>();

  /** @returns a function that unsubscribes. */
  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(change: CommittedChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch {
        // A listener's bug must not fail the ingest request whose commit it was told about.
      }
    }
  }
}
