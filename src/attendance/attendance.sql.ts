// SQL text of the attendance rules that more than one statement needs (the loaders, the compiled
// queries of src/compiled/, the engagement figures), so that each rule is written once. Aliases are
// the caller's; they are SQL identifiers chosen by the code, never input.

/** Whether enrolment `e` held a seat when session `s` started (the session's expected roster). */
export const seatHeldAtStart = (e: string, s: string): string =>
  `${e}.activated_at is not null and ${e}.activated_at <= ${s}.starts_at and (${e}.ended_at is null or ${e}.ended_at > ${s}.starts_at)`;

/**
 * The attendance summary of session `s` in one pass, as FROM items: `r` (present, late, left_early,
 * absent, excused: the recorded statuses counted with FILTER) and `x` (expected: enrolments holding
 * a seat at its start; unrecorded: those of them with nothing recorded, 0 for a cancelled session).
 */
export const sessionSummarySources = (s: string): string =>
  `lateral (
     select count(*) filter (where a.status = 'PRESENT')::int as present,
            count(*) filter (where a.status = 'LATE')::int as late,
            count(*) filter (where a.status = 'LEFT_EARLY')::int as left_early,
            count(*) filter (where a.status = 'ABSENT')::int as absent,
            count(*) filter (where a.status = 'EXCUSED')::int as excused,
            array_agg(a.participant_id) as recorded
     from attendance a where a.session_id = ${s}.id) r
   cross join lateral (
     select count(*)::int as expected,
            case when ${s}.status = 'CANCELLED' then 0
                 else count(*) filter (where r.recorded is null or not e.participant_id = any(r.recorded))::int end as unrecorded
     from enrollments e where e.group_id = ${s}.group_id and ${seatHeldAtStart("e", s)}) x`;
