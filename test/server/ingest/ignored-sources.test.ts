import type { FastifyBaseLogger } from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { IgnoredSources } from '../../../server/ingest/ignored-sources.js';
import { unipileWebhook } from '../../../server/providers/unipile/index.js';

function setup() {
  const warnings: { source: string; message: string }[] = [];
  const logger = {
    warn: (fields: { source: string }, message: string) => warnings.push({ source: fields.source, message }),
  } as unknown as FastifyBaseLogger;
  const clock = { now: 0 };
  const metrics = new Registry();
  const ignored = new IgnoredSources({
    logger,
    metrics,
    advice: unipileWebhook.ignoredAdvice,
    now: () => clock.now,
  });
  const count = async (source: string) =>
    (await metrics.getSingleMetric('hookline_ingest_ignored_total')?.get())?.values.find(
      (value) => value.labels.source === source,
    )?.value ?? 0;
  return { ignored, warnings, clock, count };
}

describe('IgnoredSources', () => {
  it('counts every webhook but warns at most once per source per hour', async () => {
    const { ignored, warnings, clock, count } = setup();
    for (let i = 0; i < 5; i++) ignored.record('mail_received');
    ignored.record('none');
    clock.now = 59 * 60 * 1000;
    ignored.record('mail_received');
    expect(warnings.map((warning) => warning.source)).toEqual(['mail_received', 'none']);
    clock.now = 61 * 60 * 1000;
    ignored.record('mail_received');
    expect(warnings.map((warning) => warning.source)).toEqual(['mail_received', 'none', 'mail_received']);
    expect(await count('mail_received')).toBe(7);
    expect(await count('none')).toBe(1);
  });

  it('names what to fix on the provider', () => {
    const { ignored, warnings } = setup();
    ignored.record('new_relation');
    ignored.record('none');
    expect(warnings[0]?.message).toContain('"new_relation"');
    expect(warnings[0]?.message).toContain('Remove that source or event from the Unipile webhook');
    expect(warnings[1]?.message).toContain('notify_url');
  });

  it('keeps the number of sources bounded', async () => {
    const { ignored, count } = setup();
    for (let i = 0; i < 150; i++) ignored.record(`event_${i}`);
    expect(await count('event_99')).toBe(1);
    expect(await count('event_100')).toBe(0);
    expect(await count('other')).toBe(50);
  });
});
