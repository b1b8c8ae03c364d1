// One declaration per field: who may read it, what opens it to API clients, what reading it
// records in the audit log, and what it costs. Declared next to `@Field` (or once on the
// `@ObjectType`, as the default of its fields) with type-graphql's `Extensions`, and read from the
// built schema's `extensions.policy` by everything that enforces or plans:
//   - the one field wrapper, built once at schema build time (src/common/field-wrapper.ts);
//   - the compiler of queries to SQL (src/compiled/);
//   - the query cost limit (src/common/cost.ts);
//   - the tests that walk the schema (test/schema.test.ts, test/access.test.ts, test/audit.test.ts).
//
// Audiences (who may read):
//   CENTER    anyone with a role at the center (center.read)
//   GROUP     anyone who may see the group (group.read; facilitators only their groups)
//   CLINICAL  participant.read: clinical staff and the group's facilitators; FORBIDDEN to VIEWERs
//   STAFF     whoever `node(id:)` shows that staff member to
//   CALLER    the caller's own input echoed back (UserError)
//   ADMIN     org admins, and center admins for their centers (the audit log)
import { getTableColumns, type Column, type Table } from "drizzle-orm";
import { getNamedType, isInterfaceType, isObjectType, type GraphQLField, type GraphQLNamedType, type GraphQLObjectType } from "graphql";
import { Extensions } from "type-graphql";
import type { ApiScope } from "../auth/viewer.js";
import type { Context } from "./context.js";

export type Audience = "CENTER" | "GROUP" | "CLINICAL" | "STAFF" | "CALLER" | "ADMIN";
export const AUDIENCES: readonly Audience[] = ["CENTER", "GROUP", "CLINICAL", "STAFF", "CALLER", "ADMIN"];

export interface FieldPolicy {
  /** Who may read the field; a field without one takes its type's. */
  readableBy?: Audience;
  /** The API-client scopes that open the field (any one of them); absent or empty: closed to API clients. */
  api?: readonly ApiScope[];
  /** A weight added to the query's cost each time the field is asked for, for fields that are expensive whatever their page size (aggregates). */
  cost?: number;
  /**
   * Root fields only. A mutation (each one declares it): the action the objects of its payload are
   * recorded with, or null for a mutation that touches no participant data (configuration). A
   * query: "READ" records one read of the type it returns (through a connection: its nodes) per
   * call, for types that have no audit identity of their own (the audit log itself).
   */
  audit?: MutationAudit | "READ" | null;
}

/** What a mutation's payload objects are recorded as. */
export type MutationAudit = "CREATE" | "UPDATE";

/**
 * Whose data an object of the type is: reading any of its fields is a READ of these participants
 * in the audit log. Columns of the type's drizzle table (the compiler reads them as SQL, the
 * wrapper as the row's properties), or a function for objects that are not one table row.
 */
export interface AuditIdentity<Row = Record<string, unknown>> {
  participants: readonly Column[] | ((row: Row) => readonly unknown[]);
  /** The object's own id in the log; default the row's `id`; null: no id of its own. */
  resourceId?: Column | null | ((row: Row) => unknown);
}

export interface TypePolicy<Row = Record<string, unknown>> extends Omit<FieldPolicy, "audit"> {
  audit?: AuditIdentity<Row>;
  /**
   * Where an object of the type is, for the audience check of fields declared narrower than their
   * type: its center (default: the row's `centerId`; null: the type belongs to no one center, its
   * narrower fields keep their own rule) and, when it belongs to a group, its group (a facilitator
   * reads GROUP and CLINICAL fields of their groups' objects only). Without a group, the object is
   * the whole center's: a facilitator reads it, and what it lists is cut to their groups.
   */
  center?: Column | null;
  group?: Column | ((row: Row, ctx: Context) => unknown);
}

/** On a field (next to `@Field`/`@FieldResolver`): its read, API-client and cost declaration. */
export const Policy = (policy: FieldPolicy) => Extensions({ policy });

/** On an `@ObjectType` class: the default of its fields, and its audit identity. */
export const TypePolicy = <Row = Record<string, unknown>>(policy: TypePolicy<Row>) => Extensions({ policy });

// Reading the declarations back from the built schema (graphql-js keeps type-graphql's
// extensions on the types and fields). Everything that enforces or plans reads them through these.

type Named = GraphQLNamedType | null | undefined;

const ownPolicyOf = (x: { extensions?: unknown } | null | undefined): TypePolicy | undefined => (x?.extensions as { policy?: TypePolicy } | undefined)?.policy;

/**
 * @public (read by the compiler, src/compiled/)
 * The type a plumbing type stands for: a connection's, an edge's or a page's node type (the
 * connections src/common/relay.ts declares, and pages like the attendance feed: anything with a
 * `node` or `nodes` field). Null for any other type.
 */
export function plumbingNodeType(type: Named): GraphQLNamedType | null {
  if (!isObjectType(type)) return null;
  const fields = type.getFields();
  const edge = fields.node && fields.cursor;
  const page = fields.nodes && fields.pageInfo;
  if (!edge && !page) return null;
  return getNamedType((edge ? fields.node : fields.nodes).type);
}

/**
 * @public (read by the compiler, src/compiled/)
 * A type's policy: its own TypePolicy, else (a connection, edge or page without one) its node
 * type's audience and API scopes; audit identity and cost are never inherited (a connection is not
 * a participant's data, its nodes are).
 */
export function typePolicyOf(type: Named): TypePolicy | undefined {
  const own = ownPolicyOf(type);
  if (own) return own;
  const node = plumbingNodeType(type);
  const inherited = node && node !== type ? typePolicyOf(node) : undefined;
  return inherited && { readableBy: inherited.readableBy, api: inherited.api };
}

/** A field's own declaration (Policy), if any. */
export const fieldPolicyOf = (field: GraphQLField<unknown, unknown>): FieldPolicy | undefined => ownPolicyOf(field) as FieldPolicy | undefined;

/** The audit identity of a type (TypePolicy.audit), if its objects are a participant's data. */
export const auditIdentityOf = (type: Named): AuditIdentity | undefined => ownPolicyOf(type)?.audit;

/** What applies to one field: its own declaration over its type's. */
export interface EffectivePolicy {
  /** Undefined only for a field nothing declares (the schema walk in test/schema.test.ts fails on it). */
  readableBy: Audience | undefined;
  api: readonly ApiScope[];
  cost: number;
}

/**
 * The declaration that applies to `type.field`:
 *   - readableBy: the field's, else its type's; a mutation answers its caller (CALLER): what it
 *     may change is its service's rule;
 *   - api: the field's, else its type's; a Node's `id` is open to whichever scopes open any other
 *     field of its type (an object an integrator may read is identified by its id);
 *   - cost: the field's own weight (0 without one).
 */
export function effectivePolicy(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>, mutationType?: GraphQLObjectType | null): EffectivePolicy {
  const own = fieldPolicyOf(field);
  const ofType = typePolicyOf(type);
  let api = own?.api ?? ofType?.api;
  if (!api && field.name === "id" && type.getInterfaces().some((i) => isInterfaceType(i) && i.name === "Node")) {
    const scopes = new Set<ApiScope>();
    for (const other of Object.values(type.getFields())) {
      if (other !== field) for (const s of fieldPolicyOf(other)?.api ?? []) scopes.add(s);
    }
    api = [...scopes];
  }
  const readableBy = own?.readableBy ?? ofType?.readableBy ?? (mutationType && type === mutationType ? "CALLER" : undefined);
  return { readableBy, api: api ?? [], cost: own?.cost ?? 0 };
}

/** @public (read by the compiler, src/compiled/) The property of a table's row a column is read from (`attendance.participantId` → "participantId"). */
export function columnKey(column: Column): string {
  const table = (column as unknown as { table: Table }).table;
  for (const [key, c] of Object.entries(getTableColumns(table))) if (c === column) return key;
  throw new Error(`Column ${column.name} is not a column of its table`);
}

/** An audit identity as functions of the row (columns read as the row's properties), built once. */
export interface RowIdentity {
  participantIds(row: Record<string, unknown>): readonly unknown[];
  resourceId(row: Record<string, unknown>): unknown;
}

export function rowIdentity(identity: AuditIdentity): RowIdentity {
  const { participants, resourceId } = identity;
  const keys = typeof participants === "function" ? null : participants.map(columnKey);
  const participantIds = typeof participants === "function" ? participants : (row: Record<string, unknown>) => keys!.map((k) => row[k]);
  const idKey = resourceId && typeof resourceId !== "function" ? columnKey(resourceId) : null;
  const resource = resourceId === null ? () => null : typeof resourceId === "function" ? resourceId : (row: Record<string, unknown>) => row[idKey ?? "id"];
  return { participantIds, resourceId: resource };
}
