import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../server/config.js';
import { HooklineError } from '../../server/errors.js';

function configError(env: Record<string, string>): HooklineError {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof HooklineError) return error;
    throw error;
  }
  throw new Error('expected parseConfig to throw');
}

describe('parseConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATA_DIR: './data',
      ALLOW_PRIVATE_ENDPOINTS: false,
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: 10_000,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.WEBHOOK_BASE_URL).toBeUndefined();
    expect(config.INBOUND_SECRET).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    expect(parseConfig({ PORT: '', DATABASE_URL: '', WEBHOOK_BASE_URL: '' })).toMatchObject({ PORT: 3000 });
  });

  it('accepts a full valid environment', () => {
    const config = parseConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://user:pw@db:5432/hookline',
      DATA_DIR: '/var/lib/hookline',
      WEBHOOK_BASE_URL: 'https://hooks.example.com/',
      UNIPILE_DSN: 'api8.unipile.com:13443',
      UNIPILE_API_KEY: 'key',
      INBOUND_SECRET: 'a'.repeat(16),
      API_TOKEN: 'b'.repeat(16),
      REALTIME_JWT_SECRET: 'c'.repeat(32),
      ENCRYPTION_KEY: 'ab'.repeat(32),
      ALLOW_PRIVATE_ENDPOINTS: 'true',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({ PORT: 8080, ALLOW_PRIVATE_ENDPOINTS: true, LOG_LEVEL: 'debug' });
    expect(config.WEBHOOK_BASE_URL).toBe('https://hooks.example.com');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '1.5'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_POOL_SIZE', '0'],
    ['WEBHOOK_BASE_URL', 'ftp://example.com'],
    ['INBOUND_SECRET', 'short'],
    ['API_TOKEN', 'short'],
    ['REALTIME_JWT_SECRET', 'too-short-for-hs256'],
    ['ENCRYPTION_KEY', 'not-a-key'],
    ['ALLOW_PRIVATE_ENDPOINTS', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_FORMAT', 'xml'],
    ['SHUTDOWN_TIMEOUT_MS', '-1'],
  ])('rejects %s=%j with HL_ERR_CONFIG naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.code).toBe('HL_ERR_CONFIG');
    expect(error.message).toContain(`${name}:`);
    expect(error.details).toEqual({ variables: [name] });
  });

  it('names every invalid variable in one message', () => {
    const error = configError({ PORT: 'x', LOG_LEVEL: 'loud' });
    expect(error.details).toEqual({ variables: expect.arrayContaining(['PORT', 'LOG_LEVEL']) });
  });

  it('never echoes a secret value back in the error', () => {
    const error = configError({ INBOUND_SECRET: 'leaky', ENCRYPTION_KEY: 'leaky-key-value' });
    expect(error.message).not.toContain('leaky');
  });
});

describe('parseConfig: provider registration (issue 4)', () => {
  it('defaults to instance `default`, no deregistration, 10 s calls and 1 s to 5 min retries', () => {
    expect(parseConfig({})).toMatchObject({
      UNIPILE_WEBHOOK_INSTANCE: 'default',
      UNIPILE_DEREGISTER_ON_SHUTDOWN: false,
      UNIPILE_TIMEOUT_MS: 10_000,
      UNIPILE_RETRY_MIN_MS: 1000,
      UNIPILE_RETRY_MAX_MS: 300_000,
    });
  });

  it.each([
    ['UNIPILE_WEBHOOK_INSTANCE', 'has spaces'],
    ['UNIPILE_WEBHOOK_INSTANCE', 'a:b'],
    ['UNIPILE_DEREGISTER_ON_SHUTDOWN', 'maybe'],
    ['UNIPILE_TIMEOUT_MS', '50'],
    ['UNIPILE_RETRY_MIN_MS', 'soon'],
    ['UNIPILE_RETRY_MAX_MS', '0'],
  ])('rejects %s=%j with HL_ERR_CONFIG naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.code).toBe('HL_ERR_CONFIG');
    expect(error.details).toEqual({ variables: [name] });
  });

  it('never echoes the password of an invalid DATABASE_URL, nor any URL credential', () => {
    for (const value of [
      'mysql://hookline:hunter2-secret@db:3306/hookline',
      'postgres://hookline:hunter2-secret@d b:5432/hookline',
      'postgres://hookline:hunter2-secret',
      'hookline:hunter2-secret@db',
    ]) {
      const error = configError({ DATABASE_URL: value });
      expect(error.message).toContain('DATABASE_URL:');
      expect(error.message).not.toContain('hunter2');
    }
    expect(configError({ WEBHOOK_BASE_URL: 'ftp://u:hunter2@hooks.example.com' }).message).not.toContain(
      'hunter2',
    );
  });

  it('reads TRUST_PROXY in fastify’s forms and METRICS_TOKEN, with the documented defaults', () => {
    expect(parseConfig({})).toMatchObject({
      TRUST_PROXY: false,
      AUTH_FAILURE_LIMIT: 30,
      AUTH_FAILURE_WINDOW_SECONDS: 60,
    });
    expect(parseConfig({}).METRICS_TOKEN).toBeUndefined();
    expect(parseConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(parseConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(parseConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(parseConfig({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,::1,fd00::/8,loopback' }).TRUST_PROXY).toEqual([
      '10.0.0.1',
      '10.1.0.0/16',
      '::1',
      'fd00::/8',
      'loopback',
    ]);
  });

  it.each([
    ['TRUST_PROXY', 'yes please'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.0.0.1,proxy.example.com'],
    ['METRICS_TOKEN', 'short'],
    ['AUTH_FAILURE_LIMIT', '0'],
    ['AUTH_FAILURE_WINDOW_SECONDS', 'a minute'],
  ])('rejects %s=%j with HL_ERR_CONFIG naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.details).toEqual({ variables: [name] });
  });

  it('never echoes an invalid METRICS_TOKEN', () => {
    expect(configError({ METRICS_TOKEN: 'short' }).message).not.toContain('short"');
  });
});

describe('parseConfig: HTTP timeouts and client frame limits (issue 17)', () => {
  it('defaults to 30 s requests, 10 s headers, 72 s keep-alive, and 20 frames then 2 a second', () => {
    expect(parseConfig({})).toMatchObject({
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 72_000,
      REALTIME_CLIENT_FRAME_BURST: 20,
      REALTIME_CLIENT_FRAME_RATE: 2,
    });
  });

  it('refuses a headers timeout longer than the whole-request timeout, and no rate at all', () => {
    expect(configError({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' }).details).toEqual(
      { variables: ['HTTP_HEADERS_TIMEOUT_MS'] },
    );
    expect(configError({ REALTIME_CLIENT_FRAME_RATE: '0' }).details).toEqual({
      variables: ['REALTIME_CLIENT_FRAME_RATE'],
    });
  });
});
