import { asc, eq, inArray, sql } from "drizzle-orm";
import { getTableColumns } from "drizzle-orm";
import { byIdLoader, connectionLoader, listLoader, mapLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import { inScope, qualified } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { attendance, attendanceHistory, enrollments, participants, sessions, type AttendanceHistoryRow, type AttendanceRow } from "../db/schema.js";

/** Whether enrolment `e` held a seat when session `s` started. */
const activeAtStart = (e: string, s: string) =>
  sql.raw(`${e}.activated_at is not null and ${e}.activated_at <= "${s}".starts_at and (${e}.ended_at is null or ${e}.ended_at > "${s}".starts_at)`);

export interface Summary {
  expected: number;
  present: number;
  late: number;
  leftEarly: number;
  absent: number;
  excused: number;
  unrecorded: number;
}

const EMPTY: Summary = { expected: 0, present: 0, late: 0, leftEarly: 0, absent: 0, excused: 0, unrecorded: 0 };

export interface ParticipantAttendanceFilter {
  groupScope: "ALL" | string[];
}

export function attendanceLoaders(db: Db) {
  const count = (status: string) =>
    sql<number>`(select count(*) from ${attendance} a where a.session_id = ${qualified(sessions.id)} and a.status = ${status})::int`;
  const byId = byIdLoader<AttendanceRow>((ids) =>
    db
      .select()
      .from(attendance)
      .where(inArray(attendance.id, [...ids])),
  );
  return {
    byId,
    /** Recorded attendance of each session, by participant name; primes byId with what it reads. */
    bySessionId: listLoader<AttendanceRow>(
      async (ids) => {
        const rows = await db
          .select(getTableColumns(attendance))
          .from(attendance)
          .innerJoin(participants, eq(participants.id, attendance.participantId))
          .where(inArray(attendance.sessionId, [...ids]))
          .orderBy(asc(participants.lastName), asc(participants.firstName), asc(participants.id));
        for (const row of rows) byId.prime(row.id, row);
        return rows;
      },
      (a) => a.sessionId,
    ),
    /** The expected roster of each session: enrolments that held a seat at its start, by participant name. */
    expectedBySessionId: listLoader<{ sessionId: string; participantId: string; enrollmentId: string }>(
      (ids) =>
        db
          .select({ sessionId: sessions.id, participantId: sql<string>`e.participant_id`, enrollmentId: sql<string>`e.id` })
          .from(sessions)
          .innerJoin(sql`${enrollments} e`, sql`e.group_id = ${qualified(sessions.groupId)} and ${activeAtStart("e", "sessions")}`)
          .innerJoin(participants, sql`${qualified(participants.id)} = e.participant_id`)
          .where(inArray(sessions.id, [...ids]))
          .orderBy(asc(participants.lastName), asc(participants.firstName), asc(participants.id)),
      (r) => r.sessionId,
    ),
    summaryBySessionId: mapLoader<Summary>(
      async (ids) => {
        const rows = await db
          .select({
            sessionId: sessions.id,
            status: sessions.status,
            expected: sql<number>`(select count(*) from ${enrollments} e where e.group_id = ${qualified(sessions.groupId)} and ${activeAtStart("e", "sessions")})::int`,
            unrecorded: sql<number>`(select count(*) from ${enrollments} e where e.group_id = ${qualified(sessions.groupId)} and ${activeAtStart("e", "sessions")}
              and not exists (select 1 from ${attendance} a where a.session_id = ${qualified(sessions.id)} and a.participant_id = e.participant_id))::int`,
            present: count("PRESENT"),
            late: count("LATE"),
            leftEarly: count("LEFT_EARLY"),
            absent: count("ABSENT"),
            excused: count("EXCUSED"),
          })
          .from(sessions)
          .where(inArray(sessions.id, [...ids]));
        return new Map(
          rows.map((r) => [
            r.sessionId,
            {
              expected: Number(r.expected),
              present: Number(r.present),
              late: Number(r.late),
              leftEarly: Number(r.leftEarly),
              absent: Number(r.absent),
              excused: Number(r.excused),
              unrecorded: r.status === "CANCELLED" ? 0 : Number(r.unrecorded),
            },
          ]),
        );
      },
      () => EMPTY,
    ),
    historyByAttendanceId: listLoader<AttendanceHistoryRow>(
      (ids) =>
        db
          .select()
          .from(attendanceHistory)
          .where(inArray(attendanceHistory.attendanceId, [...ids]))
          .orderBy(asc(attendanceHistory.seq)),
      (h) => h.attendanceId,
    ),
    /** A participant's attendance, latest session first. */
    byParticipant: connectionLoader<ParticipantAttendanceFilter, AttendanceRow>((participantIds, filter, win) => {
      return loadPages<AttendanceRow>(
        db,
        {
          select: getTableColumns(attendance),
          from: attendance,
          joins: (q) => q.innerJoin(sessions, eq(sessions.id, attendance.sessionId)),
          parent: attendance.participantId,
          parentIds: participantIds,
          where: inScope(sessions.groupId, filter.groupScope),
          orderBy: sql`${sessions.startsAt} desc, ${attendance.id}`,
        },
        win,
      );
    }),
  };
}
