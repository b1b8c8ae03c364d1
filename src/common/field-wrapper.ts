// The one wrapper per field, built once when the schema is built, from each field's declaration
// (src/common/policy.ts). For a field that needs them, in this order:
//   1. cancellation: a cancelled request (client gone, time up) resolves no further field that does
//      work (src/common/abort.ts);
//   2. argument checks: malformed arguments are refused before the resolver runs (src/common/inputs.ts);
//   3. the API-client gate: an API client resolves only the fields its scopes open (`api`); any
//      other answers as for an outsider: null, an empty list, or FORBIDDEN when it cannot be null;
//   4. the audience check: a field declared for another audience than its type (a CLINICAL note on
//      a GROUP object) is read only by the roles src/auth/access.ts lets read that audience at the
//      object's center (and group); anyone else gets FORBIDDEN;
//   5. the record of what the request touched of participant data, by the recorder the schema hands
//      in (src/audit/audit.wrap.ts): the recorder is a feature, this file is foundation.
// A field that needs none of them stays unwrapped: a plain property that no API client can reach
// closed, with its type's audience and nothing to record, is read by graphql-js directly (a
// 1,000-edge page of the attendance feed pays nothing for it). The objects a field hands out have
// passed their own checks (an object is visible or not: loaders and services decide that); the
// checks here are about which of its fields a viewer may read.
import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from "graphql";
import { getMetadataStorage } from "type-graphql";
import { apiClientMayRead, openToEveryRole } from "../auth/access.js";
import { API_SCOPES, type ApiScope } from "../auth/viewer.js";
import { stopWhenCancelled } from "./abort.js";
import type { Context } from "./context.js";
import { forbidden } from "./errors.js";
import { toGlobalId, type NodeTypeName } from "./ids.js";
import { checkFieldArguments } from "./inputs.js";
import { columnKey, effectivePolicy, typePolicyOf, type Audience, type TypePolicy } from "./policy.js";

type Row = Record<string, unknown>;
type Args = Record<string, unknown>;
type Resolver = GraphQLFieldResolver<unknown, Context | undefined, Args>;

/** What a recorder does around one field: on the value it resolved to, and on its refusal or failure. */
export interface FieldRecord {
  /** The field's value, awaited (a field with one is wrapped). */
  resolved?: (value: unknown, root: unknown, args: Args, ctx: Context) => void;
  /** A refusal or failure, before it is rethrown (called only when the field is wrapped anyway: a plain property read cannot fail). */
  failed?: (err: unknown, root: unknown, args: Args, ctx: Context) => void;
}

/** Asked once per field at build time: what to record around it, or null. */
export type FieldRecorder = (type: GraphQLObjectType, field: GraphQLField<unknown, unknown>) => FieldRecord | null;

export interface WrapOptions {
  record?: FieldRecorder;
}

/** How a field answers an API client it is closed to. */
const outsiderOf = (field: GraphQLField<unknown, unknown>) =>
  isListType(getNullableType(field.type)) ? "empty" : isNonNullType(field.type) ? "forbidden" : "null";

/** Object types a field's value can be (a list's items, an interface's implementations). */
function objectTypesOf(schema: GraphQLSchema, type: GraphQLNamedType): readonly GraphQLObjectType[] {
  if (isObjectType(type)) return [type];
  return isAbstractType(type) ? schema.getPossibleTypes(type) : [];
}

/**
 * The API scopes of each open field leading into each type: an API client that reaches an object
 * of the type came through one of them, so it holds a scope of each such set it passed. Root types
 * are reached by every client. A field open to all of its type's incoming sets needs no gate.
 */
function apiHops(schema: GraphQLSchema): Map<GraphQLObjectType, Array<readonly ApiScope[]>> {
  const hops = new Map<GraphQLObjectType, Array<readonly ApiScope[]>>();
  const add = (type: GraphQLObjectType, scopes: readonly ApiScope[]) => {
    const list = hops.get(type) ?? [];
    list.push(scopes);
    hops.set(type, list);
  };
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) if (root) add(root, API_SCOPES);
  const mutationType = schema.getMutationType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const { api } = effectivePolicy(type, field, mutationType);
      if (api.length === 0) continue;
      for (const target of objectTypesOf(schema, getNamedType(field.type))) add(target, api);
    }
  }
  return hops;
}

/** "Type.field" of every field type-graphql resolves with a method (@FieldResolver, @Query, @Mutation): they may start work. */
function resolverFields(schema: GraphQLSchema): Set<string> {
  const storage = getMetadataStorage();
  const names = new Map<unknown, string>();
  for (const o of storage.objectTypes) names.set(o.target, o.name);
  for (const i of storage.interfaceTypes) names.set(i.target, i.name);
  const found = new Set<string>();
  for (const r of storage.fieldResolvers) {
    const owner = names.get(r.getObjectType?.());
    if (owner) found.add(`${owner}.${r.schemaName}`);
  }
  for (const r of storage.queries) found.add(`${schema.getQueryType()?.name}.${r.schemaName}`);
  for (const r of storage.mutations) found.add(`${schema.getMutationType()?.name}.${r.schemaName}`);
  return found;
}

/** Where an object is, for the audience check: read once per type from its TypePolicy. */
interface Placement {
  centerOf(row: Row): unknown;
  /** The object's group, possibly loaded; null when the object is the whole center's. */
  groupOf: ((row: Row, ctx: Context) => unknown) | null;
}

function placementOf(policy: TypePolicy | undefined): Placement | null {
  if (policy?.center === null) return null;
  const centerKey = policy?.center ? columnKey(policy.center) : "centerId";
  const group = policy?.group;
  const groupKey = group && typeof group !== "function" ? columnKey(group) : null;
  return {
    centerOf: (row) => row[centerKey],
    groupOf: typeof group === "function" ? group : groupKey ? (row) => row[groupKey] : null,
  };
}

/** The audience check of one field: FORBIDDEN unless the viewer reads `audience` where the object is. */
function audienceCheck(audience: Audience, place: Placement): (root: unknown, ctx: Context | undefined) => unknown {
  return (root, ctx) => {
    const viewer = ctx?.viewer;
    // API clients read what their scopes open (the gate); callers without a viewer reach no object.
    if (!ctx || viewer?.kind !== "staff") return undefined;
    const row = (root ?? {}) as Row;
    const centerId = place.centerOf(row);
    if (typeof centerId !== "string") throw forbidden();
    if (!place.groupOf || !ctx.access.readDependsOnGroup(audience, centerId)) {
      ctx.access.requireRead(audience, { centerId, wholeCenter: !place.groupOf });
      return undefined;
    }
    const decide = (groupId: unknown) => ctx.access.requireRead(audience, { centerId, groupIds: typeof groupId === "string" ? [groupId] : [] });
    const groupId = place.groupOf(row, ctx);
    return groupId instanceof Promise ? groupId.then(decide) : decide(groupId);
  };
}

/** Runs `run`, then `ok` on its value (awaited) or `fail` on its error (rethrown). */
function settle(run: () => unknown, ok: ((v: unknown) => void) | undefined, fail: ((e: unknown) => void) | undefined): unknown {
  let value: unknown;
  try {
    value = run();
  } catch (err) {
    fail?.(err);
    throw err;
  }
  if (value instanceof Promise) {
    return value.then(
      (v: unknown) => {
        ok?.(v);
        return v;
      },
      (err: unknown) => {
        fail?.(err);
        throw err;
      },
    );
  }
  ok?.(value);
  return value;
}

/** A Node's global id, straight from the row (no work to cancel, nothing to check). */
const nodeId: Resolver = (row, _args, _ctx, info) => toGlobalId(info.parentType.name as NodeTypeName, (row as { id: string }).id);

/** Wraps every field that needs it, once; see the head of this file. */
export function wrapFields(schema: GraphQLSchema, options: WrapOptions = {}): GraphQLSchema {
  const queryType = schema.getQueryType();
  const mutationType = schema.getMutationType();
  // Subscription events (src/live) run through the same wrapper as queries: a root type too.
  const subscriptionType = schema.getSubscriptionType();
  const hops = apiHops(schema);
  const working = resolverFields(schema);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    const isRoot = type === queryType || type === mutationType || type === subscriptionType;
    const typePolicy = typePolicyOf(type);
    const place = isRoot ? null : placementOf(typePolicy);
    const incoming = hops.get(type) ?? [];
    const isNode = type.getInterfaces().some((i) => i.name === "Node");
    for (const field of Object.values(type.getFields())) {
      const key = `${type.name}.${field.name}`;
      const policy = effectivePolicy(type, field, mutationType);
      const record = options.record?.(type, field) ?? null;
      // 3. the gate: only where a client that reaches the type might lack the field's scopes.
      const opens = policy.api;
      const gate = incoming.some((scopes) => scopes.some((s) => !opens.includes(s))) ? outsiderOf(field) : null;
      // A Node's id is computed from its row: no work to cancel (type-graphql's resolver would copy the row).
      if (isNode && field.name === "id" && !gate && !record?.resolved) {
        field.resolve = nodeId as GraphQLFieldResolver<unknown, unknown>;
        continue;
      }
      // 1. cancellation: fields resolved by a method (they may load), and any with arguments.
      const cancel = working.has(key) || field.args.length > 0;
      // 2. arguments
      const checkArgs = field.args.length > 0;
      // 4. the audience, where the field's differs from its type's and not every role reads it.
      const audience = policy.readableBy;
      const check = !isRoot && place && audience && audience !== typePolicy?.readableBy && !openToEveryRole(audience) ? audienceCheck(audience, place) : null;
      if (!cancel && !checkArgs && !gate && !check && !record?.resolved) {
        // A plain property: graphql-js reads it itself (type-graphql's resolver would only add a call).
        if (!working.has(key)) field.resolve = undefined;
        continue;
      }

      const inner = (field.resolve ?? ((root: unknown) => (root as Row | null)?.[field.name])) as Resolver;
      const guarded: Resolver = (root, args, ctx, info) => {
        if (cancel) stopWhenCancelled(ctx);
        const viewer = ctx?.viewer;
        // Anonymous callers get UNAUTHENTICATED from the root field's @Authorized first.
        if (checkArgs && viewer) {
          const refused = checkFieldArguments(args, info);
          if (refused) return refused;
        }
        if (gate && viewer?.kind === "apiClient" && !apiClientMayRead(viewer, opens)) {
          if (gate === "forbidden") throw forbidden(`API clients may not read ${key}`);
          return gate === "empty" ? [] : null;
        }
        if (check) {
          const pending = check(root, ctx);
          if (pending instanceof Promise) return pending.then(() => inner(root, args, ctx, info));
        }
        return inner(root, args, ctx, info);
      };
      const resolved = record?.resolved;
      const failed = record?.failed;
      const recorded: Resolver = (root, args, ctx, info) =>
        ctx
          ? settle(() => guarded(root, args, ctx, info), resolved && ((v) => resolved(v, root, args, ctx)), failed && ((e) => failed(e, root, args, ctx)))
          : guarded(root, args, ctx, info);
      field.resolve = (resolved || failed ? recorded : guarded) as GraphQLFieldResolver<unknown, unknown>;
    }
  }
  return schema;
}
