import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../../server/shared/group-commit.js';

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

  describe('overlapMinBatch', () => {
    /** A committer whose first batch stays committing until `gate` is released. */
    function firstBatchHeld(options: {
      maxBatchSize?: number;
      overlapMinBatch: number;
      overlapMaxWaitMs: number;
    }) {
      const gate = deferred();
      const batches: number[][] = [];
      const committer = new GroupCommitter<number, number>({
        concurrency: 2,
        ...options,
        flush: async (items) => {
          batches.push(items);
          if (batches.length === 1) await gate.promise;
          return items;
        },
      });
      return { committer, batches, gate };
    }

    /** Submits 0 and lets its batch start, so that it is committing; `first` settles with it. */
    async function committingFirst(committer: GroupCommitter<number, number>) {
      const first = committer.submit(0);
      await new Promise((resolve) => setImmediate(resolve));
      return { first };
    }

    it('holds a small batch back while another commits, and starts it when that one commits', async () => {
      const { committer, batches, gate } = firstBatchHeld({ overlapMinBatch: 3, overlapMaxWaitMs: 60_000 });
      const { first } = await committingFirst(committer);
      const second = committer.submit(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(batches).toEqual([[0]]);
      gate.release();
      expect(await Promise.all([first, second])).toEqual([0, 1]);
      expect(batches).toEqual([[0], [1]]);
    });

    it('starts a second batch beside a committing one once enough items wait', async () => {
      const { committer, batches, gate } = firstBatchHeld({ overlapMinBatch: 3, overlapMaxWaitMs: 60_000 });
      const { first } = await committingFirst(committer);
      expect(await Promise.all([1, 2, 3].map((item) => committer.submit(item)))).toEqual([1, 2, 3]);
      expect(batches).toEqual([[0], [1, 2, 3]]);
      gate.release();
      expect(await first).toBe(0);
    });

    it('starts a small batch anyway after overlapMaxWaitMs', async () => {
      const { committer, batches, gate } = firstBatchHeld({ overlapMinBatch: 100, overlapMaxWaitMs: 1 });
      const { first } = await committingFirst(committer);
      expect(await committer.submit(1)).toBe(1);
      expect(batches).toEqual([[0], [1]]);
      gate.release();
      expect(await first).toBe(0);
    });

    it('never waits for more items than a batch may hold', async () => {
      const { committer, batches, gate } = firstBatchHeld({
        maxBatchSize: 2,
        overlapMinBatch: 50,
        overlapMaxWaitMs: 60_000,
      });
      const { first } = await committingFirst(committer);
      expect(await Promise.all([committer.submit(1), committer.submit(2)])).toEqual([1, 2]);
      expect(batches).toEqual([[0], [1, 2]]);
      gate.release();
      expect(await first).toBe(0);
    });

    it('drains items held back for company', async () => {
      const { committer, gate } = firstBatchHeld({ overlapMinBatch: 10, overlapMaxWaitMs: 60_000 });
      const submitted = [(await committingFirst(committer)).first];
      submitted.push(committer.submit(1));
      const drained = committer.drain();
      gate.release();
      await drained;
      expect(await Promise.all(submitted)).toEqual([0, 1]);
    });
  });
});
