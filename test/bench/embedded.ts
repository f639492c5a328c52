import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readPostmasterFile } from '../../server/db/embedded/postmaster.js';
import { UNIPILE_WEBHOOK_PATH } from '../../server/providers/unipile/index.js';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { runLoad } from './support/load.js';
import { writeBenchResult } from './support/result.js';

/**
 * `npm run bench:embedded`: the default setup (no DATABASE_URL) as a newcomer runs it. Starts
 * `npm start` on an empty DATA_DIR (the cluster is initialised) and times it to its listening
 * line; measures the resident memory of the gateway and of its Postgres processes at idle, right
 * after a bench:ingest-style load (BENCH_LOAD_SECONDS, default 60, 50 connections, unique
 * `message_received` payloads), and after settling; stops it, and times a second start.
 * Linux only: memory comes from /proc/<pid>/smaps_rollup (RSS counts shared pages in every process,
 * PSS divides them among the processes sharing them, so PSS sums honestly).
 */
const loadSeconds = Number(process.env.BENCH_LOAD_SECONDS ?? 60);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 10);

interface Started {
  npm: ChildProcess;
  url: string;
  readyMs: number;
  /** What the gateway logged for the cluster's start (initdb included on a first start). */
  postgresMs: number;
}

async function npmStart(dataDir: string): Promise<Started> {
  const began = performance.now();
  const npm = spawn('npm', ['start'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    npm.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Hookline listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    npm.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  const postgresMs = Number(
    /"ms":(\d+)[^\n]*"msg":"embedded Postgres started"/.exec(output)?.[1] ?? Number.NaN,
  );
  return { npm, url, readyMs: performance.now() - began, postgresMs };
}

/** SIGTERM to the gateway itself (as a process manager sends it); npm and tsx exit after it. */
async function stop(started: Started): Promise<void> {
  const exited = new Promise<void>((resolve) => started.npm.once('exit', () => resolve()));
  for (const pid of await gatewayPids(started)) process.kill(pid, 'SIGTERM');
  await exited;
}

/** The node process running server/main.ts with tsx's loader (npm and sh launch it). */
async function gatewayPids(started: Started): Promise<number[]> {
  const tree = await descendantsOf(started.npm.pid!);
  const commands = await Promise.all(
    tree.map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')),
  );
  return tree.filter((_, index) => {
    const [program, ...args] = commands[index]!.split('\0');
    return (
      program?.endsWith('node') &&
      args.includes('server/main.ts') &&
      !args.some((arg) => arg.includes('tsx/dist/cli'))
    );
  });
}

async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : undefined;
}

async function childrenOf(pid: number): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const parents = await Promise.all(pids.map(parentOf));
  return pids.filter((_, index) => parents[index] === pid);
}

async function descendantsOf(pid: number): Promise<number[]> {
  const children = await childrenOf(pid);
  return [...children, ...(await Promise.all(children.map(descendantsOf))).flat()];
}

/** RSS and PSS of one process, in MB. */
async function memoryOf(pid: number): Promise<{ rss: number; pss: number }> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) / 1024;
  return { rss: field('Rss'), pss: field('Pss') };
}

async function sum(pids: number[]): Promise<{ rss: number; pss: number; processes: number }> {
  const each = await Promise.all(pids.map(memoryOf));
  return {
    rss: each.reduce((total, m) => total + m.rss, 0),
    pss: each.reduce((total, m) => total + m.pss, 0),
    processes: pids.length,
  };
}

/** The gateway (node running server/main.ts under tsx), its launchers, and the Postgres processes. */
async function measure(started: Started, dataDir: string, label: string): Promise<string[]> {
  const tree = await descendantsOf(started.npm.pid!);
  const gateway = await gatewayPids(started);
  const postmaster = (await readPostmasterFile(join(dataDir, 'postgres')))!.pid;
  const postgres = [postmaster, ...(await childrenOf(postmaster))];
  const launchers = [
    started.npm.pid!,
    ...tree.filter((pid) => !gateway.includes(pid) && !postgres.includes(pid)),
  ];
  const [g, p, l] = await Promise.all([sum(gateway), sum(postgres), sum(launchers)]);
  const row = (name: string, m: { rss: number; pss: number; processes: number }) =>
    `| ${label} | ${name} | ${m.processes} | ${m.rss.toFixed(0)} | ${m.pss.toFixed(0)} |`;
  return [
    row('gateway (node)', g),
    row('embedded Postgres', p),
    row('**gateway + Postgres**', {
      rss: g.rss + p.rss,
      pss: g.pss + p.pss,
      processes: g.processes + p.processes,
    }),
    row('launchers (npm, sh)', l),
  ];
}

let counter = 0;
const accounts = Array.from({ length: 50 }, (_, index) => fakeAccount('WHATSAPP', `acc_mem_${index}`));
const templates = accounts.map((account) =>
  JSON.stringify(messageReceived({ account, chatId: '__CHAT__', messageId: '__MESSAGE__' })),
);

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-bench-embedded-'));
  const lines = [
    `Command: npm run bench:embedded (DATA_DIR empty at first; load ${loadSeconds} s, ${connections} connections; idle = ${idleSeconds} s after ready)`,
    '',
  ];
  try {
    const first = await npmStart(dataDir);
    const secrets = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as {
      INBOUND_SECRET: string;
    };
    await sleep(idleSeconds * 1000);
    const table = ['| when | processes of | count | RSS MB | PSS MB |', '| --- | --- | ---: | ---: | ---: |'];
    table.push(...(await measure(first, dataDir, 'idle, first start')));
    const result = await runLoad({
      url: first.url,
      path: UNIPILE_WEBHOOK_PATH,
      headers: { 'content-type': 'application/json', 'unipile-auth': secrets.INBOUND_SECRET },
      body: () => {
        counter++;
        const id = `msg_mem_${counter}`;
        const body = templates[counter % templates.length]!.replaceAll('__MESSAGE__', id).replaceAll(
          '__CHAT__',
          `chat_mem_${counter % 500}`,
        );
        return { id, body };
      },
      connections,
      durationSeconds: loadSeconds,
    });
    table.push(...(await measure(first, dataDir, `right after ${loadSeconds} s of load`)));
    await sleep(idleSeconds * 1000);
    table.push(...(await measure(first, dataDir, `${idleSeconds} s after the load`)));
    await stop(first);
    const second = await npmStart(dataDir);
    await sleep(idleSeconds * 1000);
    table.push(...(await measure(second, dataDir, 'idle, second start')));
    await stop(second);
    lines.push(
      `npm start to listening: first start (initdb) ${(first.readyMs / 1000).toFixed(2)} s, second start ${(second.readyMs / 1000).toFixed(2)} s`,
      `of which the embedded Postgres (as the gateway logs it): ${(first.postgresMs / 1000).toFixed(2)} s, ${(second.postgresMs / 1000).toFixed(2)} s`,
      `load: ${result.ok} webhooks acknowledged in ${result.seconds} s (${Math.round(result.ok / result.seconds)}/s), ${result.non2xx} non-2xx, ${result.errors} errors`,
      '',
      ...table,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    writeBenchResult({
      bench: 'embedded',
      command: lines[0]!,
      markdown: lines.slice(2),
      figures: {
        'first start s': Number((first.readyMs / 1000).toFixed(2)),
        'second start s': Number((second.readyMs / 1000).toFixed(2)),
        'webhooks/s under load': Math.round(result.ok / result.seconds),
      },
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
