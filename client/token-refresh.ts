import { backoffDelay } from './backoff.js';

/**
 * Keeps a connection token fresh: before it expires, `POST /api/realtime/tokens/refresh` with it
 * as the bearer mints its successor (same accounts and scopes, fresh expiry). Dependency-free, for
 * the browser (the inbox page uses it) and Node 18+.
 */
export interface TokenRefresherOptions {
  /** The gateway's HTTP(S) origin, e.g. `https://hooks.example.com`. */
  baseUrl: string;
  /** The token to start from. */
  token: string;
  /**
   * Refresh once the token has this little of its life left, in seconds. Default: a fifth of its
   * lifetime, at least 30 s, so a 15-minute token is renewed with 3 minutes to spare.
   */
  refreshBeforeSeconds?: number;
  /** Called with every new token (to store it, or put it in the page's URL). */
  onToken?: (token: string) => void;
  /**
   * Called when the token can no longer be refreshed: it was refused (401, e.g. the gateway's
   * secret changed) or it expired while the gateway was unreachable.
   */
  onExpired?: () => void;
  /** `fetch` implementation. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** Keeps a connection token fresh, made by {@link createTokenRefresher}. */
export interface TokenRefresher {
  /** The newest token: pass it as `getToken: () => refresher.current()` to the realtime client. */
  current(): string;
  /** Stops refreshing. */
  stop(): void;
}

/** `exp` and `iat` of a JWT, read without verifying (the gateway verifies); undefined if unreadable. */
export function tokenTimes(token: string): { exp: number; iat: number | undefined } | undefined {
  try {
    const part = token.split('.')[1] ?? '';
    const payload = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as {
      exp?: unknown;
      iat?: unknown;
    };
    if (typeof payload.exp !== 'number') return undefined;
    return { exp: payload.exp, iat: typeof payload.iat === 'number' ? payload.iat : undefined };
  } catch {
    return undefined;
  }
}

/** Starts refreshing `options.token` before each expiry, until `stop()` or it can no longer be. */
export function createTokenRefresher(options: TokenRefresherOptions): TokenRefresher {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const url = new URL('/api/realtime/tokens/refresh', options.baseUrl).toString();
  let token = options.token;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let failures = 0;

  const secondsLeft = () => {
    const times = tokenTimes(token);
    return times ? times.exp - Date.now() / 1000 : undefined;
  };

  const schedule = () => {
    const times = tokenTimes(token);
    if (stopped || !times) return;
    const lifetime = times.iat === undefined ? 300 : times.exp - times.iat;
    const before = options.refreshBeforeSeconds ?? Math.max(30, lifetime / 5);
    const delayMs = Math.max(0, (times.exp - before) * 1000 - Date.now());
    timer = setTimeout(() => void refresh(), delayMs);
  };

  const expire = () => {
    stopped = true;
    options.onExpired?.();
  };

  const refresh = async () => {
    try {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      if (response.status === 401) return expire();
      if (!response.ok) throw new Error(`refresh answered ${response.status}`);
      const body = (await response.json()) as { token: string };
      if (stopped) return;
      token = body.token;
      failures = 0;
      options.onToken?.(token);
      schedule();
    } catch {
      // The gateway is unreachable or busy: try again, while the token still has life in it.
      failures++;
      const left = secondsLeft();
      if (stopped || left === undefined || left <= 0) return expire();
      timer = setTimeout(() => void refresh(), Math.min(backoffDelay(failures), left * 500));
    }
  };

  schedule();
  return {
    current: () => token,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
