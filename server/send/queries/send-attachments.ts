import { asc, eq } from 'drizzle-orm';
import { sendAttachments } from '../../../drizzle/schema.js';
import type { Executor, Tx } from '../../db/database.js';

/** A file uploaded with a send, as stored until the send settles. */
export interface SendAttachmentFile {
  filename: string;
  mimetype: string;
  content: Buffer;
}

/** Stores a send's files, in upload order (node-postgres sends each as one binary parameter). */
export async function insertSendAttachments(
  tx: Tx,
  localId: string,
  files: readonly SendAttachmentFile[],
): Promise<void> {
  if (files.length === 0) return;
  await tx.insert(sendAttachments).values(
    files.map((file, position) => ({
      localId,
      position,
      filename: file.filename,
      mimetype: file.mimetype,
      size: file.content.length,
      content: file.content,
    })),
  );
}

/** A send's files, in upload order; none for a send without attachments (or already settled). */
export async function loadSendAttachments(
  executor: Executor,
  localId: string,
): Promise<SendAttachmentFile[]> {
  return executor
    .select({
      filename: sendAttachments.filename,
      mimetype: sendAttachments.mimetype,
      content: sendAttachments.content,
    })
    .from(sendAttachments)
    .where(eq(sendAttachments.localId, localId))
    .orderBy(asc(sendAttachments.position));
}
