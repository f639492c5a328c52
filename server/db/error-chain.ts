/** How deep a `cause` chain is followed: drizzle wraps driver errors once or twice, never more. */
const MAX_DEPTH = 5;

/** An error and the errors in its `cause` chain, outermost first. */
export function* errorChain(error: unknown): Generator<{ code?: unknown; message?: unknown }> {
  for (let current = error, depth = 0; current && depth < MAX_DEPTH; depth++) {
    const candidate = current as { code?: unknown; message?: unknown; cause?: unknown };
    yield candidate;
    current = candidate.cause;
  }
}

/** Whether the error, or one in its `cause` chain, carries one of these SQLSTATEs. */
export function hasSqlState(error: unknown, sqlStates: ReadonlySet<string>): boolean {
  for (const link of errorChain(error)) {
    if (typeof link.code === 'string' && sqlStates.has(link.code)) return true;
  }
  return false;
}
