import { HooklineError } from '../errors.js';
import { errorChain, hasSqlState } from './error-chain.js';

/** Node socket errors that mean the server cannot be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs after which a retry later can succeed: connection exceptions (class 08), the server
 * shutting down or starting (57P01-57P03), too many connections, and serialization failures.
 */
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);

const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /cannot use a pool after calling end/i,
  /client has encountered a connection error/i,
  /connection is closed/i,
  /database is closed/i,
];

/**
 * Whether an error (or any error in its `cause` chain, as drizzle wraps driver errors) means the
 * database is unavailable for now, so the caller should answer 503 and the provider retry.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const link of errorChain(error)) {
    const code = typeof link.code === 'string' ? link.code : '';
    if (NETWORK_CODES.has(code) || TRANSIENT_SQLSTATES.has(code) || code.startsWith('08')) return true;
    const message = typeof link.message === 'string' ? link.message : '';
    if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  }
  return false;
}

/** Serialization failure and deadlock: the transaction lost a race with another one. */
const CONFLICT_SQLSTATES = new Set(['40001', '40P01']);

/**
 * Whether an error (or its `cause` chain) is a transaction conflict: running the work again can
 * succeed at once, unlike an outage. {@link isDatabaseUnavailable} is true for these as well.
 */
export function isTransactionConflict(error: unknown): boolean {
  return hasSqlState(error, CONFLICT_SQLSTATES);
}

/** The 503 a route answers when the database cannot be reached; the cause stays in logs only. */
export function databaseUnavailableError(cause: unknown): HooklineError {
  return new HooklineError('HL_ERR_UNAVAILABLE', 'The database is unavailable; retry later', { cause });
}
