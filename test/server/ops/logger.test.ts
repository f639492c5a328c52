import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../server/ops/logger.js';

/** A logger at info that writes into a string, and what it has written so far. */
function capturedLogger() {
  let written = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      written += chunk;
      done();
    },
  });
  return {
    logger: createLogger({ level: 'info', destination: destination as never }),
    output: () => written,
  };
}

describe('createLogger', () => {
  it('masks URL credentials in logged errors, message and stack', () => {
    const { logger, output } = capturedLogger();
    logger.warn(
      { err: new Error('connect to postgres://hookline:hunter2@db:5432/hookline failed') },
      'database unavailable',
    );
    expect(output()).toContain('postgres://[redacted]@db:5432/hookline');
    expect(output()).not.toContain('hunter2');
  });

  it('never logs the parameters of a failed query (message texts, raw bodies)', () => {
    const { logger, output } = capturedLogger();
    // The shape drizzle gives a failed query: the values written in its message and a field.
    const failed = Object.assign(
      new Error('Failed query: insert into messages (text) values ($1)\nparams: the private message body'),
      { query: 'insert into messages (text) values ($1)', params: ['the private message body'] },
    );
    logger.error({ err: failed }, 'sync failed');
    expect(output()).toContain('Failed query: insert into messages');
    expect(output()).not.toContain('the private message body');
  });
});
