import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TrafficPacer } from '../../../tools/fake-unipile/pacer.js';

describe('the traffic pacer', () => {
  it('keeps to its rate at every rate: never more than one burst ahead, and all sent by the end', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 20_000, noNaN: true }),
        fc.double({ min: 0.1, max: 30, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 0.5, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.integer(),
        (rate, duration, burstChance, steps, seed) => {
          const total = Math.round(rate * duration);
          let state = seed;
          const random = () => {
            state = (state * 1103515245 + 12345) % 2 ** 31;
            return Math.abs(state) / 2 ** 31;
          };
          const pacer = new TrafficPacer({ rate, total, burstChance, random });
          let elapsed = 0;
          let previous = 0;
          for (const step of steps) {
            elapsed += step;
            const due = pacer.due(elapsed);
            expect(due).toBeGreaterThanOrEqual(previous);
            expect(due).toBeLessThanOrEqual(
              Math.min(total, Math.floor(elapsed * rate) + 1 + pacer.burstSize),
            );
            previous = due;
          }
          expect(pacer.due(duration)).toBe(total);
        },
      ),
    );
  });

  it('sends 2/s as 2/s: bursts at a low rate are two webhooks, then a pause', () => {
    const pacer = new TrafficPacer({ rate: 2, total: 240, burstChance: 1, random: () => 0 });
    const dueAt = (seconds: number) => pacer.due(seconds);
    const sent = [0, 1, 2, 3, 4, 5, 10].map(dueAt);
    expect(sent.at(-1)).toBeLessThanOrEqual(2 * 10 + 1 + 2);
  });
});
