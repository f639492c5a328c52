import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiAuth, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { createEndpoint, FAST_OUTBOUND_ENV, publishEvents } from '../../support/outbound.js';
import { type ReceivedWebhook, startWebhookSink, waitFor } from '../../support/webhook-sink.js';

const guide = readFileSync(new URL('../../../docs/webhooks.md', import.meta.url), 'utf8');

/** The first code block of `language` after `heading` in docs/webhooks.md, as printed there. */
function documentedSnippet(heading: string, language: string): string {
  const section = guide.indexOf(heading);
  expect(section, heading).toBeGreaterThan(-1);
  const start = guide.indexOf(`\`\`\`${language}\n`, section) + language.length + 4;
  return guide.slice(start, guide.indexOf('\n```', start));
}

const pythonVerifier = `${documentedSnippet('### Verifying `hmac-sha256-hex` in Python', 'python')}

import os, sys
print(verify_hub_signature(os.environ["SECRET"], os.environ["HEADER"], sys.stdin.buffer.read()))
`;

const nodeVerifier = `${documentedSnippet('### Verifying `hmac-sha256-hex` in Node', 'js')}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
console.log(verifyHubSignature(process.env.SECRET, process.env.HEADER, Buffer.concat(chunks)));
`;

/** Runs a documented verifier on a delivery's raw body: `true` when it accepts the signature. */
function verifies(
  runtime: 'python' | 'node',
  secret: string,
  header: string,
  body: string | Buffer,
): boolean {
  const [command, args] =
    runtime === 'python'
      ? ['python3', ['-c', pythonVerifier]]
      : [process.execPath, ['--input-type=module', '-e', nodeVerifier]];
  const result = spawnSync(command, args, {
    input: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    env: { ...process.env, SECRET: secret, HEADER: header },
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  const answer = result.stdout.trim();
  expect(['True', 'False', 'true', 'false']).toContain(answer);
  return answer.toLowerCase() === 'true';
}

describe.each(testDatabaseKinds())('the hmac-sha256-hex signature scheme on %s', (kind) => {
  const t = useTestApp(kind, { env: FAST_OUTBOUND_ENV });

  async function deliveredTo(body: Record<string, unknown>, text: string) {
    const sink = await startWebhookSink();
    try {
      const endpoint = await createEndpoint(t.app, { url: sink.url, ...body });
      const [event] = await publishEvents(t.app, [
        { data: { accountId: 'acc_1', chatId: 'chat_1', messageId: `m_${Date.now()}`, text } },
      ]);
      const received: ReceivedWebhook = await waitFor(() => sink.received[0], 10_000, 'the delivery');
      return { ...endpoint, event: event!, received };
    } finally {
      await sink.close();
    }
  }

  it('sends sha256=<hex> in X-Hub-Signature-256 that the documented Node and Python verifiers accept', async () => {
    const text = 'héllo ✓ "quoted" \\ and \u2028';
    const { id, secret, event, received } = await deliveredTo({ signatureScheme: 'hmac-sha256-hex' }, text);
    const header = String(received.headers['x-hub-signature-256']);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(received.headers['webhook-id']).toBe(event.webhookId);
    expect(received.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(received.headers['webhook-signature']).toBeUndefined();
    expect(JSON.parse(received.body)).toMatchObject({ type: 'message.received', data: { text } });

    expect(verifies('python', secret, header, received.body)).toBe(true);
    expect(verifies('node', secret, header, received.body)).toBe(true);
    const tampered = received.body.replace('héllo', 'hello');
    expect(verifies('python', secret, header, tampered)).toBe(false);
    expect(verifies('node', secret, header, tampered)).toBe(false);
    expect(verifies('python', `${secret}x`, header, received.body)).toBe(false);

    const shown = await t.app.inject({ method: 'GET', url: `/api/endpoints/${id}`, headers: apiAuth });
    expect(shown.json()).toMatchObject({
      signatureScheme: 'hmac-sha256-hex',
      signatureHeader: 'X-Hub-Signature-256',
    });
  });

  it('puts one value per live secret in a custom header during a rotation; each verifies', async () => {
    const sink = await startWebhookSink();
    try {
      const { id, secret: old } = await createEndpoint(t.app, {
        url: sink.url,
        signatureScheme: 'hmac-sha256-hex',
        signatureHeader: 'X-Acme-Signature',
        headers: { 'X-Team': 'crm' },
      });
      const rotated = await t.app.inject({
        method: 'POST',
        url: `/api/endpoints/${id}/rotate-secret`,
        headers: apiAuth,
      });
      const { secret: fresh } = rotated.json() as { secret: string };
      await publishEvents(t.app, [{}]);
      const received = await waitFor(() => sink.received[0], 10_000, 'the delivery');
      const header = String(received.headers['x-acme-signature']);
      expect(header).toMatch(/^sha256=[0-9a-f]{64},sha256=[0-9a-f]{64}$/);
      expect(received.headers['x-hub-signature-256']).toBeUndefined();
      expect(received.headers['x-team']).toBe('crm');
      expect(verifies('python', fresh, header, received.body)).toBe(true);
      expect(verifies('python', old, header, received.body)).toBe(true);
      expect(verifies('node', old, header, received.body)).toBe(true);
    } finally {
      await sink.close();
    }
  });

  it('refuses signature settings that cannot work, one field at a time', async () => {
    const valid = { url: 'http://127.0.0.1:9/hook', signatureScheme: 'hmac-sha256-hex' };
    for (const broken of [
      { signatureScheme: 'sha1' },
      { signatureScheme: 'standard-webhooks', signatureHeader: 'X-Sig' },
      { signatureHeader: 'webhook-signature' },
      { signatureHeader: 'Content-Type' },
      { signatureHeader: 'X Sig' },
      { signatureHeader: '' },
      { headers: { 'x-hub-signature-256': 'spoof' } },
    ]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/endpoints',
        headers: apiAuth,
        payload: { ...valid, ...broken },
      });
      expect(response.statusCode, JSON.stringify(broken)).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
    }
  });

  it('switches scheme by PATCH: the header is kept only under hmac-sha256-hex', async () => {
    const { id } = await createEndpoint(t.app, { url: 'http://127.0.0.1:9/hook' });
    const patch = (payload: Record<string, unknown>) =>
      t.app.inject({ method: 'PATCH', url: `/api/endpoints/${id}`, headers: apiAuth, payload });
    expect((await patch({ signatureHeader: 'X-Sig' })).statusCode).toBe(400);
    expect((await patch({ signatureScheme: 'hmac-sha256-hex' })).json()).toMatchObject({
      signatureScheme: 'hmac-sha256-hex',
      signatureHeader: 'X-Hub-Signature-256',
    });
    expect((await patch({ signatureHeader: 'X-Sig' })).json()).toMatchObject({ signatureHeader: 'X-Sig' });
    expect((await patch({ headers: { 'x-sig': 'spoof' } })).statusCode).toBe(400);
    expect((await patch({ signatureScheme: 'standard-webhooks' })).json()).toMatchObject({
      signatureScheme: 'standard-webhooks',
      signatureHeader: null,
    });
  });
});
