import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type GroupCommitOptions,
  GroupCommitter,
  retryConflicts,
} from '../../../server/shared/group-commit.js';

/** The kinds of failure a flush meets here, told apart by their class. */
class Conflict extends Error {}
class Outage extends Error {}
class Poison extends Error {}

const failures = {
  isConflict: (error: unknown) => error instanceof Conflict,
  isUnavailable: (error: unknown) => error instanceof Outage,
};

/** Submits `items` in the same turn, so that they share batches, and waits for each to settle. */
async function submitAll<Result>(committer: GroupCommitter<number, Result>, items: number[]) {
  const settled = await Promise.allSettled(items.map((item) => committer.submit(item)));
  return settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : outcome.reason));
}

/**
 * A committer over items 0..n whose flush fails a batch holding a poison item, or with the
 * errors `failAt` scripts for its nth call; `flushed` records every batch, `committed` the
 * batches that succeeded.
 */
function scripted(
  options: Partial<GroupCommitOptions<number, number>> & {
    poison?: ReadonlySet<number>;
    failAt?: ReadonlyMap<number, Error>;
  },
) {
  const flushed: number[][] = [];
  const committed: number[][] = [];
  const committer = new GroupCommitter<number, number>({
    ...failures,
    ...options,
    flush: async (items) => {
      flushed.push(items);
      const scriptedError = options.failAt?.get(flushed.length);
      if (scriptedError) throw scriptedError;
      if (items.some((item) => options.poison?.has(item))) throw new Poison('poison');
      committed.push(items);
      return items.map((item) => item * 10);
    },
  });
  return { committer, flushed, committed };
}

describe('GroupCommitter conflict retries', () => {
  it('flushes a batch that lost a race again, up to conflictRetries times', async () => {
    const conflict = new Conflict('deadlock');
    const { committer, flushed } = scripted({
      conflictRetries: 2,
      failAt: new Map([
        [1, conflict],
        [2, conflict],
      ]),
    });
    expect(await submitAll(committer, [1, 2])).toEqual([10, 20]);
    expect(flushed).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
  });

  it('fails the batch with the conflict once the retries are spent', async () => {
    const conflict = new Conflict('deadlock');
    const { committer, flushed } = scripted({
      conflictRetries: 1,
      failAt: new Map([
        [1, conflict],
        [2, conflict],
      ]),
    });
    expect(await submitAll(committer, [1, 2])).toEqual([conflict, conflict]);
    expect(flushed).toHaveLength(2);
  });

  it('never retries other errors, nor conflicts without conflictRetries', async () => {
    const { committer, flushed } = scripted({ failAt: new Map([[1, new Conflict('deadlock')]]) });
    expect(await submitAll(committer, [1])).toEqual([expect.any(Conflict)]);
    const poisoned = scripted({ conflictRetries: 5, poison: new Set([1]) });
    expect(await submitAll(poisoned.committer, [1])).toEqual([expect.any(Poison)]);
    expect([flushed.length, poisoned.flushed.length]).toEqual([1, 1]);
  });

  it('retryConflicts runs work alone the same way', async () => {
    let calls = 0;
    const work = async () => {
      calls++;
      if (calls < 3) throw new Conflict('serialization failure');
      return calls;
    };
    expect(await retryConflicts(work, { ...failures, conflictRetries: 2 })).toBe(3);
    calls = 0;
    await expect(retryConflicts(work, { ...failures, conflictRetries: 1 })).rejects.toBeInstanceOf(Conflict);
  });
});

describe('GroupCommitter isolation', () => {
  it('flushes each item of a failed batch alone, so a poison item fails alone with its own error', async () => {
    const isolated: Array<[unknown, number]> = [];
    const { committer, flushed } = scripted({
      isolate: true,
      poison: new Set([2]),
      onIsolate: (error, batchSize) => isolated.push([error, batchSize]),
    });
    const results = await submitAll(committer, [1, 2, 3]);
    expect(results.slice(0, 1).concat(results.slice(2))).toEqual([10, 30]);
    expect(results[1]).toBeInstanceOf(Poison);
    expect(flushed).toEqual([[1, 2, 3], [1], [2], [3]]);
    expect(isolated).toEqual([[expect.any(Poison), 3]]);
  });

  it('settles an item that fails alone with what the isolate function makes of it', async () => {
    const { committer } = scripted({
      isolate: (item, error) => (error instanceof Poison ? -item : Number.NaN),
      poison: new Set([2]),
    });
    expect(await submitAll(committer, [1, 2, 3])).toEqual([10, -2, 30]);
  });

  it('does not flush a lone failed item again, and rejects with what the isolate function throws', async () => {
    const refused = new Error('not even storable');
    const { committer, flushed } = scripted({
      isolate: () => {
        throw refused;
      },
      poison: new Set([1]),
    });
    expect(await submitAll(committer, [1])).toEqual([refused]);
    expect(flushed).toEqual([[1]]);
  });

  it('passes an outage through unchanged: every item fails with it, none is flushed alone', async () => {
    const outage = new Outage('connection refused');
    let hooked = false;
    const { committer, flushed } = scripted({
      isolate: (item) => -item,
      onIsolate: () => {
        hooked = true;
      },
      failAt: new Map([[1, outage]]),
    });
    expect(await submitAll(committer, [1, 2, 3])).toEqual([outage, outage, outage]);
    expect(flushed).toHaveLength(1);
    expect(hooked).toBe(false);
  });

  it('stops isolating at an outage: items flushed keep their results, the rest fail with it', async () => {
    const outage = new Outage('connection terminated');
    const { committer, flushed } = scripted({
      isolate: (item) => -item,
      poison: new Set([1]),
      failAt: new Map([[4, outage]]),
    });
    expect(await submitAll(committer, [1, 2, 3, 4])).toEqual([-1, 20, outage, outage]);
    expect(flushed).toEqual([[1, 2, 3, 4], [1], [2], [3]]);
  });

  it('retries each item alone on a conflict', async () => {
    const { committer, flushed } = scripted({
      isolate: true,
      conflictRetries: 1,
      poison: new Set([1]),
      failAt: new Map([[3, new Conflict('deadlock')]]),
    });
    const results = await submitAll(committer, [1, 2]);
    expect(results[0]).toBeInstanceOf(Poison);
    expect(results[1]).toBe(20);
    expect(flushed).toEqual([[1, 2], [1], [2], [2]]);
  });

  it('settles every item of a failed batch when the onIsolate hook throws', async () => {
    const { committer } = scripted({
      isolate: true,
      poison: new Set([1]),
      onIsolate: () => {
        throw new Error('logger broke');
      },
    });
    const results = await submitAll(committer, [1, 2]);
    expect(results[0]).toBeInstanceOf(Poison);
    expect(results[1]).toBe(20);
  });
});

describe('GroupCommitter failures, for any batches', () => {
  const sizes = fc.record({
    maxBatchSize: fc.integer({ min: 1, max: 8 }),
    concurrency: fc.integer({ min: 1, max: 3 }),
  });

  it('settles every item exactly once with its own result, committing each good item once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 39 }), { maxLength: 40 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 39 })),
        sizes,
        async (items, poison, options) => {
          const poisoned = new Set(poison);
          const { committer, committed } = scripted({
            ...options,
            isolate: (item) => -item,
            poison: poisoned,
          });
          const results = await submitAll(committer, items);
          expect(results).toEqual(items.map((item) => (poisoned.has(item) ? -item : item * 10)));
          expect(committed.flat().sort((a, b) => a - b)).toEqual(
            items.filter((item) => !poisoned.has(item)).sort((a, b) => a - b),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('under scripted conflicts and outages, an item resolves only if committed, and then exactly once', async () => {
    const errors = fc.constantFrom<Error | undefined>(
      undefined,
      new Conflict('deadlock'),
      new Outage('gone'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 29 }), { maxLength: 30 }),
        fc.array(errors, { maxLength: 40 }),
        sizes,
        fc.integer({ min: 0, max: 2 }),
        async (items, script, options, conflictRetries) => {
          const failAt = new Map<number, Error>();
          script.forEach((error, index) => {
            if (error) failAt.set(index + 1, error);
          });
          const { committer, committed } = scripted({ ...options, conflictRetries, isolate: true, failAt });
          const results = await submitAll(committer, items);
          const once = committed.flat();
          expect(new Set(once).size).toBe(once.length);
          items.forEach((item, index) => {
            const result = results[index];
            if (typeof result === 'number') expect([result, once.includes(item)]).toEqual([item * 10, true]);
            else
              expect([result instanceof Conflict || result instanceof Outage, once.includes(item)]).toEqual([
                true,
                false,
              ]);
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
