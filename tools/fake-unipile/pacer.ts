/**
 * When each webhook of a traffic run is due: `rate` per second on average, with bursts that pull a
 * few webhooks forward. A burst is drawn only while the run is on schedule, and what it pulled
 * forward is then waited out, so the average stays `rate` at every rate (at 2/s a burst sends
 * two at once, then nothing for a second) and the run lasts its duration.
 */
export class TrafficPacer {
  readonly #rate: number;
  readonly #total: number;
  readonly #burstSize: number;
  readonly #burstChance: number;
  readonly #random: () => number;
  #due = 0;

  /**
   * @param rate webhooks per second, above 0.
   * @param total webhooks of the whole run.
   * @param burstChance chance, per call of {@link due} while on schedule, of a burst.
   */
  constructor(options: { rate: number; total: number; burstChance: number; random: () => number }) {
    this.#rate = options.rate;
    this.#total = options.total;
    // A tenth of a second's worth, at least two: a burst at any rate, never more than it can repay.
    this.#burstSize = Math.max(2, Math.round(options.rate / 10));
    this.#burstChance = options.burstChance;
    this.#random = options.random;
  }

  /** How many webhooks pulled forward at most, beyond the steady schedule. */
  get burstSize(): number {
    return this.#burstSize;
  }

  /** How many webhooks should have been sent `elapsedSeconds` into the run; never decreases. */
  due(elapsedSeconds: number): number {
    const steady = Math.min(this.#total, Math.floor(elapsedSeconds * this.#rate) + 1);
    const onSchedule = this.#due <= steady;
    this.#due = Math.max(this.#due, steady);
    if (onSchedule && this.#random() < this.#burstChance) {
      this.#due = Math.min(this.#total, this.#due + this.#burstSize);
    }
    return this.#due;
  }
}
