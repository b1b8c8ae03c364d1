import { and, asc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { connectionLoader, listLoader, mapLoader, tableByIdLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import { inScope, orderBySql, type Ordering } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { enrollmentEvents, enrollments, type EnrollmentEventRow, type EnrollmentRow } from "../db/schema.js";

export interface EnrollmentFilter {
  status: string | null;
  /** "ALL", or only enrolments in these groups (facilitators). */
  groupScope: "ALL" | string[];
}

export interface GroupCounts {
  active: number;
  waitlisted: number;
}

function filterSql(f: EnrollmentFilter): SQL | undefined {
  const parts: SQL[] = [];
  if (f.status) parts.push(eq(enrollments.status, f.status));
  const scope = inScope(enrollments.groupId, f.groupScope);
  if (scope) parts.push(scope);
  return parts.length ? and(...parts) : undefined;
}

/** The order of a group's (or a participant's) enrolments: enrolment order, the waitlist's for WAITLISTED. */
export const ENROLLMENT_ORDER: Ordering = [enrollments.seq];

export function enrollmentLoaders(db: Db) {
  const pagesBy = (parent: typeof enrollments.groupId | typeof enrollments.participantId) =>
    connectionLoader<EnrollmentFilter, EnrollmentRow>((parentIds, filter, win) =>
      loadPages<EnrollmentRow>(
        db,
        {
          select: enrollments,
          from: enrollments,
          parent,
          parentIds,
          where: filterSql(filter),
          orderBy: orderBySql(ENROLLMENT_ORDER),
        },
        win,
      ),
    );
  return {
    byId: tableByIdLoader(db, enrollments),
    byGroup: pagesBy(enrollments.groupId),
    byParticipant: pagesBy(enrollments.participantId),
    eventsByEnrollmentId: listLoader<EnrollmentEventRow>(
      (ids) =>
        db
          .select()
          .from(enrollmentEvents)
          .where(inArray(enrollmentEvents.enrollmentId, [...ids]))
          .orderBy(asc(enrollmentEvents.seq)),
      (e) => e.enrollmentId,
    ),
    /** Waitlisted enrolment ids of each group, in order. */
    waitlistByGroupId: listLoader<{ id: string; groupId: string }>(
      (ids) =>
        db
          .select({ id: enrollments.id, groupId: enrollments.groupId })
          .from(enrollments)
          .where(and(inArray(enrollments.groupId, [...ids]), eq(enrollments.status, "WAITLISTED")))
          .orderBy(asc(enrollments.seq)),
      (e) => e.groupId,
    ),
    countsByGroupId: mapLoader<GroupCounts>(
      async (ids) => {
        const rows = await db
          .select({
            groupId: enrollments.groupId,
            active: sql<number>`count(*) filter (where ${enrollments.status} = 'ACTIVE')::int`,
            waitlisted: sql<number>`count(*) filter (where ${enrollments.status} = 'WAITLISTED')::int`,
          })
          .from(enrollments)
          .where(inArray(enrollments.groupId, [...ids]))
          .groupBy(enrollments.groupId);
        return new Map(rows.map((r) => [r.groupId, { active: Number(r.active), waitlisted: Number(r.waitlisted) }]));
      },
      () => ({ active: 0, waitlisted: 0 }),
    ),
  };
}
