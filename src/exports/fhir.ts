// FHIR R4: GET /fhir/Encounter?date=ge2026-01-01&date=lt2026-02-01&_count=50 — a searchset Bundle
// of Encounters on the period's start, in pages linked by `next` (an opaque cursor):
//   - a group session is an Encounter (class, period, status from the session's, serviceType with
//     the program's billing code);
//   - each attended record (PRESENT, LATE, LEFT_EARLY) is an Encounter `finished`, `partOf` its
//     session's and with `subject` a logical Patient reference by identifier (system: the center,
//     value: the participant's external id). ABSENT and EXCUSED records are not encounters.
// A date without a zone (2026-01-01, 2026-01-01T18:00) is read in each session's center zone.
import { clock } from "../common/clock.js";
import type { ExportAuditEvent, ExportRequest, ExportResponse } from "./http.js";
import { readPage, type ExportRow, type RowFilter, type RowKey, type StartBound } from "./rows.js";
import { isoInZone } from "./attendance.csv.js";
import { consentFilter, logExportDisclosures } from "./clients.js";
import { exportScope } from "./scope.js";

const OPERATION = "fhir.Encounter.search";
const ATTENDED = ["PRESENT", "LATE", "LEFT_EARLY"] as const;
const DEFAULT_COUNT = 50;
const MAX_COUNT = 1000;
export const CONTENT_TYPE = "application/fhir+json; charset=utf-8";
export const ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

type Json = Record<string, unknown>;

export function outcome(status: number, code: string, diagnostics: string): ExportResponse {
  return {
    status,
    headers: { "content-type": CONTENT_TYPE, ...(status === 401 ? { "www-authenticate": "Bearer" } : {}) },
    body: JSON.stringify({ resourceType: "OperationOutcome", issue: [{ severity: "error", code, diagnostics }] }),
  };
}

export class BadParam extends Error {}

// ---- search parameters -----------------------------------------------------------------------

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** A FHIR date(time) search value as the range [low, high) of instants or wall-clock times it covers. */
function dateRange(value: string): { low: StartBound; high: StartBound } {
  const m = DATE.exec(value);
  if (!m) throw new BadParam(`date: "${value.slice(0, 40)}" is not a FHIR date or dateTime (e.g. 2026-01-01, 2026-01-01T18:00:00-05:00)`);
  const [y, mo, d, h, mi, s] = [m[1], m[2] ?? "01", m[3] ?? "01", m[4] ?? "00", m[5] ?? "00", m[6] ?? "00"].map(Number);
  const ms = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const low = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(low);
  const valid =
    y >= 1900 && y <= 2200 && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && back.getUTCHours() === h && back.getUTCMinutes() === mi && s < 60;
  if (!valid) throw new BadParam(`date: "${value.slice(0, 40)}" is not a real date or time`);
  const high = !m[2] ? Date.UTC(y + 1, 0, 1) : !m[3] ? Date.UTC(y, mo, 1) : !m[4] ? low + 86_400_000 : m[7] ? low + 1 : m[6] ? low + 1000 : low + 60_000;
  const zone = m[8];
  if (!zone) {
    const local = (t: number) => new Date(t).toISOString().slice(0, 23);
    return { low: { kind: "local", at: local(low) }, high: { kind: "local", at: local(high) } };
  }
  const offset = zone === "Z" ? 0 : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const instant = (t: number) => new Date(t - offset * 60_000);
  return { low: { kind: "instant", at: instant(low) }, high: { kind: "instant", at: instant(high) } };
}

export interface Search<K = RowKey> {
  from: StartBound[];
  before: StartBound[];
  count: number;
  key?: K;
  /** The parameters applied, for the self and next links. */
  applied: Array<[string, string]>;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A microsecond instant as text (a cursor part). */
export const MICROS = /^-?\d{1,17}$/;

/** Where a page starts, as the `_cursor` parameter of the next link: its parts as base64url JSON. */
export function encodeCursor(parts: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(parts), "utf8").toString("base64url");
}

/** A `_cursor` this server wrote, read by `read` from its parts (null: not one of its cursors); anything else is a BadParam. */
function decodeCursor<K>(value: string, read: (parts: unknown[]) => K | null): K {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
    const key = Array.isArray(parsed) ? read(parsed) : null;
    if (key) return key;
  } catch {
    // falls through
  }
  throw new BadParam("_cursor is not a cursor of this server (take the next link as it is)");
}

/** An Encounter page's cursor: the session's start (microseconds), the session, the attendance record after which it goes on. */
function encounterKey(parts: unknown[]): RowKey | null {
  const [startsUs, sessionId, attendanceId] = parts;
  const valid =
    parts.length === 3 &&
    typeof startsUs === "string" &&
    MICROS.test(startsUs) &&
    typeof sessionId === "string" &&
    UUID.test(sessionId) &&
    (attendanceId === null || (typeof attendanceId === "string" && UUID.test(attendanceId)));
  return valid ? { startsUs, sessionId, within: true, attendanceId } : null;
}

const encounterCursor = (key: RowKey) => encodeCursor([key.startsUs, key.sessionId, key.attendanceId]);

/** A search's date, _count and _cursor parameters; `readKey` reads the resource's own cursor (default: Encounter's). */
export function parseSearch(query: URLSearchParams): Search;
export function parseSearch<K>(query: URLSearchParams, readKey: (parts: unknown[]) => K | null): Search<K>;
export function parseSearch(query: URLSearchParams, readKey: (parts: unknown[]) => unknown = encounterKey): Search<unknown> {
  const search: Search<unknown> = { from: [], before: [], count: DEFAULT_COUNT, applied: [] };
  for (const raw of query.getAll("date")) {
    const prefixed = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)/.exec(raw);
    const prefix = prefixed?.[1] ?? "eq";
    const { low, high } = dateRange(prefixed ? raw.slice(2) : raw);
    if (prefix === "eq") {
      search.from.push(low);
      search.before.push(high);
    } else if (prefix === "ge") search.from.push(low);
    else if (prefix === "gt") search.from.push(high);
    else if (prefix === "lt") search.before.push(low);
    else if (prefix === "le") search.before.push(high);
    else throw new BadParam(`date: the prefix "${prefix}" is not supported here (use eq, ge, gt, le or lt)`);
    search.applied.push(["date", raw]);
  }
  const counts = query.getAll("_count");
  if (counts.length > 1) throw new BadParam("_count must be given once");
  if (counts.length) {
    if (!/^\d{1,9}$/.test(counts[0]) || Number(counts[0]) < 1) throw new BadParam(`_count must be a whole number from 1 to ${MAX_COUNT}`);
    search.count = Math.min(Number(counts[0]), MAX_COUNT);
  }
  search.applied.push(["_count", String(search.count)]);
  const cursors = query.getAll("_cursor");
  if (cursors.length > 1) throw new BadParam("_cursor must be given once");
  if (cursors.length) search.key = decodeCursor(cursors[0], readKey);
  return search;
}

// ---- resources -------------------------------------------------------------------------------

/** A coding for a program's billing code: CPT (5 digits, or 4 and F/T/U), HCPCS level II (A0000). */
export function billingCoding(code: string): Json {
  if (/^\d{4}[\dFTU]$/.test(code)) return { system: "http://www.ama-assn.org/go/cpt", code };
  if (/^[A-V]\d{4}$/.test(code)) return { system: "urn:oid:2.16.840.1.113883.6.285", code };
  return { code };
}

function sessionStatus(r: ExportRow, attended: boolean, now: number): string {
  if (r.session_status === "CANCELLED") return "cancelled";
  if (r.session_status === "COMPLETED") return "finished";
  if (now < r.starts_ms) return "planned";
  if (now < r.ends_ms) return "in-progress";
  // Held but never closed by staff: finished when someone attended, else not known.
  return attended ? "finished" : "unknown";
}

function common(r: ExportRow): Json {
  return {
    class: r.virtual_only ? { system: ACT_CODE, code: "VR", display: "virtual" } : { system: ACT_CODE, code: "AMB", display: "ambulatory" },
    type: [{ text: r.group_name }],
    serviceType: { ...(r.billing_code ? { coding: [billingCoding(r.billing_code)] } : {}), text: r.program_name },
    period: { start: isoInZone(r.starts_ms, r.timezone), end: isoInZone(r.ends_ms, r.timezone) },
    serviceProvider: { display: r.center_name },
  };
}

function sessionEncounter(r: ExportRow, attended: boolean, now: number): Json {
  const { class: cls, ...rest } = common(r);
  return { resourceType: "Encounter", id: r.session_id, status: sessionStatus(r, attended, now), class: cls, ...rest };
}

/** The logical reference to the participant: the center's identifier system and their external id. */
function subject(r: ExportRow): Json {
  const identifier = r.external_id
    ? { system: `urn:uuid:${r.center_id}`, value: r.external_id }
    : { system: "urn:ietf:rfc:3986", value: `urn:uuid:${r.participant_id}` };
  return { type: "Patient", identifier };
}

function attendanceEncounter(r: ExportRow): Json {
  const { class: cls, ...rest } = common(r);
  return {
    resourceType: "Encounter",
    id: r.attendance_id,
    status: "finished",
    class: cls,
    subject: subject(r),
    partOf: { reference: `Encounter/${r.session_id}` },
    ...rest,
    ...(r.minutes_attended !== null ? { length: { value: r.minutes_attended, unit: "min", system: "http://unitsofmeasure.org", code: "min" } } : {}),
  };
}

// ---- the search ------------------------------------------------------------------------------

export async function searchEncounters(req: ExportRequest): Promise<ExportResponse> {
  const event: ExportAuditEvent = { operation: OPERATION, action: "EXPORT", outcome: "DENIED", requestId: req.requestId, centerIds: [], participantIds: [] };
  const done = async (answer: ExportResponse) => {
    await req.audit?.(event);
    return answer;
  };
  if (!req.access.viewer) return done(outcome(401, "login", "Authentication required"));
  let search: Search;
  try {
    search = parseSearch(req.query);
  } catch (err) {
    if (err instanceof BadParam) return done(outcome(400, "invalid", err.message));
    throw err;
  }
  const scope = exportScope(req.access);
  if (!scope) return done(outcome(403, "forbidden", "Your role does not allow reading participants' attendance"));
  event.centerIds = scope.centerIds === "ALL" ? [] : scope.centerIds;

  // Consent is judged at the moment of the read (API clients; staff read every record).
  const now = clock.now();
  const filter: RowFilter = {
    scope: scope.condition,
    from: search.from,
    before: search.before,
    statuses: ATTENDED,
    participantFilter: consentFilter(req.access, now),
  };
  event.outcome = "ERROR";
  let rows: ExportRow[];
  try {
    // Each session gives at least one entry, so count + 2 sessions fill the page and show if more follow.
    rows = await readPage(req.db, filter, search.count + 2, search.key);
  } catch (err) {
    await req.audit?.(event);
    throw err;
  }
  const nowMs = now.getTime();
  const attendedSessions = new Set(rows.filter((r) => r.attendance_id).map((r) => r.session_id));
  const entries: Array<{ resource: Json; key: RowKey; centerId: string; participantId: string | null; row: ExportRow }> = [];
  let previous: string | null = null;
  for (const r of rows) {
    if (entries.length > search.count) break;
    const base = { startsUs: r.starts_us, sessionId: r.session_id, within: true };
    const continued = search.key?.sessionId === r.session_id;
    if (r.session_id !== previous && !continued) {
      const resource = sessionEncounter(r, attendedSessions.has(r.session_id), nowMs);
      entries.push({ resource, key: { ...base, attendanceId: null }, centerId: r.center_id, participantId: null, row: r });
    }
    previous = r.session_id;
    if (r.attendance_id) {
      entries.push({
        resource: attendanceEncounter(r),
        key: { ...base, attendanceId: r.attendance_id },
        centerId: r.center_id,
        participantId: r.participant_id,
        row: r,
      });
    }
  }
  const page = entries.slice(0, search.count);
  const more = entries.length > search.count;
  const centerIds = new Set(page.map((e) => e.centerId));
  const participants = new Set(page.flatMap((e) => (e.participantId ? [e.participantId] : [])));

  const link = (params: Array<[string, string]>) => `${req.baseUrl}/fhir/Encounter?${new URLSearchParams(params).toString()}`;
  const selfParams: Array<[string, string]> = search.key ? [...search.applied, ["_cursor", encounterCursor(search.key)]] : search.applied;
  const links = [{ relation: "self", url: link(selfParams) }];
  if (more) links.push({ relation: "next", url: link([...search.applied, ["_cursor", encounterCursor(page[page.length - 1].key)]]) });
  const bundle = {
    resourceType: "Bundle",
    type: "searchset",
    timestamp: now.toISOString(),
    link: links,
    entry: page.map((e) => ({ fullUrl: `${req.baseUrl}/fhir/Encounter/${String(e.resource.id)}`, resource: e.resource, search: { mode: "match" } })),
  };
  event.centerIds = [...centerIds];
  event.participantIds = [...participants];
  const byCenter: Record<string, Set<string>> = {};
  for (const e of page) if (e.participantId) (byCenter[e.centerId] ??= new Set()).add(e.participantId);
  event.participantIdsByCenter = Object.fromEntries(Object.entries(byCenter).map(([c, ps]) => [c, [...ps]]));
  // An API client's accounting of disclosures, before the records leave (a failure answers 500).
  try {
    await logExportDisclosures(
      req.db,
      req.access,
      OPERATION,
      page.flatMap((e) => (e.participantId ? [e.row] : [])),
      now,
    );
  } catch (err) {
    await req.audit?.(event);
    throw err;
  }
  event.outcome = "ALLOWED";
  return done({ status: 200, headers: { "content-type": CONTENT_TYPE, "cache-control": "no-store" }, body: JSON.stringify(bundle) });
}
