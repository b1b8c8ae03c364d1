import { and, eq, inArray, lte, ne, sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import { listLoader } from "../common/loaders.js";
import type { Db } from "../db/client.js";
import {
  attendance,
  enrollments,
  groups,
  milestoneCelebrations,
  participants,
  programs,
  sessions,
  type MilestoneCelebrationRow,
  type ParticipantRow,
} from "../db/schema.js";
import { ATTENDED_STATUSES } from "../enrollments/enrollment.service.js";

/** The attended sessions that are milestones: the 1st, 10th, 25th, 50th and 100th. */
export const ATTENDANCE_MARKS = [1, 10, 25, 50, 100] as const;

export interface AttendanceMark {
  participantId: string;
  n: number;
  startsAt: Date;
}

export interface Completion {
  participantId: string;
  programName: string;
  endedAt: Date;
}

export function milestoneLoaders(db: Db) {
  return {
    /** Each participant's 1st, 10th, 25th, 50th and 100th attended session (started, not cancelled). */
    attendanceMarksByParticipantId: listLoader<AttendanceMark>(
      async (ids) => {
        const ranked = db
          .select({
            participantId: attendance.participantId,
            startsAt: sessions.startsAt,
            n: sql<number>`row_number() over (partition by ${attendance.participantId} order by ${sessions.startsAt}, ${sessions.id})`.as("n"),
          })
          .from(attendance)
          .innerJoin(sessions, eq(sessions.id, attendance.sessionId))
          .where(
            and(
              inArray(attendance.participantId, [...ids]),
              inArray(attendance.status, [...ATTENDED_STATUSES]),
              ne(sessions.status, "CANCELLED"),
              lte(sessions.startsAt, clock.now()),
            ),
          )
          .as("ranked");
        const rows = await db
          .select()
          .from(ranked)
          .where(
            sql`${ranked.n} in (${sql.join(
              ATTENDANCE_MARKS.map((n) => sql`${n}`),
              sql`, `,
            )})`,
          );
        return rows.map((r) => ({ participantId: r.participantId, n: Number(r.n), startsAt: new Date(r.startsAt) }));
      },
      (r) => r.participantId,
    ),
    /** Completed enrolments, with the program's name. */
    completionsByParticipantId: listLoader<Completion>(
      async (ids) => {
        const rows = await db
          .select({ participantId: enrollments.participantId, programName: programs.name, endedAt: enrollments.endedAt })
          .from(enrollments)
          .innerJoin(groups, eq(groups.id, enrollments.groupId))
          .innerJoin(programs, eq(programs.id, groups.programId))
          .where(and(inArray(enrollments.participantId, [...ids]), eq(enrollments.status, "COMPLETED")));
        return rows.filter((r) => r.endedAt).map((r) => ({ ...r, endedAt: r.endedAt! }));
      },
      (r) => r.participantId,
    ),
    celebrationsByParticipantId: listLoader<MilestoneCelebrationRow>(
      (ids) =>
        db
          .select()
          .from(milestoneCelebrations)
          .where(inArray(milestoneCelebrations.participantId, [...ids])),
      (r) => r.participantId,
    ),
    /** Participants with an ACTIVE enrolment in each group who have not opted out of celebrations. */
    celebratingMembersByGroupId: listLoader<{ groupId: string; participant: ParticipantRow }>(
      (ids) =>
        db
          .select({ groupId: enrollments.groupId, participant: participants })
          .from(enrollments)
          .innerJoin(participants, eq(participants.id, enrollments.participantId))
          .where(and(inArray(enrollments.groupId, [...ids]), eq(enrollments.status, "ACTIVE"), eq(participants.celebrationOptOut, false))),
      (r) => r.groupId,
    ),
  };
}
