/**
 * How the inbox page gets its session (docs/security.md, "The inbox login"): the link `npm start`
 * or `npm run inbox-link` prints carries a single-use login code (`?code=`), which the page
 * exchanges once for a session (`POST /api/realtime/login`) and then keeps in this tab's
 * sessionStorage, so a reload stays signed in while the link itself opens nothing any more. A host
 * app may instead hand the page a connection token (`?token=`). The page shows when its session
 * ends.
 */

/** Where the tab keeps its newest token. */
const STORAGE_KEY = 'hookline.inbox.token';

/** The tab's newest token: put in the address when it came from there, else in sessionStorage. */
export function rememberToken(token: string): void {
  const address = new URL(location.href);
  if (address.searchParams.has('token')) {
    address.searchParams.set('token', token);
    history.replaceState(history.state, '', address);
  } else {
    sessionStorage.setItem(STORAGE_KEY, token);
  }
}

/** Forgets the tab's session (it ended or was revoked). */
export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** The end of a token's session (`sxp`, seconds since the epoch), read without verifying. */
function sessionEnd(token: string): Date | undefined {
  try {
    const part = token.split('.')[1] ?? '';
    const payload = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as { sxp?: unknown };
    return typeof payload.sxp === 'number' ? new Date(payload.sxp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** Shows when the session ends, in the top bar. */
function showSessionEnd(token: string): void {
  const end = sessionEnd(token);
  const bar = document.querySelector('.topbar');
  if (!end || !bar) return;
  const element = document.createElement('p');
  element.id = 'session-end';
  element.className = 'session-end';
  element.textContent = `Session ends ${end.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}`;
  element.title = end.toISOString();
  bar.append(element);
}

/** The page for a login link that cannot be used: nothing else is shown. */
function showLoginRefused(reason: string): void {
  const why =
    reason === 'used'
      ? 'This login link was already used. Each link opens one session, once.'
      : reason === 'expired'
        ? 'This login link has expired: links are valid for 15 minutes.'
        : 'This login link is not valid.';
  document.title = 'Hookline inbox: sign in again';
  const main = document.createElement('main');
  main.className = 'login-refused';
  main.id = 'login-refused';
  const heading = document.createElement('h1');
  heading.textContent = 'Sign in again';
  const text = document.createElement('p');
  text.textContent = why;
  const next = document.createElement('p');
  next.append('For a new link, run ');
  const command = document.createElement('code');
  command.textContent = 'npm run inbox-link';
  next.append(command, ' next to the running gateway, and open the link it prints.');
  main.append(heading, text, next);
  document.body.replaceChildren(main);
}

/** Exchanges a login code for a session's first token; undefined (and the refusal page) if refused. */
async function exchange(code: string): Promise<string | undefined> {
  const response = await fetch('/api/realtime/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  if (response.ok) return ((await response.json()) as { token: string }).token;
  const body = (await response.json().catch(() => ({}))) as { error?: { details?: { reason?: string } } };
  showLoginRefused(body.error?.details?.reason ?? 'unknown');
  return undefined;
}

/**
 * The token the page starts with, or undefined: from a login code in the address (exchanged, and
 * removed from the address at once), a `?token=`, or the session this tab already holds.
 */
export async function obtainToken(): Promise<string | undefined> {
  const address = new URL(location.href);
  const code = address.searchParams.get('code');
  let token: string | undefined;
  if (code) {
    address.searchParams.delete('code');
    history.replaceState(history.state, '', address);
    token = await exchange(code);
    if (token) sessionStorage.setItem(STORAGE_KEY, token);
    else return undefined;
  } else {
    token = address.searchParams.get('token') ?? sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  }
  if (token) showSessionEnd(token);
  return token;
}

/** Whether the page shows the refused-login page (nothing else should run). */
export function loginRefused(): boolean {
  return document.getElementById('login-refused') !== null;
}
