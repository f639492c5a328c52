/** The default clock, one function for every bucket (a default written inline is a closure per bucket). */
const monotonicNow = () => performance.now();

/**
 * A token bucket for one socket's client frames: up to `burst` frames at once, then `perSecond`
 * frames a second on average. Frames are cheap for a client to send and each one costs the
 * server a parse and often an answer, so the bucket bounds what one socket can make it do.
 */
export class FrameRateLimit {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  /**
   * @param burst frames allowed at once (the bucket's size).
   * @param perSecond frames refilled per second.
   * @param now a monotonic clock in milliseconds; default `performance.now`.
   */
  constructor(burst: number, perSecond: number, now: () => number = monotonicNow) {
    this.#burst = burst;
    this.#perMs = perSecond / 1000;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  /** Takes one frame's token; false when the bucket is empty (the frame is over the limit). */
  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#perMs);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
