import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { errorBody, HooklineError } from '../errors.js';
import { opsRouteSchemas } from './route-schemas.js';

export interface CheckResult {
  ok: boolean;
  /** Short state for humans and dashboards, e.g. `ok`, `pending`, `failed`. */
  state?: string;
  /** Why the check is not ok. Never a secret. */
  reason?: string;
}

export interface ReadinessCheck {
  /** Whether a failure makes the instance unready (503). Informational checks only report. */
  critical: boolean;
  run(): Promise<CheckResult> | CheckResult;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Adds a named check to `GET /readyz`. */
    addReadinessCheck(name: string, check: ReadinessCheck): void;
  }
}

export interface ReadinessOptions {
  /** How long one check may take before it counts as failed. Default 2000 ms. */
  checkTimeoutMs?: number;
}

async function runWithTimeout(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(() => check.run())
        .catch((error: unknown) => ({
          ok: false,
          reason: error instanceof Error ? error.message : String(error),
        })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `GET /healthz` (the process is alive) and `GET /readyz` (every critical check passes). */
export const readinessPlugin = fp<ReadinessOptions>(
  async (app: FastifyInstance, options) => {
    const checks = new Map<string, ReadinessCheck>();
    const timeoutMs = options.checkTimeoutMs ?? 2000;
    app.decorate('addReadinessCheck', (name: string, check: ReadinessCheck) => {
      checks.set(name, check);
    });

    app.get('/healthz', { logLevel: 'warn', schema: opsRouteSchemas.healthz }, async () => ({
      status: 'ok',
    }));

    app.get('/readyz', { logLevel: 'warn', schema: opsRouteSchemas.readyz }, async (_request, reply) => {
      const entries = await Promise.all(
        [...checks].map(
          async ([name, check]) => [name, check, await runWithTimeout(check, timeoutMs)] as const,
        ),
      );
      const results = Object.fromEntries(entries.map(([name, , result]) => [name, result]));
      const failed = entries
        .filter(([, check, result]) => check.critical && !result.ok)
        .map(([name]) => name);
      if (failed.length === 0) return { status: 'ready', checks: results };
      const error = new HooklineError('HL_ERR_UNAVAILABLE', `Not ready: ${failed.join(', ')}`, {
        details: { failed, checks: results },
      });
      return reply.status(503).send(errorBody(error));
    });
  },
  { name: 'hookline-readiness' },
);
