/** A stored time as `data` carries it: ISO 8601 in UTC with milliseconds, or null. */
export const iso = (value: Date | null | undefined) => (value ? value.toISOString() : null);

/** A jsonb list column as `data` carries it: the list, or empty when the column holds none. */
export const listOf = (value: unknown) => (Array.isArray(value) ? value : []);
