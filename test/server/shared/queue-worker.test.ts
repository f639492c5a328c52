import { describe, expect, it } from 'vitest';
import { queueRetryDelay } from '../../../server/shared/queue-worker.js';

describe('queueRetryDelay', () => {
  it('waits retryMinMs after the first failure, doubles per attempt, and stops at five minutes', () => {
    expect(queueRetryDelay(1000, 1)).toBe(1000);
    expect(queueRetryDelay(1000, 2)).toBe(2000);
    expect(queueRetryDelay(1000, 5)).toBe(16_000);
    expect(queueRetryDelay(1000, 9)).toBe(256_000);
    expect(queueRetryDelay(1000, 10)).toBe(300_000);
    expect(queueRetryDelay(1000, 60)).toBe(300_000);
  });
});
