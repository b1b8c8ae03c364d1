import { inArray, sql } from "drizzle-orm";
import { connectionLoader, mapLoader, tableByIdLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import type { Db } from "../db/client.js";
import { recoveryCapitalAssessments as rc, type RecoveryCapitalRow } from "../db/schema.js";

export function recoveryCapitalLoaders(db: Db) {
  return {
    byId: tableByIdLoader(db, rc),
    /** Assessments of each participant, newest first (by day assessed, then by entry). */
    byParticipant: connectionLoader<null, RecoveryCapitalRow>((participantIds, _filter, win) =>
      loadPages<RecoveryCapitalRow>(
        db,
        { select: rc, from: rc, parent: rc.participantId, parentIds: participantIds, orderBy: sql`${rc.assessedOn} desc, ${rc.seq} desc` },
        win,
      ),
    ),
    /** Latest total minus first total; null with fewer than two assessments. */
    changeByParticipantId: mapLoader<number | null>(
      async (ids) => {
        const rows = await db
          .select({
            participantId: rc.participantId,
            n: sql<number>`count(*)::int`,
            latest: sql<number>`(array_agg(${rc.total} order by ${rc.assessedOn} desc, ${rc.seq} desc))[1]`,
            first: sql<number>`(array_agg(${rc.total} order by ${rc.assessedOn}, ${rc.seq}))[1]`,
          })
          .from(rc)
          .where(inArray(rc.participantId, [...ids]))
          .groupBy(rc.participantId);
        return new Map(rows.map((r) => [r.participantId, Number(r.n) < 2 ? null : Number(r.latest) - Number(r.first)]));
      },
      () => null,
    ),
  };
}
