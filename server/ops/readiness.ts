import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { errorBody, HooklineError } from '../errors.js';
import { requires } from '../http/credentials.js';
import { opsRouteSchemas } from './route-schemas.js';

/** What one readiness check found. */
export interface CheckResult {
  ok: boolean;
  /** Short state for humans and dashboards, e.g. `ok`, `pending`, `failed`. */
  state?: string;
  /**
   * Why the check is not ok, as a stable lower_snake_case code (`database_unreachable`,
   * `provider_rejected`, …). Never error text: that goes to the log. A reason that is not such a
   * code is logged and answered as `check_failed`.
   */
  reason?: string;
}

/** A named check `GET /readyz` runs, added by the feature that owns the dependency. */
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

/** How `GET /readyz` runs its checks. */
export interface ReadinessOptions {
  /** How long one check may take before it counts as failed. Default 2000 ms. */
  checkTimeoutMs?: number;
}

/** A reason code: anything else might be provider or database text, which /readyz never shows. */
const REASON_CODE = /^[a-z][a-z0-9_]{0,63}$/;

async function runWithTimeout(
  name: string,
  check: ReadinessCheck,
  timeoutMs: number,
  log: FastifyBaseLogger,
): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: 'timeout' }), timeoutMs);
  });
  try {
    const result = await Promise.race([
      Promise.resolve()
        .then(() => check.run())
        .catch((error: unknown): CheckResult => {
          log.warn({ err: error, check: name }, 'readiness check failed');
          return { ok: false, reason: 'check_failed' };
        }),
      timeout,
    ]);
    if (result.reason === undefined || REASON_CODE.test(result.reason)) return result;
    log.warn({ check: name, reason: result.reason }, 'readiness check not ok');
    return { ...result, reason: 'check_failed' };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /healthz` (the process is alive) and `GET /readyz` (every critical check passes), which
 * names each check with its state and, when not ok, a stable reason code; error text is logged.
 */
export const readinessPlugin = fp<ReadinessOptions>(
  async (app: FastifyInstance, options) => {
    const checks = new Map<string, ReadinessCheck>();
    const timeoutMs = options.checkTimeoutMs ?? 2000;
    app.decorate('addReadinessCheck', (name: string, check: ReadinessCheck) => {
      checks.set(name, check);
    });

    app.get(
      '/healthz',
      { logLevel: 'warn', schema: opsRouteSchemas.healthz, config: requires('none') },
      async function alive() {
        return { status: 'ok' };
      },
    );

    app.get(
      '/readyz',
      { logLevel: 'warn', schema: opsRouteSchemas.readyz, config: requires('none') },
      async function ready(_request, reply) {
        const entries = await Promise.all(
          [...checks].map(
            async ([name, check]) =>
              [name, check, await runWithTimeout(name, check, timeoutMs, app.log)] as const,
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
      },
    );
  },
  { name: 'hookline-readiness' },
);
