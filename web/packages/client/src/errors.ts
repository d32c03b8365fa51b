/** Errors as typed values, keyed by the server's `extensions.code`. */

/** The codes the service puts in `extensions.code` (DESIGN.md section 5). */
export const SERVER_ERROR_CODES = [
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "BAD_USER_INPUT",
  "CONFLICT",
  "RATE_LIMITED",
  "BUDGET_EXCEEDED",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "SERVICE_UNAVAILABLE",
  "INTERNAL_SERVER_ERROR",
] as const;

export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

/** Codes the client itself raises: the request never got a GraphQL answer. */
export type ClientErrorCode = "NETWORK_ERROR" | "SOCKET_CLOSED" | "ABORTED" | "BAD_RESPONSE";

export type ErrorCode = ServerErrorCode | ClientErrorCode;

export interface GraphQLErrorShape {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: Record<string, unknown>;
}

function isServerCode(code: unknown): code is ServerErrorCode {
  return typeof code === "string" && (SERVER_ERROR_CODES as readonly string[]).includes(code);
}

export class ReelforgeError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = "ReelforgeError";
  readonly code: C;
  /** Everything the server put in `extensions` (for example `retryAfter` on RATE_LIMITED). */
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly path: ReadonlyArray<string | number> | undefined;
  /** HTTP status when the error came from a plain HTTP answer. */
  readonly status: number | undefined;

  constructor(
    code: C,
    message: string,
    init: {
      extensions?: Record<string, unknown>;
      path?: ReadonlyArray<string | number>;
      status?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.extensions = init.extensions ?? {};
    this.path = init.path;
    this.status = init.status;
  }

  /** Seconds to wait before trying again (RATE_LIMITED). */
  get retryAfter(): number | undefined {
    const value = this.extensions["retryAfter"];
    return typeof value === "number" ? value : undefined;
  }

  static fromGraphQL(error: GraphQLErrorShape): ReelforgeError<ServerErrorCode> {
    const code = error.extensions?.["code"];
    return new ReelforgeError(isServerCode(code) ? code : "INTERNAL_SERVER_ERROR", error.message, {
      extensions: error.extensions ?? {},
      ...(error.path ? { path: error.path } : {}),
    });
  }
}

/** Narrow an unknown thrown value to a ReelforgeError, optionally of one code. */
export function isReelforgeError<C extends ErrorCode>(
  value: unknown,
  code?: C,
): value is ReelforgeError<C> {
  return value instanceof ReelforgeError && (code === undefined || value.code === code);
}

/** Wrap anything thrown into a ReelforgeError (a network failure becomes NETWORK_ERROR). */
export function toReelforgeError(value: unknown): ReelforgeError {
  if (value instanceof ReelforgeError) return value;
  if (value instanceof Error && value.name === "AbortError") {
    return new ReelforgeError("ABORTED", "the request was aborted", { cause: value });
  }
  const message = value instanceof Error ? value.message : String(value);
  return new ReelforgeError("NETWORK_ERROR", message, { cause: value });
}

/** A result that is either data or a typed error, never both. */
export type Result<T> = { ok: true; data: T } | { ok: false; error: ReelforgeError };
