import type { RealtimeClient } from '../realtime.js';
import { clearTransientNotice, showConnection, showNotice } from './view.js';

/**
 * The connection indicator: Live, Connecting, "Reconnecting in N s" with a "Reconnect now" button,
 * or Offline with the reason. While it waits, the page asks the read API whether its token still
 * works (`probe`): a token the gateway refuses will never connect, so the page stops and says so
 * rather than retrying forever.
 */

/** What the indicator needs: the realtime client, and a check of the token (rejects with 401 when refused). */
export interface ConnectionOptions {
  realtime: RealtimeClient;
  /** Resolves when the gateway accepts the token; rejects with its refusal, or a network error. */
  probe: () => Promise<unknown>;
  /** Whether a probe failure means the token is refused (not merely the gateway unreachable). */
  refused: (error: unknown) => boolean;
}

const reconnectButton = () => document.getElementById('reconnect-now') as HTMLButtonElement | null;

/**
 * Set once the gateway refused the page's token, by the read API or the probe: the realtime
 * client is stopped, and a status it reports afterwards must not turn "Offline" back into
 * "Reconnecting".
 */
let tokenRefused = false;
/** Stops the mounted realtime client, once {@link mountConnection} has run. */
let stopRealtime: (() => void) | undefined;

/** Shows the page's token as refused: offline for good, with what to do. */
export function showTokenRefused(): void {
  tokenRefused = true;
  stopRealtime?.();
  showConnection('closed', 'Offline: token refused');
  showNotice(
    'The gateway refuses this page’s token (invalid, expired or revoked). Run <code>npm run inbox-link</code> and open the new link it prints.',
  );
  if (reconnectButton()) reconnectButton()!.hidden = true;
}

/** Follows the realtime client's status on the indicator. */
export function mountConnection(options: ConnectionOptions): void {
  const { realtime } = options;
  let countdown: ReturnType<typeof setInterval> | undefined;
  let probing = false;
  reconnectButton()?.addEventListener('click', () => realtime.reconnectNow());
  stopRealtime = () => realtime.close();
  if (tokenRefused) realtime.close();

  const probe = () => {
    if (probing) return;
    probing = true;
    options
      .probe()
      .catch((error: unknown) => {
        if (options.refused(error)) showTokenRefused();
      })
      .finally(() => {
        probing = false;
      });
  };

  realtime.on('status', (status) => {
    clearInterval(countdown);
    if (tokenRefused) return;
    const button = reconnectButton();
    if (button) button.hidden = status.state !== 'reconnecting';
    if (status.state === 'open') {
      showConnection('open', 'Live');
      clearTransientNotice();
    } else if (status.state === 'closed') {
      if (document.getElementById('connection')?.dataset.state !== 'closed')
        showConnection('closed', 'Offline');
    } else if (status.state === 'connecting') showConnection('connecting', 'Connecting…');
    else {
      const until = Date.now() + status.delayMs;
      const tick = () =>
        showConnection(
          'reconnecting',
          `Reconnecting in ${Math.max(0, Math.ceil((until - Date.now()) / 1000))} s`,
        );
      tick();
      countdown = setInterval(tick, 250);
      probe();
    }
  });
}
