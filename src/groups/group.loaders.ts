import { and, asc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { byIdLoader, connectionLoader, listLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import { inScope } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { groupFacilitators, groups, type FacilitatorRow, type GroupRow } from "../db/schema.js";

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

export function groupLoaders(db: Db) {
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
          orderBy: sql`${groups.name}, ${groups.id}`,
        },
        win,
      ),
    );
  return {
    byId: byIdLoader<GroupRow>((ids) =>
      db
        .select()
        .from(groups)
        .where(inArray(groups.id, [...ids])),
    ),
    byCenter: pagesBy(groups.centerId),
    byProgram: pagesBy(groups.programId),
    facilitatorsByGroupId: listLoader<FacilitatorRow>(
      (ids) =>
        db
          .select()
          .from(groupFacilitators)
          .where(inArray(groupFacilitators.groupId, [...ids]))
          .orderBy(asc(groupFacilitators.position)),
      (f) => f.groupId,
    ),
  };
}
