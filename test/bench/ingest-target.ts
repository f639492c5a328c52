import Fastify from 'fastify';
import pg from 'pg';
import { buildApp } from '../../server/app.js';
import { parseConfig } from '../../server/config.js';
import { GroupCommitter } from '../../server/ingest/group-commit.js';
import { UNIPILE_WEBHOOK_PATH } from '../../server/ingest/plugin.js';
import { TEST_SECRETS } from '../support/app.js';
import { tuningKnobs } from './knobs.js';

/**
 * A benchmark target, in its own process. Modes:
 * - `bare`: a fastify route that parses the JSON body and answers 200 without storing (ceiling);
 * - `naive`: what most webhook receivers do, one INSERT per request into one table;
 * - `batched`: the same table, but requests that arrive together share one multi-row INSERT
 *   (Hookline's GroupCommitter with its defaults: up to 200 per batch, 2 batches at once, no
 *   overlap wait), each answered after its batch commits. It does a fraction of Hookline's work
 *   (no dedupe, no read model, no outboxes): the most a design that stores every body in a
 *   transaction can hope for on this machine;
 * - `per-request`: the typical receiver's design, per request and in one transaction each: look up the
 *   message, insert it when it is new, upsert its chat and bump the chat's unread count;
 * - `hookline`: the real gateway (ingest with group commit, dedupe, read model, outboxes, and the
 *   outbound worker), as `npm start` runs it; bench:outbound uses it too;
 * - `hookline-embedded`: the same gateway without DATABASE_URL, so on the embedded Postgres it
 *   starts in DATA_DIR (the second argument, instead of a database URL).
 */
const [mode, databaseUrl] = process.argv.slice(2);

/** Stores a body in the group commit's next multi-row INSERT; resolves once that commits. */
function batchedInsert(pool: pg.Pool): (body: unknown) => Promise<void> {
  const batches = new GroupCommitter<unknown, void>({
    flush: async (bodies) => {
      await pool.query('insert into naive_webhooks (body) select jsonb_array_elements($1::jsonb)', [
        JSON.stringify(bodies),
      ]);
      return bodies.map(() => undefined);
    },
  });
  return (body) => batches.submit(body);
}

/** The per-request receiver's tables: the messages, and the chats with their unread counts. */
const PER_REQUEST_TABLES = `
  create table if not exists per_request_messages (
    account_id text not null, id text not null, chat_id text not null, body jsonb not null,
    primary key (account_id, id));
  create table if not exists per_request_chats (
    account_id text not null, id text not null, unread_count integer not null,
    last_message_at timestamptz not null, primary key (account_id, id))`;

interface PerRequestBody {
  account_id: string;
  message_id: string;
  chat_id: string;
}

/** One transaction per request: look up, insert, upsert the chat, bump its unread count. */
function perRequestStore(pool: pg.Pool): (body: unknown) => Promise<void> {
  return async (body) => {
    const message = body as PerRequestBody;
    const client = await pool.connect();
    try {
      await client.query('begin');
      const found = await client.query(
        'select 1 from per_request_messages where account_id = $1 and id = $2',
        [message.account_id, message.message_id],
      );
      if (found.rowCount === 0) {
        await client.query(
          'insert into per_request_messages (account_id, id, chat_id, body) values ($1, $2, $3, $4)',
          [message.account_id, message.message_id, message.chat_id, body],
        );
        await client.query(
          `insert into per_request_chats as chat (account_id, id, unread_count, last_message_at)
           values ($1, $2, 1, now())
           on conflict (account_id, id) do update
           set unread_count = chat.unread_count + 1, last_message_at = now()`,
          [message.account_id, message.chat_id],
        );
      }
      await client.query('commit');
    } catch (error) {
      await client.query('rollback');
      throw error;
    } finally {
      client.release();
    }
  };
}

async function main(): Promise<void> {
  if (mode === 'hookline' || mode === 'hookline-embedded') {
    const config = parseConfig({
      ...(mode === 'hookline'
        ? { DATABASE_URL: databaseUrl, DATA_DIR: '/tmp/hookline-bench' }
        : { DATA_DIR: databaseUrl }),
      LOG_LEVEL: 'silent',
      ...tuningKnobs(process.env),
    });
    const app = await buildApp({ config, secrets: TEST_SECRETS });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    process.stdout.write(`READY ${url}\n`);
    process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
    return;
  }
  const app = Fastify({ logger: false });
  if (mode === 'naive' || mode === 'batched' || mode === 'per-request') {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
    await pool.query(
      'create table if not exists naive_webhooks (id bigserial primary key, body jsonb not null)',
    );
    await pool.query(PER_REQUEST_TABLES);
    const store =
      mode === 'batched'
        ? batchedInsert(pool)
        : mode === 'per-request'
          ? perRequestStore(pool)
          : async (body: unknown) => {
              await pool.query('insert into naive_webhooks (body) values ($1)', [body]);
            };
    app.post(UNIPILE_WEBHOOK_PATH, async (request) => {
      await store(request.body);
      return { ok: true };
    });
    app.addHook('onClose', () => pool.end());
  } else {
    app.post(UNIPILE_WEBHOOK_PATH, async () => ({ ok: true }));
  }
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`READY ${url}\n`);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
