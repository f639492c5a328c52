import { randomUUID } from 'node:crypto';

/** A file part of a multipart body. */
export interface MultipartFile {
  filename: string;
  /** The part's Content-Type. Default `application/octet-stream`. */
  contentType?: string;
  content: Uint8Array;
}

/** One part: a text field, or a file. */
export type MultipartPart = { name: string; value: string } | ({ name: string } & MultipartFile);

/** An encoded body and the Content-Type header that carries its boundary. */
export interface MultipartBody {
  body: Buffer;
  contentType: string;
}

// The escapes and line-break normalisation of the WHATWG multipart/form-data encoding, so a
// server sees the same bytes as from a browser's (or undici's) FormData.
const escapeQuoted = (value: string) =>
  value.replaceAll('\n', '%0A').replaceAll('\r', '%0D').replaceAll('"', '%22');
const crlf = (value: string) => value.replace(/\r?\n|\r/g, '\r\n');

/**
 * Encodes parts as one multipart/form-data body in a single buffer, so that the request goes out
 * in one write with a Content-Length. undici's FormData streams each part as a chunk of its own,
 * which costs a send several socket writes (docs/performance.md#bench-send).
 *
 * @param boundary the boundary; default `hookline` and 32 random hex digits. A boundary found in a part is
 * replaced by another random one.
 */
export function multipartBody(parts: readonly MultipartPart[], boundary = randomBoundary()): MultipartBody {
  if (clashes(parts, boundary)) return multipartBody(parts);
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(crlf(part.name))}"`;
    if ('value' in part) {
      chunks.push(Buffer.from(`${head}\r\n\r\n${crlf(part.value)}\r\n`));
    } else {
      const type = (part.contentType || 'application/octet-stream').replace(/[\r\n]/g, '');
      chunks.push(
        Buffer.from(`${head}; filename="${escapeQuoted(part.filename)}"\r\nContent-Type: ${type}\r\n\r\n`),
        bytesOf(part.content),
        Buffer.from('\r\n'),
      );
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

const bytesOf = (content: Uint8Array) => Buffer.from(content.buffer, content.byteOffset, content.byteLength);

function randomBoundary(): string {
  return `hookline${randomUUID().replaceAll('-', '')}`;
}

/** Whether a part's own bytes hold the boundary line, which would end the part early. */
function clashes(parts: readonly MultipartPart[], boundary: string): boolean {
  const line = `--${boundary}`;
  return parts.some((part) =>
    'value' in part ? part.value.includes(line) : bytesOf(part.content).includes(line),
  );
}
