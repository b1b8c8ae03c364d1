// GET /exports/attendance.csv?centerId=…&from=YYYY-MM-DD&to=YYYY-MM-DD: every attendance record
// of the center's sessions that start on those days (both inclusive, in the center's zone), as
// RFC 4180 CSV, streamed: a year of a center goes out in constant memory.
import { clock } from "../common/clock.js";
import { Codes } from "../common/codes.js";
import { addDays, offsetMinutes } from "../sessions/timezone.js";
import { openCenterExport, refusal, type ExportAuditEvent, type ExportRequest, type ExportResponse } from "./http.js";
import { consentFilter, logExportDisclosures } from "./clients.js";
import { streamRows, type ExportRow } from "./rows.js";
import { centerExportScope } from "./scope.js";

const OPERATION = "export.attendance.csv";
/** The longest range one request may ask for, in days (both ends counted). */

const HEADER = ["center", "program", "billing_code", "group", "session_start", "session_end", "participant_external_id", "status", "minutes"];

/**
 * One CSV field: a value a spreadsheet would run as a formula (it begins with =, +, -, @, tab or CR)
 * gets a leading ', then a value holding a comma, quote, CR or LF is quoted (quotes doubled).
 */
function csvField(value: string | number | null): string {
  if (value === null) return "";
  let v = String(value);
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export const csvLine = (fields: Array<string | number | null>) => fields.map(csvField).join(",") + "\r\n";

/** An instant as ISO 8601 with the zone's offset at that instant: 2026-03-08T18:30:00-04:00. */
export function isoInZone(ms: number, timeZone: string): string {
  const offset = offsetMinutes(ms, timeZone);
  const local = new Date(ms + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

function csvRow(r: ExportRow): string {
  return csvLine([
    r.center_name,
    r.program_name,
    r.billing_code,
    r.group_name,
    isoInZone(r.starts_ms, r.timezone),
    isoInZone(r.ends_ms, r.timezone),
    r.external_id,
    r.status,
    r.minutes_attended,
  ]);
}

export async function exportAttendanceCsv(req: ExportRequest): Promise<ExportResponse> {
  const event: ExportAuditEvent = { operation: OPERATION, action: "EXPORT", outcome: "DENIED", requestId: req.requestId, centerIds: [], participantIds: [] };
  const opened = await openCenterExport(req, event);
  if ("refused" in opened) return opened.refused;
  const { center, refuse, ...params } = opened;
  const scope = centerExportScope(req.access, center.id);
  if (!scope) return refuse(refusal(Codes.FORBIDDEN, "Your role does not allow reading participants' attendance"));

  // Consent is judged at the moment of the read (API clients; staff read every record).
  const now = clock.now();
  const rows = streamRows(req.db, {
    scope,
    from: [{ kind: "local", at: `${params.from}T00:00:00` }],
    before: [{ kind: "local", at: `${addDays(params.to, 1)}T00:00:00` }],
    participantFilter: consentFilter(req.access, now),
  });
  const participants = new Set<string>();
  async function* body(): AsyncGenerator<string> {
    event.outcome = "ERROR";
    try {
      yield csvLine(HEADER);
      for await (const batch of rows) {
        let chunk = "";
        for (const r of batch) {
          chunk += csvRow(r);
          participants.add(r.participant_id!);
        }
        // An API client's accounting of disclosures, before these records leave.
        await logExportDisclosures(req.db, req.access, OPERATION, batch, now);
        yield chunk;
      }
      event.outcome = "ALLOWED";
    } finally {
      event.participantIds = [...participants];
      await req.audit?.(event);
    }
  }
  const file = `attendance-${params.from}-to-${params.to}.csv`;
  return {
    status: 200,
    headers: {
      "content-type": "text/csv; charset=utf-8; header=present",
      "content-disposition": `attachment; filename="${file}"`,
      "cache-control": "no-store",
    },
    body: body(),
  };
}
