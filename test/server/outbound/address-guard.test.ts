import { describe, expect, it } from 'vitest';
import type { HooklineError } from '../../../server/errors.js';
import { assertEndpointUrlAllowed, isForbiddenAddress } from '../../../server/outbound/address-guard.js';

async function refusalCode(url: string, allowPrivate = false): Promise<string | undefined> {
  try {
    await assertEndpointUrlAllowed(new URL(url), allowPrivate);
    return undefined;
  } catch (error) {
    return (error as HooklineError).code;
  }
}

describe('SSRF address guard', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.100.100.200',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows public %s',
    (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    },
  );

  it.each([
    'http://127.0.0.1/hook',
    'http://10.0.0.1/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]:8080/hook',
    'http://localhost:3000/hook',
    'http://2130706433/hook',
    'http://0x7f000001/hook',
    'http://[::ffff:169.254.169.254]/hook',
  ])('refuses %s at creation with HL_ERR_FORBIDDEN', async (url) => {
    expect(await refusalCode(url)).toBe('HL_ERR_FORBIDDEN');
  });

  it('refuses non-http schemes and credentials in the URL, even with private endpoints allowed', async () => {
    expect(await refusalCode('ftp://example.com/x', true)).toBe('HL_ERR_INVALID_REQUEST');
    expect(await refusalCode('http://user:pass@example.com/x', true)).toBe('HL_ERR_INVALID_REQUEST');
  });

  it('allows private addresses when ALLOW_PRIVATE_ENDPOINTS is set', async () => {
    expect(await refusalCode('http://127.0.0.1/hook', true)).toBeUndefined();
    expect(await refusalCode('http://localhost/hook', true)).toBeUndefined();
  });
});
