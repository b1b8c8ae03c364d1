// FHIR R4: GET /fhir/DocumentReference?date=ge2026-01-01&date=lt2026-02-01&_count=50 — a searchset
// Bundle of signed group session notes, one DocumentReference per member and note: the member's
// chart entry (the shared part, that member's own part and addenda; never another member's). `date`
// is the note's signature (DocumentReference.date); a date without a zone is read in the center's.
// Staff read what they may read of participants (src/exports/scope.ts); an API client only the
// entries of members with an active consent naming it whose information includes GROUP_NOTES, each
// logged in the accounting of disclosures before it leaves, with the 42 CFR 2.32 notice in every
// resource (its security label and the document's first lines).
import { sql, type SQL } from "drizzle-orm";
import { clock } from "../common/clock.js";
import { rowsOf } from "../common/sql.js";
import { activeConsentCondition } from "../consents/consent.sql.js";
import { logDisclosures } from "../disclosures/disclosure.service.js";
import { DISCLOSURE_NOTICE } from "../feed/feed.service.js";
import { CHART_COLUMNS, CHART_FROM, chartRow, isAttended } from "../notes/notes.sql.js";
import { isoInZone } from "./attendance.csv.js";
import { ACT_CODE, BadParam, billingCoding, CONTENT_TYPE, encodeCursor, MICROS, outcome, parseSearch, UUID, type Search } from "./fhir.js";
import type { ExportAuditEvent, ExportRequest, ExportResponse } from "./http.js";
import type { StartBound } from "./rows.js";
import { exportScope } from "./scope.js";

const OPERATION = "fhir.DocumentReference.search";

type Json = Record<string, unknown>;

interface EntryRow {
  memberId: string;
  noteId: string;
  sessionId: string;
  centerId: string;
  participantId: string;
  sessionStartsAt: Date;
  sessionEndsAt: Date;
  groupName: string;
  serviceCode: string | null;
  status: string;
  signedAt: Date | null;
  signedUs: string;
  topic: string | null;
  interventions: string | null;
  groupSummary: string | null;
  attendanceStatus: string | null;
  minutesAttended: number | null;
  participation: string | null;
  progress: string | null;
  plan: string | null;
  risk: string | null;
  attendanceId: string | null;
  externalId: string | null;
  timezone: string;
  centerName: string;
}

interface Addendum {
  noteId: string;
  participantId: string | null;
  kind: string;
  text: string;
  reason: string;
  createdAt: Date;
}

/** Where a page starts: after this (signature instant, member part). */
interface Key {
  signedUs: string;
  memberId: string;
}

/** A DocumentReference page's cursor: the signature instant (microseconds) and the member part after which it goes on. */
function documentKey(parts: unknown[]): Key | null {
  const [signedUs, memberId] = parts;
  return parts.length === 2 && typeof signedUs === "string" && MICROS.test(signedUs) && typeof memberId === "string" && UUID.test(memberId)
    ? { signedUs, memberId }
    : null;
}

const documentCursor = (k: Key) => encodeCursor([k.signedUs, k.memberId]);

const bound = (b: StartBound): SQL => (b.kind === "instant" ? sql`${b.at.toISOString()}::timestamptz` : sql`(${b.at}::timestamp at time zone c.timezone)`);
const SIGNED_US = sql`(extract(epoch from n.signed_at) * 1000000)::bigint`;

/** The member's chart entry as text: the notice, the shared part, the member's part, the addenda. */
function documentText(r: EntryRow, addenda: Addendum[]): string {
  const line = (label: string, value: string | number | null) => (value === null || value === "" ? [] : [`${label}: ${value}`]);
  return [
    DISCLOSURE_NOTICE,
    "",
    `Group session note (${r.status === "SIGNED" ? "signed" : "signed, awaiting co-signature"})`,
    ...line("Group", r.groupName),
    `Session: ${isoInZone(r.sessionStartsAt.getTime(), r.timezone)} to ${isoInZone(r.sessionEndsAt.getTime(), r.timezone)}`,
    ...line("Service code", r.serviceCode),
    ...line("Topic", r.topic),
    ...line("Interventions", r.interventions),
    ...line("Group summary", r.groupSummary),
    ...line("Attendance", r.attendanceStatus ? `${r.attendanceStatus}${r.minutesAttended !== null ? `, ${r.minutesAttended} minutes` : ""}` : null),
    ...line("Participation", r.participation),
    ...line("Progress", r.progress),
    ...line("Plan", r.plan),
    ...line("Risk", r.risk),
    ...addenda.map((a) => `${a.kind} (${isoInZone(a.createdAt.getTime(), r.timezone)}): ${a.text} Reason: ${a.reason}`),
  ].join("\n");
}

function documentReference(r: EntryRow, addenda: Addendum[]): Json {
  const security = [{ system: ACT_CODE, code: "42CFRPart2", display: "42 CFR Part2" }];
  return {
    resourceType: "DocumentReference",
    id: r.memberId,
    meta: { security },
    identifier: [{ system: "urn:ietf:rfc:3986", value: `urn:uuid:${r.noteId}` }],
    status: "current",
    docStatus: r.status === "SIGNED" ? "final" : "preliminary",
    type: { coding: [{ system: "http://loinc.org", code: "11506-3", display: "Progress note" }], text: "Group session note" },
    category: [{ text: "Group psychotherapy / peer support session" }],
    subject: {
      type: "Patient",
      identifier: r.externalId
        ? { system: `urn:uuid:${r.centerId}`, value: r.externalId }
        : { system: "urn:ietf:rfc:3986", value: `urn:uuid:${r.participantId}` },
    },
    date: r.signedAt!.toISOString(),
    custodian: { display: r.centerName },
    description: "Group session note: the shared part and this member's own part",
    securityLabel: [{ coding: security, text: DISCLOSURE_NOTICE }],
    content: [
      {
        attachment: {
          contentType: "text/plain; charset=utf-8",
          language: "en",
          data: Buffer.from(documentText(r, addenda), "utf8").toString("base64"),
          title: `Group session note, ${r.groupName}`,
          creation: r.signedAt!.toISOString(),
        },
      },
    ],
    context: {
      // The member's Encounter (GET /fhir/Encounter) exists for attended records only.
      ...(r.attendanceId && isAttended(r.attendanceStatus) ? { encounter: [{ reference: `Encounter/${r.attendanceId}` }] } : {}),
      period: { start: isoInZone(r.sessionStartsAt.getTime(), r.timezone), end: isoInZone(r.sessionEndsAt.getTime(), r.timezone) },
      ...(r.serviceCode ? { practiceSetting: { coding: [billingCoding(r.serviceCode)] } } : {}),
    },
  };
}

export async function searchDocumentReferences(req: ExportRequest): Promise<ExportResponse> {
  const event: ExportAuditEvent = {
    operation: OPERATION,
    resourceType: "SessionNote",
    action: "EXPORT",
    outcome: "DENIED",
    requestId: req.requestId,
    centerIds: [],
    participantIds: [],
  };
  const done = async (answer: ExportResponse) => {
    await req.audit?.(event);
    return answer;
  };
  if (!req.access.viewer) return done(outcome(401, "login", "Authentication required"));
  let search: Search<Key>;
  try {
    search = parseSearch(req.query, documentKey);
  } catch (err) {
    if (err instanceof BadParam) return done(outcome(400, "invalid", err.message));
    throw err;
  }
  const scope = exportScope(req.access);
  if (!scope) return done(outcome(403, "forbidden", "Your role does not allow reading participants' notes"));
  event.centerIds = scope.centerIds === "ALL" ? [] : scope.centerIds;

  // Consent (GROUP_NOTES) is judged at the moment of the read; staff read every entry in scope.
  const now = clock.now();
  const client = req.access.apiClient;
  const conditions: SQL[] = [scope.condition];
  for (const b of search.from) conditions.push(sql`n.signed_at >= ${bound(b)}`);
  for (const b of search.before) conditions.push(sql`n.signed_at < ${bound(b)}`);
  if (client) conditions.push(activeConsentCondition(sql`m.participant_id`, client.apiClientId, now, "GROUP_NOTES"));
  if (search.key) conditions.push(sql`(${SIGNED_US}, m.id) > (${search.key.signedUs}::bigint, ${search.key.memberId}::uuid)`);
  event.outcome = "ERROR";
  let rows: EntryRow[];
  let addenda: Addendum[];
  try {
    rows = (
      await rowsOf<EntryRow>(
        req.db,
        sql`select ${CHART_COLUMNS}, m.id as "memberId", ${SIGNED_US}::text as "signedUs", s.ends_at as "sessionEndsAt",
              a.id as "attendanceId", p.external_id as "externalId", c.timezone, c.name as "centerName"
            from ${CHART_FROM}
            join participants p on p.id = m.participant_id
            join centers c on c.id = n.center_id
            where ${sql.join(conditions, sql` and `)}
            order by n.signed_at, m.id
            limit ${search.count + 1}`,
      )
    ).map((r) => ({ ...chartRow(r), sessionEndsAt: new Date(r.sessionEndsAt as unknown as string) }));
    const noteIds = [...new Set(rows.map((r) => r.noteId))];
    addenda = noteIds.length
      ? (
          await rowsOf<Addendum>(
            req.db,
            sql`select note_id as "noteId", participant_id as "participantId", kind, text, reason, created_at as "createdAt"
                from note_addenda where note_id in (${sql.join(
                  noteIds.map((id) => sql`${id}::uuid`),
                  sql`, `,
                )}) order by seq`,
          )
        ).map((a) => ({ ...a, createdAt: new Date(a.createdAt as unknown as string) }))
      : [];
  } catch (err) {
    await req.audit?.(event);
    throw err;
  }
  const more = rows.length > search.count;
  const page = rows.slice(0, search.count);
  const entries = page.map((r) => ({
    fullUrl: `${req.baseUrl}/fhir/DocumentReference/${r.memberId}`,
    resource: documentReference(
      r,
      addenda.filter((a) => a.noteId === r.noteId && (a.participantId === null || a.participantId === r.participantId)),
    ),
    search: { mode: "match" },
  }));
  const link = (params: Array<[string, string]>) => `${req.baseUrl}/fhir/DocumentReference?${new URLSearchParams(params).toString()}`;
  const links = [{ relation: "self", url: link(search.key ? [...search.applied, ["_cursor", documentCursor(search.key)]] : search.applied) }];
  if (more) {
    const last = page[page.length - 1];
    links.push({ relation: "next", url: link([...search.applied, ["_cursor", documentCursor({ signedUs: last.signedUs, memberId: last.memberId })]]) });
  }
  const byCenter: Record<string, Set<string>> = {};
  for (const r of page) (byCenter[r.centerId] ??= new Set()).add(r.participantId);
  event.centerIds = Object.keys(byCenter);
  event.participantIds = [...new Set(page.map((r) => r.participantId))];
  event.participantIdsByCenter = Object.fromEntries(Object.entries(byCenter).map(([c, ps]) => [c, [...ps]]));
  // An API client's accounting of disclosures, before the entries leave (a failure answers 500).
  if (client) {
    try {
      await logDisclosures(
        req.db,
        client.apiClientId,
        OPERATION,
        page.map((r) => ({ centerId: r.centerId, participantId: r.participantId, noteId: r.noteId })),
        now,
      );
    } catch (err) {
      await req.audit?.(event);
      throw err;
    }
  }
  const bundle = {
    resourceType: "Bundle",
    meta: { security: [{ system: ACT_CODE, code: "42CFRPart2", display: "42 CFR Part2" }] },
    type: "searchset",
    timestamp: now.toISOString(),
    link: links,
    entry: entries,
  };
  event.outcome = "ALLOWED";
  return done({ status: 200, headers: { "content-type": CONTENT_TYPE, "cache-control": "no-store" }, body: JSON.stringify(bundle) });
}
