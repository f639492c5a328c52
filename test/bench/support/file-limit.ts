import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Descriptors a benchmark process needs besides its sockets: modules, pools, pipes, Postgres. */
export const FILES_BESIDE_SOCKETS = 512;

/** This process's open-file limits (`ulimit -Sn`, `ulimit -Hn`), from /proc; undefined elsewhere. */
function fileLimits(): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((row) => row.startsWith('Max open files'));
    const [soft, hard] = (line?.match(/\d+|unlimited/g) ?? []).map((value) =>
      value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value),
    );
    return soft !== undefined && hard !== undefined ? { soft, hard } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Raises this process's open-file limit to `needed` (children forked afterwards inherit it), with
 * util-linux `prlimit` since Node cannot: the soft limit up to the hard one needs no privilege,
 * the hard one needs root (CAP_SYS_RESOURCE). Exits with the numbers and the remedy when the
 * limit stays too low, instead of failing half way with EMFILE.
 */
export function raiseFileLimit(needed: number): void {
  const limits = fileLimits();
  if (!limits || limits.soft >= needed) return;
  for (const target of [`${needed}:${Math.max(needed, limits.hard)}`, `${limits.hard}:${limits.hard}`]) {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}`], { stdio: 'ignore' });
    } catch {
      // Not permitted or no prlimit: try the next target, then report.
    }
    if ((fileLimits()?.soft ?? 0) >= needed) return;
  }
  const now = fileLimits() ?? limits;
  console.error(
    `This run needs ${needed} open files in the gateway and in the clients' process; this machine ` +
      `allows ${now.soft} (hard limit ${now.hard}, ulimit -Hn). Raise the hard limit as root ` +
      '(prlimit, LimitNOFILE= in systemd, --ulimit nofile= in docker, /etc/security/limits.conf) ' +
      'or lower --connections.',
  );
  process.exit(1);
}
