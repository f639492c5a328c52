import { expect } from 'vitest';
import type { Gateway } from './gateway.js';
import type { Tally } from './tally.js';

/** What every attack module works against: the one gateway process and the shared counts. */
export class Target {
  /** SQL-looking messages found stored exactly once (measured, for the results table). */
  sqlStored = 0;

  constructor(
    readonly gateway: Gateway,
    readonly tally: Tally,
  ) {}

  /** Fails the current test with every answer that did not match, then starts afresh. */
  expectClean(): void {
    const unexpected = this.tally.unexpected.splice(0);
    expect(unexpected).toEqual([]);
  }

  /** The stored text of every row for this message id: exactly one is expected. */
  async storedTexts(accountId: string, messageId: string): Promise<(string | null)[]> {
    const result = await this.gateway.db.query<{ text: string | null }>(
      'select text from messages where account_id = $1 and id = $2',
      [accountId, messageId],
    );
    return result.rows.map((row) => row.text);
  }

  /** An `Authorization` header with the API token. */
  get apiAuth(): Record<string, string> {
    return { authorization: `Bearer ${this.gateway.secrets.api}` };
  }
}
