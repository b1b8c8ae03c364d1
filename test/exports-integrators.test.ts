// The exports as the rest of the system sees them, over HTTP: API clients export with the scope and
// consent rules of the feed (nothing without an active consent naming them, at the moment of the
// read), what they receive is counted in the accounting of disclosures, and every export, staff's
// and clients', is one EXPORT entry of the audit log (refusals DENIED). The feed's reads by a
// client are audited as the client (actor type API_CLIENT).
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { createApiClient, integratorWorld, recordAttendance, waitForHorizon, type IntegratorWorld } from "./support/integrators.js";
import { operation } from "./support/operations.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const rows = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;
const uuid = (globalId: string) => Buffer.from(globalId, "base64url").toString().split(":")[1];

const CSV = (w: IntegratorWorld) => `/exports/attendance.csv?centerId=${encodeURIComponent(w.centerId)}&from=2026-01-01&to=2026-01-31`;
const FHIR = "/fhir/Encounter?date=ge2026-01-01&date=lt2026-02-01&_count=1000";

/** A GET with its own request id (to find its audit entries by). */
async function get(path: string, token: string | null) {
  const requestId = randomUUID();
  const res = await fetch(`${t.server.url}${path}`, {
    headers: { "x-request-id": requestId, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: res.status, text: await res.text(), requestId };
}

/** External ids of the CSV's rows (header left out). */
const csvIds = (text: string) =>
  text
    .split("\r\n")
    .slice(1)
    .filter(Boolean)
    .map((line) => line.split(",")[6]);

interface Bundle {
  entry?: Array<{ resource: { id: string; subject?: { identifier: { value: string } }; partOf?: unknown } }>;
}
const fhirIds = (text: string) => ((JSON.parse(text) as Bundle).entry ?? []).filter((e) => e.resource.partOf).map((e) => e.resource.subject!.identifier.value);

interface AuditRow {
  actor_type: string | null;
  actor_id: string | null;
  center_id: string | null;
  action: string;
  resource_type: string;
  participant_ids: string[];
  operation_name: string | null;
  outcome: string;
}

async function auditOf(requestId: string) {
  return rows(
    await t.server.database.db.execute(
      sql`select actor_type, actor_id, center_id, action, resource_type, participant_ids, operation_name, outcome from audit_events where request_id = ${requestId} order by seq`,
    ),
  ).map((r) => ({ ...r, participant_ids: [...(r.participant_ids as string[])].sort() }) as AuditRow);
}

async function disclosuresOf(apiClientId: string) {
  return rows(
    await t.server.database.db.execute(
      // One row per export part or page (per center), naming its participants (array_to_string: the same on both drivers)
      sql`select array_to_string(participant_ids, ',') as participant_ids, operation, record_count, attendance_ids from disclosures where api_client_id = ${uuid(apiClientId)}::uuid order by disclosed_at, operation`,
    ),
  );
}

async function recordConsent(w: IntegratorWorld, participantId: string): Promise<string> {
  const res = await t.server.gql(
    operation("integrator.graphql", "RecordConsent"),
    { input: { participantId, recipientId: w.client.id, purpose: "Billing" } },
    { token: w.clinician.token },
  );
  expect(res.errors).toBeUndefined();
  expect(res.data.recordConsent.userErrors).toEqual([]);
  return res.data.recordConsent.consent.id as string;
}

async function setup(): Promise<{ org: Api; w: IntegratorWorld }> {
  const org = await asOrgAdmin(t.server);
  const w = await integratorWorld(org);
  // Ana PRESENT and Ben ABSENT at the first session (the world's), both attended the second.
  await recordAttendance(org, w.sessions[1], [
    [w.ana, "LATE"],
    [w.ben, "PRESENT"],
  ]);
  return { org, w };
}

describe("API clients on the exports", () => {
  it("given no consent, then nothing; consent for Ana, then Ana's records only; revoked, then nothing again (CSV and FHIR)", async () => {
    const { w } = await setup();
    // Staff see every record: the exports are not empty to begin with.
    expect(csvIds((await get(CSV(w), w.clinician.token)).text).sort()).toEqual(["MRN-A", "MRN-A", "MRN-B", "MRN-B"]);
    expect(fhirIds((await get(FHIR, w.clinician.token)).text).sort()).toEqual(["MRN-A", "MRN-A", "MRN-B"]);

    const none = await get(CSV(w), w.client.key);
    expect(none.status).toBe(200);
    expect(csvIds(none.text)).toEqual([]);
    const noneFhir = await get(FHIR, w.client.key);
    expect(noneFhir.status).toBe(200);
    expect(fhirIds(noneFhir.text)).toEqual([]);

    const consentId = await recordConsent(w, w.ana);
    expect(csvIds((await get(CSV(w), w.client.key)).text)).toEqual(["MRN-A", "MRN-A"]);
    expect(fhirIds((await get(FHIR, w.client.key)).text)).toEqual(["MRN-A", "MRN-A"]);

    const revoked = await t.server.gql(
      operation("integrator.graphql", "RevokeConsent"),
      { input: { consentId, reason: "Asked to stop" } },
      { token: w.clinician.token },
    );
    expect(revoked.errors).toBeUndefined();
    expect(csvIds((await get(CSV(w), w.client.key)).text)).toEqual([]);
    expect(fhirIds((await get(FHIR, w.client.key)).text)).toEqual([]);
  });

  it("given a consent, when the client exports, then each participant's records are in the accounting of disclosures with the operation; staff exports are not", async () => {
    const { w } = await setup();
    await get(CSV(w), w.clinician.token);
    await get(FHIR, w.clinician.token);
    expect(await disclosuresOf(w.client.id)).toEqual([]);

    await recordConsent(w, w.ana);
    await get(CSV(w), w.client.key);
    await get(FHIR, w.client.key);
    const logged = await disclosuresOf(w.client.id);
    expect(logged.map((d) => [d.participant_ids, d.operation, d.record_count])).toEqual([
      [uuid(w.ana), "export.attendance.csv", 2],
      [uuid(w.ana), "fhir.Encounter.search", 2],
    ]);
    // Clinicians read it in the participant's accounting.
    const res = await t.server.gql(operation("integrator.graphql", "ParticipantDisclosures"), { participantId: w.ana }, { token: w.clinician.token });
    expect(res.errors).toBeUndefined();
    expect(res.data.node.disclosures.totalCount).toBe(2);
    const ben = await t.server.gql(operation("integrator.graphql", "ParticipantDisclosures"), { participantId: w.ben }, { token: w.clinician.token });
    expect(ben.data.node.disclosures.totalCount).toBe(0);
  });

  it("given a client of another center, when it exports this center's CSV, then 404 as for a missing center, and its FHIR search holds none of this center's records", async () => {
    const { org, w } = await setup();
    const other = await createApiClient(org, org.token, { name: "Elsewhere EHR", centerIds: [w.otherCenterId], scopes: ["ATTENDANCE_READ"] });
    // Even with a consent naming the center's own client for Ana.
    await recordConsent(w, w.ana);
    const csv = await get(CSV(w), other.key);
    expect(csv.status).toBe(404);
    expect(csv.text).not.toContain("MRN");
    const fhir = await get(FHIR, other.key);
    expect(fhir.status).toBe(200);
    expect((JSON.parse(fhir.text) as Bundle).entry ?? []).toEqual([]);
    expect(await disclosuresOf(other.id)).toEqual([]);
    expect((await auditOf(csv.requestId)).map((e) => [e.action, e.outcome, e.actor_type, e.actor_id])).toEqual([
      ["DENIED", "DENIED", "API_CLIENT", uuid(other.id)],
    ]);
  });
});

describe("exports in the audit log", () => {
  it("given a CSV export and a FHIR search by staff, then one EXPORT entry each with actor, center, participants, operation and request id", async () => {
    const { w } = await setup();
    const csv = await get(CSV(w), w.clinician.token);
    expect(await auditOf(csv.requestId)).toEqual([
      {
        actor_type: "STAFF",
        actor_id: uuid(w.clinician.id),
        center_id: uuid(w.centerId),
        action: "EXPORT",
        resource_type: "Attendance",
        participant_ids: [uuid(w.ana), uuid(w.ben)].sort(),
        operation_name: "export.attendance.csv",
        outcome: "ALLOWED",
      },
    ]);
    const fhir = await get(FHIR, w.clinician.token);
    expect(await auditOf(fhir.requestId)).toEqual([
      {
        actor_type: "STAFF",
        actor_id: uuid(w.clinician.id),
        center_id: uuid(w.centerId),
        action: "EXPORT",
        resource_type: "Attendance",
        // Ben's ABSENT record is no Encounter, his PRESENT one is.
        participant_ids: [uuid(w.ana), uuid(w.ben)].sort(),
        operation_name: "fhir.Encounter.search",
        outcome: "ALLOWED",
      },
    ]);
  });

  it("given an API client with a consent for Ana, then its exports are EXPORT entries as API_CLIENT naming Ana only", async () => {
    const { w } = await setup();
    await recordConsent(w, w.ana);
    for (const [path, op] of [
      [CSV(w), "export.attendance.csv"],
      [FHIR, "fhir.Encounter.search"],
    ]) {
      const res = await get(path, w.client.key);
      expect(await auditOf(res.requestId)).toEqual([
        {
          actor_type: "API_CLIENT",
          actor_id: uuid(w.client.id),
          center_id: uuid(w.centerId),
          action: "EXPORT",
          resource_type: "Attendance",
          participant_ids: [uuid(w.ana)],
          operation_name: op,
          outcome: "ALLOWED",
        },
      ]);
    }
  });

  it("given refusals (no credentials, a staff member of no center there, a bad range), then each is one DENIED entry and no EXPORT", async () => {
    const { org, w } = await setup();
    const outsider = await org.createStaff("outsider@elsewhere.test", [{ centerId: w.otherCenterId, role: "CLINICIAN" }]);
    const cases = [
      { path: CSV(w), token: null, status: 401, actor: null },
      { path: FHIR, token: null, status: 401, actor: null },
      { path: CSV(w), token: outsider.token, status: 404, actor: uuid(outsider.id) },
      { path: CSV(w).replace("to=2026-01-31", "to=2025-01-31"), token: w.clinician.token, status: 400, actor: uuid(w.clinician.id) },
    ];
    for (const c of cases) {
      const res = await get(c.path, c.token);
      expect(res.status).toBe(c.status);
      const entries = await auditOf(res.requestId);
      expect(entries.map((e) => [e.action, e.outcome, e.actor_id, e.participant_ids])).toEqual([["DENIED", "DENIED", c.actor, []]]);
    }
  });
});

describe("the feed in the audit log", () => {
  it("given a consent, when the client reads its feed, then the reads are audited with actor type API_CLIENT and the participant", async () => {
    const { w } = await setup();
    await recordConsent(w, w.ana);
    const requestId = randomUUID();
    await waitForHorizon(t.server);
    const res = await t.server.gql(
      operation("integrator.graphql", "AttendanceChanges"),
      { first: 100 },
      { token: w.client.key, headers: { "x-request-id": requestId }, operationName: "AttendanceChanges" },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.attendanceChanges.edges.length).toBeGreaterThan(0);
    const entries = await auditOf(requestId);
    expect(entries.length).toBeGreaterThan(0);
    expect(new Set(entries.map((e) => e.actor_type))).toEqual(new Set(["API_CLIENT"]));
    expect(new Set(entries.map((e) => e.actor_id))).toEqual(new Set([uuid(w.client.id)]));
    const attendanceRead = entries.find((e) => e.resource_type === "Attendance" && e.action === "READ");
    expect(attendanceRead).toMatchObject({
      outcome: "ALLOWED",
      center_id: uuid(w.centerId),
      participant_ids: [uuid(w.ana)],
      operation_name: "AttendanceChanges",
    });
    expect(entries.flatMap((e) => e.participant_ids)).not.toContain(uuid(w.ben));
  });
});
