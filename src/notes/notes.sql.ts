// SQL of the notes rules that several statements need: a session's members (the name rule's
// roster) and the chart-entry columns (GraphQL chart, FHIR DocumentReference).
import { sql } from "drizzle-orm";
import { seatHeldAtStart } from "../attendance/attendance.sql.js";
import { rowsOf } from "../common/sql.js";
import type { DbOrTx } from "../db/client.js";

export interface MemberName {
  id: string;
  firstName: string;
  lastName: string;
  preferredName: string | null;
}

/**
 * A session's members for the name rule: every participant with an enrolment that held a seat at
 * the session's start, or with an attendance record of it (contract README).
 */
export function sessionMemberNames(db: DbOrTx, sessionId: string): Promise<MemberName[]> {
  return rowsOf<MemberName>(
    db,
    sql`select p.id, p.first_name as "firstName", p.last_name as "lastName", p.preferred_name as "preferredName"
      from participants p
      where p.id in (select a.participant_id from attendance a where a.session_id = ${sessionId}::uuid)
         or p.id in (select e.participant_id from enrollments e join sessions s on s.id = ${sessionId}::uuid
                     where e.group_id = s.group_id and ${sql.raw(seatHeldAtStart("e", "s"))})`,
  );
}

/** Attended statuses: the ones that yield a service record and count as present. */
const ATTENDED_STATUSES = ["PRESENT", "LATE", "LEFT_EARLY"] as const;
export const isAttended = (status: string | null | undefined): boolean => (ATTENDED_STATUSES as readonly string[]).includes(status ?? "");

/**
 * The columns of a chart entry, over `n` (session_notes), `m` (its member part), `s` (sessions),
 * `g` (groups), `a` (the member's attendance record, left joined): the member's attendance as
 * signed, else as recorded now.
 */
export const CHART_COLUMNS = sql`n.id as "noteId", n.session_id as "sessionId", m.center_id as "centerId", m.participant_id as "participantId",
  s.starts_at as "sessionStartsAt", g.name as "groupName", n.service_code as "serviceCode", n.status, n.signed_at as "signedAt",
  n.topic, n.interventions, n.group_summary as "groupSummary",
  coalesce(m.attendance_status, a.status) as "attendanceStatus", coalesce(m.minutes_attended, a.minutes_attended) as "minutesAttended",
  m.participation, m.progress, m.plan, m.risk`;

/** The joins of CHART_COLUMNS, from the member parts `m`: signed notes only. */
export const CHART_FROM = sql`session_note_members m
  join session_notes n on n.id = m.note_id and n.status <> 'DRAFT'
  join sessions s on s.id = n.session_id
  join groups g on g.id = s.group_id
  left join attendance a on a.session_id = n.session_id and a.participant_id = m.participant_id`;

/** Timestamps come back as text from raw statements on some drivers: make them Dates. */
export function chartRow<T extends { sessionStartsAt: unknown; signedAt: unknown }>(r: T): T & { sessionStartsAt: Date; signedAt: Date | null } {
  return {
    ...r,
    sessionStartsAt: new Date(r.sessionStartsAt as string),
    signedAt: r.signedAt === null ? null : new Date(r.signedAt as string),
  };
}
