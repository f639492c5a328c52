import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { StartupError } from '../../../server/errors.js';
import {
  assertPortAvailable,
  databaseStartupError,
  dataDirStartupError,
  listenStartupError,
} from '../../../server/ops/startup-errors.js';

const failure = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('start-up errors', () => {
  it('names PORT or HOST for each listen failure an operator can fix', () => {
    expect(listenStartupError(failure('EADDRINUSE'), 3000, '0.0.0.0')).toMatchObject({
      code: 'HL_ERR_PORT_IN_USE',
      setting: 'PORT',
    });
    expect(listenStartupError(failure('EACCES'), 80, '0.0.0.0')).toMatchObject({
      code: 'HL_ERR_LISTEN',
      setting: 'PORT',
    });
    expect(listenStartupError(failure('EADDRNOTAVAIL'), 3000, '10.9.9.9')).toMatchObject({
      code: 'HL_ERR_LISTEN',
      setting: 'HOST',
    });
    expect(listenStartupError(failure('EMFILE'), 3000, '0.0.0.0')).toBeUndefined();
  });

  it('finds a port in use before anything starts', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      await expect(assertPortAvailable(port, '127.0.0.1')).rejects.toMatchObject({
        code: 'HL_ERR_PORT_IN_USE',
      });
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
    await expect(assertPortAvailable(port, '127.0.0.1')).resolves.toBeUndefined();
    await expect(assertPortAvailable(0, '127.0.0.1')).resolves.toBeUndefined();
  });

  it('names DATABASE_URL for a refused, unreachable, missing or unauthorised database, never its password', () => {
    const url = 'postgres://app:s3cret@db.internal:6543/hookline';
    const cases: [unknown, string][] = [
      [failure('ECONNREFUSED'), 'HL_ERR_DATABASE_UNREACHABLE'],
      [failure('ENOTFOUND'), 'HL_ERR_DATABASE_UNREACHABLE'],
      [new Error('timeout exceeded when trying to connect'), 'HL_ERR_DATABASE_UNREACHABLE'],
      [new Error('wrapped', { cause: failure('EHOSTUNREACH') }), 'HL_ERR_DATABASE_UNREACHABLE'],
      [failure('3D000'), 'HL_ERR_DATABASE_MISSING'],
      [failure('28P01'), 'HL_ERR_DATABASE_AUTH'],
    ];
    for (const [error, code] of cases) {
      const found = databaseStartupError(error, url);
      expect(found, code).toBeInstanceOf(StartupError);
      expect(found).toMatchObject({ code, setting: 'DATABASE_URL' });
      expect(found?.message).not.toContain('s3cret');
      expect(found?.message).toContain('db.internal:6543');
    }
    expect(databaseStartupError(failure('42P01'), url)).toBeUndefined();
  });

  it('names DATA_DIR when it cannot be written or is no directory', () => {
    for (const code of ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR']) {
      expect(dataDirStartupError(failure(code), '/data'), code).toMatchObject({
        code: 'HL_ERR_DATA_DIR',
        setting: 'DATA_DIR',
      });
    }
    expect(dataDirStartupError(failure('ENOSPC'), '/data')).toBeUndefined();
  });
});
