// Framework-neutral handlers: an export takes the parsed query, the request's access (who is
// asking) and the database, and answers a status, headers and a body that is either a string or
// an async iterable of chunks (streamed with back-pressure). src/server.ts mounts them on fastify
// (`reply.code(status).headers(headers).send(bodyOf(answer))`); a client that goes away destroys
// the stream, which closes its cursor.
import { Readable } from "node:stream";
import type { IncomingMessage } from "node:http";
import { eq } from "drizzle-orm";
import type { Access } from "../auth/access.js";
import { Codes, statusOf, type ErrorCode } from "../common/codes.js";
import { decodeId } from "../common/ids.js";
import { isCalendarDay } from "../common/scalars.js";
import type { Db } from "../db/client.js";
import { centers } from "../db/schema.js";
import { daysBetween } from "../sessions/timezone.js";

/** What an export records for the audit log (identifiers only). */
export interface ExportAuditEvent {
  operation: "export.attendance.csv" | "fhir.Encounter.search" | "export.services.csv" | "fhir.DocumentReference.search";
  /** The audit log's resource type (default Attendance). */
  resourceType?: "Attendance" | "ServiceRecord" | "SessionNote";
  action: "EXPORT";
  outcome: "ALLOWED" | "DENIED" | "ERROR";
  requestId: string;
  /** The centers read (empty when refused before any). */
  centerIds: string[];
  /** Participants whose records left in the answer. */
  participantIds: string[];
  /** The same, by center, when the answer spans several centers (FHIR). */
  participantIdsByCenter?: Record<string, string[]>;
}

export interface ExportRequest {
  query: URLSearchParams;
  /** The policy module for this request (its viewer may be null: 401). */
  access: Access;
  db: Db;
  requestId: string;
  /** This API's origin as the client reached it (FHIR links), e.g. `https://api.example.org`. */
  baseUrl: string;
  /**
   * The audit log's call site: called once per request, after the answer was sent (or refused,
   * or failed mid-way). The audit module writes the EXPORT entry from it.
   */
  audit?: (event: ExportAuditEvent) => void | Promise<void>;
}

export interface ExportResponse {
  status: number;
  headers: Record<string, string>;
  body: string | AsyncIterable<string>;
}

/**
 * A streamed answer whose client reads nothing for this long is dropped, which closes its cursor:
 * a stalled download must not hold a database connection and snapshot forever.
 */
export const STALLED_CLIENT_MS = 60_000;

/** The body to hand to the HTTP framework: a string, or a byte stream with back-pressure. */
export function bodyOf(answer: ExportResponse): string | Readable {
  return typeof answer.body === "string" ? answer.body : Readable.from(answer.body, { objectMode: false, highWaterMark: 64 * 1024 });
}

/** A JSON error in the shape the GraphQL endpoint uses. */
function jsonError(status: number, code: string, message: string): ExportResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...(status === 401 ? { "www-authenticate": "Bearer" } : {}) },
    body: JSON.stringify({ errors: [{ message, extensions: { code } }] }),
  };
}

/** The origin the client reached: its Host header (when well-formed) and the proxy's scheme. */
export function baseUrlOf(req: IncomingMessage): string {
  const host = req.headers.host ?? "";
  const scheme = req.headers["x-forwarded-proto"] === "https" ? "https" : "http";
  return `${scheme}://${/^[\w.-]{1,253}(:\d{1,5})?$|^\[[\da-fA-F:.]{2,45}\](:\d{1,5})?$/.test(host) ? host : "localhost"}`;
}

/** An error answer with the catalog's status for its code. */
export function refusal(code: ErrorCode, message: string): ExportResponse {
  return jsonError(statusOf(code), code, message);
}

/** The longest range of days one CSV export covers. */
const MAX_RANGE_DAYS = 366;

/** `centerId`, `from` and `to` (days, both ends included) of a CSV export over a center's days, or what is wrong. */
function centerDaysOf(query: URLSearchParams): { centerId: string; from: string; to: string } | { error: string } {
  for (const name of ["centerId", "from", "to"]) if (query.getAll(name).length > 1) return { error: `${name} must be given once` };
  const raw = query.get("centerId");
  if (!raw) return { error: "centerId is required (the id of a center)" };
  const centerId = decodeId(raw, "Center");
  if (!centerId) return { error: "centerId is not the id of a center" };
  const [from, to] = [query.get("from"), query.get("to")];
  for (const [name, value] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (!value) return { error: `${name} is required (a day, YYYY-MM-DD)` };
    const year = Number(value.slice(0, 4));
    if (!isCalendarDay(value) || year < 1900 || year > 2200) return { error: `${name} must be a day, YYYY-MM-DD` };
  }
  const span = daysBetween(from!, to!);
  if (span < 0) return { error: "from must not be after to" };
  if (span + 1 > MAX_RANGE_DAYS) return { error: `A range covers at most ${MAX_RANGE_DAYS} days; ask for it in parts` };
  return { centerId, from: from!, to: to! };
}

/**
 * The start every CSV export over a center's days shares: authenticated, its parameters well
 * formed, the center in the viewer's reach (outside it, a center reads exactly like a missing
 * one). A refusal is recorded (the event, DENIED) and answered; otherwise the event names the
 * center, and `refuse` answers a later refusal the same way.
 */
export async function openCenterExport(
  req: ExportRequest,
  event: ExportAuditEvent,
): Promise<
  { refused: ExportResponse } | { center: { id: string; name: string }; from: string; to: string; refuse: (answer: ExportResponse) => Promise<ExportResponse> }
> {
  const refuse = async (answer: ExportResponse) => {
    await req.audit?.(event);
    return answer;
  };
  if (!req.access.viewer) return { refused: await refuse(refusal(Codes.UNAUTHENTICATED, "Authentication required")) };
  const params = centerDaysOf(req.query);
  if ("error" in params) return { refused: await refuse(refusal(Codes.BAD_USER_INPUT, params.error)) };
  const notFound = async () => ({ refused: await refuse(refusal(Codes.NOT_FOUND, "No center with that id")) });
  if (!req.access.canSeeCenter(params.centerId)) return notFound();
  const [center] = await req.db.select({ id: centers.id, name: centers.name }).from(centers).where(eq(centers.id, params.centerId)).limit(1);
  if (!center) return notFound();
  event.centerIds = [center.id];
  return { center, from: params.from, to: params.to, refuse };
}
