import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../../server/ingest/group-commit.js';

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

describe('GroupCommitter', () => {
  it('flushes a lone item at once and resolves it with its own result', async () => {
    const batches: number[][] = [];
    const committer = new GroupCommitter<number, string>({
      flush: async (items) => {
        batches.push(items);
        return items.map((item) => `done ${item}`);
      },
    });
    expect(await committer.submit(1)).toBe('done 1');
    expect(batches).toEqual([[1]]);
  });

  it('gathers items that arrive while a batch commits into the next batch', async () => {
    const gate = deferred();
    const batches: number[][] = [];
    const committer = new GroupCommitter<number, number>({
      concurrency: 1,
      flush: async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate.promise;
        return items;
      },
    });
    const first = committer.submit(0);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [1, 2, 3, 4].map((item) => committer.submit(item));
    gate.release();
    expect(await Promise.all([first, ...rest])).toEqual([0, 1, 2, 3, 4]);
    expect(batches).toEqual([[0], [1, 2, 3, 4]]);
  });

  it('never exceeds maxBatchSize or concurrency', async () => {
    let running = 0;
    let maxRunning = 0;
    const sizes: number[] = [];
    const committer = new GroupCommitter<number, number>({
      maxBatchSize: 10,
      concurrency: 2,
      flush: async (items) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        sizes.push(items.length);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running--;
        return items;
      },
    });
    const results = await Promise.all(Array.from({ length: 95 }, (_, index) => committer.submit(index)));
    expect(results).toEqual(Array.from({ length: 95 }, (_, index) => index));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(maxRunning).toBeLessThanOrEqual(2);
  });

  it('fails every item of a failed batch, and only that batch', async () => {
    let calls = 0;
    const committer = new GroupCommitter<number, number>({
      concurrency: 1,
      flush: async (items) => {
        calls++;
        if (calls === 1) throw new Error('commit failed');
        return items;
      },
    });
    const failed = committer.submit(1);
    await expect(failed).rejects.toThrow('commit failed');
    expect(await committer.submit(2)).toBe(2);
  });

  it('refuses new items with HL_ERR_UNAVAILABLE beyond maxQueued, and drains what it accepted', async () => {
    const gate = deferred();
    const committer = new GroupCommitter<number, number>({
      concurrency: 1,
      maxBatchSize: 1,
      maxQueued: 2,
      flush: async (items) => {
        await gate.promise;
        return items;
      },
    });
    const accepted = [committer.submit(1)];
    await new Promise((resolve) => setImmediate(resolve));
    accepted.push(committer.submit(2), committer.submit(3));
    await expect(committer.submit(4)).rejects.toMatchObject({ code: 'HL_ERR_UNAVAILABLE' });
    gate.release();
    await committer.drain();
    expect(await Promise.all(accepted)).toEqual([1, 2, 3]);
  });
});
