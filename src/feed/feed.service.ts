// The attendance change feed: lossless under concurrent writes and rollbacks.
//
// Every attendance change writes a row of attendance_changes in its own transaction (feedStep, a
// write step of attendance), stamped with that transaction's id (`tx`, xid8) and a sequence. A
// reader is handed only rows of transactions older than every transaction still running
// (`tx < pg_snapshot_xmin(pg_current_snapshot())`), in (tx, seq) order: every such transaction has
// ended, so no row can later appear at a position already handed out. The price: the horizon is
// cluster-wide, and a long transaction anywhere on the server holds the feed back (feedLag).
//
// What a client gets: its centers' changes, of participants with an active consent naming it at the
// moment of the read (src/consents), plus the rows addressed to it when consent starts (the
// participant's records) or ends (one DELETE per record). Every record handed out is logged as a
// disclosure in the same transaction as the read.
import { eq, sql } from "drizzle-orm";
import type { AttendanceWriteStep } from "../attendance/attendance.service.js";
import type { ApiClientViewer } from "../auth/viewer.js";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { badInput } from "../common/errors.js";
import { toGlobalId } from "../common/ids.js";
import { asNode } from "../common/node.js";
import { rowsOf } from "../common/sql.js";
import type { PageInfo } from "../common/relay.js";
import type { Db, Tx } from "../db/client.js";
import { attendance, attendanceChanges, groups, participants, sessions, type AttendanceRow } from "../db/schema.js";
import { consentedAmong } from "../consents/consent.sql.js";
import { closeEndedConsentsOf } from "../consents/consent.service.js";
import { logDisclosures } from "../disclosures/disclosure.service.js";
import { AttendanceChangeType, type AttendanceChangeFeed, type AttendanceFeedChange } from "./feed.type.js";

/**
 * 42 CFR 2.32(a)(1): the notice that accompanies each disclosure made with the patient's consent (exports too).
 * @public
 */
export const DISCLOSURE_NOTICE =
  "This information has been disclosed to you from records protected by federal confidentiality rules (42 CFR part 2). " +
  "The federal rules prohibit you from making any further disclosure of information in this record that identifies a patient as having or " +
  "having had a substance use disorder either directly, by reference to publicly available information, or through verification of such " +
  "identification by another person unless further disclosure is expressly permitted by the written consent of the individual whose " +
  "information is being disclosed or as otherwise permitted by 42 CFR part 2. A general authorization for the release of medical or other " +
  "information is NOT sufficient for this purpose (see § 2.31). The federal rules restrict any use of the information to investigate or " +
  "prosecute with regard to a crime any patient with a substance use disorder, except as provided at §§ 2.12(c)(5) and 2.65.";

export const MAX_FEED_PAGE = 1000;
export const DEFAULT_FEED_PAGE = 100;

/** Every attendance change, in the change's transaction (added in src/steps.ts). */
export const feedStep: AttendanceWriteStep = async (tx, _context, writes) => {
  if (!writes.length) return;
  await tx.insert(attendanceChanges).values(
    writes.map(({ after }) => ({
      centerId: after.centerId,
      attendanceId: after.id,
      participantId: after.participantId,
      changeType: AttendanceChangeType.UPSERT,
      changedAt: after.recordedAt,
    })),
  );
};

export interface Position {
  tx: string;
  seq: number;
}

function encodeCursor(p: Position): string {
  return Buffer.from(`feed:${p.tx}:${p.seq}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): Position {
  const m = /^feed:(\d{1,20}):(\d{1,18})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw badInput("`after` is not a cursor of this feed", "after");
  return { tx: m[1], seq: Number(m[2]) };
}

interface ScannedRow extends Record<string, unknown> {
  seq: string | number;
  tx: string;
  change_type: string;
  changed_at: string | Date;
  attendance_id: string;
  participant_id: string;
  center_id: string;
  deliver: boolean;
}

export async function readFeed(ctx: Context, args: { after?: string | null; first?: number | null; operation: string }): Promise<AttendanceChangeFeed> {
  const client: ApiClientViewer = ctx.access.requireApiClientFeed();
  const first = args.first ?? DEFAULT_FEED_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_FEED_PAGE) throw badInput(`\`first\` must be between 1 and ${MAX_FEED_PAGE}`, "first");
  const after = args.after ? decodeCursor(args.after) : null;
  const centerIds = [...client.centerIds];
  const now = clock.now();
  // Consents that expired since the last read end now: their DELETEs commit before the page is read.
  await closeEndedConsentsOf(ctx.db, client.apiClientId, now);
  if (!centerIds.length) return page([], null, false, args.after ?? null);

  return ctx.db.transaction(async (tx) => {
    // The page, with the consent rule evaluated once per participant of the page (a semi-join on
    // the client's active consents), not once per change.
    const scanned = await rowsOf<ScannedRow>(
      tx,
      sql`
        with page as (
          select ch.seq, ch.tx, ch.change_type, ch.changed_at, ch.attendance_id, ch.participant_id, ch.center_id
          from ${attendanceChanges} ch
          where ch.tx < pg_snapshot_xmin(pg_current_snapshot())
            ${after ? sql`and (ch.tx, ch.seq) > (${after.tx}::xid8, ${after.seq}::bigint)` : sql``}
            and ch.center_id = any(${uuidArray(centerIds)}::uuid[])
            and (ch.recipient_api_client_id is null or ch.recipient_api_client_id = ${client.apiClientId})
          order by ch.tx, ch.seq
          limit ${first + 1}
        ),
        consented as (${consentedAmong(sql`(select distinct participant_id from page)`, client.apiClientId, now)})
        select p.seq, p.tx::text as tx, p.change_type, p.changed_at, p.attendance_id, p.participant_id, p.center_id,
          (p.change_type = 'DELETE' or p.participant_id in (select participant_id from consented)) as deliver
        from page p
        order by p.tx, p.seq`,
    );
    const hasNextPage = scanned.length > first;
    const window = scanned.slice(0, first);
    const delivered = window.filter((r) => r.deliver);
    const upsertIds = [...new Set(delivered.filter((r) => r.change_type === "UPSERT").map((r) => r.attendance_id))];
    // The records with their session, group and participant, in one statement, primed into the
    // request's loaders: the 1,000 edges' nested fields then read no more SQL.
    const records = upsertIds.length ? await prefetchRecords(tx, ctx, upsertIds) : [];
    const byId = new Map<string, AttendanceRow>(records.map((r) => [r.id, r]));
    // The accounting of disclosures, before the answer leaves: one row for the page (per center).
    await logDisclosures(
      tx,
      client.apiClientId,
      args.operation,
      records.map((r) => ({ centerId: r.centerId, participantId: r.participantId, attendanceId: r.id })),
      now,
    );
    const last = window[window.length - 1];
    const endCursor = last ? encodeCursor({ tx: last.tx, seq: Number(last.seq) }) : (args.after ?? null);
    const edges = delivered.map((r) => {
      const record = r.change_type === "UPSERT" ? (byId.get(r.attendance_id) ?? null) : null;
      const node: AttendanceFeedChange = {
        changeType: r.change_type as AttendanceChangeType,
        changedAt: new Date(r.changed_at),
        attendanceId: toGlobalId("Attendance", r.attendance_id),
        attendance: record ? asNode("Attendance", record) : null,
      };
      return { cursor: encodeCursor({ tx: r.tx, seq: Number(r.seq) }), node };
    });
    return page(edges, endCursor, hasNextPage, args.after ?? null);
  });
}

/** A uuid[] parameter as one text value (one bind parameter, however many ids; PGlite too). */
const uuidArray = (ids: readonly string[]): string => `{${ids.join(",")}}`;

/**
 * Attendance records with their participant, then their sessions with their group (two statements,
 * each row read once: a page's records share a few sessions), primed into the request's loaders.
 */
async function prefetchRecords(tx: Tx, ctx: Context, ids: string[]): Promise<AttendanceRow[]> {
  const { attendance: a, sessions: s, groups: g, participants: p } = ctx.loaders;
  const records = await tx
    .select({ a: attendance, p: participants })
    .from(attendance)
    .innerJoin(participants, eq(participants.id, attendance.participantId))
    .where(sql`${attendance.id} = any(${uuidArray(ids)}::uuid[])`);
  const sessionIds = [...new Set(records.map((r) => r.a.sessionId))];
  const sessionRows = sessionIds.length
    ? await tx
        .select({ s: sessions, g: groups })
        .from(sessions)
        .innerJoin(groups, eq(groups.id, sessions.groupId))
        .where(sql`${sessions.id} = any(${uuidArray(sessionIds)}::uuid[])`)
    : [];
  for (const row of records) {
    a.byId.prime(row.a.id, row.a);
    p.byId.prime(row.p.id, row.p);
    p.namesById.prime(row.p.id, row.p);
  }
  for (const row of sessionRows) {
    s.byId.prime(row.s.id, row.s);
    s.timesById.prime(row.s.id, row.s);
    g.byId.prime(row.g.id, row.g);
  }
  return records.map((r) => r.a);
}

function page(edges: AttendanceChangeFeed["edges"], endCursor: string | null, hasNextPage: boolean, after: string | null): AttendanceChangeFeed {
  const pageInfo: PageInfo = {
    hasNextPage,
    hasPreviousPage: after !== null,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: endCursor ?? after,
  };
  return { disclosureNotice: DISCLOSURE_NOTICE, pageInfo, edges, nodes: edges.map((e) => e.node) };
}

/**
 * How far behind the feed is, for the metrics: the age in seconds of the oldest transaction still
 * running (it holds the horizon back, whatever database of the cluster it writes), and the number
 * of changes written but not yet handed out.
 */
export async function feedLag(db: Db): Promise<{ oldestOpenTransactionSeconds: number; pendingChanges: number }> {
  const [row] = await rowsOf<{ oldest: string | number | null; pending: string | number }>(
    db,
    sql`select
      (select extract(epoch from (clock_timestamp() - min(xact_start))) from pg_stat_activity where backend_xid is not null) as oldest,
      (select count(*) from ${attendanceChanges} where tx >= pg_snapshot_xmin(pg_current_snapshot())) as pending`,
  );
  return { oldestOpenTransactionSeconds: Number(row.oldest ?? 0), pendingChanges: Number(row.pending) };
}
