import { asc, eq, inArray, sql } from "drizzle-orm";
import { getTableColumns } from "drizzle-orm";
import { connectionLoader, listLoader, mapLoader, tableByIdLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import { idList, inScope, orderBySql, qualified, rowsOf, type Ordering } from "../common/sql.js";
import { seatHeldAtStart, sessionSummarySources } from "./attendance.sql.js";
import type { Db } from "../db/client.js";
import { attendance, attendanceHistory, enrollments, participants, sessions, type AttendanceHistoryRow, type AttendanceRow } from "../db/schema.js";

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

/** The order of a session's attendance (and its roster): by participant name (rows joined to participants). */
export const ATTENDANCE_BY_NAME: Ordering = [participants.lastName, participants.firstName, participants.id];
/** The order of a participant's attendance: the latest session first (rows joined to sessions). */
export const ATTENDANCE_LATEST_FIRST: Ordering = [{ desc: sessions.startsAt }, attendance.id];

export function attendanceLoaders(db: Db) {
  const byId = tableByIdLoader(db, attendance);
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
          .orderBy(orderBySql(ATTENDANCE_BY_NAME));
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
          .innerJoin(sql`${enrollments} e`, sql`e.group_id = ${qualified(sessions.groupId)} and ${sql.raw(seatHeldAtStart("e", "sessions"))}`)
          .innerJoin(participants, sql`${qualified(participants.id)} = e.participant_id`)
          .where(inArray(sessions.id, [...ids]))
          .orderBy(orderBySql(ATTENDANCE_BY_NAME)),
      (r) => r.sessionId,
    ),
    /**
     * One pass per session: the recorded statuses counted with FILTER, and the expected roster
     * (enrolments holding a seat at its start) against the participants who have a record.
     */
    summaryBySessionId: mapLoader<Summary>(
      async (ids) => {
        const rows = await rowsOf<Record<string, string | number>>(
          db,
          sql`select s.id, r.present, r.late, r.left_early, r.absent, r.excused, x.expected, x.unrecorded
              from ${sessions} s cross join ${sql.raw(sessionSummarySources("s"))}
              where s.id in ${idList(ids)}`,
        );
        return new Map(
          rows.map((r) => [
            String(r.id),
            {
              expected: Number(r.expected),
              present: Number(r.present),
              late: Number(r.late),
              leftEarly: Number(r.left_early),
              absent: Number(r.absent),
              excused: Number(r.excused),
              unrecorded: Number(r.unrecorded),
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
          orderBy: orderBySql(ATTENDANCE_LATEST_FIRST),
        },
        win,
      );
    }),
  };
}
