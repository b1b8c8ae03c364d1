// GET /exports/services.csv?centerId=…&from=YYYY-MM-DD&to=YYYY-MM-DD: the service records of the
// center with a date of service on those days (both inclusive), voided ones too (a biller sends
// their voids), as RFC 4180 CSV with the columns of an 837P claim line, streamed in keyset pages
// (constant memory whatever the range), under the rules of the attendance CSV: the formula guard,
// one audit entry per request, and for API clients only the records of members with an active
// consent naming the client whose information includes SERVICES, logged as disclosed before they
// leave. Clinicians and admins read it (service.read); facilitators and VIEWERs are refused.
import { sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import { Codes } from "../common/codes.js";
import { rowsOf } from "../common/sql.js";
import { activeConsentCondition } from "../consents/consent.sql.js";
import { logDisclosures } from "../disclosures/disclosure.service.js";
import { csvLine, isoInZone } from "./attendance.csv.js";
import { openCenterExport, refusal, type ExportAuditEvent, type ExportRequest, type ExportResponse } from "./http.js";

const OPERATION = "export.services.csv";
const PAGE = 500;

const HEADER = [
  "service_record_id",
  "status",
  "replaces_service_record_id",
  "date_of_service",
  "place_of_service",
  "service_code",
  "modifiers",
  "units",
  "minutes",
  "participant_external_id",
  "participant_date_of_birth",
  "rendering_provider",
  "rendering_provider_credential",
  "supervising_provider",
  "supervising_provider_credential",
  "center",
  "program",
  "group",
  "session_start",
];

interface ServiceRow {
  id: string;
  seq: string;
  center_id: string;
  participant_id: string;
  status: string;
  replaces_id: string | null;
  date_of_service: string;
  place_of_service: string;
  service_code: string | null;
  modifiers: string[];
  units: number;
  minutes: number | null;
  external_id: string | null;
  date_of_birth: string | null;
  rendering: string | null;
  rendering_credential: string | null;
  supervising: string | null;
  supervising_credential: string | null;
  center_name: string;
  program_name: string;
  group_name: string;
  starts_ms: number;
  timezone: string;
}

const csvRow = (r: ServiceRow) =>
  csvLine([
    r.id,
    r.status,
    r.replaces_id,
    String(r.date_of_service).slice(0, 10),
    r.place_of_service,
    r.service_code,
    r.modifiers.join(":"),
    r.units,
    r.minutes,
    r.external_id,
    r.date_of_birth ? String(r.date_of_birth).slice(0, 10) : null,
    r.rendering,
    r.rendering_credential,
    r.supervising,
    r.supervising_credential,
    r.center_name,
    r.program_name,
    r.group_name,
    isoInZone(Number(r.starts_ms), r.timezone),
  ]);

export async function exportServicesCsv(req: ExportRequest): Promise<ExportResponse> {
  const event: ExportAuditEvent = {
    operation: OPERATION,
    resourceType: "ServiceRecord",
    action: "EXPORT",
    outcome: "DENIED",
    requestId: req.requestId,
    centerIds: [],
    participantIds: [],
  };
  const opened = await openCenterExport(req, event);
  if ("refused" in opened) return opened.refused;
  const { center, refuse, ...params } = opened;
  const client = req.access.apiClient;
  // Staff: clinicians and admins; API clients: their centers with a read scope (then consent, below).
  const allowed = client ? req.access.can("participant.read", { centerId: center.id }) : req.access.can("service.read", { centerId: center.id });
  if (!allowed) return refuse(refusal(Codes.FORBIDDEN, "Only clinicians and admins export service records"));

  const now = clock.now();
  const consent = client ? activeConsentCondition(sql`sr.participant_id`, client.apiClientId, now, "SERVICES") : sql`true`;
  const page = (after: { date: string; seq: string } | null) =>
    rowsOf<ServiceRow>(
      req.db,
      sql`select sr.id, sr.seq::text as seq, sr.center_id, sr.participant_id, sr.status, sr.replaces_id, sr.date_of_service::text as date_of_service,
            sr.place_of_service, sr.service_code, sr.modifiers, sr.units, sr.minutes, p.external_id, p.date_of_birth::text as date_of_birth,
            rs.name as rendering, rs.credential as rendering_credential, ss.name as supervising, ss.credential as supervising_credential,
            c.name as center_name, pr.name as program_name, g.name as group_name,
            (extract(epoch from s.starts_at) * 1000)::float8 as starts_ms, c.timezone
          from service_records sr
          join participants p on p.id = sr.participant_id
          join sessions s on s.id = sr.session_id
          join groups g on g.id = s.group_id
          join programs pr on pr.id = g.program_id
          join centers c on c.id = sr.center_id
          left join staff rs on rs.id = sr.rendering_staff_id
          left join staff ss on ss.id = sr.supervising_staff_id
          where sr.center_id = ${center.id}::uuid and sr.date_of_service between ${params.from}::date and ${params.to}::date and ${consent}
            ${after ? sql`and (sr.date_of_service, sr.seq) > (${after.date}::date, ${after.seq}::bigint)` : sql``}
          order by sr.date_of_service, sr.seq
          limit ${PAGE}`,
    );
  const participants = new Set<string>();
  async function* body(): AsyncGenerator<string> {
    event.outcome = "ERROR";
    try {
      yield csvLine(HEADER);
      let after: { date: string; seq: string } | null = null;
      for (;;) {
        const rows = await page(after);
        if (!rows.length) break;
        // An API client's accounting of disclosures, before these records leave.
        if (client) {
          await logDisclosures(
            req.db,
            client.apiClientId,
            OPERATION,
            rows.map((r) => ({ centerId: r.center_id, participantId: r.participant_id, serviceRecordId: r.id })),
            now,
          );
        }
        let chunk = "";
        for (const r of rows) {
          chunk += csvRow(r);
          participants.add(r.participant_id);
        }
        yield chunk;
        if (rows.length < PAGE) break;
        const last = rows[rows.length - 1];
        after = { date: String(last.date_of_service).slice(0, 10), seq: last.seq };
      }
      event.outcome = "ALLOWED";
    } finally {
      event.participantIds = [...participants];
      await req.audit?.(event);
    }
  }
  return {
    status: 200,
    headers: {
      "content-type": "text/csv; charset=utf-8; header=present",
      "content-disposition": `attachment; filename="services-${params.from}-to-${params.to}.csv"`,
      "cache-control": "no-store",
    },
    body: body(),
  };
}
