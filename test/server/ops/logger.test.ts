import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../../server/ops/logger.js';

describe('redactUrl', () => {
  it.each([
    ['/ws/messages?token=abc&since=5', '/ws/messages?token=[redacted]&since=5'],
    [
      '/api/webhooks/unipile/messages?unipile-auth=hlin_x',
      '/api/webhooks/unipile/messages?unipile-auth=[redacted]',
    ],
    ['/x?a=1&API_KEY=k#frag', '/x?a=1&API_KEY=[redacted]#frag'],
    ['/x?access_token=t&client_secret=s', '/x?access_token=[redacted]&client_secret=[redacted]'],
    ['/x?password=p&webhook-signature=v1', '/x?password=[redacted]&webhook-signature=[redacted]'],
    ['/api/chats?limit=5&cursor=abc', '/api/chats?limit=5&cursor=abc'],
  ])('%s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
