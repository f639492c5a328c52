import type { chats } from '../../drizzle/schema.js';

/** A row of `chats`, as drizzle reads it (the conversation store, docs/architecture.md). */
export type ChatRecord = typeof chats.$inferSelect;
