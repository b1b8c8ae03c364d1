// Scalars from graphql-scalars, shared by every module.
//   DateTime   ISO 8601 instant with offset
//   Date       calendar day, YYYY-MM-DD (graphql-scalars' LocalDate: a string, no time-zone shifts)
//   LocalTime  wall-clock time, HH:mm
//   Both date scalars refuse years outside MIN_YEAR..MAX_YEAR on input: no real date here lies
//   outside it, and PostgreSQL and Intl handle the extremes differently.
import { GraphQLError, GraphQLScalarType, type GraphQLScalarTypeConfig } from "graphql";
import { DateTimeResolver, LocalDateResolver, LocalTimeResolver } from "graphql-scalars";

const MIN_YEAR = 1900;
const MAX_YEAR = 2200;

function outOfRange(): GraphQLError {
  return new GraphQLError(`Years must be between ${MIN_YEAR} and ${MAX_YEAR}`);
}

/** The scalar, with its parsed input values checked by `inRange`. */
function ranged<T>(config: GraphQLScalarTypeConfig<T, unknown>, inRange: (value: T) => boolean): GraphQLScalarTypeConfig<T, unknown> {
  const check = (value: T): T => {
    if (!inRange(value)) throw outOfRange();
    return value;
  };
  return {
    ...config,
    parseValue: (value) => check(config.parseValue!(value)),
    parseLiteral: (ast, variables) => check(config.parseLiteral!(ast, variables)),
  };
}

const yearOk = (year: number) => year >= MIN_YEAR && year <= MAX_YEAR;

export const DateTime = new GraphQLScalarType(ranged(DateTimeResolver.toConfig() as GraphQLScalarTypeConfig<Date, unknown>, (d) => yearOk(d.getUTCFullYear())));
export const DateScalar = new GraphQLScalarType({
  ...ranged(LocalDateResolver.toConfig() as GraphQLScalarTypeConfig<string, unknown>, (day) => yearOk(Number(day.slice(0, 4)))),
  name: "Date",
  description: `A calendar day, \`YYYY-MM-DD\`, in the years ${MIN_YEAR}..${MAX_YEAR}.`,
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
