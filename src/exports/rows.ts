// The one read behind both exports: sessions in a scope and a window of start instants, each with
// its attendance records, in one order (session start, session id, record id: a single key inside
// a session, so that FHIR pages can start between two records of one session). Two ways to read it without holding a year in memory:
//   - PostgreSQL (postgres.js): one statement through a server-side cursor (`.cursor()`), read a
//     batch at a time as the consumer asks for more, in one snapshot;
//   - PGlite (one connection shared by every request): keyset pages of sessions, each page one
//     short statement, so a slow download never holds the database.
// API clients (consent): `participantFilter` is the one place where a rule about which
// participants' records may leave is added; it is a condition on `a` (attendance) and `p`
// (participants) and applies to every row of both exports.
import { sql, type SQL } from "drizzle-orm";
import { rowsOf } from "../common/sql.js";
import { PgDialect } from "drizzle-orm/pg-core";
import type { Db } from "../db/client.js";

/** A bound on session start: an instant, or a wall-clock time read in each session's center zone. */
export type StartBound = { kind: "instant"; at: Date } | { kind: "local"; at: string };

export interface RowFilter {
  /** Which sessions: a condition on `s` (sessions), e.g. its center and groups. */
  scope: SQL;
  /** Session start >= this (inclusive). */
  from?: StartBound[];
  /** Session start < this (exclusive). */
  before?: StartBound[];
  /** Only these attendance statuses (null: every status). */
  statuses?: readonly string[] | null;
  /** Consent / API-client rule: a condition on `a` and `p`; records failing it are left out. */
  participantFilter?: SQL;
  /** Sessions with no record that passes still appear once, with null record columns (FHIR). */
  keepEmptySessions?: boolean;
}

/** Where a page starts: after a whole session, or inside one (after a record, or before its first). */
export interface RowKey {
  /** Session start as microseconds since the epoch (exact; a string, it exceeds 2^53). */
  startsUs: string;
  sessionId: string;
  /** False: the page starts after this session and all its records. True: inside it. */
  within: boolean;
  /** Inside the session: after this record (null: from its first record). */
  attendanceId: string | null;
}

export interface ExportRow {
  session_id: string;
  starts_us: string;
  starts_ms: number;
  ends_ms: number;
  session_status: string;
  center_id: string;
  center_name: string;
  timezone: string;
  program_name: string;
  billing_code: string | null;
  group_name: string;
  virtual_only: boolean;
  attendance_id: string | null;
  participant_id: string | null;
  external_id: string | null;
  status: string | null;
  minutes_attended: number | null;
}

function bound(b: StartBound): SQL {
  return b.kind === "instant" ? sql`${b.at.toISOString()}::timestamptz` : sql`(${b.at}::timestamp at time zone c.timezone)`;
}

const STARTS_US = sql`(extract(epoch from s.starts_at) * 1000000)::bigint::text`;
const keyInstant = (us: string) => sql`(timestamptz 'epoch' + ${us}::bigint * interval '1 microsecond')`;

/** Conditions on a session (`s`, with its center `c`). */
function sessionConditions(f: RowFilter): SQL {
  const parts: SQL[] = [f.scope];
  for (const b of f.from ?? []) parts.push(sql`s.starts_at >= ${bound(b)}`);
  for (const b of f.before ?? []) parts.push(sql`s.starts_at < ${bound(b)}`);
  return sql.join(parts, sql` and `);
}

/** Conditions on a record (`a`, with its participant `p`). */
function recordConditions(f: RowFilter, key?: RowKey): SQL {
  const parts: SQL[] = [sql`true`];
  if (f.statuses)
    parts.push(
      sql`a.status in (${sql.join(
        f.statuses.map((st) => sql`${st}`),
        sql`, `,
      )})`,
    );
  if (f.participantFilter) parts.push(sql`(${f.participantFilter})`);
  // Inside the session the page starts in, only the records after the last one read.
  if (key?.within && key.attendanceId) parts.push(sql`(s.id <> ${key.sessionId}::uuid or a.id > ${key.attendanceId}::uuid)`);
  return sql.join(parts, sql` and `);
}

const COLUMNS = sql`s.id as session_id, ${STARTS_US} as starts_us,
  (extract(epoch from s.starts_at) * 1000)::float8 as starts_ms, (extract(epoch from s.ends_at) * 1000)::float8 as ends_ms,
  s.status as session_status, c.id as center_id, c.name as center_name, c.timezone, pr.name as program_name,
  pr.billing_code, g.name as group_name, (g.virtual_link is not null and g.location is null) as virtual_only,
  a.id as attendance_id, a.participant_id, p.external_id, a.status, a.minutes_attended`;

const ORDER = sql`s.starts_at, s.id, a.id`;

/**
 * The whole read as one statement (for a cursor): sessions that pass, joined to their records.
 */
function wholeQuery(f: RowFilter): SQL {
  const join = f.keepEmptySessions ? sql`left join` : sql`join`;
  return sql`select ${COLUMNS}
    from sessions s
    join centers c on c.id = s.center_id
    join groups g on g.id = s.group_id
    join programs pr on pr.id = g.program_id
    ${join} (attendance a join participants p on p.id = a.participant_id) on a.session_id = s.id and ${recordConditions(f)}
    where ${sessionConditions(f)}
    order by ${ORDER} nulls first`;
}

/**
 * One page: the next `sessions` sessions after (or, with a record key, from) the key, with their
 * records. Every session of the page comes back (left join) so the next key is always known.
 */
function pageQuery(f: RowFilter, sessionsPerPage: number, key?: RowKey): SQL {
  const after = key
    ? key.within
      ? sql` and (s.starts_at, s.id) >= (${keyInstant(key.startsUs)}, ${key.sessionId}::uuid)`
      : sql` and (s.starts_at, s.id) > (${keyInstant(key.startsUs)}, ${key.sessionId}::uuid)`
    : sql``;
  return sql`with page as (
      select s.id from sessions s join centers c on c.id = s.center_id
      where ${sessionConditions(f)}${after}
      order by s.starts_at, s.id limit ${sessionsPerPage})
    select ${COLUMNS}
    from page
    join sessions s on s.id = page.id
    join centers c on c.id = s.center_id
    join groups g on g.id = s.group_id
    join programs pr on pr.id = g.program_id
    left join (attendance a join participants p on p.id = a.participant_id) on a.session_id = s.id and ${recordConditions(f, key)}
    order by ${ORDER} nulls first`;
}

/** A page of rows from `key` on (FHIR paging): at most `sessions` sessions. */
export function readPage(db: Db, f: RowFilter, sessions: number, key?: RowKey): Promise<ExportRow[]> {
  return rowsOf<ExportRow>(db, pageQuery({ ...f, keepEmptySessions: true }, sessions, key));
}

interface CursorClient {
  unsafe(query: string, params: unknown[]): { cursor(rows: number): AsyncIterable<unknown[]> };
}

/** postgres.js behind drizzle (it has `unsafe` and `reserve`); PGlite has neither. */
function cursorClient(db: Db): CursorClient | null {
  const client = (db as unknown as { $client?: unknown }).$client as { unsafe?: unknown; reserve?: unknown } | undefined;
  return client && typeof client.unsafe === "function" && typeof client.reserve === "function" ? (client as unknown as CursorClient) : null;
}

const dialect = new PgDialect();

/**
 * Every row, in batches, read as the consumer pulls: back-pressure reaches the database (the next
 * batch is fetched only when the previous one has been taken). Breaking out of the loop closes
 * the cursor. Rows without a record are dropped unless `keepEmptySessions`.
 */
export async function* streamRows(db: Db, f: RowFilter, batch = 500): AsyncGenerator<ExportRow[]> {
  const client = cursorClient(db);
  if (client) {
    const { sql: text, params } = dialect.sqlToQuery(wholeQuery(f));
    for await (const rows of client.unsafe(`/* export */ ${text}`, params).cursor(batch)) yield rows as ExportRow[];
    return;
  }
  // PGlite: keyset pages of sessions; a page holds about `batch` records (rosters are small).
  const sessionsPerPage = Math.max(1, Math.ceil(batch / 20));
  let key: RowKey | undefined;
  for (;;) {
    const rows = await readPage(db, f, sessionsPerPage, key);
    if (!rows.length) return;
    const last = rows[rows.length - 1];
    key = { startsUs: last.starts_us, sessionId: last.session_id, within: false, attendanceId: null };
    const kept = f.keepEmptySessions ? rows : rows.filter((r) => r.attendance_id !== null);
    if (kept.length) yield kept;
    if (new Set(rows.map((r) => r.session_id)).size < sessionsPerPage) return;
  }
}
