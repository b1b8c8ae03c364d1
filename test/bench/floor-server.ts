// The floor: bare node:http and one hand-written SQL statement per operation, PostgreSQL building
// the whole JSON answer (json_build_object / json_agg). It answers exactly the data of the API's
// dashboard queries (same shape, ids, cursors and order) for a viewer who may read everything,
// and makes recordAttendance's writes, with no authentication, no GraphQL parsing, no validation
// and no authorization: what the hardware allows.
// Run: DATABASE_URL=… PORT=… node --import tsx test/bench/floor-server.ts
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import postgres from "postgres";

/** base64url("Type:uuid") without padding, as src/common/ids.ts toGlobalId. */
const gid = (type: string, col: string) => `rtrim(translate(encode(convert_to('${type}:' || ${col}, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')`;
const cursor = (pos: string) => `rtrim(translate(encode(convert_to('pos:' || ${pos}, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')`;
/** DateTime as graphql-scalars serializes a JS Date. */
const iso = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const activeAtStart = `e.activated_at is not null and e.activated_at <= s.starts_at and (e.ended_at is null or e.ended_at > s.starts_at)`;

const FLOOR_SQL = {
  // $1 center id, $2 first
  CenterDashboard: `
    select json_build_object('data', json_build_object('center', (
      select json_build_object('id', ${gid("Center", "c.id")}, 'name', c.name, 'groups', (
        select json_build_object(
          'totalCount', t.total,
          'pageInfo', json_build_object('hasNextPage', coalesce(max(pg.pos), 0) < t.total,
                                        'endCursor', case when max(pg.pos) is not null then ${cursor("max(pg.pos)")} end),
          'edges', coalesce(json_agg(json_build_object('cursor', ${cursor("pg.pos")}, 'node', json_build_object(
            'id', ${gid("Group", "pg.id")}, 'name', pg.name, 'status', pg.status, 'capacity', pg.capacity,
            'program', (select json_build_object('id', ${gid("Program", "p.id")}, 'name', p.name) from programs p where p.id = pg.program_id),
            'facilitators', coalesce((select json_agg(json_build_object('id', ${gid("Staff", "st.id")}, 'name', st.name) order by f.position)
                                      from group_facilitators f join staff st on st.id = f.staff_id where f.group_id = pg.id), '[]'),
            'enrollments', json_build_object(
              'totalCount', (select count(*) from enrollments e where e.group_id = pg.id and e.status = 'ACTIVE'),
              'nodes', coalesce((select json_agg(json_build_object('id', ${gid("Enrollment", "e.id")}, 'participant', json_build_object(
                                   'id', ${gid("Participant", "pa.id")}, 'firstName', pa.first_name, 'lastName', pa.last_name)) order by e.seq)
                                 from (select e.id, e.seq, e.participant_id from enrollments e where e.group_id = pg.id and e.status = 'ACTIVE'
                                       order by e.seq limit 50) e
                                 join participants pa on pa.id = e.participant_id), '[]')),
            'sessions', json_build_object('nodes', coalesce((
              select json_agg(json_build_object('id', ${gid("Session", "s.id")}, 'startsAt', ${iso("s.starts_at")}, 'status', s.status,
                                                'attendanceSummary', json_build_object(
                                                  'present', a.present, 'late', a.late, 'leftEarly', a.left_early, 'absent', a.absent,
                                                  'excused', a.excused,
                                                  'unrecorded', case when s.status = 'CANCELLED' then 0 else (
                                                    select count(*) from enrollments e where e.group_id = s.group_id and ${activeAtStart}
                                                      and not exists (select 1 from attendance x where x.session_id = s.id and x.participant_id = e.participant_id)) end))
                              order by s.starts_at, s.id)
              from (select * from sessions s where s.group_id = pg.id order by s.starts_at desc, s.id desc limit 5) s
              cross join lateral (
                select count(*) filter (where x.status = 'PRESENT') as present, count(*) filter (where x.status = 'LATE') as late,
                       count(*) filter (where x.status = 'LEFT_EARLY') as left_early, count(*) filter (where x.status = 'ABSENT') as absent,
                       count(*) filter (where x.status = 'EXCUSED') as excused
                from attendance x where x.session_id = s.id) a), '[]'))
          )) order by pg.pos), '[]'))
        from (select count(*) as total from groups where center_id = c.id) t
        left join lateral (select g.*, row_number() over (order by g.name, g.id) as pos from groups g where g.center_id = c.id
                           order by g.name, g.id limit $2) pg on true
        group by t.total))
      from centers c where c.id = $1)))::text as body`,
  // $1 session id
  SessionRoster: `
    select json_build_object('data', json_build_object('node', (
      select json_build_object('id', ${gid("Session", "s.id")}, 'startsAt', ${iso("s.starts_at")}, 'endsAt', ${iso("s.ends_at")}, 'status', s.status,
        'group', (select json_build_object('id', ${gid("Group", "g.id")}, 'name', g.name) from groups g where g.id = s.group_id),
        'attendance', coalesce((select json_agg(json_build_object('status', a.status, 'note', a.note, 'participant', json_build_object(
                                  'id', ${gid("Participant", "p.id")}, 'firstName', p.first_name, 'lastName', p.last_name))
                                order by p.last_name, p.first_name, p.id)
                                from attendance a join participants p on p.id = a.participant_id where a.session_id = s.id), '[]'))
      from sessions s where s.id = $1)))::text as body`,
  // $1 participant id
  ParticipantHistory: `
    select json_build_object('data', json_build_object('node', (
      select json_build_object('id', ${gid("Participant", "p.id")}, 'firstName', p.first_name, 'lastName', p.last_name,
        'enrollments', json_build_object('nodes', coalesce((
          select json_agg(json_build_object('status', e.status, 'group', json_build_object('name', g.name)) order by e.seq)
          from (select * from enrollments e where e.participant_id = p.id order by e.seq limit 20) e join groups g on g.id = e.group_id), '[]')),
        'attendance', json_build_object(
          'totalCount', (select count(*) from attendance a where a.participant_id = p.id),
          'nodes', coalesce((
            select json_agg(json_build_object('status', x.status, 'session', json_build_object('startsAt', ${iso("x.starts_at")}))
                            order by x.starts_at desc, x.id)
            from (select a.id, a.status, s.starts_at from attendance a join sessions s on s.id = a.session_id
                  where a.participant_id = p.id order by s.starts_at desc, a.id limit 100) x), '[]')))
      from participants p where p.id = $1)))::text as body`,
  // $1 session id, $2 participant ids, $3 statuses, $4 staff id. The same writes as the API (upsert
  // of changed records, a version bump and a history row per change) without its validation.
  RecordAttendance: `
    with input as (
      select * from unnest($2::uuid[], $3::text[]) with ordinality as r(participant_id, status, ord)
    ), s as (
      select id, center_id, starts_at, ends_at from sessions where id = $1 and status <> 'CANCELLED' for update
    ), prev as (
      select a.* from attendance a where a.session_id = $1 and a.participant_id = any($2::uuid[]) for update
    ), up as (
      insert into attendance as a (center_id, session_id, participant_id, status, minutes_attended, recorded_by_staff_id, recorded_at, version)
      select s.center_id, s.id, i.participant_id, i.status,
             case i.status when 'PRESENT' then round(extract(epoch from s.ends_at - s.starts_at) / 60)::int
                           when 'ABSENT' then 0 when 'EXCUSED' then 0 end,
             $4, now(), 1
      from input i cross join s
      on conflict (session_id, participant_id) do update
        set status = excluded.status, minutes_attended = excluded.minutes_attended,
            recorded_by_staff_id = excluded.recorded_by_staff_id, recorded_at = excluded.recorded_at, version = a.version + 1
        where a.status is distinct from excluded.status
      returning a.*
    ), history as (
      insert into attendance_history (center_id, attendance_id, version, status, minutes_attended, note, previous_status,
                                      previous_minutes_attended, previous_note, changed_by_staff_id, changed_at)
      select up.center_id, up.id, up.version, up.status, up.minutes_attended, up.note, prev.status, prev.minutes_attended,
             prev.note, up.recorded_by_staff_id, up.recorded_at
      from up left join prev on prev.id = up.id
    )
    select json_build_object('data', json_build_object('recordAttendance', json_build_object(
      'attendance', (select json_agg(json_build_object('id', ${gid("Attendance", "coalesce(up.id, prev.id)")},
                                                       'status', coalesce(up.status, prev.status),
                                                       'participant', json_build_object('id', ${gid("Participant", "i.participant_id")}))
                                     order by i.ord)
                     from input i left join up on up.participant_id = i.participant_id left join prev on prev.participant_id = i.participant_id),
      'userErrors', '[]'::json)))::text as body`,
} as const;

type Operation = keyof typeof FLOOR_SQL;

/** The staff member the bench acts as (test/bench/generate.ts); the floor does no authentication. */
const BENCH_STAFF_ID = createHash("md5")
  .update("staff:clinician-all")
  .digest("hex")
  .replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");

function uuidOf(globalId: unknown): string | null {
  if (typeof globalId !== "string") return null;
  const decoded = Buffer.from(globalId, "base64url").toString("utf8");
  const id = decoded.slice(decoded.indexOf(":") + 1);
  return /^[0-9a-f-]{36}$/i.test(id) ? id : null;
}

function paramsOf(op: Operation, v: Record<string, unknown>): unknown[] | null {
  switch (op) {
    case "CenterDashboard": {
      const id = uuidOf(v.centerId);
      return id ? [id, typeof v.first === "number" ? v.first : 20] : null;
    }
    case "SessionRoster": {
      const id = uuidOf(v.sessionId);
      return id ? [id] : null;
    }
    case "ParticipantHistory": {
      const id = uuidOf(v.participantId);
      return id ? [id] : null;
    }
    case "RecordAttendance": {
      const input = v.input as { sessionId?: unknown; records?: Array<{ participantId: unknown; status: unknown }> } | undefined;
      const id = uuidOf(input?.sessionId);
      const records = input?.records ?? [];
      const ids = records.map((r) => uuidOf(r.participantId));
      if (!id || !records.length || ids.some((x) => !x)) return null;
      return [id, ids, records.map((r) => String(r.status)), BENCH_STAFF_ID];
    }
  }
}

const JSON_TYPE = { "content-type": "application/json" };

/** The status and body answering one request body; never rejects (a failure answers 500). */
async function answer(sql: postgres.Sql, raw: Buffer): Promise<[number, string]> {
  try {
    const body = JSON.parse(raw.toString("utf8")) as { operationName?: string; variables?: Record<string, unknown> };
    const op = body.operationName as Operation;
    const params = op in FLOOR_SQL ? paramsOf(op, body.variables ?? {}) : null;
    if (!params) return [400, '{"errors":[{"message":"bad request"}]}'];
    const [row] = await sql.unsafe(FLOOR_SQL[op], params as never[], { prepare: true });
    return [200, row.body as string];
  } catch {
    return [500, '{"errors":[{"message":"internal error"}]}'];
  }
}

function main() {
  const sql = postgres(process.env.DATABASE_URL!, { max: Number(process.env.DATABASE_POOL_SIZE ?? 10), onnotice: () => {} });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      answer(sql, Buffer.concat(chunks))
        .then(([status, body]) => res.writeHead(status, JSON_TYPE).end(body))
        .catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1", () => console.log("floor listening"));
  const stop = () => server.close(() => void sql.end({ timeout: 2 }).then(() => process.exit(0)));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main();
