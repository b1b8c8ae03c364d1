// The audit log: who touched which participant data, when, and with what outcome. Entries are
// built from what the policy module recorded during the request (Access.touches), written once
// per request in one statement (audit_append, drizzle/*_auditseal_sealer.sql: a plain insert, no
// lock, in the request's own transaction), and chained by hash later, by the one elected sealer
// (audit.sealer.ts, audit_seal):
//   digest = sha256(canonical JSON of the entry's content)        (here, stored with the entry)
//   hash   = sha256(prev_hash || digest), hex                      (audit_seal, in chain order)
// so `npm run audit:verify` (verifyAuditChain) can name the first entry that was changed, removed
// or inserted. Identifiers only: no names, notes or any other text from the request (the client
// address of an anonymous caller is kept, for reviewing failed access attempts).
import { createHash, randomUUID } from "node:crypto";
import { and, asc, desc, eq, gt, gte, inArray, isNotNull, lt, lte, sql, type SQL } from "drizzle-orm";
import type { AuditAction, AuditOutcome, Touch } from "../auth/access.js";
import type { Viewer } from "../auth/viewer.js";
import { clock } from "../common/clock.js";
import type { Db } from "../db/client.js";
import { auditEvents, type AuditEventRow } from "../db/schema.js";

/** PARTICIPANT: a member acting through their self check-in token (src/checkin); ANONYMOUS: a caller with no valid credentials. */
type ActorType = "STAFF" | "API_CLIENT" | "SYSTEM" | "PARTICIPANT" | "ANONYMOUS";

export interface Actor {
  type: ActorType;
  id: string | null;
}

/**
 * Who the entry is about: the one place that maps a viewer to an actor. A request with no valid
 * credentials (none, or invalid) is ANONYMOUS, with no id: its refusals are recorded with the
 * client's address.
 */
export function actorOf(viewer: Viewer | null): Actor {
  if (!viewer) return { type: "ANONYMOUS", id: null };
  switch (viewer.kind) {
    case "staff":
      return { type: "STAFF", id: viewer.staffId };
    case "apiClient":
      return { type: "API_CLIENT", id: viewer.apiClientId };
  }
}

export interface AuditEntry {
  id: string;
  occurredAt: Date;
  actorType: ActorType | null;
  actorId: string | null;
  /** The caller's address, for ANONYMOUS entries only (absent or null otherwise). */
  clientAddress?: string | null;
  centerId: string | null;
  action: AuditAction;
  resourceType: string;
  resourceId: string | null;
  participantIds: string[];
  operationName: string | null;
  requestId: string | null;
  outcome: AuditOutcome;
}

export const GENESIS_HASH = "0".repeat(64);

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/**
 * The canonical content of an entry, as hashed; the same from a new entry and from its row. The
 * client address (added with sealing) is appended only when there is one, so entries written
 * before it keep their digests.
 */
function canonical(e: AuditEntry): string {
  const content: unknown[] = [
    e.id,
    e.occurredAt.toISOString(),
    e.actorType,
    e.actorId,
    e.centerId,
    e.action,
    e.resourceType,
    e.resourceId,
    e.participantIds,
    e.operationName,
    e.requestId,
    e.outcome,
  ];
  if (e.clientAddress != null) content.push(e.clientAddress);
  return JSON.stringify(content);
}

const entryDigest = (e: AuditEntry) => sha256(canonical(e));
export const linkHash = (prevHash: string, digest: string) => sha256(prevHash + digest);

/**
 * The request's entries: one per (action, outcome, resource type, center), naming the resource
 * when it is the only one, with every participant touched. Reads of a resource the request also
 * wrote are left out (the write says it).
 */
export function entriesOf(
  touches: readonly Touch[],
  meta: { actor: Actor | null; operationName: string | null; requestId: string | null; clientAddress?: string | null },
): AuditEntry[] {
  const written = new Set(touches.filter((t) => t.action !== "READ" && t.action !== "DENIED" && t.resourceId).map((t) => `${t.resourceType}/${t.resourceId}`));
  const groups = new Map<string, { touch: Touch; resourceIds: Set<string>; participantIds: Set<string> }>();
  const occurredAt = clock.now();
  for (const t of touches) {
    if (t.action === "READ" && t.resourceId && written.has(`${t.resourceType}/${t.resourceId}`)) continue;
    const key = `${t.action}/${t.outcome}/${t.resourceType}/${t.centerId ?? ""}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { touch: t, resourceIds: new Set(), participantIds: new Set() }));
    if (t.resourceId) group.resourceIds.add(t.resourceId.toLowerCase());
    for (const p of t.participantIds) if (p) group.participantIds.add(p.toLowerCase());
  }
  return [...groups.values()].map(({ touch, resourceIds, participantIds }) => ({
    id: randomUUID(),
    occurredAt,
    actorType: meta.actor?.type ?? null,
    actorId: meta.actor?.id ?? null,
    clientAddress: meta.actor?.type === "ANONYMOUS" ? (meta.clientAddress ?? null) : null,
    centerId: touch.centerId,
    action: touch.action,
    resourceType: touch.resourceType,
    resourceId: resourceIds.size === 1 ? [...resourceIds][0] : null,
    participantIds: [...participantIds].sort(),
    operationName: meta.operationName,
    requestId: meta.requestId,
    outcome: touch.outcome,
  }));
}

/**
 * Writes a request's entries, unchained, with their digests: one statement (audit_append, a plain
 * insert, no lock), on the handle given, so in the request's own transaction when it has one. The
 * entries are chained by the sealer once their transaction has committed.
 */
/**
 * Writes what a request touched as its audit entries (entriesOf, then appendAuditEntries), the actor
 * from the viewer (ANONYMOUS, with the client's address, when there is none): the one way the
 * audit plugin, the exports and the live endpoint record a request.
 */
export function appendTouches(
  db: Db,
  touches: readonly Touch[],
  meta: { viewer: Viewer | null; operationName: string | null; requestId: string | null; clientAddress?: string | null },
): Promise<void> {
  return appendAuditEntries(
    db,
    entriesOf(touches, {
      actor: actorOf(meta.viewer),
      operationName: meta.operationName,
      requestId: meta.requestId,
      clientAddress: meta.clientAddress ?? null,
    }),
  );
}

export async function appendAuditEntries(db: Db, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const batch = entries.map((e) => ({ ...e, occurredAt: e.occurredAt.toISOString(), digest: entryDigest(e) }));
  await db.execute(sql`select audit_append(${JSON.stringify(batch)}::jsonb)`);
}

/** A text as an SQL literal; null when it holds what the JSON batch of audit_append could not carry either (NUL, a lone surrogate). */
function textLiteral(text: string | null): string | null {
  if (text === null) return "null";
  if (/\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) return null;
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * The READ entries of a read answered by one statement, written by that statement itself (its
 * data-modifying steps, so the read and its entries commit together, with no round trip of their
 * own): the common table expressions `audit_entries` and `audit_written`, to follow the
 * statement's own in its WITH, and the expression of how many entries were written. `touched`
 * names a relation of the objects read, one row per object and participant: `t` (resource type),
 * `r` (resource id), `c` (center id), `p` (a participant id or null), all text. The entries are
 * those `entriesOf` makes of the same READ touches (one per resource type and center, the resource
 * named when it is the only one, the participants sorted), with the same canonical content and
 * digest (built here in SQL as canonical() builds it), written through audit_append like any
 * other. Null when the request's own texts cannot be inlined: the caller then records the touches
 * as usual.
 */
export function readEntriesSql(
  touched: string,
  meta: { actor: Actor; operationName: string | null; requestId: string | null },
): { ctes: string; written: string } | null {
  if (meta.actor.type === "ANONYMOUS") return null; // (its entries carry the client address)
  const occurredAt = clock.now().toISOString();
  const [actorType, actorId, operationName, requestId] = [meta.actor.type, meta.actor.id, meta.operationName, meta.requestId].map(textLiteral);
  // The parts of the canonical text that are the request's, around those that are the objects'.
  const head = textLiteral(`","${occurredAt}",${JSON.stringify(meta.actor.type)},${JSON.stringify(meta.actor.id)},`);
  const tail = textLiteral(`,${JSON.stringify(meta.operationName)},${JSON.stringify(meta.requestId)},"ALLOWED"]`);
  if ([actorType, actorId, operationName, requestId, head, tail].some((l) => l === null)) return null;
  const quoted = (v: string) => `coalesce('"' || ${v} || '"', 'null')`;
  // canonical(): [id, occurredAt, actorType, actorId, centerId, action, resourceType, resourceId, participantIds, operationName, requestId, outcome]
  const canonicalText = `'["' || e.id || ${head} || ${quoted("e.c")} || ',"READ",' || to_json(e.t)::text || ',' || ${quoted("e.r")} || ',' || array_to_json(e.p)::text || ${tail}`;
  const entry = [
    `'id', e.id`,
    `'occurredAt', '${occurredAt}'`,
    `'actorType', ${actorType}`,
    `'actorId', ${actorId}`,
    `'clientAddress', null`,
    `'centerId', e.c`,
    `'action', 'READ'`,
    `'resourceType', e.t`,
    `'resourceId', e.r`,
    `'participantIds', to_jsonb(e.p)`,
    `'operationName', ${operationName}`,
    `'requestId', ${requestId}`,
    `'outcome', 'ALLOWED'`,
    `'digest', encode(sha256(convert_to(${canonicalText}, 'UTF8')), 'hex')`,
  ].join(", ");
  const ctes =
    `audit_entries as materialized (select gen_random_uuid()::text as id, g.t, g.c, g.r, g.p from (` +
    `select x.t, x.c, case when min(lower(x.r)) = max(lower(x.r)) then min(lower(x.r)) end as r, ` +
    `coalesce(array_agg(distinct x.p::uuid order by x.p::uuid) filter (where x.p is not null), '{}') as p ` +
    `from ${touched} x group by x.t, x.c) g), ` +
    `audit_written as materialized (select audit_append(b.entries) as appended, jsonb_array_length(b.entries) as n from ` +
    `(select jsonb_agg(jsonb_build_object(${entry})) as entries from audit_entries e) b where b.entries is not null)`;
  return { ctes, written: `(select coalesce(sum(n), 0) from audit_written)::int` };
}

function entryOfRow(row: AuditEventRow): AuditEntry {
  return {
    id: row.id,
    occurredAt: row.occurredAt,
    actorType: row.actorType as ActorType | null,
    actorId: row.actorId,
    clientAddress: row.clientAddress,
    centerId: row.centerId,
    action: row.action as AuditAction,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    participantIds: row.participantIds,
    operationName: row.operationName,
    requestId: row.requestId,
    outcome: row.outcome as AuditOutcome,
  };
}

export interface ChainReport {
  /** Sealed entries checked, in chain order. */
  checked: number;
  /** The first broken link, if any: the entry whose hash or link does not hold. */
  broken?: { chainSeq: number; id: string; reason: string };
}

/** Walks the chain in order (chain_seq), in pages, and stops at the first broken link. Unsealed entries are not part of it yet. */
export async function verifyAuditChain(db: Db, opts: { pageSize?: number; onLink?: (chainSeq: number, hash: string) => void } = {}): Promise<ChainReport> {
  const pageSize = opts.pageSize ?? 1000;
  let prevHash = GENESIS_HASH;
  let after = 0;
  let checked = 0;
  for (;;) {
    const rows = await db
      .select()
      .from(auditEvents)
      .where(and(isNotNull(auditEvents.chainSeq), gt(auditEvents.chainSeq, after)))
      .orderBy(asc(auditEvents.chainSeq))
      .limit(pageSize);
    for (const row of rows) {
      const chainSeq = row.chainSeq!;
      const broken = (reason: string): ChainReport => ({ checked, broken: { chainSeq, id: row.id, reason } });
      if (chainSeq !== checked + 1) return broken(`it follows position ${checked} (an entry was removed or renumbered)`);
      if (row.prevHash !== prevHash) return broken("its prev_hash is not the hash of the entry before it (an entry was removed, inserted or rehashed)");
      const digest = entryDigest(entryOfRow(row));
      if (row.digest !== null && row.digest !== digest) return broken("its content does not match its digest (the entry was changed)");
      if (row.hash !== linkHash(prevHash, digest)) return broken("its content does not match its hash (the entry was changed)");
      prevHash = row.hash;
      checked++;
      opts.onLink?.(chainSeq, row.hash);
    }
    if (rows.length < pageSize) return { checked };
    after = rows[rows.length - 1].chainSeq!;
  }
}

export interface AuditFilter {
  /** "ALL", or the centers whose entries may be read. */
  scope: "ALL" | string[];
  actorType?: ActorType | null;
  actorId?: string | null;
  participantId?: string | null;
  from?: Date | null;
  to?: Date | null;
  action?: AuditAction | null;
}

/**
 * A page of entries, newest first (seq descending): `first` entries older than `afterSeq`; or,
 * with `newestFirst` false (`last`), the `first` oldest entries newer than `beforeSeq`, still
 * returned newest first. Plus the total.
 */
export async function listAuditEvents(
  db: Db,
  f: AuditFilter,
  page: { first: number; newestFirst: boolean; afterSeq: number | null; beforeSeq: number | null },
) {
  const conds: SQL[] = [];
  if (f.scope !== "ALL") conds.push(f.scope.length ? inArray(auditEvents.centerId, f.scope) : sql`false`);
  if (f.actorType) conds.push(eq(auditEvents.actorType, f.actorType));
  if (f.actorId) conds.push(eq(auditEvents.actorId, f.actorId));
  if (f.participantId) conds.push(sql`${auditEvents.participantIds} @> array[${f.participantId}]::uuid[]`);
  if (f.from) conds.push(gte(auditEvents.occurredAt, f.from));
  if (f.to) conds.push(lte(auditEvents.occurredAt, f.to));
  if (f.action) conds.push(eq(auditEvents.action, f.action));
  const where = and(...conds);
  const pageConds = [where];
  if (page.afterSeq !== null) pageConds.push(lt(auditEvents.seq, page.afterSeq));
  if (page.beforeSeq !== null) pageConds.push(gt(auditEvents.seq, page.beforeSeq));
  const [rows, [{ count }]] = await Promise.all([
    db
      .select()
      .from(auditEvents)
      .where(and(...pageConds))
      .orderBy(page.newestFirst ? desc(auditEvents.seq) : asc(auditEvents.seq))
      .limit(page.first + 1),
    db
      .select({ count: sql<number>`count(*)::int` })
      .from(auditEvents)
      .where(where),
  ]);
  const taken = rows.slice(0, page.first);
  return { rows: page.newestFirst ? taken : taken.reverse(), hasMore: rows.length > page.first, totalCount: Number(count) };
}
