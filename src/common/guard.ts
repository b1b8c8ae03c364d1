// Checks that run before every field of the schema resolves, wrapped around the built resolvers
// (synchronously: a type-graphql global middleware would make every field a promise):
//   - a cancelled request (client gone, time up) resolves no further field (src/common/abort.ts);
//   - malformed arguments are refused before the resolver runs (src/common/inputs.ts);
//   - an API client resolves only the fields its scopes open (src/auth/access.ts); any other field
//     answers as for an outsider: null, an empty list, or FORBIDDEN when it cannot be null.
// Fields of plain value types (`simpleResolvers: true`: counts, page info, edges) are left alone:
// they hold only what a guarded field above them handed out.
import { defaultFieldResolver, getNullableType, isListType, isNonNullType, isObjectType, type GraphQLSchema } from "graphql";
import { apiClientMayRead } from "../auth/access.js";
import type { Viewer } from "../auth/viewer.js";
import { stopWhenCancelled, type Cancellable } from "./abort.js";
import { forbidden } from "./errors.js";
import { checkFieldArguments } from "./inputs.js";
import { effectivePolicy } from "./policy.js";

/** What the checks read of the request context (src/common/context.ts). */
type GuardedContext = (Cancellable & { viewer?: Viewer | null }) | undefined;

export function guardResolvers(schema: GraphQLSchema): GraphQLSchema {
  const mutationType = schema.getMutationType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      // A plain property read (type-graphql `simpleResolvers`, no arguments) has nothing to stop
      // or check: graphql-js reads it directly, unwrapped (it runs for every row of every list).
      if (!field.resolve && field.args.length === 0) continue;
      const inner = field.resolve ?? defaultFieldResolver;
      const outsider = isListType(getNullableType(field.type)) ? "empty" : isNonNullType(field.type) ? "forbidden" : "null";
      const typeName = type.name;
      const opens = effectivePolicy(type, field, mutationType).api;
      const resolve: typeof inner = (root, args, context, info) => {
        const viewer = (context as GuardedContext)?.viewer;
        if (viewer?.kind === "apiClient" && !apiClientMayRead(viewer, opens)) {
          if (outsider === "forbidden") throw forbidden(`API clients may not read ${typeName}.${field.name}`);
          return outsider === "empty" ? [] : null;
        }
        return inner(root, args, context, info);
      };
      field.resolve =
        field.args.length > 0
          ? (root, args: Record<string, unknown>, context: GuardedContext, info) => {
              stopWhenCancelled(context);
              // Anonymous callers get UNAUTHENTICATED from the resolver's @Authorized first.
              if (!context?.viewer) return resolve(root, args, context, info);
              return checkFieldArguments(args, info) ?? resolve(root, args, context, info);
            }
          : (root, args, context: GuardedContext, info) => {
              stopWhenCancelled(context);
              return resolve(root, args, context, info);
            };
    }
  }
  return schema;
}
