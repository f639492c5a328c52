import { parseArgs } from 'node:util';
import { createPostgresTestDatabase } from '../support/postgres-admin.js';
import {
  MISBEHAVIOURS,
  type MisbehaviourFigures,
  type MisbehaviourId,
  runMisbehaviour,
} from './support/misbehaviours.js';

/**
 * Issue 29's figures, before and after: runs each provider misbehaviour against a fresh gateway
 * process of any checkout and prints the provider calls it drew and the gateway's peak RSS.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     npx tsx test/chaos/measure-misbehaviours.ts [--gateway-dir ../other-checkout] [--only huge-answer]
 *
 * Each run gets an empty database the gateway migrates itself, so an older checkout runs on its
 * own schema. An older gateway may never end a misbehaviour: each phase is cut at `--cap-ms`.
 */
const { values } = parseArgs({
  options: {
    'gateway-dir': { type: 'string' },
    only: { type: 'string' },
    'cap-ms': { type: 'string', default: '8000' },
    'huge-mib': { type: 'string', default: '256' },
  },
});
const url = process.env.TEST_DATABASE_URL;
if (!url) throw new Error('TEST_DATABASE_URL is required');
const only = values.only ? (values.only.split(',') as MisbehaviourId[]) : [...MISBEHAVIOURS];

const rows: MisbehaviourFigures[] = [];
for (const id of only) {
  const database = await createPostgresTestDatabase(url, 'template0');
  try {
    const figures = await runMisbehaviour(id, {
      databaseUrl: database.url,
      ...(values['gateway-dir'] ? { cwd: values['gateway-dir'] } : {}),
      capMs: Number(values['cap-ms']),
      hugeBytes: Number(values['huge-mib']) * 1024 * 1024,
    });
    rows.push(figures);
    process.stderr.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await database.drop();
  }
}
process.stdout.write(
  '| misbehaviour | provider calls | peak RSS (at start) | ended | outcome | webhooks acknowledged / stored | stack lines |\n|---|---|---|---|---|---|---|\n',
);
for (const row of rows) {
  process.stdout.write(
    `| ${row.id} | ${row.providerCalls} (${row.calls}) | ${row.peakRssMiB} MiB (${row.startRssMiB}) | ${row.ended ? 'yes' : `no (cut at ${values['cap-ms']} ms)`} | ${row.outcome} | ${row.acknowledged} / ${row.stored} | ${row.stackLines} |\n`,
  );
}
