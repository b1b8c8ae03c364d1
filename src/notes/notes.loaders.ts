import { asc, inArray, sql } from "drizzle-orm";
import DataLoader from "dataloader";
import { byIdLoader, connectionLoader, listLoader, mapLoader } from "../common/loaders.js";
import { connectionOf, loadPages } from "../common/relay.js";
import { rowsOf } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { noteAddenda, serviceRecords, sessionNotes, type NoteAddendumRow, type ServiceRecordRow, type SessionNoteRow } from "../db/schema.js";
import { CHART_COLUMNS, CHART_FROM, chartRow } from "./notes.sql.js";
import type { ChartEntry } from "./notes.type.js";

/** A member's part as read: the part written (if any) and the attendance (as signed, else as recorded). */
export interface MemberRow {
  noteId: string;
  centerId: string;
  participantId: string;
  participation: string | null;
  progress: string | null;
  plan: string | null;
  risk: string | null;
  attendanceStatus: string | null;
  minutesAttended: number | null;
}

export interface ChartFilter {
  /** "ALL", or the groups whose sessions' notes the viewer reads (facilitators). */
  groupScope: "ALL" | string[];
}

export interface ServiceRecordFilter {
  from: string;
  to: string;
}

const uuidList = (ids: readonly string[]) =>
  sql.join(
    ids.map((id) => sql`${id}::uuid`),
    sql`, `,
  );

export function noteLoaders(db: Db) {
  return {
    byId: byIdLoader<SessionNoteRow>((ids) =>
      db
        .select()
        .from(sessionNotes)
        .where(inArray(sessionNotes.id, [...ids])),
    ),
    bySessionId: mapLoader<SessionNoteRow | null>(
      async (ids) => {
        const rows = await db
          .select()
          .from(sessionNotes)
          .where(inArray(sessionNotes.sessionId, [...ids]));
        return new Map(rows.map((r) => [r.sessionId, r]));
      },
      () => null,
    ),
    /**
     * Every member of each note: a part written or an attendance record of the session, by name.
     * A draft reads attendance as recorded now; a signed note as it was signed.
     */
    membersByNoteId: listLoader<MemberRow>(
      (ids) =>
        rowsOf<MemberRow>(
          db,
          sql`select n.id as "noteId", n.center_id as "centerId", x.pid as "participantId", m.participation, m.progress, m.plan, m.risk,
                case when n.status = 'DRAFT' or m.attendance_status is null then a.status else m.attendance_status end as "attendanceStatus",
                case when n.status = 'DRAFT' or m.attendance_status is null then a.minutes_attended else m.minutes_attended end as "minutesAttended"
              from session_notes n
              cross join lateral (select participant_id as pid from attendance where session_id = n.session_id
                                  union select participant_id from session_note_members where note_id = n.id) x
              join participants p on p.id = x.pid
              left join session_note_members m on m.note_id = n.id and m.participant_id = x.pid
              left join attendance a on a.session_id = n.session_id and a.participant_id = x.pid
              where n.id in (${uuidList(ids)})
              order by p.last_name, p.first_name, p.id`,
        ),
      (r) => r.noteId,
    ),
    addendaByNoteId: listLoader<NoteAddendumRow>(
      (ids) =>
        db
          .select()
          .from(noteAddenda)
          .where(inArray(noteAddenda.noteId, [...ids]))
          .orderBy(asc(noteAddenda.seq)),
      (a) => a.noteId,
    ),
    addendumById: byIdLoader<NoteAddendumRow>((ids) =>
      db
        .select()
        .from(noteAddenda)
        .where(inArray(noteAddenda.id, [...ids])),
    ),
    serviceRecordById: byIdLoader<ServiceRecordRow>((ids) =>
      db
        .select()
        .from(serviceRecords)
        .where(inArray(serviceRecords.id, [...ids])),
    ),
    /** A member's chart: signed notes, latest session first (a chart is short: read whole, paged here). */
    chartByParticipant: new DataLoader<
      { participantId: string; filter: ChartFilter; win: Parameters<typeof connectionOf>[1] },
      ReturnType<typeof connectionOf<ChartEntry>>,
      string
    >(
      (keys) =>
        Promise.all(
          keys.map(async ({ participantId, filter, win }) => {
            const scope = filter.groupScope === "ALL" ? sql`true` : filter.groupScope.length ? sql`s.group_id in (${uuidList(filter.groupScope)})` : sql`false`;
            const rows = await rowsOf<ChartEntry>(
              db,
              sql`select ${CHART_COLUMNS} from ${CHART_FROM} where m.participant_id = ${participantId}::uuid and ${scope} order by s.starts_at desc, n.id`,
            );
            return connectionOf(rows.map(chartRow), win);
          }),
        ),
      { cacheKeyFn: (k) => JSON.stringify([k.participantId, k.filter, k.win.key]) },
    ),
    /** A center's service records on days [from, to], by day of service then issue order (voided ones too). */
    serviceRecordsByCenter: connectionLoader<ServiceRecordFilter, ServiceRecordRow>((centerIds, filter, win) =>
      loadPages<ServiceRecordRow>(
        db,
        {
          select: serviceRecords,
          from: serviceRecords,
          parent: serviceRecords.centerId,
          parentIds: centerIds,
          where: sql`${serviceRecords.dateOfService} between ${filter.from}::date and ${filter.to}::date`,
          orderBy: sql`${serviceRecords.dateOfService}, ${serviceRecords.seq}`,
          orderByDesc: sql`${serviceRecords.dateOfService} desc, ${serviceRecords.seq} desc`,
        },
        win,
      ),
    ),
  };
}
