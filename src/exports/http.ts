// Framework-neutral handlers: an export takes the parsed query, the request's access (who is
// asking) and the database, and answers a status, headers and a body that is either a string or
// an async iterable of chunks (streamed with back-pressure). src/server.ts mounts them on fastify
// (`reply.code(status).headers(headers).send(bodyOf(answer))`); a client that goes away destroys
// the stream, which closes its cursor.
import { Readable } from "node:stream";
import type { IncomingMessage } from "node:http";
import type { Access } from "../auth/access.js";
import type { Db } from "../db/client.js";

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
export function jsonError(status: number, code: string, message: string): ExportResponse {
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
