import { and, eq, ilike, inArray, or, sql, type SQL } from "drizzle-orm";
import { byIdLoader, connectionLoader, listLoader, tableByIdLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import { inScope, qualified } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { enrollments, participants, type ParticipantRow } from "../db/schema.js";

export interface ParticipantFilter {
  search: string | null;
  status: string | null;
  /** "ALL", or only participants enrolled in these groups (facilitators). */
  groupScope: "ALL" | string[];
  /** Only participants at this risk level (the condition comes from `registerRiskCondition`). */
  riskLevel?: string | null;
}

/**
 * The SQL condition on `participants` for "at this risk level, judged on these groups". The
 * engagement module, which computes risk, registers it; participants does not depend on it.
 */
export type RiskCondition = (level: string, centerIds: readonly string[], groupScope: "ALL" | string[]) => SQL;
let riskCondition: RiskCondition | null = null;
export function registerRiskCondition(condition: RiskCondition): void {
  riskCondition = condition;
}

function filterSql(f: ParticipantFilter, centerIds: readonly string[]): SQL | undefined {
  const parts: SQL[] = [];
  if (f.status) parts.push(eq(participants.status, f.status));
  if (f.search) {
    const like = `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    parts.push(
      or(
        ilike(participants.firstName, like),
        ilike(participants.lastName, like),
        ilike(participants.preferredName, like),
        ilike(participants.externalId, like),
      )!,
    );
  }
  const inGroups = inScope(sql`e.group_id`, f.groupScope);
  if (inGroups) {
    parts.push(sql`exists (select 1 from ${enrollments} e where e.participant_id = ${qualified(participants.id)} and ${inGroups})`);
  }
  if (f.riskLevel) {
    if (!riskCondition) throw new Error("No risk condition registered (the engagement module is not loaded)");
    parts.push(riskCondition(f.riskLevel, centerIds, f.groupScope));
  }
  return parts.length ? and(...parts) : undefined;
}

export function participantLoaders(db: Db) {
  return {
    byId: tableByIdLoader(db, participants),
    /**
     * Only what a list of names shows (and access needs): the other fields are absent, so only
     * resolvers asked for NAME_FIELDS (participant.service.ts) use it.
     */
    namesById: byIdLoader<ParticipantRow>(
      async (ids) =>
        (await db
          .select({
            id: participants.id,
            centerId: participants.centerId,
            firstName: participants.firstName,
            lastName: participants.lastName,
            preferredName: participants.preferredName,
            status: participants.status,
          })
          .from(participants)
          .where(inArray(participants.id, [...ids]))) as ParticipantRow[],
    ),
    /** Groups each participant has an enrolment in (any status): facilitators' reach. */
    groupIdsByParticipantId: listLoader<{ participantId: string; groupId: string }>(
      (ids) =>
        db
          .selectDistinct({ participantId: enrollments.participantId, groupId: enrollments.groupId })
          .from(enrollments)
          .where(inArray(enrollments.participantId, [...ids])),
      (r) => r.participantId,
    ),
    byCenter: connectionLoader<ParticipantFilter, ParticipantRow>((centerIds, filter, win) =>
      loadPages<ParticipantRow>(
        db,
        {
          select: participants,
          from: participants,
          parent: participants.centerId,
          parentIds: centerIds,
          where: filterSql(filter, centerIds),
          orderBy: sql`${participants.lastName}, ${participants.firstName}, ${participants.id}`,
        },
        win,
      ),
    ),
  };
}
