// GET /exports/attendance.csv?centerId=…&from=YYYY-MM-DD&to=YYYY-MM-DD: every attendance record
// of the center's sessions that start on those days (both inclusive, in the center's zone), as
// RFC 4180 CSV, streamed: a year of a center goes out in constant memory.
import { eq } from "drizzle-orm";
import { clock } from "../common/clock.js";
import { Codes, statusOf } from "../common/codes.js";
import { decodeId } from "../common/ids.js";
import { isCalendarDay } from "../common/scalars.js";
import { centers } from "../db/schema.js";
import { addDays, daysBetween, offsetMinutes } from "../sessions/timezone.js";
import { jsonError, type ExportAuditEvent, type ExportRequest, type ExportResponse } from "./http.js";
import { consentFilter, logExportDisclosures } from "./clients.js";
import { streamRows, type ExportRow } from "./rows.js";
import { centerExportScope } from "./scope.js";

const OPERATION = "export.attendance.csv";
/** The longest range one request may ask for, in days (both ends counted). */
const MAX_RANGE_DAYS = 366;

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

type Params = { centerId: string; from: string; to: string } | { error: string };

function parseParams(query: URLSearchParams): Params {
  const one = (name: string): string | null | { error: string } => {
    const all = query.getAll(name);
    if (all.length > 1) return { error: `${name} must be given once` };
    return all[0] ?? null;
  };
  const [rawCenter, from, to] = [one("centerId"), one("from"), one("to")];
  for (const v of [rawCenter, from, to]) if (v && typeof v === "object") return v;
  if (!rawCenter) return { error: "centerId is required (the id of a center)" };
  const centerId = decodeId(rawCenter as string, "Center");
  if (!centerId) return { error: "centerId is not the id of a center" };
  for (const [name, value] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (!value) return { error: `${name} is required (a day, YYYY-MM-DD)` };
    const year = Number((value as string).slice(0, 4));
    if (!isCalendarDay(value as string) || year < 1900 || year > 2200) return { error: `${name} must be a day, YYYY-MM-DD` };
  }
  const span = daysBetween(from as string, to as string);
  if (span < 0) return { error: "from must not be after to" };
  if (span + 1 > MAX_RANGE_DAYS) return { error: `A range covers at most ${MAX_RANGE_DAYS} days; ask for it in parts` };
  return { centerId, from: from as string, to: to as string };
}

export async function exportAttendanceCsv(req: ExportRequest): Promise<ExportResponse> {
  const event: ExportAuditEvent = { operation: OPERATION, action: "EXPORT", outcome: "DENIED", requestId: req.requestId, centerIds: [], participantIds: [] };
  const refuse = async (answer: ExportResponse) => {
    await req.audit?.(event);
    return answer;
  };
  if (!req.access.viewer) return refuse(jsonError(statusOf(Codes.UNAUTHENTICATED), Codes.UNAUTHENTICATED, "Authentication required"));
  const params = parseParams(req.query);
  if ("error" in params) return refuse(jsonError(statusOf(Codes.BAD_USER_INPUT), Codes.BAD_USER_INPUT, params.error));
  const notFound = () => refuse(jsonError(statusOf(Codes.NOT_FOUND), Codes.NOT_FOUND, "No center with that id"));
  // Outside the viewer's centers a center reads exactly like a missing one.
  if (!req.access.canSeeCenter(params.centerId)) return notFound();
  const [center] = await req.db.select({ id: centers.id, name: centers.name }).from(centers).where(eq(centers.id, params.centerId)).limit(1);
  if (!center) return notFound();
  event.centerIds = [center.id];
  const scope = centerExportScope(req.access, center.id);
  if (!scope) return refuse(jsonError(statusOf(Codes.FORBIDDEN), Codes.FORBIDDEN, "Your role does not allow reading participants' attendance"));

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
