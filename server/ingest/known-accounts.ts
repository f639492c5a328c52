import type { AccountSeen } from './queries/accounts.js';

/**
 * What this instance already wrote about each account (type and own user id), so that a batch
 * upserts only accounts whose details are new. Upserting every mentioned account locked those
 * rows until commit and made concurrent batches queue behind each other; the details almost
 * never change. Bounded: when full it simply forgets, which only costs a redundant upsert.
 */
export class KnownAccounts {
  readonly #signatures = new Map<string, string>();
  readonly #capacity: number;

  /** @param capacity most accounts remembered. Default 100,000. */
  constructor(capacity = 100_000) {
    this.#capacity = capacity;
  }

  /** The accounts whose details this instance has not written yet. */
  unseen(accounts: AccountSeen[]): AccountSeen[] {
    return accounts.filter((account) => this.#signatures.get(account.id) !== signature(account));
  }

  /** Call only after the transaction that wrote `accounts` committed. */
  remember(accounts: AccountSeen[]): void {
    if (this.#signatures.size + accounts.length > this.#capacity) this.#signatures.clear();
    for (const account of accounts) this.#signatures.set(account.id, signature(account));
  }
}

const signature = (account: AccountSeen) => `${account.accountType ?? ''}\u0000${account.userId ?? ''}`;
