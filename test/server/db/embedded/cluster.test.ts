import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { hydrateSymlinks } from '../../../../server/db/embedded/binaries.js';
import { EmbeddedCluster } from '../../../../server/db/embedded/cluster.js';
import { isRunning, readPostmasterFile } from '../../../../server/db/embedded/postmaster.js';

async function query<T>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Starts hold-cluster.ts in a process of its own; resolves with that process and the server's pid. */
function holdInAnotherProcess(directory: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'hold-cluster.ts'), directory],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise<{ kill: () => Promise<void>; serverPid: number }>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const pid = /READY (\d+)/.exec(output)?.[1];
      if (pid) {
        resolve({
          serverPid: Number(pid),
          kill: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGKILL');
            }),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

// One cluster directory through its whole life, in order: the tests share it because initdb is
// the slow step.
describe('the embedded Postgres cluster, on real processes', () => {
  let root: string;
  let directory: string;
  const clusters: EmbeddedCluster[] = [];
  const cluster = () => {
    const made = new EmbeddedCluster({ directory });
    clusters.push(made);
    return made;
  };
  afterAll(async () => {
    for (const made of clusters) await made.stop().catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('initialises a new directory, serves over its own socket, and stops leaving no server', async () => {
    root = await mkdtemp(join(tmpdir(), 'hookline-embedded-'));
    directory = join(root, 'postgres');
    const first = cluster();
    expect(await first.start()).toEqual({ initialised: true });
    const pid = first.serverPid!;
    expect(await query(first.url(), 'select 1 as one')).toEqual([{ one: 1 }]);
    await query(first.url(), 'create table kept (id text primary key)');
    await query(first.url(), "insert into kept values ('before-stop')");

    await first.stop();
    expect(await isRunning(pid)).toBe(false);
    expect(await readPostmasterFile(directory)).toBeUndefined();
  });

  it('starts again on the same directory without initialising, with the data there', async () => {
    const second = cluster();
    expect(await second.start()).toEqual({ initialised: false });
    expect(await query(second.url(), 'select id from kept')).toEqual([{ id: 'before-stop' }]);
    await second.stop();
  });

  it('after its owner is killed with SIGKILL, the next start stops the server left running and starts its own', async () => {
    const holder = await holdInAnotherProcess(directory);
    await query(cluster().url(), "insert into kept values ('before-kill')");
    await holder.kill();
    // The server outlives its owner: it runs detached, in a session of its own.
    expect(await isRunning(holder.serverPid)).toBe(true);

    const next = cluster();
    expect(await next.start()).toEqual({ initialised: false });
    expect(await isRunning(holder.serverPid)).toBe(false);
    expect(next.serverPid).not.toBe(holder.serverPid);
    expect(await query(next.url(), 'select id from kept order by id')).toEqual([
      { id: 'before-kill' },
      { id: 'before-stop' },
    ]);
    await next.stop();
  });

  it('refuses to take over a running server that has clients connected', async () => {
    const owner = cluster();
    await owner.start();
    const client = new pg.Client({ connectionString: owner.url() });
    await client.connect();
    try {
      await expect(cluster().start()).rejects.toMatchObject({ code: 'HL_ERR_CONFIG' });
      expect(await isRunning(owner.serverPid!)).toBe(true);
    } finally {
      await client.end();
      await owner.stop();
    }
  });

  it('starts over a stale postmaster.pid whose pid now belongs to another process', async () => {
    // This test process is alive and is not the cluster's server: a reboot can leave exactly that.
    await writeFile(join(directory, 'postmaster.pid'), `${process.pid}\n${directory}\n0\n5432\n\n\n\n`);
    const next = cluster();
    await next.start();
    expect(await query(next.url(), 'select count(*)::int as n from kept')).toEqual([{ n: 2 }]);
    await next.stop();
  });
});

describe('hydrateSymlinks', () => {
  it('recreates the shared-library links npm does not pack, and is a no-op once they exist', async () => {
    const root = await mkdtemp(join(tmpdir(), 'hookline-links-'));
    await mkdir(join(root, 'native/lib'), { recursive: true });
    await writeFile(join(root, 'native/lib/libx.so.1.2'), '');
    await writeFile(
      join(root, 'native/pg-symlinks.json'),
      JSON.stringify([{ source: 'native/lib/libx.so.1.2', target: 'native/lib/libx.so.1' }]),
    );
    await hydrateSymlinks(root);
    await hydrateSymlinks(root);
    expect(await readlink(join(root, 'native/lib/libx.so.1'))).toBe('libx.so.1.2');
    await rm(root, { recursive: true, force: true });
  });
});
