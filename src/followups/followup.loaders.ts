import { and, asc, eq, inArray, or, sql, type SQL } from "drizzle-orm";
import { connectionLoader, listLoader, tableByIdLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import { inScope } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { followUpEvents, followUps, type FollowUpEventRow, type FollowUpRow } from "../db/schema.js";

export interface CenterFollowUpFilter {
  status: string | null;
  assigneeId: string | null;
  /** "ALL", or only these groups (facilitators). */
  groupScope: "ALL" | string[];
}

export interface StaffFollowUpFilter {
  status: string | null;
  /** What the viewer may read (Access.followUpScope). */
  scope: "ALL" | { centerIds: string[]; facilitatorCenterIds: string[]; groupIds: string[] };
}

const ORDER = sql`${followUps.dueOn}, ${followUps.openedAt}, ${followUps.id}`;

function scopeSql(scope: StaffFollowUpFilter["scope"]): SQL | undefined {
  if (scope === "ALL") return undefined;
  const parts: SQL[] = [];
  if (scope.centerIds.length) parts.push(inArray(followUps.centerId, scope.centerIds));
  if (scope.facilitatorCenterIds.length && scope.groupIds.length) {
    parts.push(and(inArray(followUps.centerId, scope.facilitatorCenterIds), inArray(followUps.groupId, scope.groupIds))!);
  }
  return parts.length ? or(...parts) : sql`false`;
}

export function followUpLoaders(db: Db) {
  return {
    byId: tableByIdLoader(db, followUps),
    eventsByFollowUpId: listLoader<FollowUpEventRow>(
      (ids) =>
        db
          .select()
          .from(followUpEvents)
          .where(inArray(followUpEvents.followUpId, [...ids]))
          .orderBy(asc(followUpEvents.seq)),
      (e) => e.followUpId,
    ),
    /** A center's follow-ups, soonest due first. */
    byCenter: connectionLoader<CenterFollowUpFilter, FollowUpRow>((centerIds, f, win) =>
      loadPages<FollowUpRow>(
        db,
        {
          select: followUps,
          from: followUps,
          parent: followUps.centerId,
          parentIds: centerIds,
          where: and(
            f.status ? eq(followUps.status, f.status) : undefined,
            f.assigneeId ? eq(followUps.assigneeStaffId, f.assigneeId) : undefined,
            inScope(followUps.groupId, f.groupScope),
          ),
          orderBy: ORDER,
        },
        win,
      ),
    ),
    /** Follow-ups assigned to each staff member that the viewer may read, soonest due first. */
    byAssignee: connectionLoader<StaffFollowUpFilter, FollowUpRow>((staffIds, f, win) =>
      loadPages<FollowUpRow>(
        db,
        {
          select: followUps,
          from: followUps,
          parent: followUps.assigneeStaffId,
          parentIds: staffIds,
          where: and(f.status ? eq(followUps.status, f.status) : undefined, scopeSql(f.scope)),
          orderBy: ORDER,
        },
        win,
      ),
    ),
  };
}
