import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../server/ops/logger.js';

describe('createLogger', () => {
  it('masks URL credentials in logged errors, message and stack', () => {
    let output = '';
    const destination = new Writable({
      write(chunk, _encoding, done) {
        output += chunk;
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination: destination as never });
    logger.warn(
      { err: new Error('connect to postgres://hookline:hunter2@db:5432/hookline failed') },
      'database unavailable',
    );
    expect(output).toContain('postgres://[redacted]@db:5432/hookline');
    expect(output).not.toContain('hunter2');
  });
});
