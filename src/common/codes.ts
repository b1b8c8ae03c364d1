// The one catalog of error codes: every `extensions.code` a client can receive, from the GraphQL
// resolvers, Apollo Server, the query limits and the HTTP layer (same `{ errors: [{ message,
// extensions: { code } }] }` shape), and every `UserErrorCode` a mutation payload carries. What
// depends on a code's kind is read from here: which codes pass through to clients unmasked
// (src/server.ts), which are refusals in the audit log (src/audit/), the HTTP status of the HTTP
// layer's answers, and the table of codes in docs/errors.md (checked by test/codes.test.ts).
import type { UserErrorCode } from "./errors.js";

export interface ErrorCodeSpec {
  /**
   * The HTTP status of a response this error answers alone (refused before execution, by the HTTP
   * layer or an export). Inside a GraphQL result beside data, a field's error answers 200.
   */
  status: number;
  /** Reaches clients as written; any other code is masked as INTERNAL_SERVER_ERROR by the server. */
  passThrough: boolean;
  /** Comes with a Retry-After header: a fixed number of seconds, the rest of the rate-limit window, or PRESSURE_RETRY_AFTER_SECONDS. */
  retryAfter?: number | "window" | "config";
  /** A refusal: a read of participant data it stops is logged as DENIED in the audit log. */
  refusal?: boolean;
  /** Who answers it. */
  source: "resolvers" | "apollo" | "limits" | "allowlist" | "http";
  /** One line: what it means and what to do. */
  meaning: string;
}

/** Seconds a client is told to wait (Retry-After) when the database is unreachable. */
export const RETRY_AFTER_SECONDS = 2;

export const ERROR_CODES = {
  UNAUTHENTICATED: {
    status: 401,
    passThrough: true,
    refusal: true,
    source: "resolvers",
    meaning: "No credentials, or a token or API key that is invalid, expired, revoked or of an inactive account.",
  },
  FORBIDDEN: {
    status: 403,
    passThrough: true,
    refusal: true,
    source: "resolvers",
    meaning: "The caller's role or API-client scopes do not allow this; the object itself is visible to them.",
  },
  NOT_FOUND: {
    status: 404,
    passThrough: true,
    refusal: true,
    source: "http",
    meaning: "No such route or object, or one out of the caller's reach (the same answer for both).",
  },
  BAD_USER_INPUT: {
    status: 400,
    passThrough: true,
    source: "resolvers",
    meaning: "An argument is malformed or out of range (argumentName says which); nothing was read or written.",
  },
  INTERNAL_SERVER_ERROR: {
    status: 500,
    passThrough: false,
    source: "resolvers",
    meaning: "An unexpected failure, masked: extensions.requestId finds it in the server's log.",
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    passThrough: true,
    retryAfter: RETRY_AFTER_SECONDS,
    source: "resolvers",
    meaning: "The database cannot be reached; nothing was half written, retrying later is safe.",
  },
  REQUEST_TIMEOUT: {
    status: 503,
    passThrough: true,
    source: "resolvers",
    meaning: "The request ran past REQUEST_TIMEOUT_MS (or its client left) and was cancelled; nothing partial is answered.",
  },
  GRAPHQL_PARSE_FAILED: { status: 400, passThrough: true, source: "apollo", meaning: "The document is not valid GraphQL syntax." },
  GRAPHQL_VALIDATION_FAILED: { status: 400, passThrough: true, source: "apollo", meaning: "The document does not validate against the schema." },
  BAD_REQUEST: {
    status: 400,
    passThrough: true,
    source: "http",
    meaning: "The HTTP request itself is malformed (target, body not JSON, no query).",
  },
  OPERATION_RESOLUTION_FAILURE: {
    status: 400,
    passThrough: true,
    source: "apollo",
    meaning: "operationName names no operation of the document, or several operations and none named.",
  },
  PERSISTED_QUERY_NOT_FOUND: { status: 200, passThrough: true, source: "apollo", meaning: "Automatic persisted query: hash unknown, send the document." },
  PERSISTED_QUERY_NOT_SUPPORTED: { status: 200, passThrough: true, source: "apollo", meaning: "Persisted queries are off on this server." },
  QUERY_TOO_DEEP: { status: 400, passThrough: true, source: "limits", meaning: "The query nests deeper than QUERY_MAX_DEPTH." },
  TOO_MANY_ALIASES: { status: 400, passThrough: true, source: "limits", meaning: "The document holds more aliases than QUERY_MAX_ALIASES." },
  QUERY_TOO_COSTLY: { status: 400, passThrough: true, source: "limits", meaning: "The query's estimated cost exceeds QUERY_MAX_COST." },
  TOO_MANY_SUBSCRIPTIONS: {
    status: 429,
    passThrough: true,
    source: "limits",
    meaning: "Live roster: past LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION or LIVE_MAX_SUBSCRIPTIONS_PER_ACTOR open subscriptions; complete one first.",
  },
  SUBSCRIPTION_INTERRUPTED: {
    status: 503,
    passThrough: true,
    source: "resolvers",
    meaning:
      "Live roster: the stream ended because events may have been missed (the instance's listening connection dropped) or the instance is stopping; subscribe again: the first event is the current roster.",
  },
  OPERATION_NOT_ALLOWED: {
    status: 400,
    passThrough: true,
    source: "allowlist",
    meaning: "Allow-list mode: the document is not one of the manifest's operations.",
  },
  PAYLOAD_TOO_LARGE: { status: 413, passThrough: true, source: "http", meaning: "The request body is larger than MAX_BODY_BYTES." },
  RATE_LIMITED: {
    status: 429,
    passThrough: true,
    retryAfter: "window",
    source: "http",
    meaning: "Too many requests from one IP or one actor in the window; wait Retry-After seconds.",
  },
  SERVER_OVERLOADED: {
    status: 503,
    passThrough: true,
    retryAfter: "config",
    source: "http",
    meaning: "The instance sheds load (event loop or memory past its bound); retry after the pause.",
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Each code by name: `Codes.FORBIDDEN === "FORBIDDEN"`. */
export const Codes = Object.fromEntries(Object.keys(ERROR_CODES).map((code) => [code, code])) as { readonly [C in ErrorCode]: C };

const specOf = (code: string): ErrorCodeSpec | undefined => (Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode] : undefined);

/** Codes that reach clients as written (src/server.ts masks every other). */
export const passThroughCodes: ReadonlySet<string> = new Set(Object.keys(ERROR_CODES).filter((code) => specOf(code)!.passThrough));

/** Refusals (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND): logged as DENIED in the audit log. */
export const refusalCodes: ReadonlySet<string> = new Set(Object.keys(ERROR_CODES).filter((code) => specOf(code)!.refusal === true));

/** The codes one part of the server answers with (e.g. the query limits). */
export function codesFrom(source: ErrorCodeSpec["source"]): ErrorCode[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => ERROR_CODES[code].source === source);
}

/** The HTTP status of an answer made of this error alone. */
export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** What each code of a mutation payload's userErrors means (the GraphQL enum UserErrorCode). */
export const USER_ERROR_CODES: Record<UserErrorCode, string> = {
  INVALID: "A value is malformed or out of range.",
  REQUIRED: "A required value is missing or blank.",
  NOT_FOUND: "The referenced object does not exist or is out of the viewer's reach (logged as DENIED when it concerns a participant).",
  NOT_ALLOWED: "The viewer may see the object but not make this change to it.",
  INVALID_TIMEZONE: "Not an IANA time zone (e.g. America/New_York).",
  EMAIL_TAKEN: "Another staff member already has that email.",
  AUTH_SUBJECT_TAKEN: "Another staff member already signs in with that identity-provider subject.",
  EXTERNAL_ID_TAKEN: "Another participant of the center already has that external (EHR) id.",
  ALREADY_ENROLLED: "The participant is already enrolled in the group.",
  NOT_ENROLLED: "The participant is not enrolled in the session's group.",
  GROUP_NOT_OPEN: "The group is closed, or a closed cohort has already started.",
  PROGRAM_NOT_ACTIVE: "The program is retired.",
  INVALID_TRANSITION: "The status cannot go from its current value to the one asked (or its condition is unmet).",
  SESSION_CANCELLED: "The session is cancelled: no attendance is recorded for it.",
  DUPLICATE: "The same item twice in one input, or a session already starting then.",
  CENTER_MISMATCH: "The objects referenced belong to different centers.",
  RANGE_TOO_LARGE: "The date range asked for is longer than allowed (e.g. scheduling more than the maximum of days).",
  SAME_PARTICIPANT: "A participant cannot be their own peer mentor.",
  MENTOR_NOT_ELIGIBLE: "The would-be mentor is not far enough in recovery and has completed no program.",
  MENTOR_AT_CAPACITY: "The mentor already has the center's maximum number of current mentees.",
  ALREADY_PAIRED: "That mentor and that mentee already have a current mentorship.",
  CONFLICT: "Another request changed the same data at the same time; retrying is safe.",
  SMS_CONSENT_REQUIRED: "SMS is chosen as a channel without a recorded consent to texts (its source and date).",
  NOTE_LOCKED: "The session's note is signed: only addenda change it, and attendance only with a reason (written as a CORRECTION addendum).",
  NAMES_OTHER_MEMBER: "A note's text names a member of the session where it may not (the word is in the message, not whose name it is).",
  MISSING_MEMBER_NOTE: "A member who attended has no part in the note, or attendance is not recorded for everyone: the note cannot be signed.",
  INVALID_CHECK_IN:
    "A self check-in was refused: the same answer whatever was wrong (the token, the room code, the window, the member's seat, too many tries), so a guess reveals nothing.",
  CHECK_IN_DISABLED: "Self check-in is off on this server: it runs in production without CHECKIN_SECRET (docs/checkin.md).",
};

const retryAfterText = (r: ErrorCodeSpec["retryAfter"]): string =>
  r === undefined ? "" : r === "window" ? "rest of the window" : r === "config" ? "PRESSURE_RETRY_AFTER_SECONDS" : `${r} s`;

/** The tables of docs/errors.md, from this catalog (`npm run docs:codes`; test/codes.test.ts checks them). */
export function codesTables(): string {
  const rows = (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => {
    const c: ErrorCodeSpec = ERROR_CODES[code];
    return `| \`${code}\` | ${c.status} | ${c.passThrough ? "yes" : "masked"} | ${retryAfterText(c.retryAfter)} | ${c.refusal ? "yes" : ""} | ${c.source} | ${c.meaning} |`;
  });
  const userRows = Object.entries(USER_ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`);
  return [
    "| Code | HTTP status | Reaches clients | Retry-After | Refusal (audit) | Answered by | Meaning |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    "| `UserErrorCode` | Meaning |",
    "| --- | --- |",
    ...userRows,
  ].join("\n");
}
