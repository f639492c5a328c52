import { type ChildProcess, spawn } from 'node:child_process';
import { gatewayNodeFlags } from '../../support/gateway-flags.js';

export interface ChildServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs a benchmark target in its own process, so the load generator never shares its event
 * loop. The target prints `READY <url>` once it listens.
 */
export async function startChildServer(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ChildServer> {
  // BENCH_NODE_ARGS reaches the target only, e.g. BENCH_NODE_ARGS=--cpu-prof to profile it. The
  // gateway targets (`hookline…`) also get the options `npm start` gives it.
  const nodeArgs = [
    ...(args[0]?.startsWith('hookline') ? gatewayNodeFlags() : []),
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    // A target on the embedded default initialises a cluster first: slow on a loaded machine.
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${output}`)), 120_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${output}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
