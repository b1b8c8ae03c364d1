// Errors: mutation payloads carry `UserError`s with a `UserErrorCode`; authentication and
// permission failures are GraphQL errors with extensions.code. What every code means, its HTTP
// status and how clients see it: the catalog, src/common/codes.ts.
// Decorated classes below: the metadata polyfill first, whoever imports this (scripts, the database client).
import "reflect-metadata";
import { GraphQLError } from "graphql";
import { Field, ObjectType, registerEnumType } from "type-graphql";
import { Codes, RETRY_AFTER_SECONDS, statusOf } from "./codes.js";
import { TypePolicy } from "./policy.js";

export enum UserErrorCode {
  /** A value is malformed or out of range. */
  INVALID = "INVALID",
  /** A required value is missing or blank. */
  REQUIRED = "REQUIRED",
  /** The referenced object does not exist or is out of the viewer's reach. */
  NOT_FOUND = "NOT_FOUND",
  /** The viewer may see the object but not make this change to it. */
  NOT_ALLOWED = "NOT_ALLOWED",
  INVALID_TIMEZONE = "INVALID_TIMEZONE",
  EMAIL_TAKEN = "EMAIL_TAKEN",
  AUTH_SUBJECT_TAKEN = "AUTH_SUBJECT_TAKEN",
  EXTERNAL_ID_TAKEN = "EXTERNAL_ID_TAKEN",
  ALREADY_ENROLLED = "ALREADY_ENROLLED",
  NOT_ENROLLED = "NOT_ENROLLED",
  GROUP_NOT_OPEN = "GROUP_NOT_OPEN",
  PROGRAM_NOT_ACTIVE = "PROGRAM_NOT_ACTIVE",
  INVALID_TRANSITION = "INVALID_TRANSITION",
  SESSION_CANCELLED = "SESSION_CANCELLED",
  DUPLICATE = "DUPLICATE",
  CENTER_MISMATCH = "CENTER_MISMATCH",
  RANGE_TOO_LARGE = "RANGE_TOO_LARGE",
  /** A participant cannot be their own peer mentor. */
  SAME_PARTICIPANT = "SAME_PARTICIPANT",
  /** The would-be mentor is not far enough in recovery and has completed no program. */
  MENTOR_NOT_ELIGIBLE = "MENTOR_NOT_ELIGIBLE",
  /** The mentor already has the center's maximum number of current mentees. */
  MENTOR_AT_CAPACITY = "MENTOR_AT_CAPACITY",
  /** That mentor and that mentee already have a current mentorship. */
  ALREADY_PAIRED = "ALREADY_PAIRED",
  /** SMS reminders need the member's recorded consent (its source and date). */
  SMS_CONSENT_REQUIRED = "SMS_CONSENT_REQUIRED",
  /**
   * Another request changed the same data since the caller read it (a stale `version`): read
   * it again and redo the change.
   */
  CONFLICT = "CONFLICT",
  /** A signed session note is locked: only addenda change it (and attendance, with a reason). */
  NOTE_LOCKED = "NOTE_LOCKED",
  /** A note's text names another member of the session (the word is in the message). */
  NAMES_OTHER_MEMBER = "NAMES_OTHER_MEMBER",
  /** A member who attended has no part in the note, or attendance is not recorded for everyone. */
  MISSING_MEMBER_NOTE = "MISSING_MEMBER_NOTE",
  /** A self check-in was refused; the same code whatever was wrong (token, room code, window, seat, too many tries). */
  INVALID_CHECK_IN = "INVALID_CHECK_IN",
  /** Self check-in is off on this server (production without CHECKIN_SECRET). */
  CHECK_IN_DISABLED = "CHECK_IN_DISABLED",
}
registerEnumType(UserErrorCode, { name: "UserErrorCode", description: "Why a mutation refused its input." });

@TypePolicy({ readableBy: "CALLER" })
@ObjectType({ description: "A problem with a mutation's input. When any is returned, nothing was written." })
export class UserError {
  @Field(() => [String], { nullable: true, description: 'Path to the offending input field, e.g. ["input", "records", "2", "status"].' })
  field!: string[] | null;

  @Field(() => String)
  message!: string;

  @Field(() => UserErrorCode)
  code!: UserErrorCode;
}

/** @public */
export function userError(field: string | string[] | null, code: UserErrorCode, message: string): UserError {
  const path = field === null ? null : Array.isArray(field) ? field : field.split(".");
  return Object.assign(new UserError(), { field: path ? ["input", ...path] : null, code, message });
}

/**
 * Thrown inside a service (and its transaction) to refuse input; the transaction rolls back and
 * the resolver returns the errors in the payload.
 */
export class UserInputError extends Error {
  constructor(public readonly errors: UserError[]) {
    super(errors.map((e) => e.message).join("; "));
    this.name = "UserInputError";
  }
  static of(field: string | string[] | null, code: UserErrorCode, message: string): UserInputError {
    return new UserInputError([userError(field, code, message)]);
  }
}

/** Collects validation problems, then throws them all at once. */
export class Problems {
  readonly list: UserError[] = [];
  add(field: string | string[] | null, code: UserErrorCode, message: string): this {
    this.list.push(userError(field, code, message));
    return this;
  }
  get any(): boolean {
    return this.list.length > 0;
  }
  throwIfAny(): void {
    if (this.any) throw new UserInputError(this.list);
  }
}

/** The answer while the database is unreachable; its HTTP status and Retry-After come with it. */
export function serviceUnavailable(): GraphQLError {
  return new GraphQLError("The service is temporarily unavailable; retry shortly", {
    extensions: {
      code: Codes.SERVICE_UNAVAILABLE,
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      http: { status: statusOf(Codes.SERVICE_UNAVAILABLE), headers: new Map([["retry-after", String(RETRY_AFTER_SECONDS)]]) },
    },
  });
}

/** Node socket errors on the way to the database. */
const SOCKET_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * Whether an error means the database is unreachable rather than a statement failing: a socket
 * error, postgres.js's CONNECTION_* / CONNECT_TIMEOUT, class 08 (connection exception), 57P01-03
 * (administrator shutdown, crash shutdown, cannot connect now). Looks under drizzle's wrapper.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") {
      if (SOCKET_ERRORS.has(code) || code.startsWith("CONNECTION_") || code === "CONNECT_TIMEOUT") return true;
      if (/^08[0-9A-Z]{3}$/.test(code) || code === "57P01" || code === "57P02" || code === "57P03") return true;
    }
    const inner = (e as { errors?: unknown }).errors; // AggregateError (every address refused)
    if (Array.isArray(inner) && inner.some((x) => isDatabaseUnavailable(x))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export function unauthenticated(message = "Authentication required"): GraphQLError {
  return new GraphQLError(message, { extensions: { code: Codes.UNAUTHENTICATED, http: { status: statusOf(Codes.UNAUTHENTICATED) } } });
}

export function forbidden(message = "Not allowed"): GraphQLError {
  return new GraphQLError(message, { extensions: { code: Codes.FORBIDDEN } });
}

export function badInput(message: string, argumentName?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: Codes.BAD_USER_INPUT, argumentName } });
}

/** The PostgreSQL error code the services map to user errors (e.g. EMAIL_TAKEN). */
const UNIQUE_VIOLATION = "23505";

/** Finds the PostgreSQL error under drizzle's wrapper (which carries the SQL text in its message). */
export function pgErrorOf(err: unknown): { code?: string; constraint?: string } | undefined {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const anyE = e as { code?: unknown; constraint?: unknown; constraint_name?: unknown; cause?: unknown };
    if (typeof anyE.code === "string" && /^[0-9A-Z]{5}$/.test(anyE.code)) {
      const constraint = (anyE.constraint ?? anyE.constraint_name) as string | undefined;
      return { code: anyE.code, constraint };
    }
    e = anyE.cause;
  }
  return undefined;
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const pg = pgErrorOf(err);
  return pg?.code === UNIQUE_VIOLATION && (!constraint || pg.constraint === constraint);
}
