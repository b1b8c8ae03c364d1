// Engagement figures, computed in SQL. Each function builds one statement for a whole batch of
// participants (or groups, programs, centers), so a page of fifty participants' engagement costs
// one statement. The definitions are in docs/engagement.md; in short:
//   expected pair   a session that is not CANCELLED, has started, and either had the participant on
//                   its expected roster (an enrolment holding a seat at its start) or holds a record
//                   for them
//   attended        PRESENT, LATE, LEFT_EARLY; missed: ABSENT; excused: EXCUSED; unrecorded: no record
//   rate            attended / (attended + missed), pooled over pairs; null when both are 0
import { sql, type SQL } from "drizzle-orm";
import { seatHeldAtStart } from "../attendance/attendance.sql.js";

/** A period of local calendar days (both inclusive, in the center's zone); null ends are open. */
export interface DayWindow {
  from: string | null;
  to: string | null;
}

/** "ALL", or only these groups (a facilitator's reach). */
export type GroupScope = "ALL" | string[];

const ATTENDED = sql.raw(`('PRESENT', 'LATE', 'LEFT_EARLY')`);
const HOURS_28_DAYS = 28 * 24;
const HOURS_21_DAYS = 21 * 24;

const uuidList = (ids: readonly string[]) =>
  sql.join(
    ids.map((id) => sql`${id}::uuid`),
    sql`, `,
  );

/** `column in (ids)`, or false for none (an empty IN list is not valid SQL). */
function inIds(column: SQL, ids: readonly string[]): SQL {
  return ids.length ? sql`${column} in (${uuidList(ids)})` : sql`false`;
}

function scopeCondition(groupId: SQL, scope: GroupScope): SQL {
  return scope === "ALL" ? sql`true` : inIds(groupId, scope);
}

/** Whether `startsAt` falls in the window, whose days are read in the zone `tz` (an SQL expression). */
function inWindow(startsAt: SQL, tz: SQL, w: DayWindow): SQL {
  const parts: SQL[] = [];
  if (w.from) parts.push(sql`${startsAt} >= (${w.from}::date)::timestamp at time zone ${tz}`);
  if (w.to) parts.push(sql`${startsAt} < (${w.to}::date + 1)::timestamp at time zone ${tz}`);
  return parts.length ? sql.join(parts, sql` and `) : sql`true`;
}

const at = (now: Date) => sql`${now.toISOString()}::timestamptz`;

// ---------------------------------------------------------------------------------------------
// Per participant
// ---------------------------------------------------------------------------------------------

export interface ParticipantMetricsRow {
  key: string;
  participant_id: string;
  expected: number;
  attended: number;
  missed: number;
  excused: number;
  unrecorded: number;
  consecutive_misses: number;
  current_streak: number;
  last_attended_at: number | null;
  a28: number;
  m28: number;
  ap: number;
  mp: number;
  trend: "IMPROVING" | "STEADY" | "DECLINING" | "UNKNOWN";
  risk_level: "LOW" | "MEDIUM" | "HIGH";
}

export interface MetricsQuery {
  /** CTEs the members and group condition refer to ("k as (...)"), or none. */
  ctes?: SQL;
  /** `select key, participant_id, tz`: whose figures, under which key, read in which zone. */
  members: SQL;
  /** Which groups count for a key (the figures' own groups, the viewer's reach); null: all. */
  groupCondition: ((key: SQL, groupId: SQL) => SQL) | null;
  window: DayWindow;
  now: Date;
}

/**
 * One row per (key, participant) of `members`: counts, rate parts, runs and the last attended
 * session inside the window; trend and risk level as of `now` (whatever the window).
 */
export function participantMetricsSql(q: MetricsQuery): SQL {
  const now = at(q.now);
  const cond = (key: SQL, groupId: SQL) => (q.groupCondition ? q.groupCondition(key, groupId) : sql`true`);
  const since = (hours: number) => sql`${now} - interval '${sql.raw(String(hours))} hours'`;
  return sql`
with ${q.ctes ? sql`${q.ctes}, ` : sql``}m as (${q.members}),
expected_pairs as (
  select m.key, m.participant_id, s2.id as session_id
  from m
  join enrollments e on e.participant_id = m.participant_id
  join sessions s2 on s2.group_id = e.group_id and ${sql.raw(seatHeldAtStart("e", "s2"))}
  union
  select m.key, m.participant_id, a2.session_id
  from m join attendance a2 on a2.participant_id = m.participant_id
),
pairs as (
  select x.key, x.participant_id, s.group_id, s.starts_at, a.status,
    coalesce(a.status in ${ATTENDED}, false) as att,
    coalesce(a.status = 'ABSENT', false) as abs,
    (${inWindow(sql`s.starts_at`, sql`m.tz`, q.window)}) as in_win
  from expected_pairs x
  join m on m.key = x.key and m.participant_id = x.participant_id
  join sessions s on s.id = x.session_id
  left join attendance a on a.session_id = s.id and a.participant_id = x.participant_id
  where s.status <> 'CANCELLED' and s.starts_at <= ${now} and ${cond(sql`x.key`, sql`s.group_id`)}
),
marked as (
  select p.*,
    max(p.starts_at) filter (where p.att) over w as last_att,
    max(p.starts_at) filter (where p.att and p.in_win) over w as last_att_w,
    max(p.starts_at) filter (where p.abs and p.in_win) over w as last_abs_w,
    max(p.starts_at) filter (where p.att) over (partition by p.key, p.participant_id, p.group_id) as last_att_g
  from pairs p
  window w as (partition by p.key, p.participant_id)
),
runs as (
  select key, participant_id, group_id,
    count(*) filter (where abs and starts_at > coalesce(last_att_g, '-infinity'))::int as run
  from marked group by key, participant_id, group_id
),
agg as (
  select key, participant_id,
    count(*) filter (where in_win)::int as expected,
    count(*) filter (where in_win and att)::int as attended,
    count(*) filter (where in_win and abs)::int as missed,
    count(*) filter (where in_win and status = 'EXCUSED')::int as excused,
    count(*) filter (where in_win and status is null)::int as unrecorded,
    count(*) filter (where in_win and abs and starts_at > coalesce(last_att_w, '-infinity'))::int as consecutive_misses,
    count(*) filter (where in_win and att and starts_at > coalesce(last_abs_w, '-infinity'))::int as current_streak,
    (extract(epoch from max(starts_at) filter (where in_win and att)) * 1000)::float8 as last_attended_at,
    count(*) filter (where abs and starts_at > coalesce(last_att, '-infinity'))::int as run_all,
    count(*) filter (where att and starts_at > ${since(HOURS_28_DAYS)})::int as a28,
    count(*) filter (where abs and starts_at > ${since(HOURS_28_DAYS)})::int as m28,
    count(*) filter (where att and starts_at > ${since(2 * HOURS_28_DAYS)} and starts_at <= ${since(HOURS_28_DAYS)})::int as ap,
    count(*) filter (where abs and starts_at > ${since(2 * HOURS_28_DAYS)} and starts_at <= ${since(HOURS_28_DAYS)})::int as mp,
    count(*) filter (where starts_at > ${since(HOURS_21_DAYS)})::int as e21,
    count(*) filter (where att and starts_at > ${since(HOURS_21_DAYS)})::int as a21
  from marked group by key, participant_id
),
scored as (
  select m.key, m.participant_id,
    coalesce(g.expected, 0) as expected, coalesce(g.attended, 0) as attended, coalesce(g.missed, 0) as missed,
    coalesce(g.excused, 0) as excused, coalesce(g.unrecorded, 0) as unrecorded,
    coalesce(g.consecutive_misses, 0) as consecutive_misses, coalesce(g.current_streak, 0) as current_streak,
    g.last_attended_at, coalesce(g.run_all, 0) as run_all,
    coalesce(g.a28, 0) as a28, coalesce(g.m28, 0) as m28, coalesce(g.ap, 0) as ap, coalesce(g.mp, 0) as mp,
    coalesce(g.e21, 0) as e21, coalesce(g.a21, 0) as a21,
    exists (
      select 1 from runs r
        join enrollments e on e.participant_id = r.participant_id and e.group_id = r.group_id and e.status = 'ACTIVE'
        join groups gr on gr.id = r.group_id
        join programs pr on pr.id = gr.program_id
      where r.key = m.key and r.participant_id = m.participant_id and r.run >= pr.absences_before_follow_up
    ) as run_high,
    exists (
      select 1 from enrollments e
      where e.participant_id = m.participant_id and e.status = 'ACTIVE' and ${cond(sql`m.key`, sql`e.group_id`)}
    ) as has_active
  from m left join agg g on g.key = m.key and g.participant_id = m.participant_id
),
trended as (
  select scored.*,
    case
      when a28 + m28 = 0 or ap + mp = 0 then 'UNKNOWN'
      when 10 * (a28 * (ap + mp) - ap * (a28 + m28)) >= (a28 + m28) * (ap + mp) then 'IMPROVING'
      when 10 * (a28 * (ap + mp) - ap * (a28 + m28)) <= -((a28 + m28) * (ap + mp)) then 'DECLINING'
      else 'STEADY'
    end as trend
  from scored
)
select key, participant_id, expected, attended, missed, excused, unrecorded, consecutive_misses, current_streak,
  last_attended_at, a28, m28, ap, mp, trend,
  case
    when has_active and (run_high or (a21 = 0 and e21 >= 2)) then 'HIGH'
    when run_all >= 1 or (a28 + m28 > 0 and 10 * a28 < 6 * (a28 + m28)) or trend = 'DECLINING' then 'MEDIUM'
    else 'LOW'
  end as risk_level
from trended`;
}

/** Members for participants' own figures: each participant is its own key. */
export function participantMembers(participantIds: readonly string[]): SQL {
  return sql`select p.id as key, p.id as participant_id, c.timezone as tz
    from participants p join centers c on c.id = p.center_id where ${inIds(sql`p.id`, participantIds)}`;
}

/** Members for a center-wide risk filter: every participant of the centers. */
export function centerMembers(centerIds: readonly string[]): SQL {
  return sql`select p.id as key, p.id as participant_id, c.timezone as tz
    from participants p join centers c on c.id = p.center_id where ${inIds(sql`p.center_id`, centerIds)}`;
}

export function scopeGroupCondition(scope: GroupScope): MetricsQuery["groupCondition"] {
  return scope === "ALL" ? null : (_key, groupId) => scopeCondition(groupId, scope);
}

// ---------------------------------------------------------------------------------------------
// Rolled up per group, program or center
// ---------------------------------------------------------------------------------------------

export type RollupKind = "group" | "program" | "center";

/** `k(key, group_id, tz)`: the groups each key covers, within the viewer's reach. */
function rollupGroups(kind: RollupKind, ids: readonly string[], scope: GroupScope): SQL {
  const keyColumn = sql.raw(kind === "group" ? "g.id" : kind === "program" ? "g.program_id" : "g.center_id");
  return sql`select ${keyColumn} as key, g.id as group_id, c.timezone as tz
    from groups g join centers c on c.id = g.center_id
    where ${inIds(keyColumn, ids)} and ${scopeCondition(sql`g.id`, scope)}`;
}

/** The sessions held in the window and their expected pairs, for the keys of `k`. */
function heldPairsCtes(window: DayWindow, now: Date): SQL {
  return sql`ses as (
  select k.key, k.tz, s.id, s.group_id, s.starts_at
  from k join sessions s on s.group_id = k.group_id
  where s.status <> 'CANCELLED' and s.starts_at <= ${at(now)} and ${inWindow(sql`s.starts_at`, sql`k.tz`, window)}
),
pairs as (
  select ses.key, ses.tz, ses.starts_at, a.status
  from ses
  join lateral (
    select e.participant_id from enrollments e where e.group_id = ses.group_id and ${sql.raw(seatHeldAtStart("e", "ses"))}
    union
    select a2.participant_id from attendance a2 where a2.session_id = ses.id
  ) x on true
  left join attendance a on a.session_id = ses.id and a.participant_id = x.participant_id
)`;
}

export interface RollupRow {
  key: string;
  held: number;
  expected: number;
  attended: number;
  missed: number;
  excused: number;
  unrecorded: number;
  active: number;
  open_follow_ups: number;
}

/**
 * The end of a rollup statement, the same for the reference (rollupSql) and the kept counts
 * (keptRollupSql): given the CTEs `k` (key, group_id), `keys`, `held` and `pc`, the active members
 * and open follow-ups of each key's groups, and one row per key.
 */
const rollupAnswer = sql`act as (
  select k.key, count(distinct e.participant_id)::int as n
  from k join enrollments e on e.group_id = k.group_id and e.status = 'ACTIVE' group by k.key
),
fu as (
  select k.key, count(*)::int as n from k join follow_ups f on f.group_id = k.group_id and f.status = 'OPEN' group by k.key
)
select keys.key, coalesce(held.n, 0) as held, coalesce(pc.expected, 0) as expected, coalesce(pc.attended, 0) as attended,
  coalesce(pc.missed, 0) as missed, coalesce(pc.excused, 0) as excused, coalesce(pc.unrecorded, 0) as unrecorded,
  coalesce(act.n, 0) as active, coalesce(fu.n, 0) as open_follow_ups
from keys
  left join held on held.key = keys.key
  left join pc on pc.key = keys.key
  left join act on act.key = keys.key
  left join fu on fu.key = keys.key`;

/** Counts per key: sessions held, pooled pairs, participants ACTIVE now, OPEN follow-ups now. */
export function rollupSql(kind: RollupKind, ids: readonly string[], scope: GroupScope, window: DayWindow, now: Date): SQL {
  return sql`
with k as (${rollupGroups(kind, ids, scope)}),
${heldPairsCtes(window, now)},
keys as (select distinct key from k),
held as (select key, count(*)::int as n from ses group by key),
pc as (
  select key,
    count(*)::int as expected,
    count(*) filter (where status in ${ATTENDED})::int as attended,
    count(*) filter (where status = 'ABSENT')::int as missed,
    count(*) filter (where status = 'EXCUSED')::int as excused,
    count(*) filter (where status is null)::int as unrecorded
  from pairs group by key
),
${rollupAnswer}`;
}

/** Participants at HIGH risk per key: those ACTIVE in the key's groups, judged on those groups. */
export function atRiskSql(kind: RollupKind, ids: readonly string[], scope: GroupScope, now: Date): SQL {
  const metrics = participantMetricsSql({
    ctes: sql`k as (${rollupGroups(kind, ids, scope)})`,
    members: sql`select distinct k.key, e.participant_id, k.tz from k join enrollments e on e.group_id = k.group_id and e.status = 'ACTIVE'`,
    // Which groups count for a key, without a lookup in k per row: a participant's groups are all in their center.
    groupCondition: (key, groupId) =>
      kind === "group"
        ? sql`${groupId} = ${key}`
        : kind === "program"
          ? sql`(select g2.program_id from groups g2 where g2.id = ${groupId}) = ${key} and ${scopeCondition(groupId, scope)}`
          : scopeCondition(groupId, scope),
    window: { from: null, to: null },
    now,
  });
  return sql`select key, count(*) filter (where risk_level = 'HIGH')::int as n from (${metrics}) r group by key`;
}

export type TrendInterval = "WEEK" | "MONTH";

export interface TrendRow {
  key: string;
  period: string;
  expected: number;
  attended: number;
  missed: number;
  excused: number;
}

/** Counts per key and period (weeks from Monday, or months, in the center's zone). */
export function trendSql(kind: RollupKind, ids: readonly string[], scope: GroupScope, window: DayWindow, interval: TrendInterval, now: Date): SQL {
  const unit = sql.raw(interval === "WEEK" ? "'week'" : "'month'");
  return sql`
with k as (${rollupGroups(kind, ids, scope)}),
${heldPairsCtes(window, now)}
select key, date_trunc(${unit}, starts_at at time zone tz)::date::text as period,
  count(*)::int as expected,
  count(*) filter (where status in ${ATTENDED})::int as attended,
  count(*) filter (where status = 'ABSENT')::int as missed,
  count(*) filter (where status = 'EXCUSED')::int as excused
from pairs group by key, period`;
}

// ---------------------------------------------------------------------------------------------
// Kept figures (engagement_states): each participant's all-time, all-groups figures, computed by
// the statement above and kept until a write marks them dirty or time reaches their next recheck.
// ---------------------------------------------------------------------------------------------

/** The 21-, 28- and 56-day spans of the definitions, in hours: a session leaving one changes figures. */
const SPANS_HOURS = [HOURS_21_DAYS, HOURS_28_DAYS, 2 * HOURS_28_DAYS];

/** Whether kept row `k` holds the figures as of `now`: computed at or before it, and no recheck due. */
export function keptFresh(k: string, now: Date): SQL {
  const a = sql.raw(k);
  return sql`(${a}.computed_through <= ${at(now)} and ${at(now)} < ${a}.next_recheck_at)`;
}

const KEPT_COLUMNS = sql.raw(`k.expected, k.attended, k.missed, k.excused, k.unrecorded, k.consecutive_misses, k.current_streak,
  k.last_attended_at, k.a28, k.m28, k.ap, k.mp, k.trend, k.risk_level`);
const FIGURE_COLUMNS = sql.raw(`r.expected, r.attended, r.missed, r.excused, r.unrecorded, r.consecutive_misses, r.current_streak,
  r.last_attended_at, r.a28, r.m28, r.ap, r.mp, r.trend, r.risk_level`);

/** `select key, participant_id, tz` of the participants matching `where` (alias p) whose kept row is not fresh at `now`. */
function staleMembers(key: SQL, where: SQL, now: Date): SQL {
  return sql`select ${key} as key, p.id as participant_id, c.timezone as tz
    from participants p join centers c on c.id = p.center_id
    where ${where} and not exists (select 1 from engagement_states k where k.participant_id = p.id and ${keptFresh("k", now)})`;
}

/** The reference figures of the stale members (all time, all groups). */
function staleFigures(key: SQL, where: SQL, now: Date): SQL {
  return participantMetricsSql({ members: staleMembers(key, where, now), groupCondition: null, window: { from: null, to: null }, now });
}

/**
 * Participants' all-time figures over all their groups (what participantMetricsSql answers with no
 * window and no group condition): the kept rows that are fresh, and the reference statement for
 * the others (dirty, due for a recheck, or never computed), in one statement.
 */
export function keptParticipantMetricsSql(participantIds: readonly string[], now: Date): SQL {
  const ids = inIds(sql`k.participant_id`, participantIds);
  return sql`select k.participant_id as key, k.participant_id, ${KEPT_COLUMNS}
  from engagement_states k where ${ids} and ${keptFresh("k", now)}
  union all
  select r.key, r.participant_id, ${FIGURE_COLUMNS} from (${staleFigures(sql`p.id`, inIds(sql`p.id`, participantIds), now)}) r`;
}

/** The ids of the centers' participants at a risk level (all groups), read from the kept rows through their index. */
export function keptRiskSql(level: string, centerIds: readonly string[], now: Date): SQL {
  return sql`select k.participant_id from engagement_states k
    where ${inIds(sql`k.center_id`, centerIds)} and k.risk_level = ${level} and ${keptFresh("k", now)}
  union all
  select r.participant_id from (${staleFigures(sql`p.id`, inIds(sql`p.center_id`, centerIds), now)}) r where r.risk_level = ${level}`;
}

/**
 * Participants at HIGH risk per center, judged on all its groups (atRiskSql for centers seen
 * whole): HIGH needs an ACTIVE enrolment, and a participant's groups are all in their center.
 */
export function keptCenterAtRiskSql(centerIds: readonly string[], now: Date): SQL {
  return sql`select key, sum(n)::int as n from (
    select k.center_id as key, count(*)::int as n from engagement_states k
    where ${inIds(sql`k.center_id`, centerIds)} and k.risk_level = 'HIGH' and ${keptFresh("k", now)} group by k.center_id
    union all
    select r.key, count(*)::int as n from (${staleFigures(sql`p.center_id`, inIds(sql`p.center_id`, centerIds), now)}) r
    where r.risk_level = 'HIGH' group by r.key
  ) x group by key`;
}

/**
 * The first instant after `now` at which time alone can change each participant's figures: the
 * start of a session that will count for them (of a group where they hold a seat, or with a record
 * for them), or a counted session leaving the 21-, 28- or 56-day window. Sessions are taken
 * generously (any activated enrolment): a recheck too many costs a recomputation, never a figure.
 */
function nextRecheckSql(participantIds: readonly string[], now: Date): SQL {
  const n = at(now);
  const longest = sql.raw(`interval '${2 * HOURS_28_DAYS} hours'`);
  const spans = sql.raw(SPANS_HOURS.map((h) => `(interval '${h} hours')`).join(", "));
  const theirs = (cond: SQL) => sql`
    select e.participant_id, s.starts_at from enrollments e join sessions s on s.group_id = e.group_id
    where ${inIds(sql`e.participant_id`, participantIds)} and e.activated_at is not null and s.status <> 'CANCELLED' and ${cond}
    union all
    select a.participant_id, s.starts_at from attendance a join sessions s on s.id = a.session_id
    where ${inIds(sql`a.participant_id`, participantIds)} and s.status <> 'CANCELLED' and ${cond}`;
  return sql`select x.participant_id, min(x.t) as at from (
    select y.participant_id, min(y.starts_at) as t from (${theirs(sql`s.starts_at > ${n}`)}) y group by y.participant_id
    union all
    select y.participant_id, min(y.starts_at + h.span) as t
    from (${theirs(sql`s.starts_at <= ${n} and s.starts_at > ${n} - ${longest}`)}) y
      cross join (values ${spans}) h(span)
    where y.starts_at + h.span > ${n}
    group by y.participant_id
  ) x group by x.participant_id`;
}

/**
 * Recomputes the kept rows of these participants as of `now` from their own history (the
 * reference statement restricted to them), with their next recheck; idempotent. The caller holds
 * their rows locked (claimDueSql), so a write marking one of them waits and marks it again after.
 */
export function recomputeKeptSql(participantIds: readonly string[], now: Date): SQL {
  const metrics = participantMetricsSql({ members: participantMembers(participantIds), groupCondition: null, window: { from: null, to: null }, now });
  return sql`insert into engagement_states (participant_id, center_id, expected, attended, missed, excused, unrecorded,
    consecutive_misses, current_streak, last_attended_at, a28, m28, ap, mp, trend, risk_level, computed_through, next_recheck_at)
  select r.participant_id, p.center_id, ${FIGURE_COLUMNS}, ${at(now)}, coalesce(nx.at, 'infinity')
  from (${metrics}) r
    join participants p on p.id = r.participant_id
    left join (${nextRecheckSql(participantIds, now)}) nx on nx.participant_id = r.participant_id
  on conflict (participant_id) do update set
    center_id = excluded.center_id, expected = excluded.expected, attended = excluded.attended, missed = excluded.missed,
    excused = excluded.excused, unrecorded = excluded.unrecorded, consecutive_misses = excluded.consecutive_misses,
    current_streak = excluded.current_streak, last_attended_at = excluded.last_attended_at, a28 = excluded.a28,
    m28 = excluded.m28, ap = excluded.ap, mp = excluded.mp, trend = excluded.trend, risk_level = excluded.risk_level,
    computed_through = excluded.computed_through, next_recheck_at = excluded.next_recheck_at`;
}

/** Gives every participant without a kept row a dirty one (the first pass over existing data, new participants). */
export const adoptMissingSql = (): SQL => sql`insert into engagement_states (participant_id, center_id, next_recheck_at)
  select p.id, p.center_id, '-infinity' from participants p
  where not exists (select 1 from engagement_states k where k.participant_id = p.id)
  on conflict (participant_id) do nothing`;

/**
 * Locks up to `limit` rows due at `now` (dirty, recheck reached, or computed for a later instant
 * than now), skipping rows another worker or a writer holds.
 */
export function claimDueSql(now: Date, limit: number): SQL {
  return sql`select participant_id from engagement_states
    where next_recheck_at <= ${at(now)} or computed_through > ${at(now)}
    order by next_recheck_at limit ${limit} for update skip locked`;
}

/**
 * The dirty mark, in a writer's transaction: the participants chosen by `participantsSql` (a
 * statement answering participant ids) get next_recheck_at = -infinity, their row created when
 * missing. Rows are taken in id order so two writers marking overlapping sets do not deadlock.
 */
export function markDirtySql(participantsSql: SQL): SQL {
  return sql`insert into engagement_states (participant_id, center_id, next_recheck_at)
  select p.id, p.center_id, '-infinity' from participants p where p.id in (${participantsSql}) order by p.id
  on conflict (participant_id) do update set next_recheck_at = '-infinity'`;
}

/** Participants of these ids. */
export const participantsOf = (ids: readonly string[]): SQL => sql`select p2.id from participants p2 where ${inIds(sql`p2.id`, ids)}`;

/** Participants a change of these sessions can concern: enrolled in their groups, or with a record at them. */
export const participantsOfSessions = (sessionIds: readonly string[]): SQL =>
  sql`select e.participant_id from enrollments e where e.group_id in (select s.group_id from sessions s where ${inIds(sql`s.id`, sessionIds)})
  union select a.participant_id from attendance a where ${inIds(sql`a.session_id`, sessionIds)}`;

/** Participants enrolled in the groups of these programs. */
export const participantsOfPrograms = (programIds: readonly string[]): SQL =>
  sql`select e.participant_id from enrollments e join groups g on g.id = e.group_id where ${inIds(sql`g.program_id`, programIds)}`;

// ---------------------------------------------------------------------------------------------
// Kept session counts (engagement_sessions): each session's expected pairs by status, for the
// rollups and trends. Which sessions count (started by now, not cancelled, in the period, in the
// keys' groups) is read from `sessions` as they are; only the counts of the pairs are kept.
// ---------------------------------------------------------------------------------------------

/**
 * The counts of each session of `ses` (key, tz, id, starts_at): the kept row when clean, else the
 * pairs counted as heldPairsCtes does (dirty, or no row yet), as CTE `counts(key, tz, starts_at, expected,
 * attended, missed, excused, unrecorded)`.
 */
function keptCountsCte(): SQL {
  return sql`joined as (
  select ses.key, ses.tz, ses.id, ses.group_id, ses.starts_at, x.expected, x.attended, x.missed, x.excused, x.unrecorded,
    (x.session_id is null or x.dirty) as stale
  from ses left join engagement_sessions x on x.session_id = ses.id
),
stale_pairs as (
  select j.key, j.tz, j.id, j.starts_at, a.status
  from joined j
  join lateral (
    select e.participant_id from enrollments e where e.group_id = j.group_id and ${sql.raw(seatHeldAtStart("e", "j"))}
    union
    select a2.participant_id from attendance a2 where a2.session_id = j.id
  ) x on true
  left join attendance a on a.session_id = j.id and a.participant_id = x.participant_id
  where j.stale
),
counts as (
  select key, tz, starts_at, expected, attended, missed, excused, unrecorded from joined where not stale
  union all
  select key, tz, starts_at, count(*)::int, count(*) filter (where status in ${ATTENDED})::int,
    count(*) filter (where status = 'ABSENT')::int, count(*) filter (where status = 'EXCUSED')::int,
    count(*) filter (where status is null)::int
  from stale_pairs group by key, tz, id, starts_at
)`;
}

/**
 * A bound on `starts_at` that holds whatever the zone (two days' margin), so the sessions of the
 * period are found through the (group, start) index before the exact test in the zone.
 */
function coarseWindow(startsAt: SQL, w: DayWindow): SQL {
  const parts: SQL[] = [];
  if (w.from) parts.push(sql`${startsAt} >= ((${w.from}::date - 2)::timestamp at time zone 'UTC')`);
  if (w.to) parts.push(sql`${startsAt} < ((${w.to}::date + 3)::timestamp at time zone 'UTC')`);
  return parts.length ? sql.join(parts, sql` and `) : sql`true`;
}

function keptSessionsCtes(window: DayWindow, now: Date): SQL {
  return sql`ses as (
  select k.key, k.tz, s.id, s.group_id, s.starts_at
  from k join sessions s on s.group_id = k.group_id and ${coarseWindow(sql`s.starts_at`, window)}
  where s.status <> 'CANCELLED' and s.starts_at <= ${at(now)} and ${inWindow(sql`s.starts_at`, sql`k.tz`, window)}
),
${keptCountsCte()}`;
}

/** rollupSql's answer, with the pairs' counts taken from the kept session counts. */
export function keptRollupSql(kind: RollupKind, ids: readonly string[], scope: GroupScope, window: DayWindow, now: Date): SQL {
  return sql`
with k as (${rollupGroups(kind, ids, scope)}),
${keptSessionsCtes(window, now)},
keys as (select distinct key from k),
held as (select key, count(*)::int as n from ses group by key),
pc as (
  select key, sum(expected)::int as expected, sum(attended)::int as attended, sum(missed)::int as missed,
    sum(excused)::int as excused, sum(unrecorded)::int as unrecorded
  from counts group by key
),
${rollupAnswer}`;
}

/** trendSql's answer, with the pairs' counts taken from the kept session counts. */
export function keptTrendSql(kind: RollupKind, ids: readonly string[], scope: GroupScope, window: DayWindow, interval: TrendInterval, now: Date): SQL {
  const unit = sql.raw(interval === "WEEK" ? "'week'" : "'month'");
  return sql`
with k as (${rollupGroups(kind, ids, scope)}),
${keptSessionsCtes(window, now)}
select key, date_trunc(${unit}, starts_at at time zone tz)::date::text as period,
  sum(expected)::int as expected, sum(attended)::int as attended, sum(missed)::int as missed, sum(excused)::int as excused
from counts group by key, period`;
}

/** Recomputes the kept counts of these sessions (the caller holds their rows locked); idempotent. */
export function recomputeSessionsSql(sessionIds: readonly string[]): SQL {
  return sql`insert into engagement_sessions (session_id, center_id, expected, attended, missed, excused, unrecorded, dirty)
  select s.id, s.center_id, count(x.participant_id)::int,
    count(*) filter (where a.status in ${ATTENDED})::int, count(*) filter (where a.status = 'ABSENT')::int,
    count(*) filter (where a.status = 'EXCUSED')::int, count(x.participant_id) filter (where a.status is null)::int, false
  from sessions s
  left join lateral (
    select e.participant_id from enrollments e where e.group_id = s.group_id and ${sql.raw(seatHeldAtStart("e", "s"))}
    union
    select a2.participant_id from attendance a2 where a2.session_id = s.id
  ) x on true
  left join attendance a on a.session_id = s.id and a.participant_id = x.participant_id
  where ${inIds(sql`s.id`, sessionIds)}
  group by s.id, s.center_id
  on conflict (session_id) do update set center_id = excluded.center_id, expected = excluded.expected, attended = excluded.attended,
    missed = excluded.missed, excused = excluded.excused, unrecorded = excluded.unrecorded, dirty = false`;
}

/** Gives every session without kept counts a dirty row. */
export const adoptMissingSessionsSql = (): SQL => sql`insert into engagement_sessions (session_id, center_id)
  select s.id, s.center_id from sessions s where not exists (select 1 from engagement_sessions x where x.session_id = s.id)
  on conflict (session_id) do nothing`;

/** Locks up to `limit` dirty session rows, skipping those another worker or a writer holds. */
export function claimDirtySessionsSql(limit: number): SQL {
  return sql`select session_id from engagement_sessions where dirty order by session_id limit ${limit} for update skip locked`;
}

/** The dirty mark on sessions' counts (rows in id order; created when missing), in a writer's transaction. */
export function markSessionsDirtySql(sessionsSql: SQL): SQL {
  return sql`insert into engagement_sessions (session_id, center_id, dirty)
  select s.id, s.center_id, true from sessions s where s.id in (${sessionsSql}) order by s.id
  on conflict (session_id) do update set dirty = true`;
}

/** Sessions of these ids. */
export const sessionsOf = (ids: readonly string[]): SQL => sql`select s2.id from sessions s2 where ${inIds(sql`s2.id`, ids)}`;

/** Sessions of a group starting at or after an instant: those whose expected roster an enrolment change made then can change. */
export const sessionsOfGroupFrom = (groupId: string, from: Date): SQL =>
  sql`select s2.id from sessions s2 where s2.group_id = ${groupId} and s2.starts_at >= ${from.toISOString()}::timestamptz`;
