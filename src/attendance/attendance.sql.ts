// SQL text of the attendance rules that more than one statement needs (the loaders, the compiled
// queries of src/compiled/, the engagement figures), so that each rule is written once. Aliases are
// the caller's; they are SQL identifiers chosen by the code, never input. Columns are those of
// src/db/schema.ts (a renamed column fails the type check here).
import { aliased, tableAs } from "../common/sql.js";
import { attendance, enrollments, sessions } from "../db/schema.js";

/** Whether enrolment `e` held a seat when session `s` started (the session's expected roster). */
export const seatHeldAtStart = (e: string, s: string): string => {
  const [en, se] = [aliased(enrollments, e), aliased(sessions, s)];
  return `${en.activatedAt} is not null and ${en.activatedAt} <= ${se.startsAt} and (${en.endedAt} is null or ${en.endedAt} > ${se.startsAt})`;
};

/**
 * The attendance summary of session `s` in one pass, as FROM items: `r` (present, late, left_early,
 * absent, excused: the recorded statuses counted with FILTER) and `x` (expected: enrolments holding
 * a seat at its start; unrecorded: those of them with nothing recorded, 0 for a cancelled session).
 */
export const sessionSummarySources = (s: string): string => {
  const [a, e, se] = [aliased(attendance, "a"), aliased(enrollments, "e"), aliased(sessions, s)];
  return `lateral (
     select count(*) filter (where ${a.status} = 'PRESENT')::int as present,
            count(*) filter (where ${a.status} = 'LATE')::int as late,
            count(*) filter (where ${a.status} = 'LEFT_EARLY')::int as left_early,
            count(*) filter (where ${a.status} = 'ABSENT')::int as absent,
            count(*) filter (where ${a.status} = 'EXCUSED')::int as excused,
            array_agg(${a.participantId}) as recorded
     from ${tableAs(attendance, "a")} where ${a.sessionId} = ${se.id}) r
   cross join lateral (
     select count(*)::int as expected,
            case when ${se.status} = 'CANCELLED' then 0
                 else count(*) filter (where r.recorded is null or not ${e.participantId} = any(r.recorded))::int end as unrecorded
     from ${tableAs(enrollments, "e")} where ${e.groupId} = ${se.groupId} and ${seatHeldAtStart("e", s)}) x`;
};
