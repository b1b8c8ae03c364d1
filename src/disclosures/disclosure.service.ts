// The accounting of disclosures (42 CFR 2.24, 2.25): every record handed to an API client is logged
// in the request that hands it out (before the answer leaves), as one row per handing-out (a feed
// page, an export's part or page) and center: the recipient, the time, the operation, the
// participants, and each record with its participant (so that a participant's accounting lists
// their own records only: disclosure.loaders.ts).
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db/client.js";
import { disclosures } from "../db/schema.js";

/** One record handed out: an attendance record, a session note (a member's chart entry) or a service record. */
export type DisclosedRecord = { centerId: string; participantId: string } & ({ attendanceId: string } | { noteId: string } | { serviceRecordId: string });

interface Row {
  center_id: string;
  participant_ids: string[];
  attendance_ids: string[];
  attendance_participant_ids: string[];
  note_ids: string[];
  note_participant_ids: string[];
  service_record_ids: string[];
  service_record_participant_ids: string[];
  record_count: number;
}

/** One row per center of the records (a client of one center: one row), in one statement. */
export async function logDisclosures(tx: DbOrTx, apiClientId: string, operation: string, records: DisclosedRecord[], at: Date): Promise<void> {
  const byCenter = new Map<string, { row: Row; participants: Set<string>; seen: Set<string> }>();
  for (const r of records) {
    let entry = byCenter.get(r.centerId);
    if (!entry) {
      const row: Row = {
        center_id: r.centerId,
        participant_ids: [],
        attendance_ids: [],
        attendance_participant_ids: [],
        note_ids: [],
        note_participant_ids: [],
        service_record_ids: [],
        service_record_participant_ids: [],
        record_count: 0,
      };
      byCenter.set(r.centerId, (entry = { row, participants: new Set(), seen: new Set() }));
    }
    const [kind, id] = "attendanceId" in r ? ["a", r.attendanceId] : "noteId" in r ? ["n", r.noteId] : ["s", r.serviceRecordId];
    if (entry.seen.has(`${kind}${id}`)) continue;
    entry.seen.add(`${kind}${id}`);
    const { row } = entry;
    const [ids, owners] =
      kind === "a"
        ? [row.attendance_ids, row.attendance_participant_ids]
        : kind === "n"
          ? [row.note_ids, row.note_participant_ids]
          : [row.service_record_ids, row.service_record_participant_ids];
    ids.push(id);
    owners.push(r.participantId);
    row.record_count++;
    entry.participants.add(r.participantId);
  }
  if (!byCenter.size) return;
  // One statement with one parameter for the rows, however many records (a feed page discloses up to 1,000).
  const rows = [...byCenter.values()].map(({ row, participants }) => ({ ...row, participant_ids: [...participants] }));
  await tx.execute(sql`insert into ${disclosures} (center_id, participant_ids, api_client_id, operation, attendance_ids, attendance_participant_ids,
      note_ids, note_participant_ids, service_record_ids, service_record_participant_ids, record_count, disclosed_at)
    select r.center_id, r.participant_ids, ${apiClientId}, ${operation.slice(0, 200)}, r.attendance_ids, r.attendance_participant_ids,
      r.note_ids, r.note_participant_ids, r.service_record_ids, r.service_record_participant_ids, r.record_count, ${at.toISOString()}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as r(center_id uuid, participant_ids uuid[], attendance_ids uuid[], attendance_participant_ids uuid[], note_ids uuid[], note_participant_ids uuid[],
        service_record_ids uuid[], service_record_participant_ids uuid[], record_count integer)`);
}

/** The default window of an accounting: the three years before `now` (42 CFR 2.24). */
export function threeYearsBefore(now: Date): Date {
  const d = new Date(now.getTime());
  d.setUTCFullYear(d.getUTCFullYear() - 3);
  return d;
}

export const disclosedBetween = (from: Date, to: Date) =>
  sql`${disclosures.disclosedAt} >= ${from.toISOString()}::timestamptz and ${disclosures.disclosedAt} <= ${to.toISOString()}::timestamptz`;
