import type { FastifyRequest } from 'fastify';
import { API_BODY_LIMIT_BYTES } from '../app-limits.js';
import { HooklineError } from '../errors.js';
import type { Attachment } from '../providers/events.js';
import { containsNul } from '../shared/storable.js';
import type { SendAttachmentFile } from './queries/send-attachments.js';
import { MAX_SEND_TEXT } from './route-schemas.js';

/** How much one send may upload (docs/sending.md). */
export interface AttachmentLimits {
  /** SEND_ATTACHMENT_MAX_BYTES: the largest file. */
  maxFileBytes: number;
  /** SEND_ATTACHMENT_MAX_FILES: the most files; 0 refuses any. */
  maxFiles: number;
  /** SEND_ATTACHMENTS_MAX_TOTAL_BYTES: the largest total of all files. */
  maxTotalBytes: number;
}

/** The form part name of files: repeated, as the provider takes them. */
export const ATTACHMENTS_FIELD = 'attachments';
/** A text field's longest value: the longest text at 4 bytes a character. */
const MAX_FIELD_BYTES = MAX_SEND_TEXT * 4;
/**
 * More text fields than the body has (accountId, text, quoteId) are let through to the schema,
 * which names the unknown one; this bounds how many a request can make the parser hold.
 */
const MAX_FIELDS = 20;
const MAX_FILENAME_LENGTH = 255;

/** The fields and files of a multipart send. */
export interface MultipartSend {
  fields: Record<string, unknown>;
  files: SendAttachmentFile[];
}

const tooLarge = (message: string) => new HooklineError('HL_ERR_PAYLOAD_TOO_LARGE', message);

/**
 * Reads a multipart/form-data send while it streams: text fields, and files from repeated
 * `attachments` parts, each buffered whole (it is stored in Postgres). Refuses with
 * `413 HL_ERR_PAYLOAD_TOO_LARGE` as soon as a limit is passed, without reading the rest, and a
 * malformed body with `400 HL_ERR_INVALID_REQUEST`.
 */
export async function readMultipartSend(
  request: FastifyRequest,
  limits: AttachmentLimits,
): Promise<MultipartSend> {
  // A declared length over every limit together is refused before a byte is read.
  const declared = Number(request.headers['content-length']);
  if (declared > limits.maxTotalBytes + API_BODY_LIMIT_BYTES) {
    throw tooLarge(`The body is larger than attachments may total (${limits.maxTotalBytes} bytes)`);
  }
  const fields: Record<string, unknown> = {};
  const files: SendAttachmentFile[] = [];
  let total = 0;
  try {
    const parts = request.parts({
      limits: {
        fileSize: limits.maxFileBytes,
        files: limits.maxFiles,
        fields: MAX_FIELDS,
        fieldSize: MAX_FIELD_BYTES,
        parts: limits.maxFiles + MAX_FIELDS,
      },
    });
    for await (const part of parts) {
      if (part.type === 'file') {
        if (part.fieldname !== ATTACHMENTS_FIELD) {
          throw invalid(`Files go in repeated "${ATTACHMENTS_FIELD}" parts, not "${part.fieldname}"`);
        }
        const content = await part.toBuffer();
        total += content.length;
        if (total > limits.maxTotalBytes) {
          throw tooLarge(`Attachments total more than ${limits.maxTotalBytes} bytes`);
        }
        const filename = part.filename.slice(0, MAX_FILENAME_LENGTH) || `attachment-${files.length + 1}`;
        const mimetype = part.mimetype || 'application/octet-stream';
        if (containsNul(filename) || containsNul(mimetype)) {
          throw invalid('U+0000 (NUL) characters are not accepted');
        }
        files.push({ filename, mimetype, content });
      } else {
        if (part.valueTruncated) throw tooLarge(`Field "${part.fieldname}" is over ${MAX_FIELD_BYTES} bytes`);
        if (part.fieldname in fields) throw invalid(`Field "${part.fieldname}" is repeated`);
        if (containsNul(part.value)) throw invalid('U+0000 (NUL) characters are not accepted');
        fields[part.fieldname] = part.value;
      }
    }
  } catch (error) {
    throw multipartError(error, request, limits);
  }
  return { fields, files };
}

function invalid(message: string): HooklineError {
  return new HooklineError('HL_ERR_INVALID_REQUEST', message);
}

/** The parser's own errors (@fastify/multipart codes, busboy's plain errors) as ours. */
function multipartError(error: unknown, request: FastifyRequest, limits: AttachmentLimits): unknown {
  if (error instanceof HooklineError) return error;
  // The client went away: the error handler reports an abort, not a malformed body.
  if (request.raw.errored) return error;
  switch ((error as { code?: unknown }).code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return tooLarge(`An attachment is larger than ${limits.maxFileBytes} bytes`);
    case 'FST_FILES_LIMIT':
      return tooLarge(`A send takes at most ${limits.maxFiles} attachments`);
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return tooLarge('The form has too many parts');
    default:
      return new HooklineError('HL_ERR_INVALID_REQUEST', 'The multipart/form-data body is malformed', {
        cause: error,
      });
  }
}

/** What the message shows of its uploaded files, in the shape of provider attachments. */
export function attachmentMetadata(files: readonly SendAttachmentFile[]): Attachment[] {
  return files.map((file) => ({
    id: null,
    type: null,
    mimetype: file.mimetype,
    url: null,
    filename: file.filename,
    fileSize: file.content.length,
    width: null,
    height: null,
    sticker: false,
    unavailable: false,
  }));
}
