// The integrators' feed in the benchmark: an API client of every center with an active consent for
// every participant, one change row per attendance record (set-based, as the generator), and a
// full drain of `attendanceChanges` in pages of 1,000 that checks every page.
import { issueApiKey } from "../../src/auth/apikeys.js";
import type { Db } from "../../src/db/client.js";
import { run } from "./generate.js";
import { operationText } from "./operations.js";

const FEED_CLIENT_NAME = "bench feed client";

/** The client's key, and the changes written for it to drain (kept when the database is reused). */
export async function seedFeed(db: Db): Promise<{ apiKey: string; changes: number; seconds: number }> {
  const t0 = performance.now();
  const existing = await run<{ id: string }>(db, `select id from api_clients where name = '${FEED_CLIENT_NAME}' limit 1`);
  let clientId = existing[0]?.id;
  if (!clientId) {
    [{ id: clientId }] = await run<{ id: string }>(
      db,
      `insert into api_clients (name, scopes) values ('${FEED_CLIENT_NAME}', '{ATTENDANCE_READ}') returning id`,
    );
    await run(db, `insert into api_client_centers (center_id, api_client_id) select id, '${clientId}' from centers`);
    await run(
      db,
      `insert into consents (center_id, participant_id, api_client_id, purpose, information, signed_on)
       select p.center_id, p.id, '${clientId}', 'bench', '{ATTENDANCE}', current_date from participants p`,
    );
    // One UPSERT per attendance record, in one transaction (as a bulk import would write them).
    await run(
      db,
      `insert into attendance_changes (center_id, attendance_id, participant_id, change_type, changed_at)
       select a.center_id, a.id, a.participant_id, 'UPSERT', a.recorded_at from attendance a order by a.recorded_at, a.id`,
    );
    await run(db, "analyze attendance_changes; analyze consents");
  }
  const { key } = await issueApiKey(db, clientId);
  const [{ n }] = await run<{ n: number }>(db, `select count(*)::int as n from attendance_changes`);
  return { apiKey: key, changes: Number(n), seconds: (performance.now() - t0) / 1000 };
}

/** The contract's AttendanceChanges (test/operations/integrator.graphql): each record with its session, group and participant. */
export const FEED_QUERY = operationText("integrator.graphql", "AttendanceChanges");

interface DrainResult {
  pages: number;
  changes: number;
  seconds: number;
  changesPerSecond: number;
  responseBytes: number;
  /** Per page, milliseconds. */
  p50: number;
  p99: number;
}

/** Pulls the whole feed from the start in pages of `first`; every page must carry data, a notice and whole records. */
export async function drainFeed(url: string, apiKey: string, first = 1000, onPage?: () => void): Promise<DrainResult> {
  let after: string | null = null;
  let pages = 0;
  let changes = 0;
  let responseBytes = 0;
  const times: number[] = [];
  const t0 = performance.now();
  for (;;) {
    const t = performance.now();
    const res = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query: FEED_QUERY, variables: { after, first } }),
    });
    const text = await res.text();
    times.push(performance.now() - t);
    responseBytes += Buffer.byteLength(text);
    const body = JSON.parse(text) as { data?: any; errors?: unknown[] };
    if (res.status !== 200 || body.errors || !body.data) throw new Error(`feed page ${pages + 1}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    const feed = body.data.attendanceChanges;
    if (!feed.disclosureNotice) throw new Error("feed page without its disclosure notice");
    for (const e of feed.edges) {
      if (e.node.changeType === "UPSERT" && !e.node.attendance?.session?.group?.name) throw new Error("feed change without its record");
    }
    pages++;
    changes += feed.edges.length;
    onPage?.();
    after = feed.pageInfo.endCursor;
    if (!feed.pageInfo.hasNextPage) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { pages, changes, seconds, changesPerSecond: changes / seconds, responseBytes: responseBytes / pages, p50: at(0.5), p99: at(0.99) };
}
