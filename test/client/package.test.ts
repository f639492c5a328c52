import { rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type * as Client from '../../client/realtime.js';
import { mintRealtimeToken } from '../../server/realtime/tokens.js';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { TEST_SECRETS, useTestApp } from '../support/app.js';
import { installPackedClient, type PackedClient } from '../support/client-package.js';
import { testDatabaseKinds } from '../support/databases.js';
import { run } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { postWebhook } from '../support/webhooks.js';
import { wsBase } from '../support/ws-client.js';

/** `@hookline/client` as a host app gets it: `npm pack`, installed, imported by name. */
describe('the @hookline/client package', () => {
  const t = useTestApp(testDatabaseKinds()[0]!);
  let packed: PackedClient;

  beforeAll(async () => {
    packed = await installPackedClient();
  }, 300_000);
  afterAll(async () => {
    if (packed) await rm(packed.root, { recursive: true, force: true });
  });

  it('packs the ESM build, its types and source maps, and no TypeScript sources', () => {
    expect(packed.files).toEqual(
      expect.arrayContaining(['package.json', 'dist/realtime.js', 'dist/realtime.d.ts', 'dist/types.d.ts']),
    );
    expect(packed.files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('resolves to the packed build through its exports', () => {
    const installed = pathToFileURL(join(packed.appDir, 'node_modules/@hookline/client/dist/realtime.js'));
    expect(packed.entryUrl).toBe(installed.href);
  });

  it("type-checks a host app's import under NodeNext resolution", async () => {
    await writeFile(
      join(packed.appDir, 'consumer.ts'),
      [
        "import { createRealtimeClient, type Envelope } from '@hookline/client';",
        "const client = createRealtimeClient({ url: 'wss://example.test/ws/messages', getToken: () => 't' });",
        "client.on('message:new', (envelope: Envelope<'message:new'>) => envelope.data.chatId.length);",
      ].join('\n'),
    );
    const compilerOptions = {
      strict: true,
      noEmit: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      lib: ['es2022', 'dom'],
      types: [],
    };
    await writeFile(
      join(packed.appDir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions, files: ['consumer.ts'] }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: packed.appDir });
  });

  it('receives message:new from a real gateway in Node (ws passed in)', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { createRealtimeClient } = (await import(packed.entryUrl)) as typeof Client;
    const account = fakeAccount('LINKEDIN');
    const { token } = await mintRealtimeToken(TEST_SECRETS.realtimeJwtSecret, [account.id], 600);
    const realtime = createRealtimeClient({
      url: `${wsBase(t.app)}/ws/messages`,
      getToken: () => token,
      WebSocket: WebSocket as unknown as Client.WebSocketConstructor,
    });
    try {
      const texts: string[] = [];
      realtime.on('message:new', (envelope) => texts.push(envelope.data.text ?? ''));
      await waitFor(() => realtime.status.state === 'open', 'the packed client to connect');
      expect(
        (await postWebhook(t.app, messageReceived({ account, text: 'from the package' }))).statusCode,
      ).toBe(200);
      await waitFor(() => texts.includes('from the package'), 'message:new through the packed client');
    } finally {
      realtime.close();
    }
  });
});
