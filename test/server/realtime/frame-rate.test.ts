import { describe, expect, it } from 'vitest';
import { FrameRateLimit } from '../../../server/realtime/frame-rate.js';

describe('FrameRateLimit', () => {
  it('allows the burst at once, then the steady rate, and never saves up more than the burst', () => {
    let now = 0;
    const limit = new FrameRateLimit(3, 2, () => now);
    expect([limit.take(), limit.take(), limit.take(), limit.take()]).toEqual([true, true, true, false]);
    now += 499;
    expect(limit.take()).toBe(false);
    now += 1;
    expect(limit.take()).toBe(true);
    expect(limit.take()).toBe(false);
    now += 60_000;
    expect([limit.take(), limit.take(), limit.take(), limit.take()]).toEqual([true, true, true, false]);
  });

  it('refuses every frame of a flood beyond the burst while no time passes', () => {
    const limit = new FrameRateLimit(20, 2, () => 0);
    const taken = Array.from({ length: 10_000 }, () => limit.take()).filter(Boolean);
    expect(taken).toHaveLength(20);
  });
});
