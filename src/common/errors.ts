// The one catalog of error codes. Mutation payloads carry `UserError`s with a `UserErrorCode`;
// authentication and permission failures are GraphQL errors with extensions.code.
// Decorated classes below: the metadata polyfill first, whoever imports this (scripts, the database client).
import "reflect-metadata";
import { GraphQLError } from "graphql";
import { Field, ObjectType, registerEnumType } from "type-graphql";
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
  /**
   * Another request changed the same data at the same time; retrying is safe. Part of the
   * schema's catalog that clients match on, though no service returns it yet.
   * @public
   */
  CONFLICT = "CONFLICT",
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

export const ErrorCodes = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  BAD_USER_INPUT: "BAD_USER_INPUT",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
  /** The database cannot be reached (HTTP 503 with Retry-After): retrying later is safe, nothing was half written. */
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
} as const;

/** Seconds a client is told to wait (Retry-After) when the database is unreachable. */
export const RETRY_AFTER_SECONDS = 2;

/** The answer while the database is unreachable; its HTTP status and Retry-After come with it. */
export function serviceUnavailable(): GraphQLError {
  return new GraphQLError("The service is temporarily unavailable; retry shortly", {
    extensions: {
      code: ErrorCodes.SERVICE_UNAVAILABLE,
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      http: { status: 503, headers: new Map([["retry-after", String(RETRY_AFTER_SECONDS)]]) },
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
  return new GraphQLError(message, { extensions: { code: ErrorCodes.UNAUTHENTICATED, http: { status: 401 } } });
}

export function forbidden(message = "Not allowed"): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCodes.FORBIDDEN } });
}

export function badInput(message: string, argumentName?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCodes.BAD_USER_INPUT, argumentName } });
}

/**
 * PostgreSQL error codes the services map to user errors.
 * @public
 */
export const PG = { UNIQUE_VIOLATION: "23505", SERIALIZATION_FAILURE: "40001", DEADLOCK: "40P01" } as const;

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
  return pg?.code === PG.UNIQUE_VIOLATION && (!constraint || pg.constraint === constraint);
}
