// Input normalisation shared by services: trimmed text with length limits, ids, ranges.
import { decodeId, type NodeTypeName } from "./ids.js";
import { type Problems, UserErrorCode, UserInputError } from "./errors.js";

export const LIMITS = { name: 200, text: 2000, note: 4000, short: 64 } as const;

/** Trimmed text; blank becomes null. Records a problem if required and missing, or too long. */
export function text(problems: Problems, field: string, value: string | null | undefined, opts: { required?: boolean; max?: number } = {}): string | null {
  const max = opts.max ?? LIMITS.name;
  const v = typeof value === "string" ? value.trim() : null;
  if (!v) {
    if (opts.required) problems.add(field, UserErrorCode.REQUIRED, `${field} is required`);
    return null;
  }
  if (v.length > max) {
    problems.add(field, UserErrorCode.INVALID, `${field} must be at most ${max} characters`);
    return null;
  }
  return v;
}

/** For updates: undefined/null means "leave as is"; a blank string for a required field is refused. */
export function optionalText(
  problems: Problems,
  field: string,
  value: string | null | undefined,
  opts: { required?: boolean; max?: number } = {},
): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  const v = text(problems, field, value, opts);
  return v;
}

export function intInRange(problems: Problems, field: string, value: number | null | undefined, min: number, max: number): void {
  if (value === undefined || value === null) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.add(field, UserErrorCode.INVALID, `${field} must be between ${min} and ${max}`);
  }
}

/** The database id behind a global id; refuses (NOT_FOUND) ids that are not of that type. */
export function idOf(type: NodeTypeName, globalId: string, field: string): string {
  const id = decodeId(globalId, type);
  if (!id) throw notFound(type, field);
  return id;
}

export function notFound(type: NodeTypeName, field: string): UserInputError {
  return UserInputError.of(field, UserErrorCode.NOT_FOUND, `No ${type.toLowerCase()} with that id`);
}

/** The canonical IANA name of a time zone (e.g. "america/new_york" -> "America/New_York"), or null. */
export function canonicalTimeZone(tz: string | null | undefined): string | null {
  if (!tz || tz.length > 64 || !/^[A-Za-z0-9_+\-/]+$/.test(tz)) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}
