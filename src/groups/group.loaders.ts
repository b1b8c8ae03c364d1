import { and, eq, inArray, type SQL } from "drizzle-orm";
import { connectionLoader, listLoader, tableByIdLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import { inScope, orderBySql, type Ordering } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { groupFacilitators, groups, staff, type FacilitatorRow, type GroupRow, type StaffRow } from "../db/schema.js";

export interface GroupFilter {
  status: string | null;
  /** "ALL", or the only group ids the viewer may see (facilitators). */
  scope: "ALL" | string[];
}

function filterSql(f: GroupFilter): SQL | undefined {
  const parts: SQL[] = [];
  if (f.status) parts.push(eq(groups.status, f.status));
  const scope = inScope(groups.id, f.scope);
  if (scope) parts.push(scope);
  return parts.length ? and(...parts) : undefined;
}

/** `staff.byId` of the same request: facilitators' rows are read with their links and primed there. */
interface StaffById {
  prime(id: string, row: StaffRow | null): unknown;
}

/** The order of a center's (or a program's) groups: by name. */
export const GROUP_ORDER: Ordering = [groups.name, groups.id];
/** The order of a group's facilitators: the lead first. */
export const FACILITATOR_ORDER: Ordering = [groupFacilitators.position];

export function groupLoaders(db: Db, staffById?: StaffById) {
  const pagesBy = (parent: typeof groups.centerId | typeof groups.programId) =>
    connectionLoader<GroupFilter, GroupRow>((parentIds, filter, win) =>
      loadPages<GroupRow>(
        db,
        {
          select: groups,
          from: groups,
          parent,
          parentIds,
          where: filterSql(filter),
          orderBy: orderBySql(GROUP_ORDER),
        },
        win,
      ),
    );
  return {
    byId: tableByIdLoader(db, groups),
    byCenter: pagesBy(groups.centerId),
    byProgram: pagesBy(groups.programId),
    /** Each group's facilitator links, in order; the staff members' rows come along (primed). */
    facilitatorsByGroupId: listLoader<FacilitatorRow>(
      async (ids) => {
        const rows = await db
          .select({ link: groupFacilitators, member: staff })
          .from(groupFacilitators)
          .innerJoin(staff, eq(staff.id, groupFacilitators.staffId))
          .where(inArray(groupFacilitators.groupId, [...ids]))
          .orderBy(orderBySql(FACILITATOR_ORDER));
        for (const r of rows) staffById?.prime(r.member.id, r.member);
        return rows.map((r) => r.link);
      },
      (f) => f.groupId,
    ),
  };
}
