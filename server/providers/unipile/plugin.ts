import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import { ngrokTunnel } from '../../tunnel/ngrok.js';
import type { OpenTunnel, Tunnel } from '../../tunnel/tunnel.js';
import { responsesTooLargeCounter } from './bounded-read.js';
import { UnipileClient } from './client.js';
import { desiredWebhooks } from './reconcile.js';
import { REGISTRATION_STATES, RegistrationLoop, type RegistrationStatus } from './registration.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Provider webhook registration: its current state, and the tunnel URL when one is open. */
    registration: {
      readonly status: RegistrationStatus;
      readonly tunnelUrl: string | undefined;
    };
  }
}

/** The secret registered webhooks send, and how a public URL is found without WEBHOOK_BASE_URL. */
export interface RegistrationPluginOptions {
  /** The `Unipile-Auth` value registered webhooks must send (`Secrets.inboundSecret`). */
  inboundSecret: string;
  /**
   * Opens a public URL when `WEBHOOK_BASE_URL` is unset. Default: an ngrok tunnel when
   * `NGROK_AUTHTOKEN` is set, otherwise none.
   */
  tunnel?: Tunnel;
}

/**
 * Registers our webhooks with Unipile once the server listens, in the background: the gateway
 * serves while the provider is down, and the state shows in `/readyz` (informational) and in the
 * `hookline_registration_state` gauge. The tunnel, when there is one, is opened in the same
 * onListen hook because only then is the port known (`PORT=0` included), and closed on close.
 */
export const registrationPlugin = fp<RegistrationPluginOptions>(
  async (app: FastifyInstance, options) => {
    const config = app.config;
    const tunnel = config.WEBHOOK_BASE_URL
      ? undefined
      : (options.tunnel ?? (config.NGROK_AUTHTOKEN ? ngrokTunnel(config.NGROK_AUTHTOKEN) : undefined));
    const missing = [
      config.UNIPILE_DSN ? undefined : 'UNIPILE_DSN',
      config.UNIPILE_API_KEY ? undefined : 'UNIPILE_API_KEY',
      config.WEBHOOK_BASE_URL || tunnel ? undefined : 'WEBHOOK_BASE_URL (or NGROK_AUTHTOKEN for a tunnel)',
    ].filter((name): name is string => name !== undefined);
    const disabledReason = missing.length > 0 ? `${missing.join(', ')} not set` : undefined;

    const client =
      config.UNIPILE_DSN && config.UNIPILE_API_KEY && !disabledReason
        ? new UnipileClient({
            dsn: config.UNIPILE_DSN,
            apiKey: config.UNIPILE_API_KEY,
            timeoutMs: config.UNIPILE_TIMEOUT_MS,
            maxResponseBytes: config.UNIPILE_MAX_RESPONSE_BYTES,
            onResponseTooLarge: () => responsesTooLargeCounter(app.metrics).inc(),
          })
        : undefined;

    const attemptsTotal = new Counter({
      name: 'hookline_registration_attempts_total',
      help: 'Provider webhook registration attempts, by outcome (ok, failed, transient).',
      labelNames: ['outcome'],
      registers: [app.metrics],
    });
    const loop = client
      ? new RegistrationLoop({
          client,
          logger: app.log,
          retryMinMs: config.UNIPILE_RETRY_MIN_MS,
          retryMaxMs: Math.max(config.UNIPILE_RETRY_MIN_MS, config.UNIPILE_RETRY_MAX_MS),
          recheckMs: config.UNIPILE_REGISTRATION_CHECK_SECONDS * 1000,
          onStatus: (_status, outcome) => {
            if (outcome) attemptsTotal.inc({ outcome });
          },
        })
      : undefined;

    let tunnelFailure: string | undefined;
    let openTunnel: OpenTunnel | undefined;
    let closing = false;

    const status = (): RegistrationStatus => {
      if (disabledReason) return { state: 'disabled', reason: disabledReason, attempts: 0 };
      if (tunnelFailure) return { state: 'failed', reason: tunnelFailure, attempts: 0 };
      return loop?.status ?? { state: 'disabled', attempts: 0 };
    };
    /** /readyz shows a stable code; the provider's or the tunnel's own words are in the log. */
    const readinessReason = (current: RegistrationStatus): string => {
      if (tunnelFailure) return 'tunnel_failed';
      if (current.refusedKey) return `provider_${current.refusedKey}`;
      if (current.state === 'failed') return 'provider_rejected';
      return current.attempts > 0 ? 'provider_unavailable' : 'registering';
    };
    app.decorate('registration', {
      get status() {
        return status();
      },
      get tunnelUrl() {
        return openTunnel?.url;
      },
    });

    new Gauge({
      name: 'hookline_registration_state',
      help: 'Provider webhook registration state: 1 for the current state, 0 for the others.',
      labelNames: ['state'],
      registers: [app.metrics],
      collect() {
        const current = status().state;
        for (const state of REGISTRATION_STATES) this.set({ state }, state === current ? 1 : 0);
      },
    });
    app.addReadinessCheck('registration', {
      critical: false,
      run: () => {
        const current = status();
        const ok = current.state === 'ok' || current.state === 'disabled';
        return { ok, state: current.state, ...(ok ? {} : { reason: readinessReason(current) }) };
      },
    });

    if (disabledReason) {
      app.log.info(
        { missing },
        `Unipile webhook registration skipped: ${disabledReason}${tunnel ? ' (the tunnel still opens)' : ''}`,
      );
    }

    const startAfterListen = async () => {
      let baseUrl = config.WEBHOOK_BASE_URL;
      if (tunnel) {
        const { port } = app.server.address() as AddressInfo;
        let opened: OpenTunnel;
        try {
          opened = await tunnel.open(port);
        } catch (error) {
          tunnelFailure = `tunnel failed to open: ${error instanceof Error ? error.message : String(error)}`;
          app.log.error({ err: error }, tunnelFailure);
          return;
        }
        if (closing) {
          await opened.close();
          return;
        }
        openTunnel = opened;
        baseUrl = openTunnel.url;
        app.log.info(
          { tunnelUrl: openTunnel.url, port },
          `tunnel open: ${openTunnel.url} -> 127.0.0.1:${port}`,
        );
      }
      if (loop && baseUrl) {
        loop.start(
          desiredWebhooks({
            baseUrl,
            inboundSecret: options.inboundSecret,
            instance: config.UNIPILE_WEBHOOK_INSTANCE,
          }),
        );
      }
    };

    app.addHook('onListen', async () => {
      // Not awaited: a slow tunnel or provider must never delay serving, nor a hung one closing.
      startAfterListen().catch((error: unknown) =>
        app.log.error({ err: error }, 'could not start Unipile registration'),
      );
    });

    app.addHook('preClose', async () => {
      closing = true;
      await loop?.stop();
      if (loop && config.UNIPILE_DEREGISTER_ON_SHUTDOWN && loop.status.state === 'ok') {
        try {
          const deleted = await loop.deregister();
          app.log.info({ deleted }, 'deregistered our Unipile webhooks (UNIPILE_DEREGISTER_ON_SHUTDOWN)');
        } catch (error) {
          app.log.warn({ err: error }, 'could not deregister our Unipile webhooks');
        }
      }
    });

    app.addHook('onClose', async () => {
      if (openTunnel) {
        await openTunnel
          .close()
          .catch((error: unknown) => app.log.warn({ err: error }, 'tunnel close failed'));
      }
      await client?.close();
    });
  },
  { name: 'hookline-registration', dependencies: ['hookline-metrics', 'hookline-readiness'] },
);
