// Which sessions an export may read, decided by the policy module (src/auth/access.ts) the way the
// participant lists decide it: clinical staff (participant.read at the center) read the whole
// center, a facilitator the groups they facilitate, a VIEWER nothing (it never sees participants).
// An API client reads its own centers with ATTENDANCE_READ (the policy module's `can` for
// clients), and only the records its consents allow (src/exports/clients.ts).
import { sql, type SQL } from "drizzle-orm";
import type { Access } from "../auth/access.js";

const uuids = (ids: readonly string[]) =>
  sql.join(
    ids.map((id) => sql`${id}::uuid`),
    sql`, `,
  );

/** The sessions of one center the viewer may export (a condition on `s`), or null for none. */
export function centerExportScope(access: Access, centerId: string): SQL | null {
  // The groups the viewer sees at the center: all of them, or a facilitator's own.
  const groups = access.groupScope(centerId);
  if (groups === "ALL") return access.can("participant.read", { centerId }) ? sql`s.center_id = ${centerId}::uuid` : null;
  if (!access.can("participant.read", { centerId, groupIds: groups })) return null;
  return sql`s.center_id = ${centerId}::uuid and s.group_id in (${uuids(groups)})`;
}

/**
 * The sessions of every center the viewer may export (a condition on `s`), and those centers; null
 * when there is none (a VIEWER everywhere).
 */
export function exportScope(access: Access): { condition: SQL; centerIds: "ALL" | string[] } | null {
  const visible = access.visibleCenterIds();
  if (visible === "ALL") {
    access.requireOrgAdmin();
    return { condition: sql`true`, centerIds: "ALL" };
  }
  const parts: SQL[] = [];
  const centerIds: string[] = [];
  for (const centerId of visible) {
    const part = centerExportScope(access, centerId);
    if (part) {
      parts.push(sql`(${part})`);
      centerIds.push(centerId);
    }
  }
  return parts.length ? { condition: sql`(${sql.join(parts, sql` or `)})`, centerIds } : null;
}
