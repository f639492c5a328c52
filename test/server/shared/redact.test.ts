import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../../server/shared/redact.js';

describe('redactUrl', () => {
  it('masks credentials in query strings and URL user-info, and nothing else', () => {
    expect(redactUrl('no url here')).toBe('no url here');
  });
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
    ['postgres://hookline:s3cret@db:5432/hookline', 'postgres://[redacted]@db:5432/hookline'],
    ['postgres://u:p@ss/w@rd@db/x?sslmode=require', 'postgres://[redacted]@db/x?sslmode=require'],
    ['https://token@hooks.example.com/in', 'https://[redacted]@hooks.example.com/in'],
    [
      'connect to postgresql://u:pw@h/db failed; mail me@example.com',
      'connect to postgresql://[redacted]@h/db failed; mail me@example.com',
    ],
    ['{"url":"http://a/b","by":"me@x"}', '{"url":"http://a/b","by":"me@x"}'],
    ['https://hooks.example.com/in?user=a@b', 'https://hooks.example.com/in?user=a@b'],
  ])('%s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
