// The viewer: who is behind a request. A staff member, with their reach (memberships, facilitated
// groups), or an API client (an integrator's system), with its centers and scopes.
import { eq, sql } from "drizzle-orm";
import { qualified } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { groupFacilitators, staff, staffMemberships } from "../db/schema.js";

export type CenterRole = "ADMIN" | "CLINICIAN" | "FACILITATOR" | "VIEWER";

/** What an API client may read (src/auth/access.ts decides what each scope opens). */
export type ApiScope = "ATTENDANCE_READ" | "PARTICIPANT_READ";
export const API_SCOPES: readonly ApiScope[] = ["ATTENDANCE_READ", "PARTICIPANT_READ"];

export interface ApiClientViewer {
  kind: "apiClient";
  apiClientId: string;
  /** The key that authenticated the request (its row id, never the key). */
  apiKeyId: string;
  name: string;
  centerIds: Set<string>;
  scopes: Set<ApiScope>;
}

export type Viewer = StaffViewer | ApiClientViewer;

export interface StaffViewer {
  kind: "staff";
  staffId: string;
  email: string;
  name: string;
  isOrgAdmin: boolean;
  /** centerId -> role at that center. */
  roles: Map<string, CenterRole>;
  /** Groups this staff member facilitates (lead or co). */
  facilitatedGroupIds: Set<string>;
}

/** A json_agg column, which arrives parsed or as JSON text depending on the driver. */
function fromJson<T>(value: T | string): T {
  return typeof value === "string" ? (JSON.parse(value) as T) : value;
}

/** One statement: the active staff member with that subject, their memberships and groups. */
export async function loadViewer(db: Db, authSubject: string): Promise<StaffViewer | null> {
  const rows = await db
    .select({
      id: staff.id,
      email: staff.email,
      name: staff.name,
      isOrgAdmin: staff.isOrgAdmin,
      memberships: sql<Array<{ centerId: string; role: CenterRole }> | null>`(
        select json_agg(json_build_object('centerId', m.center_id, 'role', m.role))
        from ${staffMemberships} m where m.staff_id = ${qualified(staff.id)})`,
      groupIds: sql<string[] | null>`(
        select json_agg(f.group_id) from ${groupFacilitators} f where f.staff_id = ${qualified(staff.id)})`,
    })
    .from(staff)
    .where(sql`${eq(staff.authSubject, authSubject)} and ${staff.status} = 'ACTIVE'`)
    .limit(1);
  const row = rows[0];
  if (!row) return null;
  const memberships = fromJson(row.memberships);
  const groupIds = fromJson(row.groupIds);
  return {
    kind: "staff",
    staffId: row.id,
    email: row.email,
    name: row.name,
    isOrgAdmin: row.isOrgAdmin,
    roles: new Map((memberships ?? []).map((m) => [m.centerId, m.role])),
    facilitatedGroupIds: new Set(groupIds ?? []),
  };
}
