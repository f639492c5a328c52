/**
 * Polls `condition` until it returns a truthy value, and returns it. Fails after `timeoutMs` with
 * `message`: a bound against hanging, never a timing assertion.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  message: string,
  { timeoutMs = 15_000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
