import { sql, type SQL } from "drizzle-orm";
import { connectionLoader } from "../common/loaders.js";
import { buildConnection, emptyConnection, type Connection, type PageWindow, type Positioned } from "../common/relay.js";
import { rowsOf } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { disclosures } from "../db/schema.js";
import { disclosedBetween } from "./disclosure.service.js";

export interface DisclosureFilter {
  from: string;
  to: string;
}

/** One disclosure as one participant's accounting shows it: their own records of the row only. */
export interface ParticipantDisclosure {
  id: string;
  centerId: string;
  /** The participant whose accounting this is. */
  participantId: string;
  apiClientId: string;
  disclosedAt: Date;
  operation: string;
  attendanceIds: string[];
  noteIds: string[];
  serviceRecordIds: string[];
  /** The participant's records in the row. */
  recordCount: number;
}

interface Raw {
  parent: string;
  id: string;
  center_id: string;
  api_client_id: string;
  disclosed_at: string | Date;
  operation: string;
  attendance_ids: string;
  note_ids: string;
  service_record_ids: string;
  rn: string | number;
  cnt: string | number;
}

const d = disclosures;
/** The ids of one kind of record that are the participant's (`ids` and `owners` are parallel arrays), as text (either driver). */
const own = (ids: SQL, owners: SQL): SQL => sql`array_to_string(array(select x from unnest(${ids}, ${owners}) as u(x, o) where o = p.id), ',')`;
const split = (text: string): string[] => (text ? text.split(",") : []);

/** Each participant's page of disclosures in [from, to), newest first (rows numbered per participant, as loadPages does). */
async function loadParticipantPages(db: Db, participantIds: string[], filter: DisclosureFilter, win: PageWindow) {
  const conds: SQL[] = [sql`rn > ${win.afterPos}`];
  if (win.beforePos !== null) conds.push(sql`rn < ${win.beforePos}`);
  if (win.first !== null) conds.push(sql`rn <= ${win.afterPos + win.first}`);
  if (win.last !== null) conds.push(sql`rn > ${win.beforePos === null ? sql`cnt` : sql`least(${win.beforePos - 1}, cnt)`} - ${win.last}`);
  const rows = await rowsOf<Raw>(
    db,
    sql`select * from (
      select p.id::text as parent, ${d.id} as id, ${d.centerId} as center_id, ${d.apiClientId} as api_client_id, ${d.disclosedAt} as disclosed_at,
        ${d.operation} as operation, ${own(sql`${d.attendanceIds}`, sql`${d.attendanceParticipantIds}`)} as attendance_ids,
        ${own(sql`${d.noteIds}`, sql`${d.noteParticipantIds}`)} as note_ids,
        ${own(sql`${d.serviceRecordIds}`, sql`${d.serviceRecordParticipantIds}`)} as service_record_ids,
        row_number() over (partition by p.id order by ${d.disclosedAt} desc, ${d.id}) as rn, count(*) over (partition by p.id) as cnt
      from unnest(${`{${participantIds.join(",")}}`}::uuid[]) as p(id)
      join ${disclosures} on ${d.participantIds} @> array[p.id] and ${disclosedBetween(new Date(filter.from), new Date(filter.to))}
    ) x where (${sql.join(conds, sql` and `)}) or rn = 1`,
  );
  const byParent = new Map<string, Positioned<ParticipantDisclosure>[]>();
  for (const r of rows) {
    const list = byParent.get(r.parent) ?? [];
    const attendanceIds = split(r.attendance_ids);
    const noteIds = split(r.note_ids);
    const serviceRecordIds = split(r.service_record_ids);
    list.push({
      id: r.id,
      centerId: r.center_id,
      participantId: r.parent,
      apiClientId: r.api_client_id,
      disclosedAt: new Date(r.disclosed_at),
      operation: r.operation,
      attendanceIds,
      noteIds,
      serviceRecordIds,
      recordCount: attendanceIds.length + noteIds.length + serviceRecordIds.length,
      __rn: Number(r.rn),
      __cnt: Number(r.cnt),
    });
    byParent.set(r.parent, list);
  }
  const result = new Map<string, Connection<ParticipantDisclosure>>();
  for (const id of participantIds) {
    const list = byParent.get(id);
    result.set(id, list ? buildConnection(list, win, list[0].__cnt) : emptyConnection());
  }
  return result;
}

export function disclosureLoaders(db: Db) {
  return {
    /** A participant's disclosures in [from, to), newest first, each with the participant's own records. */
    byParticipant: connectionLoader<DisclosureFilter, ParticipantDisclosure>((participantIds, filter, win) =>
      loadParticipantPages(db, participantIds, filter, win),
    ),
  };
}
