import { Readable } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';

/**
 * The fake provider's attachment downloads: `GET /messages/{message_id}/attachments/{attachment_id}`
 * answers the bytes a test or the control route put there, with their content type (and a
 * Content-Length unless told to stream without one); anything else is a 404 problem.
 */

/** A file the fake serves. */
export interface FakeFile {
  bytes: Buffer;
  mimetype: string;
  /** Send without Content-Length (chunked), as a provider streaming from storage may. Default false. */
  chunked?: boolean;
}

/** The fake's files: what it serves and which downloads it was asked for. */
export interface FakeFiles {
  /** Serves `file` as `attachmentId` of `messageId`. */
  put(messageId: string, attachmentId: string, file: FakeFile): void;
  /** Every download asked for (`messageId/attachmentId`), in order. */
  readonly requested: string[];
  /**
   * Gives each image a delivered message lists and the fake holds no file for a generated
   * picture (a flat colour from its id), so thumbnails show during local development.
   */
  placeholdersFor(payload: { message_id?: unknown; attachments?: unknown }): void;
  /** Registers the download route on the fake's `/api/v1` scope. */
  routes(api: FastifyInstance): void;
  /** Registers `POST /_fake/files {messageId, attachmentId, mimetype, base64 | png}` on the fake's root. */
  controlRoutes(app: FastifyInstance): void;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A solid-colour PNG of `width`×`height` (RGB), so that previews have a real image to show. */
export function placeholderPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Creates the fake's file store. */
export function createFakeFiles(): FakeFiles {
  const files = new Map<string, FakeFile>();
  const requested: string[] = [];
  const key = (messageId: string, attachmentId: string) => `${messageId}/${attachmentId}`;
  return {
    requested,
    put(messageId, attachmentId, file) {
      files.set(key(messageId, attachmentId), file);
    },
    placeholdersFor(payload) {
      if (typeof payload.message_id !== 'string') return;
      const listed = Array.isArray(payload.attachments) ? payload.attachments : [payload.attachments];
      for (const attachment of listed as { id?: unknown; type?: unknown; mimetype?: unknown }[]) {
        if (typeof attachment?.id !== 'string' || attachment.type !== 'img') continue;
        if (files.has(key(payload.message_id, attachment.id))) continue;
        const hue = [...attachment.id].reduce((sum, character) => sum + character.charCodeAt(0), 0);
        const rgb: [number, number, number] = [
          60 + (hue % 150),
          90 + ((hue * 7) % 120),
          140 + ((hue * 13) % 100),
        ];
        files.set(key(payload.message_id, attachment.id), {
          bytes: placeholderPng(320, 240, rgb),
          mimetype: 'image/png',
        });
      }
    },
    routes(api) {
      api.get('/messages/:message_id/attachments/:attachment_id', async (request, reply) => {
        const params = request.params as { message_id: string; attachment_id: string };
        requested.push(key(params.message_id, params.attachment_id));
        const file = files.get(key(params.message_id, params.attachment_id));
        if (!file) {
          return reply.status(404).send({
            title: 'Resource not found',
            detail: 'Resource not found (fake Unipile)',
            type: 'errors/resource_not_found',
            status: 404,
          });
        }
        reply.type(file.mimetype);
        if (!file.chunked) reply.header('content-length', String(file.bytes.length));
        // A stream has no length of its own: fastify then sends it chunked.
        return reply.send(file.chunked ? Readable.from(chunks(file.bytes)) : file.bytes);
      });
    },
    controlRoutes(app) {
      app.post('/_fake/files', async (request) => {
        const body = (request.body ?? {}) as {
          messageId?: string;
          attachmentId?: string;
          mimetype?: string;
          base64?: string;
          png?: { width?: number; height?: number; rgb?: [number, number, number] };
        };
        if (!body.messageId || !body.attachmentId) return { ok: false };
        const bytes = body.png
          ? placeholderPng(body.png.width ?? 320, body.png.height ?? 240, body.png.rgb ?? [37, 99, 235])
          : Buffer.from(body.base64 ?? '', 'base64');
        files.set(key(body.messageId, body.attachmentId), {
          bytes,
          mimetype: body.png ? 'image/png' : (body.mimetype ?? 'application/octet-stream'),
        });
        return { ok: true, bytes: bytes.length };
      });
    },
  };
}

async function* chunks(bytes: Buffer) {
  for (let offset = 0; offset < bytes.length; offset += 64 * 1024)
    yield bytes.subarray(offset, offset + 64 * 1024);
}
