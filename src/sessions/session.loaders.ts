import { and, eq, gte, inArray, lt, type SQL } from "drizzle-orm";
import { byIdLoader, connectionLoader, tableByIdLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import { inScope, orderBySql, type Ordering } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { sessions, type SessionRow } from "../db/schema.js";

export interface SessionFilter {
  /** ISO instants (strings, so the filter has a stable batching key). */
  from: string | null;
  to: string | null;
  status: string | null;
  groupScope: "ALL" | string[];
}

function filterSql(f: SessionFilter): SQL | undefined {
  const parts: SQL[] = [];
  if (f.from) parts.push(gte(sessions.startsAt, new Date(f.from)));
  if (f.to) parts.push(lt(sessions.startsAt, new Date(f.to)));
  if (f.status) parts.push(eq(sessions.status, f.status));
  const scope = inScope(sessions.groupId, f.groupScope);
  if (scope) parts.push(scope);
  return parts.length ? and(...parts) : undefined;
}

/** The order of a group's (or a center's) sessions: by start; reversed, the latest first. */
export const SESSION_ORDER: Ordering = [sessions.startsAt, sessions.id];

export function sessionLoaders(db: Db) {
  const pagesBy = (parent: typeof sessions.groupId | typeof sessions.centerId) =>
    connectionLoader<SessionFilter, SessionRow>((parentIds, filter, win) =>
      loadPages<SessionRow>(
        db,
        {
          select: sessions,
          from: sessions,
          parent,
          parentIds,
          where: filterSql(filter),
          orderBy: orderBySql(SESSION_ORDER),
          orderByDesc: orderBySql(SESSION_ORDER, true),
        },
        win,
      ),
    );
  return {
    byId: tableByIdLoader(db, sessions),
    /**
     * Only when and whether (and whose): the other fields are absent, so only resolvers asked for
     * TIME_FIELDS use it (a participant's attendance history lists a hundred sessions).
     */
    timesById: byIdLoader<SessionRow>(
      async (ids) =>
        (await db
          .select({
            id: sessions.id,
            centerId: sessions.centerId,
            groupId: sessions.groupId,
            startsAt: sessions.startsAt,
            endsAt: sessions.endsAt,
            status: sessions.status,
          })
          .from(sessions)
          .where(inArray(sessions.id, [...ids]))) as SessionRow[],
    ),
    byGroup: pagesBy(sessions.groupId),
    byCenter: pagesBy(sessions.centerId),
  };
}

/** The fields of Session that the `timesById` loader's columns answer. */
export const TIME_FIELDS: ReadonlySet<string> = new Set(["__typename", "id", "startsAt", "endsAt", "status", "group"]);
