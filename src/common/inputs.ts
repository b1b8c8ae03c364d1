// One check over every argument of every field, before its resolver runs, so that a new input
// field is covered without code of its own:
//   text     no NUL byte (PostgreSQL refuses it) and no unpaired UTF-16 surrogate (stored altered,
//            as U+FFFD), in any string anywhere in the arguments, ids included;
//   lists    at most MAX_LIST_ITEMS items, or the bound a field declares with `@MaxItems(n)`.
// A mutation's `input` gets one userError on the offending field (nothing is written); any other
// argument is BAD_USER_INPUT.
import { getNullableType, isInputObjectType, isListType, type GraphQLArgument, type GraphQLInputField, type GraphQLInputType } from "graphql";
import type { GraphQLResolveInfo } from "graphql";
import { Extensions } from "type-graphql";
import { badInput, userError, UserErrorCode, type UserError } from "./errors.js";

const MAX_LIST_ITEMS = 100;

/** Declares the most items a list input field accepts (default MAX_LIST_ITEMS). */
export const MaxItems = (n: number) => Extensions({ maxItems: n });

const UNPAIRED = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

interface InputProblem {
  path: string[];
  message: string;
}

function boundOf(def: GraphQLArgument | GraphQLInputField): number {
  const n = (def.extensions as { maxItems?: unknown } | undefined)?.maxItems;
  return typeof n === "number" ? n : MAX_LIST_ITEMS;
}

function checkValue(value: unknown, type: GraphQLInputType, bound: number, path: string[]): InputProblem | null {
  if (value === null || value === undefined) return null;
  const t = getNullableType(type);
  if (isListType(t)) {
    const items = Array.isArray(value) ? value : [value];
    if (items.length > bound) return { path, message: `${path.at(-1)} takes at most ${bound} items` };
    for (let i = 0; i < items.length; i++) {
      const p = checkValue(items[i], t.ofType, MAX_LIST_ITEMS, [...path, String(i)]);
      if (p) return p;
    }
    return null;
  }
  if (isInputObjectType(t)) {
    for (const field of Object.values(t.getFields())) {
      const p = checkValue((value as Record<string, unknown>)[field.name], field.type, boundOf(field), [...path, field.name]);
      if (p) return p;
    }
    return null;
  }
  if (typeof value === "string") {
    if (value.includes("\u0000")) return { path, message: `${path.at(-1)} contains a NUL character` };
    if (UNPAIRED.test(value)) return { path, message: `${path.at(-1)} contains an unpaired surrogate (invalid Unicode)` };
  }
  return null;
}

/** The first problem in a field's arguments, or null. */
function checkArguments(args: readonly GraphQLArgument[], values: Record<string, unknown>): InputProblem | null {
  for (const arg of args) {
    const p = checkValue(values[arg.name], arg.type, boundOf(arg), [arg.name]);
    if (p) return p;
  }
  return null;
}

/**
 * Refuses malformed arguments before the field's resolver runs: the answer to give instead (a
 * mutation payload with one userError), or a thrown BAD_USER_INPUT; undefined when all is well.
 */
export function checkFieldArguments(args: Record<string, unknown>, info: GraphQLResolveInfo): { userErrors: UserError[] } | undefined {
  const field = info.parentType.getFields()[info.fieldName];
  const problem = field ? checkArguments(field.args, args) : null;
  if (!problem) return undefined;
  if (info.parentType === info.schema.getMutationType() && problem.path[0] === "input") {
    // Every mutation answers a payload with userErrors (test/schema.test.ts); the object stays null.
    return { userErrors: [userError(problem.path.slice(1), UserErrorCode.INVALID, problem.message)] };
  }
  throw badInput(problem.message, problem.path[0]);
}
