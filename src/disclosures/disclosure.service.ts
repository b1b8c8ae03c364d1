// The accounting of disclosures (42 CFR 2.24, 2.25): every record handed to an API client is logged
// per participant, in the request that hands it out (before the answer leaves).
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db/client.js";
import { disclosures } from "../db/schema.js";

export interface DisclosedRecord {
  centerId: string;
  participantId: string;
  attendanceId: string;
}

/** One row per participant: the recipient, the time, which records and the operation. */
export async function logDisclosures(tx: DbOrTx, apiClientId: string, operation: string, records: DisclosedRecord[], at: Date): Promise<void> {
  const byParticipant = new Map<string, { centerId: string; ids: Set<string> }>();
  for (const r of records) {
    const entry = byParticipant.get(r.participantId) ?? { centerId: r.centerId, ids: new Set<string>() };
    entry.ids.add(r.attendanceId);
    byParticipant.set(r.participantId, entry);
  }
  if (!byParticipant.size) return;
  await tx.insert(disclosures).values(
    [...byParticipant].map(([participantId, { centerId, ids }]) => ({
      centerId,
      participantId,
      apiClientId,
      operation: operation.slice(0, 200),
      attendanceIds: [...ids],
      recordCount: ids.size,
      disclosedAt: at,
    })),
  );
}

/** The default window of an accounting: the three years before `now` (42 CFR 2.24). */
export function threeYearsBefore(now: Date): Date {
  const d = new Date(now.getTime());
  d.setUTCFullYear(d.getUTCFullYear() - 3);
  return d;
}

export const disclosedBetween = (from: Date, to: Date) =>
  sql`${disclosures.disclosedAt} >= ${from.toISOString()}::timestamptz and ${disclosures.disclosedAt} <= ${to.toISOString()}::timestamptz`;
