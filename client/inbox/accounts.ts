import type { AccountItem } from './api.js';
import { networkOf } from './format.js';

/**
 * Accounts as the page knows them, from `GET /api/accounts` and then live `account:status`
 * envelopes, and the banner that names each account needing its owner's attention. An account
 * comes back to normal with any status outside {@link ATTENTION} (OK, RECONNECTED, SYNC_SUCCESS…).
 */

/** Statuses that need the account's owner to act, and what the banner says about each. */
const ATTENTION: Record<string, string> = {
  CREDENTIALS: 'needs you to sign in again: its credentials expired. Reconnect it at the provider.',
  ERROR: 'has an error at the provider: new messages may not arrive.',
  STOPPED: 'is stopped: no new messages arrive until it is restarted at the provider.',
};

const accounts = new Map<string, AccountItem>();

/** The account type of an account, when the page knows it (a chat may not carry its own). */
export function accountTypeOf(accountId: string): string | null {
  return accounts.get(accountId)?.accountType ?? null;
}

/** Replaces what the page knows with a fresh list (the first load, or after a reset). */
export function setAccounts(items: AccountItem[]): void {
  accounts.clear();
  for (const item of items) accounts.set(item.accountId, item);
  renderBanner();
}

/** Applies a live status change of one account. */
export function updateAccount(change: AccountItem): void {
  const known = accounts.get(change.accountId);
  accounts.set(change.accountId, {
    accountId: change.accountId,
    accountType: change.accountType ?? known?.accountType ?? null,
    status: change.status,
  });
  renderBanner();
}

/** The alerts the reader dismissed (their accounts and statuses): shown again only when they change. */
let dismissed = '';

function alertLine(account: AccountItem): HTMLParagraphElement {
  const line = document.createElement('p');
  line.className = 'account-alert';
  line.dataset.accountId = account.accountId;
  line.dataset.status = account.status ?? '';
  const name = document.createElement('strong');
  name.textContent = `Your ${networkOf(account.accountType)?.label ?? ''} account`.replace('  ', ' ');
  const id = document.createElement('code');
  id.textContent = account.accountId;
  line.append(name, ' (', id, `) ${ATTENTION[account.status ?? '']}`);
  line.title = line.textContent ?? '';
  return line;
}

/**
 * One line above the page however many accounts need attention (the first, and how many more;
 * the stylesheet shows one), with a button that dismisses it until an account's status changes.
 */
function renderBanner(): void {
  const banner = document.getElementById('account-alerts');
  const list = document.getElementById('account-alerts-list');
  if (!banner || !list) return;
  const alerting = [...accounts.values()].filter(
    (account) => account.status !== null && account.status in ATTENTION,
  );
  const key = alerting.map((account) => `${account.accountId}:${account.status}`).join(',');
  list.replaceChildren(...alerting.map(alertLine));
  const more = document.getElementById('account-alerts-more');
  if (more) {
    more.hidden = alerting.length < 2;
    more.textContent = `+${alerting.length - 1} more`;
    more.title = alerting.map((account) => alertLine(account).textContent).join('\n');
  }
  banner.hidden = alerting.length === 0 || key === dismissed;
  const button = document.getElementById('account-alerts-dismiss');
  if (button) {
    button.onclick = () => {
      dismissed = key;
      banner.hidden = true;
    };
  }
}
