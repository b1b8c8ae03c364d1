// Error codes the HTTP layer answers with (before or around GraphQL execution), in the same
// `{ errors: [{ message, extensions: { code } }] }` shape as GraphQL errors.
export const HttpCodes = {
  BAD_REQUEST: "BAD_REQUEST",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  NOT_FOUND: "NOT_FOUND",
  /** Too many requests from one IP or actor in the window: HTTP 429 with Retry-After. */
  RATE_LIMITED: "RATE_LIMITED",
  /** The server sheds load (event loop or memory past its bound): HTTP 503 with Retry-After. */
  SERVER_OVERLOADED: "SERVER_OVERLOADED",
  /** Allow-list mode: the document is not one of the manifest's operations. */
  OPERATION_NOT_ALLOWED: "OPERATION_NOT_ALLOWED",
} as const;

export interface ErrorBody {
  errors: Array<{ message: string; extensions: Record<string, unknown> }>;
}

export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}): ErrorBody {
  return { errors: [{ message, extensions: { code, ...extra } }] };
}
