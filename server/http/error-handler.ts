import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ZodError } from 'zod';
import { databaseUnavailableError, isDatabaseUnavailable } from '../db/unavailable.js';
import { errorBody, HooklineError } from '../errors.js';

/** fastify's own error codes, mapped onto ours so every 4xx/5xx has the one JSON format. */
const FASTIFY_CODES: Record<string, (error: FastifyError) => HooklineError> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new HooklineError('HL_ERR_UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type; send application/json'),
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new HooklineError('HL_ERR_PAYLOAD_TOO_LARGE', 'Request body is too large'),
  FST_ERR_CTP_INVALID_JSON_BODY: (error) =>
    new HooklineError('HL_ERR_INVALID_JSON', `Body is not valid JSON: ${error.message}`),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new HooklineError('HL_ERR_INVALID_JSON', 'Body is empty but the content type is application/json'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new HooklineError('HL_ERR_INVALID_REQUEST', 'Content-Length does not match the body'),
  FST_ERR_VALIDATION: (error) =>
    new HooklineError('HL_ERR_INVALID_REQUEST', error.message, { details: error.validation }),
};

/** Turns anything thrown by a route, hook or fastify itself into a {@link HooklineError}. */
export function toHooklineError(error: unknown): HooklineError {
  if (error instanceof HooklineError) return error;
  if (error instanceof ZodError) {
    return new HooklineError('HL_ERR_INVALID_REQUEST', 'Request is invalid', { details: error.issues });
  }
  if (isDatabaseUnavailable(error)) return databaseUnavailableError(error);
  const fastifyError = error as Partial<FastifyError>;
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) return mapped(fastifyError as FastifyError);
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new HooklineError('HL_ERR_INVALID_JSON', `Body is not valid JSON: ${error.message}`);
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HooklineError('HL_ERR_INVALID_REQUEST', fastifyError.message ?? 'Bad request', {
      statusCode: status,
    });
  }
  return new HooklineError('HL_ERR_INTERNAL', 'Internal error', { cause: error });
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: HooklineError, original: unknown) {
  if (error.code === 'HL_ERR_PROVIDER') {
    // The provider's problem says what went wrong; a stack trace of ours would add nothing.
    request.log.warn(
      { problem: error.details, code: error.code, method: request.method, route: request.routeOptions.url },
      `request failed: ${error.message}`,
    );
  } else if (error.statusCode >= 500) {
    const context = {
      err: original,
      code: error.code,
      method: request.method,
      route: request.routeOptions.url,
    };
    if (error.code === 'HL_ERR_UNAVAILABLE')
      request.log.warn(context, 'request failed: database unavailable');
    else request.log.error(context, 'request failed');
  }
  const body = errorBody(error);
  if (error.code === 'HL_ERR_INTERNAL') body.error.message = `Internal error (request ${request.id})`;
  return reply.status(error.statusCode).type('application/json; charset=utf-8').send(body);
}

/**
 * fastify's `frameworkErrors`: a URL that cannot be decoded (`/api/chats/%E0`) is refused before
 * routing, and would otherwise get fastify's own error format instead of ours.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  return sendError(request, reply, toHooklineError(error), error);
}

/**
 * The HTTP server's `clientError` handler: requests Node refuses before fastify sees them
 * (oversized headers, malformed HTTP) get our JSON error format too. Mirrors fastify's default
 * otherwise: nothing to answer on a reset or destroyed socket, and the socket is closed after.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify(
    errorBody(
      new HooklineError('HL_ERR_INVALID_REQUEST', STATUS_CODES[status] ?? 'Bad request', {
        statusCode: status,
      }),
    ),
  );
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * Whether `error` is the request stream's own failure: the client reset or closed the connection
 * before its body arrived (or the request timeout cut it). Node reports that as ECONNRESET, which
 * would otherwise read as a lost database connection.
 */
function isClientAbort(error: unknown, request: FastifyRequest): boolean {
  return error !== undefined && request.raw.errored === error;
}

/** One error handler for the whole app, and a JSON 404 for unknown routes. */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error, request, reply) => {
      if (!isClientAbort(error, request)) return sendError(request, reply, toHooklineError(error), error);
      // Nobody is left to answer, and it is no fault of ours: debug, so aborts cannot flood the log.
      request.log.debug(
        { err: error, method: request.method, route: request.routeOptions.url },
        'request aborted: the client closed it or sent it too slowly',
      );
      return sendError(request, reply, new HooklineError('HL_ERR_INVALID_REQUEST', 'Request aborted'), error);
    });
    app.setNotFoundHandler((request, reply) =>
      sendError(
        request,
        reply,
        new HooklineError(
          'HL_ERR_ROUTE_NOT_FOUND',
          `No route ${request.method} ${request.url.split('?')[0]}`,
        ),
        undefined,
      ),
    );
  },
  { name: 'hookline-error-handler' },
);
