/**
 * Every error Hookline reports carries a stable `HL_ERR_*` code. Clients and tests match on the
 * code; the message is for humans and may change.
 */
export const ERROR_STATUS = {
  HL_ERR_CONFIG: 500,
  HL_ERR_INVALID_JSON: 400,
  HL_ERR_INVALID_PAYLOAD: 400,
  HL_ERR_INVALID_REQUEST: 400,
  HL_ERR_HEADERS_REQUIRED: 400,
  HL_ERR_UNAUTHORIZED: 401,
  HL_ERR_FORBIDDEN: 403,
  HL_ERR_NOT_FOUND: 404,
  HL_ERR_ROUTE_NOT_FOUND: 404,
  HL_ERR_METHOD_NOT_ALLOWED: 405,
  HL_ERR_CONFLICT: 409,
  HL_ERR_LIMIT_REACHED: 409,
  HL_ERR_PAYLOAD_TOO_LARGE: 413,
  HL_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  HL_ERR_RATE_LIMITED: 429,
  HL_ERR_AUTH_RATE_LIMITED: 429,
  HL_ERR_INTERNAL: 500,
  HL_ERR_PROVIDER: 502,
  HL_ERR_UNAVAILABLE: 503,
  // Start-up failures (StartupError): the process prints one line and exits 1; never an answer.
  HL_ERR_PORT_IN_USE: 500,
  HL_ERR_LISTEN: 500,
  HL_ERR_DATABASE_UNREACHABLE: 500,
  HL_ERR_DATABASE_MISSING: 500,
  HL_ERR_DATABASE_AUTH: 500,
  HL_ERR_PROVIDER_KEY_MISSING: 500,
  HL_ERR_PROVIDER_KEY_REFUSED: 500,
  HL_ERR_DATA_DIR: 500,
} as const;

/** A stable `HL_ERR_*` code, each mapped to its HTTP status by {@link ERROR_STATUS}. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** What a {@link HooklineError} may carry besides its code and message. */
export interface HooklineErrorOptions {
  /** Extra machine-readable context returned to the client as `error.details`. Never secrets. */
  details?: unknown;
  /** The underlying error, kept for logs only. */
  cause?: unknown;
  /** Overrides the HTTP status implied by the code. */
  statusCode?: number;
}

/** The one error type routes throw: the error handler answers its status with {@link errorBody}. */
export class HooklineError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: HooklineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HooklineError';
    this.code = code;
    this.statusCode = options.statusCode ?? ERROR_STATUS[code];
    this.details = options.details;
  }
}

/** The JSON body of every error response (docs/operations.md, "Errors"). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** The response body of an error: code, message and, when given, details (never the cause). */
export function errorBody(error: HooklineError): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}

/** What a {@link StartupError} says: the setting at fault, what is wrong, and what to do. */
export interface StartupProblem {
  /** The environment variable (or command-line option) to look at, e.g. `PORT`. */
  setting: string;
  /** What is wrong, e.g. `3000 is in use on 127.0.0.1`. */
  problem: string;
  /** What to do about it, e.g. `stop what listens there, or set PORT to a free port`. */
  fix: string;
  /** The underlying error, for the debug log only. */
  cause?: unknown;
}

/**
 * A start-up failure the operator can fix. The process prints it as one line,
 * `<setting>: <problem>: <fix> (<code>)`, logs the cause at debug level and exits 1.
 */
export class StartupError extends HooklineError {
  readonly setting: string;

  constructor(code: ErrorCode, { setting, problem, fix, cause }: StartupProblem) {
    super(code, `${setting}: ${problem}: ${fix}`, { cause, details: { setting } });
    this.name = 'StartupError';
    this.setting = setting;
  }
}

/** The one line a failed start prints: the message and code of a HooklineError, or a bug's message. */
export function startupFailureLine(error: unknown): string {
  if (error instanceof HooklineError) return `${error.message} (${error.code})`;
  return `failed to start: ${error instanceof Error ? error.message : String(error)}`;
}
