// One declaration per field: who may read it, what opens it to API clients, what reading it
// records in the audit log, and what it costs. Declared next to `@Field` (or once on the
// `@ObjectType`, as the default of its fields) with type-graphql's `Extensions`, and read from the
// built schema's `extensions.policy` by everything that enforces or plans:
//   - the one field wrapper, built once at schema build time (src/common/guard.ts);
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
import type { Column } from "drizzle-orm";
import { Extensions } from "type-graphql";
import type { ApiScope } from "../auth/viewer.js";

export type Audience = "CENTER" | "GROUP" | "CLINICAL" | "STAFF" | "CALLER" | "ADMIN";
export const AUDIENCES: readonly Audience[] = ["CENTER", "GROUP", "CLINICAL", "STAFF", "CALLER", "ADMIN"];

export interface FieldPolicy {
  /** Who may read the field; a field without one takes its type's. */
  readableBy?: Audience;
  /** The API-client scopes that open the field (any one of them); absent or empty: closed to API clients. */
  api?: readonly ApiScope[];
  /** A weight added to the query's cost each time the field is asked for, for fields that are expensive whatever their page size (aggregates). */
  cost?: number;
}

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

export interface TypePolicy<Row = Record<string, unknown>> extends FieldPolicy {
  audit?: AuditIdentity<Row>;
}

/** On a field (next to `@Field`/`@FieldResolver`): its read, API-client and cost declaration. */
export const Policy = (policy: FieldPolicy) => Extensions({ policy });

/** On an `@ObjectType` class: the default of its fields, and its audit identity. */
export const TypePolicy = <Row = Record<string, unknown>>(policy: TypePolicy<Row>) => Extensions({ policy });
