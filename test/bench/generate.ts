// Bench dataset, generated with set-based SQL (generate_series, insert … select) into a freshly
// migrated database. At scale 1: 5 centers, 200 groups, 3,000 participants, 20,800 sessions and
// about 248,000 attendance records (with their history). Ids are md5-derived, so every table can
// reference another by index without reading it back; the same scale always gives the same data
// relative to the day it is generated ("now" is the database's now()).
//
// Per group (capacity 12, two sessions a week for 52 weeks, the last ones still to come):
//   15 home participants: slots 0-7 active from the start, 8-11 joined at weeks 4, 8, 12, 16,
//   12 COMPLETED at week 30, 13 WITHDRAWN at week 15, 14 WAITLISTED; slots 0-3 also finished an
//   earlier 8-week enrolment in the next group of their center. Completed sessions have a record
//   for ~99% of the members who held a seat at their start; ~3% of past sessions were cancelled.
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/common/sql.js";
import type { Db } from "../../src/db/client.js";
import { drainEngagement } from "../../src/engagement/engagement.worker.js";
import type { Targets } from "./operations.js";

const CENTERS = 5;
const SESSIONS_PER_GROUP = 104;
const PARTICIPANTS_PER_GROUP = 15;

interface DatasetShape {
  scale: number;
  centers: number;
  groups: number;
  participants: number;
  sessionsPerGroup: number;
}

function shapeOf(scale: number): DatasetShape {
  if (!(scale > 0)) throw new Error("scale must be > 0");
  // Groups are dealt round-robin to the centers, so keep them a multiple of the center count.
  const groups = Math.max(CENTERS, Math.round((200 * scale) / CENTERS) * CENTERS);
  return { scale, centers: CENTERS, groups, participants: groups * PARTICIPANTS_PER_GROUP, sessionsPerGroup: SESSIONS_PER_GROUP };
}

export interface GenerateResult {
  shape: DatasetShape;
  rows: Record<string, number>;
  /** Seconds per table. */
  tableSeconds: Record<string, number>;
  totalRows: number;
  seconds: number;
  rowsPerSecond: number;
}

type Rows = Array<Record<string, unknown>>;

/** Runs one statement through drizzle (postgres.js answers an array, PGlite `{ rows }`). */
export async function run<Row = Rows[number]>(db: Db, text: string): Promise<Row[]> {
  return rowsOf<Row>(db, sql.raw(text));
}

/** The staff member the benchmark acts as: a clinician at every center. */
const BENCH_VIEWER_EMAIL = "clinician.all@bench.test";
export const BENCH_VIEWER_SUBJECT = "bench|clinician-all";

const uid = (expr: string) => `md5(${expr})::uuid`;
// Index expressions shared by the statements below. Groups: g = 1..G, center c = (g-1) % 5 + 1,
// j = (g-1) / 5 its index within the center. Participants: p = 1..P, home group (p-1) % G + 1, slot r.
const centerOfGroup = (g: string) => `((${g} - 1) % ${CENTERS} + 1)`;
const localOfGroup = (g: string) => `((${g} - 1) / ${CENTERS})`;

function statements(s: DatasetShape): Array<[table: string, text: string]> {
  const G = s.groups;
  const P = s.participants;
  const perCenter = G / CENTERS;
  const facilitatorsPerCenter = Math.max(2, Math.ceil(perCenter / 2));
  const sessionCount = s.sessionsPerGroup;
  // Monday of the week 50 weeks ago: week 50 is the current one, week 51 is still to come.
  const base = `(date_trunc('week', now()) - interval '50 weeks')`;
  const groupStart = (g: string) => `(${base} + ((${localOfGroup(g)} % 3) * interval '1 day') + interval '23 hours')`;
  const week = (n: string) => `(${n} * interval '1 week')`;
  // The group whose earlier enrolment a slot 0-3 participant finished: the next group of the center
  // (none when a center has a single group).
  const nextGroup = (g: string) => `(((${g} - 1 + ${CENTERS}) % ${G}) + 1)`;
  return [
    [
      "centers",
      `insert into centers (id, name, timezone, address, phone, status)
       select ${uid(`'center:' || c`)},
              (array['Harbor','Lakeside','Summit','Riverbend','Mesa'])[c] || ' Recovery Center',
              (array['America/New_York','America/Chicago','America/Denver','America/Los_Angeles','America/Phoenix'])[c],
              c || '00 Main Street', '+1-555-010-' || lpad(c::text, 4, '0'), 'ACTIVE'
       from generate_series(1, ${CENTERS}) c`,
    ],
    [
      "staff",
      `insert into staff (id, email, name, auth_subject, is_org_admin, status)
       select ${uid(`'staff:' || kind || ':' || c || ':' || k`)},
              kind || k || '.c' || c || '@bench.test',
              (array['Alex','Sam','Jordan','Taylor','Morgan','Casey','Riley','Jamie'])[1 + (c * 7 + k) % 8] || ' '
                || (array['Reyes','Okafor','Lindqvist','Tanaka','Moreau','Hughes','Patel','Novak'])[1 + (c * 3 + k * 5) % 8],
              'bench|' || kind || ':' || c || ':' || k, false, 'ACTIVE'
       from generate_series(1, ${CENTERS}) c,
            (values ('admin', 1), ('clinician', 3), ('viewer', 1), ('facilitator', ${facilitatorsPerCenter})) kinds(kind, n),
            generate_series(1, n) k
       union all
       select ${uid(`'staff:clinician-all'`)}, '${BENCH_VIEWER_EMAIL}', 'Dana Whitfield', '${BENCH_VIEWER_SUBJECT}', false, 'ACTIVE'
       union all
       select ${uid(`'staff:org-admin'`)}, 'org.admin@bench.test', 'Chris Admin', 'bench|org-admin', true, 'ACTIVE'`,
    ],
    [
      "staff_memberships",
      `insert into staff_memberships (center_id, staff_id, role)
       select ${uid(`'center:' || c`)}, ${uid(`'staff:' || kind || ':' || c || ':' || k`)}, upper(kind)
       from generate_series(1, ${CENTERS}) c,
            (values ('admin', 1), ('clinician', 3), ('viewer', 1), ('facilitator', ${facilitatorsPerCenter})) kinds(kind, n),
            generate_series(1, n) k
       union all
       select ${uid(`'center:' || c`)}, ${uid(`'staff:clinician-all'`)}, 'CLINICIAN' from generate_series(1, ${CENTERS}) c`,
    ],
    [
      "programs",
      `insert into programs (id, center_id, name, description, curriculum, absences_before_follow_up, minimum_attended_sessions, billing_code, status)
       select ${uid(`'program:' || c || ':' || k`)}, ${uid(`'center:' || c`)},
              (array['Relapse Prevention','Family Recovery','Early Recovery Skills','Alumni Aftercare'])[k],
              'Post-treatment support program ' || k,
              '["Triggers and cravings","Coping skills","Building support","Planning ahead"]'::jsonb,
              2, 8, 'H' || (2000 + k), 'ACTIVE'
       from generate_series(1, ${CENTERS}) c, generate_series(1, 4) k`,
    ],
    [
      "groups",
      `insert into groups (id, center_id, program_id, name, capacity, starts_on, ends_on, schedule_days, schedule_start_time,
                           schedule_duration_minutes, location, status, enrollment_mode)
       select ${uid(`'group:' || g`)}, ${uid(`'center:' || ${centerOfGroup("g")}`)},
              ${uid(`'program:' || ${centerOfGroup("g")} || ':' || (${localOfGroup("g")} % 4 + 1)`)},
              (array['Monday','Tuesday','Wednesday'])[${localOfGroup("g")} % 3 + 1] || ' Evening Group ' || (${localOfGroup("g")} + 1),
              12, (${groupStart("g")})::date, null,
              (array['["MONDAY","THURSDAY"]','["TUESDAY","FRIDAY"]','["WEDNESDAY","SATURDAY"]'])[${localOfGroup("g")} % 3 + 1]::jsonb,
              '18:00', 90, 'Room ' || (${localOfGroup("g")} % 6 + 1),
              case when g % 20 = 0 then 'PAUSED' else 'ACTIVE' end, 'ROLLING'
       from generate_series(1, ${G}) g`,
    ],
    [
      "group_facilitators",
      `insert into group_facilitators (center_id, group_id, staff_id, role, position)
       select ${uid(`'center:' || ${centerOfGroup("g")}`)}, ${uid(`'group:' || g`)},
              ${uid(`'staff:facilitator:' || ${centerOfGroup("g")} || ':' || ((${localOfGroup("g")} + f) % ${facilitatorsPerCenter} + 1)`)},
              case when f = 0 then 'LEAD' else 'CO' end, f
       from generate_series(1, ${G}) g, generate_series(0, 1) f`,
    ],
    [
      "participants",
      `insert into participants (id, center_id, first_name, last_name, preferred_name, external_id, date_of_birth,
                                 recovery_start_date, phone, email, status)
       select ${uid(`'participant:' || p`)}, ${uid(`'center:' || ((p - 1) % ${CENTERS} + 1)`)},
              (array['Avery','Blake','Cameron','Drew','Emerson','Finley','Gray','Harper','Indigo','Jesse','Kai','Logan',
                     'Marley','Noel','Oakley','Parker','Quinn','Reese','Sage','Tatum'])[1 + (p * 7) % 20],
              (array['Adams','Brooks','Carter','Diaz','Evans','Foster','Garcia','Hayes','Ito','Jensen','Khan','Lopez',
                     'Murphy','Nguyen','Olsen','Price','Quincy','Rossi','Silva','Turner','Ueda','Vance','Walsh','Young'])[1 + (p * 11) % 24]
                || case when p > 480 then '-' || (p / 480) else '' end,
              case when p % 5 = 0 then 'P' || p end, 'MRN-' || lpad(p::text, 7, '0'),
              (date '1960-01-01' + (p * 37 % 14000)), (${base})::date - (p % 300),
              '+1-555-' || lpad((p % 10000)::text, 4, '0'), 'participant' || p || '@example.org', 'ACTIVE'
       from generate_series(1, ${P}) p`,
    ],
    [
      "enrollments",
      `with home as (
         select p, (p - 1) % ${G} + 1 as g, (p - 1) / ${G} as r from generate_series(1, ${P}) p
       ), rows as (
         select p, g, r, 'home' as kind,
                case when r <= 11 then 'ACTIVE' when r = 12 then 'COMPLETED' when r = 13 then 'WITHDRAWN' else 'WAITLISTED' end as status,
                case when r between 8 and 11 then ${week("((r - 7) * 4)")} else interval '0' end as joined,
                case when r = 12 then ${week("30")} when r = 13 then ${week("15")} end as ended
         from home
         union all
         select p, ${nextGroup("g")}, r, 'earlier', 'COMPLETED', interval '0', ${week("8")} from home where r <= 3 and ${G > CENTERS}
       )
       insert into enrollments (id, center_id, group_id, participant_id, status, role, enrolled_at, activated_at, ended_at, end_reason)
       select ${uid(`'enrollment:' || p || ':' || kind`)}, ${uid(`'center:' || ${centerOfGroup("g")}`)}, ${uid(`'group:' || g`)},
              ${uid(`'participant:' || p`)}, status, case when r = 0 and kind = 'home' then 'PEER_MENTOR' else 'MEMBER' end,
              ${groupStart("g")} + joined - interval '2 days',
              case when status <> 'WAITLISTED' then ${groupStart("g")} + joined - interval '1 day' end,
              ${groupStart("g")} + ended,
              case when status = 'WITHDRAWN' then 'Moved away' end
       from rows order by kind, r, p`,
    ],
    [
      "enrollment_events",
      `insert into enrollment_events (center_id, enrollment_id, from_status, to_status, reason, occurred_at)
       select center_id, id, null, case when activated_at is null then 'WAITLISTED' else 'ACTIVE' end, null, enrolled_at
       from enrollments
       union all
       select center_id, id, 'ACTIVE', status, end_reason, ended_at from enrollments where ended_at is not null
       order by 6`,
    ],
    [
      "sessions",
      `with slots as (
         select g, k, ${groupStart("g")} + ${week("(k / 2)")} + (k % 2) * interval '3 days' as starts_at
         from generate_series(1, ${G}) g, generate_series(0, ${sessionCount - 1}) k
       )
       insert into sessions (id, center_id, group_id, starts_at, ends_at, scheduled_for, topic, status, cancel_reason, cancelled_at)
       select ${uid(`'session:' || g || ':' || k`)}, ${uid(`'center:' || ${centerOfGroup("g")}`)}, ${uid(`'group:' || g`)},
              starts_at, starts_at + interval '90 minutes', starts_at,
              (array['Triggers and cravings','Coping skills','Building support','Planning ahead'])[k % 4 + 1],
              case when starts_at >= now() then 'SCHEDULED' when (g * 31 + k * 17) % 33 = 0 then 'CANCELLED' else 'COMPLETED' end,
              case when starts_at < now() and (g * 31 + k * 17) % 33 = 0 then 'Facilitator unavailable' end,
              case when starts_at < now() and (g * 31 + k * 17) % 33 = 0 then starts_at - interval '1 day' end
       from slots`,
    ],
    [
      "attendance",
      `with seats as (
         select s.center_id, s.id as session_id, e.participant_id, s.starts_at, s.ends_at,
                abs(hashtext(s.id::text || e.participant_id::text)) % 1000 as h,
                (select f.staff_id from group_facilitators f where f.group_id = s.group_id and f.role = 'LEAD') as recorder
         from sessions s
         join enrollments e on e.group_id = s.group_id and e.activated_at <= s.starts_at and (e.ended_at is null or e.ended_at > s.starts_at)
         where s.status = 'COMPLETED'
       ), marked as (
         select *, case when h < 680 then 'PRESENT' when h < 760 then 'LATE' when h < 800 then 'LEFT_EARLY'
                        when h < 930 then 'ABSENT' else 'EXCUSED' end as status
         from seats where h % 100 <> 99
       )
       insert into attendance (center_id, session_id, participant_id, status, minutes_attended, note, recorded_by_staff_id, recorded_at, version, created_at)
       select center_id, session_id, participant_id, status,
              case status when 'PRESENT' then 90 when 'LATE' then 70 when 'LEFT_EARLY' then 45 else 0 end,
              case when h % 7 = 0 then 'Shared progress on ' || (array['sleep','work','family','cravings'])[h % 4 + 1] end,
              recorder, ends_at + interval '10 minutes', 1, ends_at + interval '10 minutes'
       from marked order by ends_at, participant_id`,
    ],
    [
      "attendance_history",
      `insert into attendance_history (center_id, attendance_id, version, status, minutes_attended, note, changed_by_staff_id, changed_at)
       select center_id, id, 1, status, minutes_attended, note, recorded_by_staff_id, recorded_at from attendance order by recorded_at, id`,
    ],
  ];
}

/** Large tables whose foreign keys and indexes are dropped while they are filled and added back after. */
const BULK_TABLES = ["attendance", "attendance_history"];

/**
 * Runs `fill` without the foreign keys and secondary indexes of `tables`, then adds them back with
 * the same names and definitions: one pass per key and index instead of a trigger and index
 * insertions per row (the bulk of the time otherwise). Portable: no superuser-only
 * session_replication_role. A duplicate still fails, when its unique index is built again.
 */
async function withoutKeysAndIndexes(db: Db, tables: string[], fill: () => Promise<void>): Promise<void> {
  const list = tables.map((t) => `'${t}'::regclass`).join(", ");
  const keys = await run<{ t: string; name: string; def: string }>(
    db,
    `select conrelid::regclass::text as t, conname as name, pg_get_constraintdef(oid) as def
     from pg_constraint where contype = 'f' and conrelid in (${list}) order by 1, 2`,
  );
  const indexes = await run<{ name: string; def: string }>(
    db,
    `select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as def from pg_index i
     where indrelid in (${list}) and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid) order by 1`,
  );
  // Referencing tables first (history references attendance).
  for (const k of [...keys].reverse()) await run(db, `alter table ${k.t} drop constraint "${k.name}"`);
  for (const i of indexes) await run(db, `drop index ${i.name}`);
  try {
    await fill();
  } finally {
    for (const i of indexes) await run(db, i.def);
    for (const k of keys) await run(db, `alter table ${k.t} add constraint "${k.name}" ${k.def}`);
  }
}

/** Fills an empty, migrated database. Prints nothing; returns counts and rows per second. */
export async function generateDataset(db: Db, scale: number): Promise<GenerateResult> {
  const shape = shapeOf(scale);
  const started = performance.now();
  const rows: Record<string, number> = {};
  const tableSeconds: Record<string, number> = {};
  const fill = async (table: string, text: string) => {
    const t0 = performance.now();
    await run(db, text);
    tableSeconds[table] = Math.round(performance.now() - t0) / 1000;
    const [{ n }] = await run(db, `select count(*)::int as n from ${table}`);
    rows[table] = Number(n);
  };
  const all = statements(shape);
  for (const [table, text] of all.filter(([t]) => !BULK_TABLES.includes(t))) await fill(table, text);
  await withoutKeysAndIndexes(db, BULK_TABLES, async () => {
    for (const [table, text] of all.filter(([t]) => BULK_TABLES.includes(t))) await fill(table, text);
  });
  // The kept engagement figures (src/engagement): the worker's first pass over the generated history.
  const t0 = performance.now();
  rows.engagement_states = await drainEngagement(db);
  tableSeconds.engagement_states = Math.round(performance.now() - t0) / 1000;
  const seconds = (performance.now() - started) / 1000;
  const totalRows = Object.values(rows).reduce((a, b) => a + b, 0);
  return { shape, rows, tableSeconds, totalRows, seconds, rowsPerSecond: Math.round(totalRows / seconds) };
}

/** The counts of a dataset generated earlier (a database kept with --keep-db and reused). */
export async function describeDataset(query: (text: string) => Promise<Rows>): Promise<GenerateResult> {
  const rows: Record<string, number> = {};
  for (const table of ["centers", "groups", "participants", "sessions", "attendance"]) {
    const [{ n }] = await query(`select count(*)::int as n from ${table}`);
    rows[table] = Number(n);
  }
  const groups = rows.groups;
  const shape: DatasetShape = { scale: groups / 200, centers: rows.centers, groups, participants: rows.participants, sessionsPerGroup: SESSIONS_PER_GROUP };
  const totalRows = Object.values(rows).reduce((a, b) => a + b, 0);
  return { shape, rows, tableSeconds: {}, totalRows, seconds: 0, rowsPerSecond: 0 };
}

/** The ids requests rotate over, picked from the generated data. */
export async function pickTargets(sql: (text: string) => Promise<Array<Record<string, any>>>, count = 40): Promise<Targets> {
  const centers = (await sql(`select id from centers order by name`)).map((r) => String(r.id));
  const groups = (await sql(`select id from groups where status = 'ACTIVE' order by name, id limit ${count}`)).map((r) => String(r.id));
  const sessions = (
    await sql(`select id from sessions where status = 'COMPLETED' and exists (select 1 from attendance a where a.session_id = sessions.id)
               order by starts_at desc, id limit ${count}`)
  ).map((r) => String(r.id));
  // Members of one group with a full year of attendance (at most 100 records: the page holds them all).
  const participants = (
    await sql(`select e.participant_id as id from enrollments e
               where e.status = 'ACTIVE' and e.enrolled_at < now() - interval '40 weeks'
                 and (select count(*) from enrollments o where o.participant_id = e.participant_id) = 1
               order by e.seq limit ${count}`)
  ).map((r) => String(r.id));
  const recordings = (
    await sql(`select s.id, (select json_agg(e.participant_id order by e.seq) from enrollments e
                             where e.group_id = s.group_id and e.status = 'ACTIVE') as ids
               from sessions s where s.status = 'COMPLETED' and s.starts_at > now() - interval '20 weeks'
               order by s.starts_at desc, s.id limit ${count}`)
  )
    .map((r) => ({ sessionId: String(r.id), participantIds: (typeof r.ids === "string" ? JSON.parse(r.ids) : r.ids) as string[] }))
    .filter((r) => r.participantIds.length === 12);
  if (!centers.length || !sessions.length || !participants.length || !recordings.length) throw new Error("the dataset has no targets");
  return { centers, groups, sessions, participants, recordings };
}
