import { type Database, openDatabase } from '../../server/db/database.js';
import { openTestDatabase, type TestDatabase } from './databases.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/** This file's Postgres database, reachable directly and through a proxy whose `cut()` is an outage. */
export interface PostgresBehindProxy {
  /** The database itself, for setting up and checking state while the proxy is cut. */
  direct: TestDatabase;
  proxy: TcpProxy;
  /** A handle that connects through the proxy (1 s connection timeout, so outages show fast). */
  viaProxy: Database;
  /** Closes the proxied handle (if its user has not), the proxy, and drops the database. */
  dispose(): Promise<void>;
}

/** A handle on the Postgres database at `url` that connects through a proxy of its own. */
export async function connectThroughProxy(
  url: string,
  options: { poolSize?: number } = {},
): Promise<{ proxy: TcpProxy; viaProxy: Database }> {
  const target = new URL(url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  target.port = String(proxy.port);
  const viaProxy = await openDatabase({
    url: target.toString(),
    connectionTimeoutMs: 1000,
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
  });
  return { proxy, viaProxy };
}

export async function openPostgresBehindProxy(
  options: { poolSize?: number } = {},
): Promise<PostgresBehindProxy> {
  const direct = await openTestDatabase('postgres');
  const { proxy, viaProxy } = await connectThroughProxy(direct.url!, options);
  return {
    direct,
    proxy,
    viaProxy,
    dispose: async () => {
      await viaProxy.close().catch(() => {});
      await proxy.close();
      await direct.dispose();
    },
  };
}
