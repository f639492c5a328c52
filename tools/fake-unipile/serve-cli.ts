import { parseArgs } from 'node:util';
import { startFakeUnipile } from './server.js';

/**
 * `npm run dev:provider`: the fake Unipile API on a fixed port, so a local gateway registers
 * with it and receives the messages it sends. Runs until Ctrl-C.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4010' },
      'api-key': { type: 'string', default: 'fake-unipile-key' },
      'page-size': { type: 'string', default: '100' },
      'retry-delay-ms': { type: 'string', default: '1000' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port: expected a port number from 0 to 65535, got ${values.port}`);
  }
  const fake = await startFakeUnipile({
    port,
    apiKey: values['api-key'],
    pageSize: Number(values['page-size']),
    delivery: { retryDelayMs: Number(values['retry-delay-ms']) },
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new Error(
      `--port: ${port} is already in use on 127.0.0.1 (another dev:provider?): stop it, or pass --port with a free port and point UNIPILE_DSN at it (HL_ERR_PORT_IN_USE)`,
    );
  });
  process.stdout.write(
    [
      `fake Unipile API listening on ${fake.url} (API base ${fake.url}/api/v1, X-API-KEY ${fake.apiKey})`,
      '',
      'Start the gateway against it, in another terminal:',
      `  UNIPILE_DSN=${fake.url} UNIPILE_API_KEY=${fake.apiKey} WEBHOOK_BASE_URL=http://127.0.0.1:3000 npm start`,
      '',
      'Then make the provider send a message to every registered webhook:',
      `  curl -s -X POST ${fake.url}/_fake/messages -H 'content-type: application/json' -d '{"text":"hello"}'`,
      'or a stream of realistic conversations (the inbox page shows them):',
      `  curl -s -X POST ${fake.url}/_fake/traffic -H 'content-type: application/json' -d '{"count":100}'`,
      `Registered webhooks and operations: curl -s ${fake.url}/_fake/state`,
      '',
    ].join('\n'),
  );
  const stop = () => {
    void fake.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// One line, no stack: what is wrong and what to do.
main().catch((error: unknown) => {
  process.stderr.write(`dev:provider: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
