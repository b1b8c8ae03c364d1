// Which parts of the schema are participant data, and the wrappers that record what a request
// touched of them (Access.touch) around the built resolvers, synchronously where the resolver is:
//   - every field of an AUDITED_TYPES type records a READ of its object (once per object);
//   - a refusal (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND) on a field of participant data records
//     DENIED, an unexpected error ERROR; `node(id:)` answering null for a participant-data id
//     records DENIED (refused or missing: the client cannot tell, the log does);
//   - every mutation is classified in AUDITED_MUTATIONS: an action records the objects of its
//     payload as written, and a NOT_FOUND/FORBIDDEN userError as DENIED.
// Wrapped fields carry `extensions.audited`; the schema walk (test/audit.test.ts) fails on any
// field returning participant data that is not covered.
import { defaultFieldResolver, getNamedType, isObjectType, type GraphQLField, type GraphQLObjectType, type GraphQLSchema } from "graphql";
import type { AuditAction, AuditOutcome, Touch } from "../auth/access.js";
import type { Context } from "../common/context.js";
import { fromGlobalId } from "../common/ids.js";
import { auditIdentityOf, fieldPolicyOf, rowIdentity, type MutationAudit } from "../common/policy.js";

type Row = Record<string, unknown>;

interface AuditedType {
  /** The participants an object of this type is about. */
  participantIds(o: Row): readonly unknown[];
  /** The resource's id, when it has one of its own (default: `id`). */
  resourceId?(o: Row): unknown;
}

/** Types whose objects are participant data (TypePolicy `audit`): reading any field of one is a READ of it. Filled from the schema's declarations. */
let AUDITED_TYPES: Record<string, AuditedType> = {};

/**
 * Every mutation, classified by its declaration (Policy `audit`): the action its payload's objects
 * are recorded with, or null for mutations that touch no participant data (configuration). A
 * mutation without one is left out (the schema walk fails on it).
 */
export function auditedMutations(schema: GraphQLSchema): Record<string, MutationAudit | null> {
  const classified: Record<string, MutationAudit | null> = {};
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const policy = fieldPolicyOf(field);
    if (policy && "audit" in policy && policy.audit !== "READ") classified[field.name] = policy.audit ?? null;
  }
  return classified;
}

const REFUSALS = new Set(["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An identifier (the log's columns are uuids), or null for anything else. */
const str = (v: unknown): string | null => (typeof v === "string" && UUID.test(v) ? v : null);

/** The type a field returns, looking through lists, non-null and connections. */
export function returnedTypeName(field: GraphQLField<unknown, unknown>): string {
  const named = getNamedType(field.type);
  if (isObjectType(named) && /Connection$/.test(named.name)) {
    const nodes = named.getFields().nodes;
    if (nodes) return getNamedType(nodes.type).name;
  }
  return named.name;
}

function touchObject(ctx: Context, typeName: string, o: unknown, action: AuditAction, outcome: AuditOutcome = "ALLOWED"): void {
  if (!o || typeof o !== "object") return;
  const row = o as Row;
  const audited = AUDITED_TYPES[typeName];
  const participantIds = (audited ? audited.participantIds(row) : []).map(str).filter((p): p is string => p !== null);
  ctx.access.touch({
    action,
    outcome,
    resourceType: typeName,
    resourceId: str(audited?.resourceId ? audited.resourceId(row) : row.id),
    centerId: str(row.centerId),
    participantIds,
  });
}

function errorTouch(err: unknown, base: Omit<Touch, "action" | "outcome">, action: AuditAction): Touch | null {
  const code = (err as { extensions?: { code?: unknown } })?.extensions?.code;
  if (typeof code === "string" && REFUSALS.has(code)) return { ...base, action: "DENIED", outcome: "DENIED" };
  if (typeof code === "string" && code !== "INTERNAL_SERVER_ERROR") return null; // bad input, limits, cancellation
  return { ...base, action, outcome: "ERROR" };
}

/** Runs a resolver; on a refusal or an unexpected error records it, and rethrows. */
function watching(
  ctx: Context | undefined,
  run: () => unknown,
  onError: () => Omit<Touch, "action" | "outcome">,
  action: AuditAction,
  then?: (v: unknown) => void,
): unknown {
  const fail = (err: unknown) => {
    const touch = ctx?.access ? errorTouch(err, onError(), action) : null;
    if (touch) ctx!.access.touch(touch);
    throw err;
  };
  let value: unknown;
  try {
    value = run();
  } catch (err) {
    return fail(err);
  }
  if (value instanceof Promise) {
    return (value as Promise<unknown>).then((v) => {
      then?.(v);
      return v;
    }, fail);
  }
  then?.(value);
  return value;
}

/** Global ids in a mutation's input (one level deep, and in lists of objects). */
function inputIds(input: unknown): Array<{ type: string; id: string }> {
  const found: Array<{ type: string; id: string }> = [];
  const visit = (v: unknown, depth: number) => {
    if (typeof v === "string") {
      const parsed = fromGlobalId(v);
      if (parsed) found.push(parsed);
    } else if (Array.isArray(v)) {
      for (const item of v.slice(0, 1000)) visit(item, depth);
    } else if (v && typeof v === "object" && depth < 2) {
      for (const item of Object.values(v)) visit(item, depth + 1);
    }
  };
  visit(input, 0);
  return found;
}

function wrapMutation(field: GraphQLField<unknown, Context>, action: MutationAudit, payloadType: GraphQLObjectType): void {
  const resolve = field.resolve ?? defaultFieldResolver;
  const payloadFields = Object.values(payloadType.getFields()).filter((f) => f.name !== "userErrors");
  const primary = payloadFields.map(returnedTypeName).find((t) => AUDITED_TYPES[t]) ?? (payloadFields[0] ? returnedTypeName(payloadFields[0]) : field.name);
  const fromInput = (args: Record<string, unknown>) => {
    const ids = inputIds(args.input);
    return {
      resourceType: primary,
      resourceId: ids.find((i) => i.type === primary)?.id ?? null,
      centerId: null,
      participantIds: ids.filter((i) => i.type === "Participant").map((i) => i.id),
    };
  };
  field.resolve = (root, args: Record<string, unknown>, ctx: Context, info) =>
    watching(
      ctx,
      () => resolve(root, args, ctx, info),
      () => fromInput(args),
      action,
      (payload) => {
        if (!payload || typeof payload !== "object" || !ctx?.access) return;
        const p = payload as Row;
        const refused = (p.userErrors as Array<{ code?: string }> | undefined)?.some((e) => e.code === "NOT_FOUND" || e.code === "FORBIDDEN");
        if (refused) ctx.access.touch({ ...fromInput(args), action: "DENIED", outcome: "DENIED" });
        for (const f of payloadFields) {
          const value = p[f.name];
          const typeName = returnedTypeName(f);
          for (const o of Array.isArray(value) ? value : [value]) touchObject(ctx, typeName, o, action);
        }
      },
    );
  field.extensions = { ...field.extensions, audited: action };
}

export function auditResolvers(schema: GraphQLSchema): GraphQLSchema {
  const queryType = schema.getQueryType();
  const mutationType = schema.getMutationType();
  AUDITED_TYPES = {};
  for (const type of Object.values(schema.getTypeMap())) {
    const identity = auditIdentityOf(type);
    if (identity) AUDITED_TYPES[type.name] = rowIdentity(identity);
  }
  const AUDITED_MUTATIONS = auditedMutations(schema);
  const AUDITED_ROOT_QUERIES: Record<string, string> = {};
  for (const field of Object.values(queryType?.getFields() ?? {})) {
    if (fieldPolicyOf(field)?.audit === "READ") AUDITED_ROOT_QUERIES[field.name] = returnedTypeName(field);
  }
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    const parentAudited = type.name in AUDITED_TYPES;
    for (const field of Object.values(type.getFields())) {
      const returned = returnedTypeName(field);
      const resolve = field.resolve ?? defaultFieldResolver;
      if (type === mutationType) {
        const action = AUDITED_MUTATIONS[field.name];
        const payload = getNamedType(field.type);
        if (action && isObjectType(payload)) wrapMutation(field as GraphQLField<unknown, Context>, action, payload);
        else if (action === null) field.extensions = { ...field.extensions, audited: "none" };
        continue;
      }
      const returnsAudited = returned in AUDITED_TYPES || returned === "Node";
      if (type === queryType && AUDITED_ROOT_QUERIES[field.name]) {
        const resourceType = AUDITED_ROOT_QUERIES[field.name];
        const base = { resourceType, resourceId: null, centerId: null, participantIds: [] };
        field.resolve = (root, args, ctx: Context, info) =>
          watching(
            ctx,
            () => resolve(root, args, ctx, info),
            () => base,
            "READ",
            () => ctx?.access?.touch({ ...base, action: "READ", outcome: "ALLOWED" }),
          );
        field.extensions = { ...field.extensions, audited: resourceType };
        continue;
      }
      if (!parentAudited && !returnsAudited) continue;
      const typeName = type.name;
      const isNodeField = type === queryType && (field.name === "node" || field.name === "nodes");
      field.resolve = (root, args: Record<string, unknown>, ctx: Context, info) => {
        if (parentAudited && ctx?.access) touchObject(ctx, typeName, root, "READ");
        const onError = () => {
          const parent = (root ?? {}) as Row;
          const resourceType = returned in AUDITED_TYPES ? returned : parentAudited ? typeName : returned;
          const participantIds = parentAudited
            ? AUDITED_TYPES[typeName]
                .participantIds(parent)
                .map(str)
                .filter((p): p is string => !!p)
            : [];
          const asked = isNodeField ? fromGlobalId(typeof args.id === "string" ? args.id : "") : null;
          const centerId = str(parent.centerId) ?? (typeName === "Center" ? str(parent.id) : null);
          return { resourceType: asked?.type ?? resourceType, resourceId: asked?.id ?? null, centerId, participantIds };
        };
        return watching(ctx, () => resolve(root, args, ctx, info), onError, "READ", isNodeField ? (value) => deniedNodes(ctx, args, value) : undefined);
      };
      field.extensions = { ...field.extensions, audited: parentAudited ? typeName : returned };
    }
  }
  return schema;
}

/** node(id)/nodes(ids) answering null for an id of participant data: refused or missing. */
function deniedNodes(ctx: Context | undefined, args: Record<string, unknown>, value: unknown): void {
  if (!ctx?.access) return;
  const ids = Array.isArray(args.ids) ? (args.ids as unknown[]) : [args.id];
  const values = Array.isArray(args.ids) ? (Array.isArray(value) ? value : []) : [value];
  ids.forEach((globalId, i) => {
    if (values[i] != null) return;
    const asked = typeof globalId === "string" ? fromGlobalId(globalId) : null;
    if (!asked || !(asked.type in AUDITED_TYPES)) return;
    ctx.access.touch({
      action: "DENIED",
      outcome: "DENIED",
      resourceType: asked.type,
      resourceId: asked.id,
      centerId: null,
      participantIds: asked.type === "Participant" ? [asked.id] : [],
    });
  });
}
