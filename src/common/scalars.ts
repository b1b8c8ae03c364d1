// Scalars from graphql-scalars, shared by every module.
//   DateTime   ISO 8601 instant with offset
//   Date       calendar day, YYYY-MM-DD (graphql-scalars' LocalDate: a string, no time-zone shifts)
//   LocalTime  wall-clock time, HH:mm
import { GraphQLScalarType } from "graphql";
import { DateTimeResolver, LocalDateResolver, LocalTimeResolver } from "graphql-scalars";

export const DateTime = DateTimeResolver;
export const DateScalar = new GraphQLScalarType({
  ...LocalDateResolver.toConfig(),
  name: "Date",
  description: "A calendar day, `YYYY-MM-DD`.",
});
export const LocalTime = LocalTimeResolver;

/** @public */
export function isCalendarDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** "HH:mm" or "HH:mm:ss[.SSS]" to hour and minute; null when not a wall-clock time. */
export function parseLocalTime(value: string): { hour: number; minute: number } | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)(:[0-5]\d(\.\d{1,3})?)?$/.exec(value);
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : null;
}
