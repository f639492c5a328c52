import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ResponseTooLargeError,
  readBoundedText,
  readPages,
} from '../../../../server/providers/unipile/bounded-read.js';

describe('readPages', () => {
  it('ends every listing: within maxPages calls, at the first cursor seen twice, or at null', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { nil: null }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 10 }),
        async (cursors, maxPages) => {
          let calls = 0;
          const outcome = await readPages(
            async () => {
              const cursor = calls < cursors.length ? cursors[calls]! : 'z';
              calls++;
              return { items: [calls], cursor };
            },
            maxPages,
            (reason) => new Error(reason),
          ).then(
            (items) => ({ ok: true as const, items }),
            (error: Error) => ({ ok: false as const, reason: error.message }),
          );
          expect(calls).toBeLessThanOrEqual(maxPages);
          if (outcome.ok) expect(outcome.items).toHaveLength(calls);
          else expect(['cursor_cycle', 'too_many_pages']).toContain(outcome.reason);
        },
      ),
    );
  });

  it('fails a cycle a → b → a with cursor_cycle after three pages', async () => {
    const answers = ['a', 'b', 'a', 'b'];
    let calls = 0;
    await expect(
      readPages(
        async () => ({ items: [], cursor: answers[calls++] ?? null }),
        100,
        (reason) => new Error(reason),
      ),
    ).rejects.toThrow('cursor_cycle');
    expect(calls).toBe(3);
  });
});

describe('readBoundedText', () => {
  it('reads an answer up to the cap whole', async () => {
    expect(await readBoundedText(Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]), 7)).toBe(
      '{"a":1}',
    );
  });

  it('abandons an answer past the cap where it crosses it, and counts it', async () => {
    let produced = 0;
    const endless = Readable.from(
      (function* () {
        for (;;) {
          produced++;
          yield Buffer.alloc(1024, 0x20);
        }
      })(),
    );
    let counted = 0;
    await expect(readBoundedText(endless, 64 * 1024, () => counted++)).rejects.toBeInstanceOf(
      ResponseTooLargeError,
    );
    expect(counted).toBe(1);
    expect(endless.destroyed).toBe(true);
    expect(produced).toBeLessThan(200);
  });
});
