import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { type Dispatcher, request } from 'undici';

/** What an attack expects back: these statuses, and for a 4xx this error code (any HL_ERR_* if unset). */
export interface Expectation {
  status: number | readonly number[];
  code?: string | readonly string[];
}

export interface HttpAttack extends Expectation {
  method?: Dispatcher.HttpMethod;
  path: string;
  headers?: Record<string, string>;
  /** A string, Buffer or stream is sent as is; anything else as JSON. */
  body?: unknown;
  /** A secret this answer may legitimately carry (an endpoint's own, shown once on create/rotate). */
  mayContain?: string;
}

export interface Answer {
  status: number;
  text: string;
  json: unknown;
}

const asList = <T>(value: T | readonly T[]): readonly T[] => (Array.isArray(value) ? value : [value as T]);

/**
 * Counts every request and frame sent at the gateway and how each was answered, and checks every
 * answer for 5xx and for secrets. Mismatches are collected with the request that caused them, so
 * a failing run names every offending input, not only the first.
 */
export class Tally {
  sent = 0;
  acknowledged = 0;
  serverErrors = 0;
  readonly leaks: string[] = [];
  readonly unexpected: string[] = [];
  readonly #secrets = new Set<string>();

  constructor(
    private readonly baseUrl: string,
    secrets: readonly string[],
  ) {
    for (const secret of secrets) this.#secrets.add(secret);
  }

  /** Adds a secret (an endpoint's whsec_) that must not show up anywhere else from now on. */
  addSecret(secret: string): void {
    this.#secrets.add(secret);
  }

  /** The secrets found in `text`, other than `allowed`. */
  secretsIn(text: string, allowed?: string): string[] {
    return [...this.#secrets].filter((secret) => secret !== allowed && text.includes(secret));
  }

  /** Records one answer (HTTP or WebSocket) against what was expected; true when it matched. */
  record(label: string, status: number, code: string | undefined, expected: Expectation): boolean {
    this.sent++;
    if (status >= 500) this.serverErrors++;
    const statusOk = asList(expected.status).includes(status);
    const codeOk =
      status < 400 ||
      (expected.code ? asList(expected.code).includes(code ?? '') : /^HL_ERR_[A-Z_]+$/.test(code ?? ''));
    if (statusOk && codeOk) {
      this.acknowledged++;
      return true;
    }
    this.unexpected.push(`${label} → ${status} ${code ?? ''}`.slice(0, 300));
    return false;
  }

  /** Counts answers that arrive without a request of their own (frames answered in bulk). */
  recordFrames(sent: number, acknowledged: number): void {
    this.sent += sent;
    this.acknowledged += acknowledged;
  }

  checkText(label: string, text: string, allowed?: string): void {
    for (const secret of this.secretsIn(text, allowed)) this.leaks.push(`${label}: ${secret.slice(0, 8)}…`);
  }

  /** Sends one HTTP request and records its answer. */
  async http(attack: HttpAttack): Promise<Answer> {
    const method = attack.method ?? (attack.body === undefined ? 'GET' : 'POST');
    const headers: Record<string, string> = { ...attack.headers };
    let body: string | Buffer | Readable | undefined;
    const raw = attack.body;
    if (typeof raw === 'string' || Buffer.isBuffer(raw) || raw instanceof Readable) body = raw;
    else if (raw !== undefined) {
      body = JSON.stringify(raw);
      headers['content-type'] ??= 'application/json';
    }
    const label = `${method} ${attack.path.slice(0, 100)} ${typeof body === 'string' ? body.slice(0, 100) : ''}`;
    let answer: Answer;
    try {
      const response = await request(`${this.baseUrl}${attack.path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        headersTimeout: 20_000,
        bodyTimeout: 20_000,
      });
      const text = await response.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      answer = { status: response.statusCode, text, json };
    } catch (error) {
      this.sent++;
      this.unexpected.push(`${label} → no answer: ${(error as Error).message}`);
      return { status: 0, text: '', json: undefined };
    }
    this.checkText(label, answer.text, attack.mayContain);
    this.record(label, answer.status, errorCode(answer.json), attack);
    return answer;
  }

  /**
   * Writes `head` and then `body` on a raw TCP socket, stopping as soon as an answer arrives, and
   * records that answer: for refusals an HTTP client would only report as a broken pipe.
   *
   * `answerAfter`: the body length at which the gateway is expected to answer (a limit it can
   * only detect while reading, as in a chunked body). The writer pauses there for the answer.
   * Otherwise the bytes it keeps writing are still unread when the gateway closes the connection,
   * the gateway's kernel resets it, and the client's kernel may drop the answer it had received.
   */
  async raw(
    label: string,
    head: string,
    body: Buffer,
    expected: Expectation,
    answerAfter?: number,
  ): Promise<void> {
    const { hostname, port } = new URL(this.baseUrl);
    const text = await new Promise<string>((resolve) => {
      let received = '';
      const socket = connect(Number(port), hostname, async () => {
        socket.write(head);
        // A refusal from the headers alone (Content-Length) comes at once: writing on into a
        // socket the server has closed would reset the connection and lose that answer.
        await new Promise((settle) => setTimeout(settle, 200));
        for (
          let offset = 0;
          offset < body.length && received === '' && !socket.destroyed;
          offset += 64 * 1024
        ) {
          // Waiting for each drain yields to the event loop, so an early answer stops the writing.
          if (!socket.write(body.subarray(offset, offset + 64 * 1024))) {
            await new Promise((drained) => socket.once('drain', drained).once('close', drained));
          }
          if (answerAfter !== undefined && offset < answerAfter && offset + 64 * 1024 >= answerAfter) {
            const deadline = Date.now() + 2000;
            while (received === '' && !socket.destroyed && Date.now() < deadline) {
              await new Promise((settle) => setTimeout(settle, 10));
            }
          }
        }
      });
      socket.on('data', (chunk) => {
        received += chunk;
      });
      // The gateway resets the connection once it has answered: the answer is what counts.
      socket.on('error', () => {});
      socket.on('close', () => resolve(received));
      setTimeout(() => socket.destroy(), 20_000).unref();
    });
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    let json: unknown;
    try {
      json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    } catch {
      json = undefined;
    }
    this.checkText(label, text);
    this.record(label, status, errorCode(json), expected);
  }
}

/** The `error.code` of an error body, if it is one. */
export function errorCode(json: unknown): string | undefined {
  const code = (json as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}
