import type { FastifyBaseLogger } from 'fastify';
import { HooklineError } from '../../errors.js';
import { backoffDelay } from '../../shared/backoff.js';
import { isTransientProviderError, type ProviderProblem, type UnipileClient } from './client.js';
import {
  type DesiredWebhook,
  deleteIfPresent,
  type ReconcileResult,
  reconcileWebhooks,
} from './reconcile.js';
import { providerAuthFailure } from './rest-messages.js';

/** Longest wait between attempts while the provider refuses our key (401/403): 10 minutes. */
export const REFUSED_KEY_MAX_DELAY_MS = 10 * 60_000;

/**
 * `disabled`: not configured, nothing attempted. `pending`: not registered yet, an attempt is
 * running or the provider was unreachable or failing on its side (retrying). `failed`: the
 * provider refused (a 4xx such as a bad API key), retried at the same pace in case it was a
 * provider-side hiccup. `ok`: our webhooks are in place.
 */
export type RegistrationState = 'disabled' | 'pending' | 'ok' | 'failed';
/** Every registration state, for the state gauge (one series each). */
export const REGISTRATION_STATES: readonly RegistrationState[] = ['disabled', 'pending', 'ok', 'failed'];

/** What `GET /readyz` and the metrics show of webhook registration. */
export interface RegistrationStatus {
  state: RegistrationState;
  /** Why the state is not `ok`, for humans. Never a secret. */
  reason?: string;
  /** Set while the provider refuses UNIPILE_API_KEY: 401 `unauthorized` or 403 `forbidden`. */
  refusedKey?: 'unauthorized' | 'forbidden';
  /** What the last successful attempt did, per source. */
  webhooks?: ReconcileResult[];
  /** Attempts made so far. */
  attempts: number;
}

/** What the registration loop calls, and its retry timings. */
export interface RegistrationLoopOptions {
  client: UnipileClient;
  logger: FastifyBaseLogger;
  /** First retry delay. */
  retryMinMs: number;
  /** Cap of the exponential retry delay. */
  retryMaxMs: number;
  /**
   * Once registered, how long until the webhooks are checked again (one the provider disabled
   * meanwhile is recreated). Default 0: never.
   */
  recheckMs?: number;
  /** Called on every state change and attempt, for metrics. */
  onStatus?: (status: RegistrationStatus, outcome: 'ok' | 'failed' | 'transient' | undefined) => void;
}

/**
 * Registers our webhooks in the background until it succeeds, retrying with backoff, so the
 * gateway serves while the provider is down; then checks them again every `recheckMs`. `stop()`
 * aborts a call in flight and any pending retry or check.
 */
export class RegistrationLoop {
  #status: RegistrationStatus = { state: 'pending', reason: 'waiting for the server to listen', attempts: 0 };
  readonly #options: RegistrationLoopOptions;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(options: RegistrationLoopOptions) {
    this.#options = options;
  }

  get status(): RegistrationStatus {
    return this.#status;
  }

  /** Starts registering `wanted`; returns at once. */
  start(wanted: DesiredWebhook[]): void {
    this.#setStatus({ state: 'pending', reason: 'registering', attempts: 0 }, undefined);
    this.#schedule(wanted, 0);
  }

  /** Stops retrying and waits for an attempt in flight to end. */
  async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#inFlight;
  }

  /** Deletes the webhooks the last successful attempt put in place. */
  async deregister(): Promise<string[]> {
    const ids = (this.#status.webhooks ?? []).map((result) => result.webhookId);
    for (const id of ids) await deleteIfPresent(this.#options.client, id);
    return ids;
  }

  #schedule(wanted: DesiredWebhook[], delayMs: number): void {
    if (this.#abort.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#inFlight = this.#attempt(wanted).finally(() => {
        this.#inFlight = undefined;
      });
    }, delayMs);
    // A pending retry must not keep a process alive that is otherwise done.
    this.#timer.unref();
  }

  async #attempt(wanted: DesiredWebhook[]): Promise<void> {
    const { client, logger, retryMinMs, retryMaxMs } = this.#options;
    const attempts = this.#status.attempts + 1;
    try {
      const webhooks = await reconcileWebhooks(client, wanted, this.#abort.signal);
      const recheck = this.#status.state === 'ok';
      this.#setStatus({ state: 'ok', webhooks, attempts }, 'ok');
      for (const { source, webhookId, reasons } of webhooks) {
        for (const [id, reason] of Object.entries(reasons)) {
          if (reason !== 'disabled') continue;
          logger.warn(
            { source, disabledWebhookId: id, webhookId },
            `our Unipile ${source} webhook ${id} was found disabled on the provider; recreated it as ${webhookId}`,
          );
        }
      }
      // A check that found everything in place says so at debug level only.
      const unchanged = recheck && webhooks.every((webhook) => webhook.action === 'reused');
      logger[unchanged ? 'debug' : 'info'](
        { webhooks, requestUrl: wanted[0]?.requestUrl, attempts },
        `registered with Unipile: ${webhooks.map((w) => `${w.source} ${w.action}`).join(', ')}`,
      );
      if (this.#options.recheckMs) this.#schedule(wanted, this.#options.recheckMs);
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      const transient = isTransientProviderError(error);
      const reason = error instanceof Error ? error.message : String(error);
      const refusedKey = providerAuthFailure(error);
      // A refused key needs a person: the pace slows, doubling, to one attempt every 10 minutes.
      const maxDelayMs = refusedKey ? REFUSED_KEY_MAX_DELAY_MS : retryMaxMs;
      const retryInMs = backoffDelay(attempts, { minDelayMs: retryMinMs, maxDelayMs });
      this.#setStatus(
        { state: transient ? 'pending' : 'failed', reason, attempts, ...(refusedKey ? { refusedKey } : {}) },
        transient ? 'transient' : 'failed',
      );
      const retryIn = `retrying in ${Math.round(retryInMs / 1000)} s`;
      if (refusedKey) {
        logger.error(
          { refusedKey, attempts, retryInMs },
          `The provider refused UNIPILE_API_KEY (${refusedKey}): webhooks are not registered; check the key and UNIPILE_DSN (${retryIn})`,
        );
      } else if (error instanceof HooklineError && error.code === 'HL_ERR_PROVIDER') {
        // The provider's answer says it all: one line, no stack trace.
        const problem = error.details as ProviderProblem;
        logger.warn({ problem, attempts, retryInMs }, `Unipile registration failed (${retryIn}): ${reason}`);
      } else {
        logger.warn(
          { err: error, attempts, retryInMs },
          `Unipile registration failed (${retryIn}): ${reason}`,
        );
      }
      this.#schedule(wanted, retryInMs);
    }
  }

  #setStatus(status: RegistrationStatus, outcome: 'ok' | 'failed' | 'transient' | undefined): void {
    this.#status = status;
    this.#options.onStatus?.(status, outcome);
  }
}
