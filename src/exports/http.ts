// Framework-neutral handlers: an export takes the parsed query, the request's access (who is
// asking) and the database, and answers a status, headers and a body that is either a string or
// an async iterable of chunks (streamed with back-pressure). `sendExport` writes one to a Node
// response (node:http or fastify's `reply.raw`); with fastify, `reply.code(status).headers(headers)
// .send(Readable.from(body))` does the same.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Access } from "../auth/access.js";
import type { Db } from "../db/client.js";

/** What an export records for the audit log (identifiers only). */
export interface ExportAuditEvent {
  operation: "export.attendance.csv" | "fhir.Encounter.search";
  action: "EXPORT";
  outcome: "ALLOWED" | "DENIED" | "ERROR";
  requestId: string;
  /** The centers read (empty when refused before any). */
  centerIds: string[];
  /** Participants whose records left in the answer. */
  participantIds: string[];
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
const STALLED_CLIENT_MS = 60_000;

/** Writes an export answer; a stream that fails mid-way aborts the response (never a clean end). */
export async function sendExport(res: ServerResponse, answer: ExportResponse, requestId: string): Promise<void> {
  res.statusCode = answer.status;
  for (const [key, value] of Object.entries(answer.headers)) res.setHeader(key, value);
  res.setHeader("x-request-id", requestId);
  if (typeof answer.body === "string") {
    res.end(answer.body);
    return;
  }
  res.setTimeout(STALLED_CLIENT_MS, () => res.destroy());
  try {
    await pipeline(Readable.from(answer.body, { objectMode: false, highWaterMark: 64 * 1024 }), res);
  } catch (err) {
    // The client went away: the source was closed (its cursor with it); nothing to report.
    if ((err as { code?: string }).code === "ERR_STREAM_PREMATURE_CLOSE") return;
    throw err;
  }
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
