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

function renderBanner(): void {
  const banner = document.getElementById('account-alerts');
  if (!banner) return;
  const alerts = [...accounts.values()]
    .filter((account) => account.status !== null && account.status in ATTENTION)
    .map((account) => {
      const line = document.createElement('p');
      line.className = 'account-alert';
      line.dataset.accountId = account.accountId;
      line.dataset.status = account.status ?? '';
      const name = document.createElement('strong');
      name.textContent = `Your ${networkOf(account.accountType)?.label ?? ''} account`.replace('  ', ' ');
      const id = document.createElement('code');
      id.textContent = account.accountId;
      line.append(name, ' (', id, `) ${ATTENTION[account.status ?? '']}`);
      return line;
    });
  banner.replaceChildren(...alerts);
  banner.hidden = alerts.length === 0;
}
