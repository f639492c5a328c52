import { createHmac, timingSafeEqual } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  generateEndpointSecret,
  hmacHexSignature,
  hmacHexSignatureHeader,
  signatureHeader,
  signPayload,
} from '../../../server/outbound/signing.js';

describe('Standard Webhooks v1 signing', () => {
  it('matches the published known-answer vector', () => {
    const signature = signPayload(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('produces headers the standardwebhooks library verifies with either of two secrets', () => {
    const current = generateEndpointSecret();
    const previous = generateEndpointSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      type: 'message.received',
      timestamp: new Date().toISOString(),
      data: { a: 1 },
    });
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader([current, previous], 'msg_1', timestamp, body),
    };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateEndpointSecret()).verify(body, headers)).toThrow();
  });

  it('generates distinct whsec_ secrets of 32 bytes', () => {
    const a = generateEndpointSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(generateEndpointSecret()).not.toBe(a);
  });
});

describe('hmac-sha256-hex signing', () => {
  it("matches GitHub's published known-answer vector", () => {
    expect(hmacHexSignature("It's a Secret to Everybody", 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  it('keys the HMAC with the secret string as shown, whsec_ prefix included', () => {
    const secret = generateEndpointSecret();
    const body = '{"type":"message.received"}';
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
    expect(hmacHexSignature(secret, body)).toBe(`sha256=${expected}`);
  });

  it('carries one value per live secret, comma-separated, newest first', () => {
    const [current, previous] = [generateEndpointSecret(), generateEndpointSecret()];
    const header = hmacHexSignatureHeader([current, previous], 'body');
    expect(header.split(',')).toEqual([
      hmacHexSignature(current, 'body'),
      hmacHexSignature(previous, 'body'),
    ]);
  });

  it('verifies for any body with the standard library, byte for byte', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (body, secret) => {
        const sent = Buffer.from(hmacHexSignature(secret, body));
        const mine = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
        return sent.length === mine.length && timingSafeEqual(sent, mine);
      }),
    );
  });
});
