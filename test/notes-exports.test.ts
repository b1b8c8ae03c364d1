// The notes' exports over real HTTP: GET /exports/services.csv (the attendance CSV's rules: RFC 4180,
// the formula guard, audited, API clients only under a consent covering SERVICES) and GET
// /fhir/DocumentReference (a member's chart entry per note, validated against the FHIR R4 schema,
// API clients only under a consent covering GROUP_NOTES, logged as disclosed, with the 42 CFR 2.32
// notice; never another member's part or name).
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { fromGlobalId } from "../src/common/ids.js";
import { DISCLOSURE_NOTICE } from "../src/feed/feed.service.js";
import { fhirErrors } from "./support/fhir.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { createApiClient } from "./support/integrators.js";
import { notesWorld, recordAttendance, send, type NotesWorld } from "./support/notes.js";
import { operation } from "./support/operations.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();
const rows = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;
const uuid = (globalId: string) => fromGlobalId(globalId)!.id;

async function get(path: string, token: string | null) {
  const requestId = randomUUID();
  const res = await fetch(`${t.server.url}${path}`, { headers: { "x-request-id": requestId, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  return { status: res.status, text: await res.text(), requestId, type: res.headers.get("content-type") };
}

/** A world whose first session's note is signed: Sam and José PRESENT, J LATE 45 min, Faith ABSENT; Sam's external id is a formula. */
async function signedWorld(): Promise<NotesWorld> {
  const org = await asOrgAdmin(t.server);
  const w = await notesWorld(org);
  await org.mutate("updateParticipant", { participantId: w.members.sam, externalId: "=HYPERLINK(1)" }, "participant { id }");
  await recordAttendance(t.server, w.tokens.FACILITATOR, w.sessions[0], [
    { participantId: w.members.sam, status: "PRESENT" },
    { participantId: w.members.jose, status: "PRESENT" },
    { participantId: w.members.faith, status: "ABSENT" },
    { participantId: w.members.j, status: "LATE", minutesAttended: 45 },
  ]);
  const saved = await send(
    t.server,
    "SaveSessionNote",
    {
      input: {
        sessionId: w.sessions[0],
        groupSummary: "Refusal skills, in pairs.",
        members: [
          { participantId: w.members.sam, participation: "ACTIVE", progress: "SAM-PART: two triggers named." },
          { participantId: w.members.jose, participation: "MINIMAL", progress: "JOSE-PART: listened." },
          { participantId: w.members.j, participation: "ACTIVE", progress: "J-PART: arrived late." },
        ],
      },
    },
    w.tokens.FACILITATOR,
  );
  const note = saved.data.saveSessionNote.note;
  const signed = await send(t.server, "SignSessionNote", { input: { noteId: note.id, version: note.version } }, w.tokens.FACILITATOR);
  expect(signed.data.signSessionNote.userErrors).toEqual([]);
  return w;
}

async function consent(w: NotesWorld, participantId: string, recipientId: string, information: string[]) {
  const res = await t.server.gql(
    operation("integrator.graphql", "RecordConsent"),
    { input: { participantId, recipientId, purpose: "Care coordination", information } },
    { token: w.tokens.CLINICIAN },
  );
  expect(res.errors).toBeUndefined();
  expect(res.data.recordConsent.userErrors).toEqual([]);
}

const csvPath = (w: NotesWorld) => `/exports/services.csv?centerId=${encodeURIComponent(w.centerId)}&from=2026-01-01&to=2026-01-31`;
const FHIR = "/fhir/DocumentReference?date=ge2026-01-01&date=lt2026-02-01";

describe("GET /exports/services.csv", () => {
  it("gives clinicians and admins a header and one claim line per service record, formulas guarded, audited as EXPORT", async () => {
    const w = await signedWorld();
    const res = await get(csvPath(w), w.tokens.CLINICIAN);
    expect(res.status).toBe(200);
    expect(res.type).toContain("text/csv");
    const lines = res.text.split("\r\n").filter(Boolean);
    expect(lines[0]).toBe(
      "service_record_id,status,replaces_service_record_id,date_of_service,place_of_service,service_code,modifiers,units,minutes,participant_external_id," +
        "participant_date_of_birth,rendering_provider,rendering_provider_credential,supervising_provider,supervising_provider_credential,center,program,group,session_start",
    );
    expect(lines).toHaveLength(4);
    const sam = lines.find((l) => l.includes("HYPERLINK"))!;
    // The formula guard, then quoting (the value holds no comma: only the guard applies)
    expect(sam).toContain(",'=HYPERLINK(1),");
    expect(sam).toContain(",ACTIVE,,2026-01-06,11,90853,HQ,6,90,");
    expect(sam).toContain(",fac,CADC-I,,,Harbor House,Group therapy,Tuesday group,2026-01-06T18:00:00-05:00");
    const [audit] = rows(
      await t.server.database.db.execute(
        sql`select action, resource_type, operation_name, participant_ids from audit_events where request_id = ${res.requestId}`,
      ),
    );
    expect(audit).toMatchObject({ action: "EXPORT", resource_type: "ServiceRecord", operation_name: "export.services.csv" });
    expect([...(audit.participant_ids as string[])].sort()).toEqual([w.members.sam, w.members.jose, w.members.j].map(uuid).sort());
  });

  it("refuses facilitators and viewers (403), a center out of reach (404), bad ranges (400), no credentials (401)", async () => {
    const w = await signedWorld();
    expect((await get(csvPath(w), w.tokens.FACILITATOR)).status).toBe(403);
    expect((await get(csvPath(w), w.tokens.VIEWER)).status).toBe(403);
    expect((await get(csvPath(w), null)).status).toBe(401);
    expect((await get(`/exports/services.csv?centerId=${encodeURIComponent(w.centerId)}&from=2026-02-01&to=2026-01-01`, w.tokens.ADMIN)).status).toBe(400);
    const elsewhere = await asOrgAdmin(t.server).then((org) => org.createCenter("Elsewhere"));
    expect((await get(`/exports/services.csv?centerId=${encodeURIComponent(elsewhere)}&from=2026-01-01&to=2026-01-31`, w.tokens.ADMIN)).status).toBe(404);
  });

  it("gives an API client only the records of members whose consent covers SERVICES, and logs them as disclosed", async () => {
    const w = await signedWorld();
    const org = await asOrgAdmin(t.server);
    const client = await createApiClient(org, w.tokens.ADMIN, { name: "Biller", centerIds: [w.centerId], scopes: ["ATTENDANCE_READ"] });
    expect((await get(csvPath(w), client.key)).text.split("\r\n").filter(Boolean)).toHaveLength(1);
    await consent(w, w.members.jose, client.id, ["ATTENDANCE"]);
    await consent(w, w.members.j, client.id, ["SERVICES"]);
    const lines = (await get(csvPath(w), client.key)).text.split("\r\n").filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain("MRN-J");
    const disclosed = rows(
      await t.server.database.db.execute(
        sql`select array_to_string(participant_ids, ',') as participant_ids, operation, cardinality(service_record_ids) as n from disclosures where api_client_id = ${uuid(client.id)}::uuid`,
      ),
    );
    expect(disclosed).toEqual([{ participant_ids: uuid(w.members.j), operation: "export.services.csv", n: 1 }]);
  });
});

describe("GET /fhir/DocumentReference", () => {
  it("answers staff with one valid R4 DocumentReference per member and signed note, holding only that member's part", async () => {
    const w = await signedWorld();
    // A facilitator of another group reads none; a viewer is refused
    expect(JSON.parse((await get(FHIR, w.tokens.FAC_OTHER)).text).entry ?? []).toHaveLength(0);
    expect((await get(FHIR, w.tokens.VIEWER)).status).toBe(403);
    const res = await get(FHIR, w.tokens.CLINICIAN);
    expect(res.status).toBe(200);
    const bundle = JSON.parse(res.text);
    expect(fhirErrors(bundle)).toEqual([]);
    expect(bundle.entry).toHaveLength(4);
    for (const { resource } of bundle.entry) {
      expect(fhirErrors(resource)).toEqual([]);
      expect(resource).toMatchObject({ resourceType: "DocumentReference", status: "current", docStatus: "final", date: "2026-01-07T15:00:00.000Z" });
      expect(resource.securityLabel[0].text).toBe(DISCLOSURE_NOTICE);
      const text = Buffer.from(resource.content[0].attachment.data, "base64").toString("utf8");
      expect(text.startsWith(DISCLOSURE_NOTICE)).toBe(true);
      expect(text).toContain("Refusal skills, in pairs.");
      const own = resource.subject.identifier.value as string;
      const parts = { "=HYPERLINK(1)": "SAM-PART", "MRN-JOSE": "JOSE-PART", "MRN-J": "J-PART", "MRN-FAITH": null } as Record<string, string | null>;
      for (const [ext, part] of Object.entries(parts)) {
        if (!part) continue;
        if (ext === own) expect(text).toContain(part);
        else expect(text).not.toContain(part);
      }
      for (const name of ["Sam", "Rivera", "José", "Núñez", "Faith", "Morgan", "Okafor"]) expect(text).not.toContain(name);
    }
  });

  it("gives an API client only the entries of members whose consent covers GROUP_NOTES, logged as disclosed", async () => {
    const w = await signedWorld();
    const org = await asOrgAdmin(t.server);
    const client = await createApiClient(org, w.tokens.ADMIN, { name: "EHR", centerIds: [w.centerId], scopes: ["ATTENDANCE_READ"] });
    await consent(w, w.members.sam, client.id, ["ATTENDANCE"]);
    const none = JSON.parse((await get(FHIR, client.key)).text);
    expect(none.entry ?? []).toHaveLength(0);
    await consent(w, w.members.jose, client.id, ["ATTENDANCE", "GROUP_NOTES"]);
    const res = await get(FHIR, client.key);
    const bundle = JSON.parse(res.text);
    expect(fhirErrors(bundle)).toEqual([]);
    expect(bundle.entry.map((e: any) => e.resource.subject.identifier.value)).toEqual(["MRN-JOSE"]);
    const disclosed = rows(
      await t.server.database.db.execute(
        sql`select array_to_string(participant_ids, ',') as participant_ids, operation, note_ids from disclosures where api_client_id = ${uuid(client.id)}::uuid`,
      ),
    );
    expect(disclosed).toHaveLength(1);
    expect(disclosed[0]).toMatchObject({ participant_ids: uuid(w.members.jose), operation: "fhir.DocumentReference.search" });
    const [audit] = rows(
      await t.server.database.db.execute(sql`select action, actor_type, resource_type from audit_events where request_id = ${res.requestId}`),
    );
    expect(audit).toEqual({ action: "EXPORT", actor_type: "API_CLIENT", resource_type: "SessionNote" });
  });

  it("an API client reads no note through GraphQL, with or without a GROUP_NOTES consent, and calls no notes mutation", async () => {
    const w = await signedWorld();
    const org = await asOrgAdmin(t.server);
    const client = await createApiClient(org, w.tokens.ADMIN, { name: "EHR", centerIds: [w.centerId], scopes: ["ATTENDANCE_READ", "PARTICIPANT_READ"] });
    await consent(w, w.members.sam, client.id, ["ATTENDANCE", "GROUP_NOTES"]);
    const note = await send(t.server, "SessionNote", { sessionId: w.sessions[0] }, client.key);
    expect(note.data?.node?.note ?? null).toBeNull();
    const chart = await send(t.server, "ParticipantChart", { participantId: w.members.sam }, client.key);
    expect(chart.data?.node?.chartNotes ?? null).toBeNull();
    const save = await send(t.server, "SaveSessionNote", { input: { sessionId: w.sessions[0], version: 2, topic: "x" } }, client.key);
    expect(save.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const records = await send(t.server, "ServiceRecords", { centerId: w.centerId, from: "2026-01-01", to: "2026-01-31" }, client.key);
    expect(records.data?.center?.serviceRecords ?? null).toBeNull();
  });

  it("pages with next links", async () => {
    const w = await signedWorld();
    const first = JSON.parse((await get(`${FHIR}&_count=3`, w.tokens.CLINICIAN)).text);
    expect(first.entry).toHaveLength(3);
    const next = first.link.find((l: any) => l.relation === "next").url as string;
    const second = JSON.parse((await get(next.slice(next.indexOf("/fhir/")), w.tokens.CLINICIAN)).text);
    expect(second.entry).toHaveLength(1);
    expect(second.link.some((l: any) => l.relation === "next")).toBe(false);
    const ids = [...first.entry, ...second.entry].map((e: any) => e.resource.id);
    expect(new Set(ids).size).toBe(4);
  });
});
