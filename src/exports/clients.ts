// API clients on the exports, with the rules of the feed (src/feed): ATTENDANCE_READ at their
// centers (src/exports/scope.ts, through the policy module), only the records of participants
// with a consent naming the client ACTIVE at the moment of the read (src/consents), and every
// record handed out counted in the accounting of disclosures (src/disclosures), per participant,
// with the operation's name, before it leaves.
import { sql, type SQL } from "drizzle-orm";
import type { Access } from "../auth/access.js";
import { activeConsentCondition } from "../consents/consent.sql.js";
import type { Db } from "../db/client.js";
import { logDisclosures } from "../disclosures/disclosure.service.js";
import type { ExportRow } from "./rows.js";

/** The records an API client may receive (a condition on `a`), or undefined for staff. */
export function consentFilter(access: Access, now: Date): SQL | undefined {
  const client = access.apiClient;
  return client ? activeConsentCondition(sql`a.participant_id`, client.apiClientId, now) : undefined;
}

/**
 * Logs the records of `rows` as disclosed to the API client behind the request (nothing for staff):
 * one entry per participant. Called before the rows are sent; a failure stops the answer.
 */
export async function logExportDisclosures(db: Db, access: Access, operation: string, rows: readonly ExportRow[], at: Date): Promise<void> {
  const client = access.apiClient;
  if (!client) return;
  const records = rows.flatMap((r) =>
    r.attendance_id && r.participant_id ? [{ centerId: r.center_id, participantId: r.participant_id, attendanceId: r.attendance_id }] : [],
  );
  await logDisclosures(db, client.apiClientId, operation, records, at);
}
