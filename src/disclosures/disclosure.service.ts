// The accounting of disclosures (42 CFR 2.24, 2.25): every record handed to an API client is logged
// per participant, in the request that hands it out (before the answer leaves).
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db/client.js";
import { disclosures } from "../db/schema.js";

/** One record handed out: an attendance record, a session note (a member's chart entry) or a service record. */
export type DisclosedRecord = { centerId: string; participantId: string } & ({ attendanceId: string } | { noteId: string } | { serviceRecordId: string });

/** One row per participant: the recipient, the time, which records and the operation. */
export async function logDisclosures(tx: DbOrTx, apiClientId: string, operation: string, records: DisclosedRecord[], at: Date): Promise<void> {
  const byParticipant = new Map<string, { centerId: string; attendance: Set<string>; notes: Set<string>; services: Set<string> }>();
  for (const r of records) {
    const entry = byParticipant.get(r.participantId) ?? {
      centerId: r.centerId,
      attendance: new Set<string>(),
      notes: new Set<string>(),
      services: new Set<string>(),
    };
    if ("attendanceId" in r) entry.attendance.add(r.attendanceId);
    else if ("noteId" in r) entry.notes.add(r.noteId);
    else entry.services.add(r.serviceRecordId);
    byParticipant.set(r.participantId, entry);
  }
  if (!byParticipant.size) return;
  // One statement with one parameter for the rows, however many (a feed page discloses up to 1,000).
  const rows = [...byParticipant].map(([participant_id, { centerId, attendance, notes, services }]) => ({
    center_id: centerId,
    participant_id,
    attendance_ids: [...attendance],
    note_ids: [...notes],
    service_record_ids: [...services],
    record_count: attendance.size + notes.size + services.size,
  }));
  await tx.execute(sql`insert into ${disclosures} (center_id, participant_id, api_client_id, operation, attendance_ids, note_ids, service_record_ids, record_count, disclosed_at)
    select r.center_id, r.participant_id, ${apiClientId}, ${operation.slice(0, 200)}, r.attendance_ids, r.note_ids, r.service_record_ids, r.record_count, ${at.toISOString()}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as r(center_id uuid, participant_id uuid, attendance_ids uuid[], note_ids uuid[], service_record_ids uuid[], record_count integer)`);
}

/** The default window of an accounting: the three years before `now` (42 CFR 2.24). */
export function threeYearsBefore(now: Date): Date {
  const d = new Date(now.getTime());
  d.setUTCFullYear(d.getUTCFullYear() - 3);
  return d;
}

export const disclosedBetween = (from: Date, to: Date) =>
  sql`${disclosures.disclosedAt} >= ${from.toISOString()}::timestamptz and ${disclosures.disclosedAt} <= ${to.toISOString()}::timestamptz`;
