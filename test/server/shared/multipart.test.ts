import fc from 'fast-check';
import { Response } from 'undici';
import { describe, expect, it } from 'vitest';
import { multipartBody } from '../../../server/shared/multipart.js';

/** Parses a body with undici's own multipart parser, an implementation independent of ours. */
async function parse(body: Buffer, contentType: string) {
  const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  return Promise.all(
    [...form.entries()].map(async ([name, value]) =>
      typeof value === 'string'
        ? { name, value }
        : { name, filename: value.name, type: value.type, content: Buffer.from(await value.arrayBuffer()) },
    ),
  );
}

describe('multipartBody', () => {
  it('encodes fields and files as a browser FormData does (known answer)', () => {
    const { body, contentType } = multipartBody(
      [
        { name: 'text', value: 'hi\nthere' },
        {
          name: 'attachments',
          filename: 'a "b".txt',
          contentType: 'text/plain',
          content: Buffer.from('xyz'),
        },
      ],
      'BOUNDARY',
    );
    expect(contentType).toBe('multipart/form-data; boundary=BOUNDARY');
    expect(body.toString()).toBe(
      '--BOUNDARY\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\nthere\r\n' +
        '--BOUNDARY\r\nContent-Disposition: form-data; name="attachments"; filename="a %22b%22.txt"\r\n' +
        'Content-Type: text/plain\r\n\r\nxyz\r\n' +
        '--BOUNDARY--\r\n',
    );
  });

  it('drops line breaks from a part type, so a type cannot add header lines', () => {
    const { body } = multipartBody(
      [{ name: 'f', filename: 'f', contentType: 'text/plain\r\nX-Evil: 1', content: Buffer.from('') }],
      'B',
    );
    expect(body.toString()).toContain('Content-Type: text/plainX-Evil: 1\r\n\r\n');
  });

  it('draws another boundary when a part holds the one asked for', async () => {
    const { body, contentType } = multipartBody([{ name: 'text', value: 'a\r\n--B\r\nb' }], 'B');
    expect(contentType).not.toBe('multipart/form-data; boundary=B');
    expect(await parse(body, contentType)).toEqual([{ name: 'text', value: 'a\r\n--B\r\nb' }]);
  });

  it('round-trips any text and bytes through an independent parser', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme' }),
        fc.string({ minLength: 1, unit: 'grapheme' }),
        fc.uint8Array({ maxLength: 512 }),
        async (text, filename, content) => {
          const { body, contentType } = multipartBody([
            { name: 'text', value: text },
            { name: 'attachments', filename, contentType: 'application/pdf', content },
          ]);
          const [field, file] = await parse(body, contentType);
          expect(field).toEqual({ name: 'text', value: text.replace(/\r?\n|\r/g, '\r\n') });
          expect(file).toMatchObject({ name: 'attachments', type: 'application/pdf' });
          expect(Buffer.compare((file as { content: Buffer }).content, Buffer.from(content))).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
