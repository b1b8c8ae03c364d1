// The body of the HTTP layer's error answers (before or around GraphQL execution), in the same
// `{ errors: [{ message, extensions: { code } }] }` shape as GraphQL errors; the codes are the
// catalog's (src/common/codes.ts).
export interface ErrorBody {
  errors: Array<{ message: string; extensions: Record<string, unknown> }>;
}

export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}): ErrorBody {
  return { errors: [{ message, extensions: { code, ...extra } }] };
}
