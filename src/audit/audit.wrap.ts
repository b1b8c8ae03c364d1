// Which parts of the schema are participant data, and what a request touched of them
// (Access.touch), recorded by the one field wrapper (src/common/field-wrapper.ts) from each type's
// and field's declaration (src/common/policy.ts):
//   - an object of a type declaring an audit identity (TypePolicy `audit`) is a READ of its
//     participants when a field hands it out (once per object; its own fields need no wrapper);
//   - a refusal (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND) on a field of participant data records
//     DENIED, an unexpected error ERROR; `node(id:)` answering null for a participant-data id
//     records DENIED (refused or missing: the client cannot tell, the log does);
//   - every mutation declares its action (Policy `audit`): an action records the objects of its
//     payload as written, and a NOT_FOUND userError as DENIED; a root query declaring "READ"
//     records one read of what it returns per call.
// Covered fields carry `extensions.audited`; the schema walk (test/audit.test.ts) fails on any
// field returning participant data that is not covered.
import { getNamedType, isAbstractType, isObjectType, type GraphQLField, type GraphQLObjectType, type GraphQLSchema } from "graphql";
import type { AuditAction, AuditOutcome, Touch } from "../auth/access.js";
import type { Context } from "../common/context.js";
import type { FieldRecord, FieldRecorder } from "../common/field-wrapper.js";
import { fromGlobalId } from "../common/ids.js";
import { auditIdentityOf, fieldPolicyOf, rowIdentity, type MutationAudit, type RowIdentity } from "../common/policy.js";

type Row = Record<string, unknown>;
type Args = Record<string, unknown>;
/** Each type declaring an audit identity, by name. */
type AuditedTypes = ReadonlyMap<string, RowIdentity>;

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

function touchObject(audited: AuditedTypes, ctx: Context, typeName: string, o: unknown, action: AuditAction, outcome: AuditOutcome = "ALLOWED"): void {
  if (!o || typeof o !== "object") return;
  const row = o as Row;
  const identity = audited.get(typeName);
  const participantIds = (identity ? identity.participantIds(row) : []).map(str).filter((p): p is string => p !== null);
  ctx.access.touch({
    action,
    outcome,
    resourceType: typeName,
    resourceId: str(identity ? identity.resourceId(row) : row.id),
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

const mark = (field: GraphQLField<unknown, unknown>, audited: string) => {
  field.extensions = { ...field.extensions, audited };
};

function mutationRecord(audited: AuditedTypes, field: GraphQLField<unknown, unknown>, action: MutationAudit, payloadType: GraphQLObjectType): FieldRecord {
  const payloadFields = Object.values(payloadType.getFields()).filter((f) => f.name !== "userErrors");
  const primary = payloadFields.map(returnedTypeName).find((t) => audited.has(t)) ?? (payloadFields[0] ? returnedTypeName(payloadFields[0]) : field.name);
  const fromInput = (args: Args) => {
    const ids = inputIds(args.input);
    return {
      resourceType: primary,
      resourceId: ids.find((i) => i.type === primary)?.id ?? null,
      centerId: null,
      participantIds: ids.filter((i) => i.type === "Participant").map((i) => i.id),
    };
  };
  return {
    resolved(payload, _root, args, ctx) {
      if (!payload || typeof payload !== "object" || !ctx.access) return;
      const p = payload as Row;
      // (UserErrorCode has no FORBIDDEN: a refusal of the viewer's role is a GraphQL error, recorded by failed.)
      const refused = (p.userErrors as Array<{ code?: string }> | undefined)?.some((e) => e.code === "NOT_FOUND");
      if (refused) ctx.access.touch({ ...fromInput(args), action: "DENIED", outcome: "DENIED" });
      for (const f of payloadFields) {
        const value = p[f.name];
        const typeName = returnedTypeName(f);
        for (const o of Array.isArray(value) ? value : [value]) touchObject(audited, ctx, typeName, o, action);
      }
    },
    failed(err, _root, args, ctx) {
      const touch = ctx.access ? errorTouch(err, fromInput(args), action) : null;
      if (touch) ctx.access.touch(touch);
    },
  };
}

/** node(id)/nodes(ids) answering null for an id of participant data: refused or missing. */
function deniedNodes(audited: AuditedTypes, ctx: Context, args: Args, value: unknown): void {
  if (!ctx.access) return;
  const ids = Array.isArray(args.ids) ? (args.ids as unknown[]) : [args.id];
  const values = Array.isArray(args.ids) ? (Array.isArray(value) ? value : []) : [value];
  ids.forEach((globalId, i) => {
    if (values[i] != null) return;
    const asked = typeof globalId === "string" ? fromGlobalId(globalId) : null;
    if (!asked || !audited.has(asked.type)) return;
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

/**
 * The audit recorder the field wrapper asks about each field (src/schema.ts hands it in): built
 * once per schema from the declarations.
 */
export function auditRecorder(schema: GraphQLSchema): FieldRecorder {
  const queryType = schema.getQueryType();
  const mutationType = schema.getMutationType();
  const audited = new Map<string, RowIdentity>();
  for (const type of Object.values(schema.getTypeMap())) {
    const identity = auditIdentityOf(type);
    if (identity) audited.set(type.name, rowIdentity(identity));
  }
  const mutations = auditedMutations(schema);
  return (type, field) => {
    if (type === mutationType) {
      const action = mutations[field.name];
      const payload = getNamedType(field.type);
      if (action && isObjectType(payload)) {
        mark(field, action);
        return mutationRecord(audited, field, action, payload);
      }
      if (action === null) mark(field, "none");
      return null;
    }
    const returned = returnedTypeName(field);
    const named = getNamedType(field.type);
    if (type === queryType && fieldPolicyOf(field)?.audit === "READ") {
      const base = { resourceType: returned, resourceId: null, centerId: null, participantIds: [] };
      mark(field, returned);
      return {
        resolved: (_v, _root, _args, ctx) => ctx.access?.touch({ ...base, action: "READ", outcome: "ALLOWED" }),
        failed(err, _root, _args, ctx) {
          const touch = ctx.access ? errorTouch(err, base, "READ") : null;
          if (touch) ctx.access.touch(touch);
        },
      };
    }
    // What the field hands out: objects of an audited type (or of an interface some audited type implements).
    const abstract = isAbstractType(named) ? named : null;
    const handsOut = audited.has(named.name) || (abstract !== null && schema.getPossibleTypes(abstract).some((t) => audited.has(t.name)));
    const parentAudited = audited.has(type.name);
    if (!parentAudited && !handsOut && !audited.has(returned)) return null;
    mark(field, parentAudited ? type.name : returned);
    const typeName = type.name;
    const isNodeField = type === queryType && abstract !== null;
    const identity = audited.get(typeName);
    const concreteName = (v: unknown): string | null => {
      if (!abstract) return named.name;
      const resolved = abstract.resolveType?.(v, undefined, undefined as never, abstract);
      return typeof resolved === "string" ? resolved : null;
    };
    return {
      resolved: handsOut
        ? (value, _root, args, ctx) => {
            if (!ctx.access) return;
            for (const o of Array.isArray(value) ? value : [value]) {
              if (o == null) continue;
              const name = concreteName(o);
              if (name && audited.has(name)) touchObject(audited, ctx, name, o, "READ");
            }
            if (isNodeField) deniedNodes(audited, ctx, args, value);
          }
        : undefined,
      failed(err, root, args, ctx) {
        if (!ctx.access) return;
        const parent = (root ?? {}) as Row;
        const resourceType = audited.has(returned) ? returned : parentAudited ? typeName : returned;
        const participantIds = identity
          ? identity
              .participantIds(parent)
              .map(str)
              .filter((p): p is string => !!p)
          : [];
        const asked = isNodeField ? fromGlobalId(typeof args.id === "string" ? args.id : "") : null;
        const centerId = str(parent.centerId) ?? (typeName === "Center" ? str(parent.id) : null);
        const touch = errorTouch(err, { resourceType: asked?.type ?? resourceType, resourceId: asked?.id ?? null, centerId, participantIds }, "READ");
        if (touch) ctx.access.touch(touch);
      },
    };
  };
}
