// Integrators end to end over HTTP: API clients and their keys, 42 CFR Part 2 consent, the
// attendance change feed and the accounting of disclosures (src/apiclients, src/consents,
// src/feed, src/disclosures).
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { getNamedType, isNonNullType, isObjectType, type GraphQLObjectType, type GraphQLSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { effectivePolicy } from "../src/common/policy.js";
import { createSchema } from "../src/schema.js";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { createApiClient, drain, integratorWorld, recordAttendance, waitForHorizon, type IntegratorWorld } from "./support/integrators.js";
import { operation } from "./support/operations.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const rows = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;

async function recordConsent(api: Api, token: string, input: Record<string, unknown>) {
  const res = await api.server.gql(operation("integrator.graphql", "RecordConsent"), { input }, { token });
  expect(res.errors).toBeUndefined();
  return res.data.recordConsent;
}

async function revokeConsent(api: Api, token: string, consentId: string) {
  const res = await api.server.gql(operation("integrator.graphql", "RevokeConsent"), { input: { consentId, reason: "Asked to stop" } }, { token });
  expect(res.errors).toBeUndefined();
  return res.data.revokeConsent;
}

async function setup(): Promise<{ org: Api; w: IntegratorWorld }> {
  const org = await asOrgAdmin(t.server);
  return { org, w: await integratorWorld(org) };
}

const participantsOf = (changes: Array<{ attendance: { participant: { id: string } } | null }>) =>
  new Set(changes.map((c) => c.attendance?.participant.id).filter(Boolean));

describe("API clients and keys", () => {
  it("given a new client, its key is shown once, stored only as a SHA-256 with a visible prefix, and opens the feed", async () => {
    const { w } = await setup();
    expect(w.client.key).toMatch(/^rg_live_[A-Za-z0-9_-]{43}$/);
    const stored = rows(await t.server.database.db.execute(sql`select prefix, key_hash, api_client_id from api_keys`));
    expect(stored).toHaveLength(1);
    expect(stored[0].key_hash).toBe(createHash("sha256").update(w.client.key).digest("hex"));
    expect(w.client.key.startsWith(String(stored[0].prefix))).toBe(true);
    expect(String(stored[0].prefix).length).toBeLessThan(20);
    // No column of any integrator table holds the key.
    const dump = JSON.stringify(rows(await t.server.database.db.execute(sql`select row_to_json(k)::text as r from api_keys k`)));
    expect(dump).not.toContain(w.client.key.slice(8));
    const page = await t.server.gql(operation("integrator.graphql", "AttendanceChanges"), {}, { token: w.client.key });
    expect(page.errors).toBeUndefined();
    expect(page.data.attendanceChanges.disclosureNotice).toMatch(/42 CFR part 2/);
  });

  it("when a client is revoked, its key is refused on the very next request", async () => {
    const { org, w } = await setup();
    const res = await t.server.gql(operation("integrator.graphql", "RevokeApiClient"), { input: { apiClientId: w.client.id } }, { token: w.admin.token });
    expect(res.data.revokeApiClient.apiClient.revokedAt).toBeTruthy();
    const after = await t.server.gql(operation("integrator.graphql", "AttendanceChanges"), {}, { token: w.client.key });
    expect(after.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    void org;
  });

  it("when a key is rotated, old and new keys both work during the overlap, then only the new one", async () => {
    const { w } = await setup();
    setClock("2026-12-02T12:00:00Z");
    const rotated = await t.server.gql(
      `mutation($input: RotateApiClientKeyInput!) { rotateApiClientKey(input: $input) { apiKey apiClient { id } userErrors { code } } }`,
      { input: { apiClientId: w.client.id, overlapMinutes: 60 } },
      { token: w.admin.token },
    );
    const newKey = rotated.data.rotateApiClientKey.apiKey as string;
    expect(newKey).not.toBe(w.client.key);
    const feed = (key: string) => t.server.gql(operation("integrator.graphql", "AttendanceChanges"), {}, { token: key });
    expect((await feed(w.client.key)).errors).toBeUndefined();
    expect((await feed(newKey)).errors).toBeUndefined();
    setClock("2026-12-02T13:00:01Z");
    expect((await feed(w.client.key)).errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    expect((await feed(newKey)).errors).toBeUndefined();
  });

  it("given a made-up or malformed key, the request is unauthenticated", async () => {
    await setup();
    for (const key of ["rg_live_" + "A".repeat(43), "rg_live_short", "rg_live_" + "A".repeat(60)]) {
      const res = await t.server.gql(operation("integrator.graphql", "AttendanceChanges"), {}, { token: key });
      expect(res.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    }
  });

  it("lastUsedAt is kept, written at most once a minute", async () => {
    const { w } = await setup();
    setClock("2026-12-02T12:00:00Z");
    const feed = () => t.server.gql(operation("integrator.graphql", "AttendanceChanges"), {}, { token: w.client.key });
    await feed();
    setClock("2026-12-02T12:00:30Z");
    await feed();
    const lastUsed = async () => rows(await t.server.database.db.execute(sql`select last_used_at from api_keys`))[0].last_used_at;
    expect(new Date(String(lastUsed ? await lastUsed() : "")).toISOString()).toBe("2026-12-02T12:00:00.000Z");
    setClock("2026-12-02T12:01:05Z");
    await feed();
    expect(new Date(String(await lastUsed())).toISOString()).toBe("2026-12-02T12:01:05.000Z");
  });

  it("an API client calls no mutation and reads no other root field: FORBIDDEN", async () => {
    const { w } = await setup();
    const m = await t.server.gql(
      operation("integrator.graphql", "RecordConsent"),
      { input: { participantId: w.ana, recipientId: w.client.id, purpose: "x" } },
      {
        token: w.client.key,
      },
    );
    expect(m.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const create = await t.server.gql(
      operation("integrator.graphql", "CreateApiClient"),
      { input: { name: "x", centerIds: [w.centerId], scopes: ["ATTENDANCE_READ"] } },
      {
        token: w.client.key,
      },
    );
    expect(create.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const q = await t.server.gql(`{ centers(first: 5) { nodes { id } } }`, {}, { token: w.client.key });
    expect(q.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const node = await t.server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: w.ana }, { token: w.client.key });
    expect(node.data.node).toBeNull();
  });

  it("staff may not read the feed, and only center admins create clients; several centers are for org admins", async () => {
    const { org, w } = await setup();
    const staffFeed = await t.server.gql(operation("integrator.graphql", "AttendanceChanges"), {}, { token: w.admin.token });
    expect(staffFeed.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const byClinician = await t.server.gql(
      operation("integrator.graphql", "CreateApiClient"),
      { input: { name: "x", centerIds: [w.centerId], scopes: ["ATTENDANCE_READ"] } },
      {
        token: w.clinician.token,
      },
    );
    expect(byClinician.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const elsewhere = await t.server.gql(
      operation("integrator.graphql", "CreateApiClient"),
      { input: { name: "x", centerIds: [w.otherCenterId], scopes: ["ATTENDANCE_READ"] } },
      {
        token: w.admin.token,
      },
    );
    expect(elsewhere.data.createApiClient.userErrors).toEqual([{ field: ["input", "centerIds", "0"], code: "NOT_FOUND", message: "No center with that id" }]);
    const both = await createApiClient(org, org.token, { name: "State reporting", centerIds: [w.centerId, w.otherCenterId], scopes: ["ATTENDANCE_READ"] });
    expect(both.key).toMatch(/^rg_live_/);
  });
});

describe("consent and the feed", () => {
  it("given no consent, nothing of a participant reaches the client; consent given, their existing records arrive from the client's position on", async () => {
    const { org, w } = await setup();
    const empty = await drain(org, w.client.key);
    expect(empty.changes).toEqual([]);

    const c = await recordConsent(org, w.clinician.token, { participantId: w.ana, recipientId: w.client.id, purpose: "Care coordination" });
    expect(c.userErrors).toEqual([]);
    expect(c.consent.status).toBe("ACTIVE");
    const first = await drain(org, w.client.key, empty.cursor);
    expect(first.changes.map((x) => [x.changeType, x.attendance?.participant.id, x.attendance?.participant.externalId])).toEqual([["UPSERT", w.ana, "MRN-A"]]);
    expect(first.changes[0].attendanceId).toBe(first.changes[0].attendance!.id);

    // New attendance: Ana's arrives, Ben's (no consent) does not.
    await recordAttendance(org, w.sessions[1], [
      [w.ana, "LATE"],
      [w.ben, "PRESENT"],
    ]);
    const next = await drain(org, w.client.key, first.cursor);
    expect(next.changes.map((x) => x.attendance?.status)).toEqual(["LATE"]);
    expect(participantsOf(next.changes)).toEqual(new Set([w.ana]));
    // From the start, still nothing of Ben.
    const all = await drain(org, w.client.key, null, 1);
    expect(participantsOf(all.changes)).toEqual(new Set([w.ana]));
  });

  it("when consent is revoked, the next read gives exactly one DELETE per record, and then nothing more of that participant", async () => {
    const { org, w } = await setup();
    const start = await drain(org, w.client.key);
    const c = await recordConsent(org, w.clinician.token, { participantId: w.ana, recipientId: w.client.id, purpose: "Billing" });
    await recordAttendance(org, w.sessions[1], [[w.ana, "PRESENT"]]);
    const before = await drain(org, w.client.key, start.cursor);
    expect(before.changes).toHaveLength(2);
    const r = await revokeConsent(org, w.clinician.token, c.consent.id);
    expect(r.consent).toMatchObject({ status: "REVOKED" });
    expect(r.consent.revokedAt).toBeTruthy();
    const gone = await drain(org, w.client.key, before.cursor);
    expect(gone.changes.map((x) => x.changeType)).toEqual(["DELETE", "DELETE"]);
    expect(gone.changes.every((x) => x.attendance === null)).toBe(true);
    expect(new Set(gone.changes.map((x) => x.attendanceId))).toEqual(new Set(before.changes.map((x) => x.attendanceId)));
    await recordAttendance(org, w.sessions[2], [[w.ana, "PRESENT"]]);
    await revokeConsent(org, w.clinician.token, c.consent.id); // again: nothing new
    expect((await drain(org, w.client.key, gone.cursor)).changes).toEqual([]);
    // From the start: none of Ana's records either, only the DELETEs addressed to the client.
    const replay = await drain(org, w.client.key, null, 2);
    expect(replay.changes.every((x) => x.changeType === "DELETE")).toBe(true);
  });

  it("when consent expires, the first read after the end of expiresOn (center's zone) closes it: its DELETEs are handed out once, and records stop", async () => {
    const { org, w } = await setup();
    setClock("2026-12-02T15:00:00Z"); // 10:00 in New York
    const start = await drain(org, w.client.key);
    const c = await recordConsent(org, w.clinician.token, { participantId: w.ana, recipientId: w.client.id, purpose: "Billing", expiresOn: "2026-12-03" });
    expect(c.consent).toMatchObject({ status: "ACTIVE", expiresOn: "2026-12-03" });
    const before = await drain(org, w.client.key, start.cursor);
    expect(before.changes).toHaveLength(1);
    // 23:59 on the 3rd in New York (04:59Z on the 4th): still active.
    setClock("2026-12-04T04:59:00Z");
    await recordAttendance(org, w.sessions[1], [[w.ana, "LATE"]]);
    const still = await drain(org, w.client.key, before.cursor);
    expect(still.changes.map((x) => x.changeType)).toEqual(["UPSERT"]);
    // 00:00 on the 4th in New York: expired.
    setClock("2026-12-04T05:00:00Z");
    await recordAttendance(org, w.sessions[2], [[w.ana, "PRESENT"]]);
    // The read closes the consent and commits its DELETEs before the page is read; they are handed
    // out once below the cluster-wide horizon, which on PostgreSQL a transaction still open
    // elsewhere on the server may hold back for a moment: the drain after that read has them.
    const closing = await drain(org, w.client.key, still.cursor);
    const ended = await drain(org, w.client.key, closing.cursor);
    expect([...closing.changes, ...ended.changes].map((x) => x.changeType)).toEqual(["DELETE", "DELETE", "DELETE"]);
    expect((await drain(org, w.client.key, ended.cursor)).changes).toEqual([]);
    expect((await drain(org, w.client.key, ended.cursor)).changes).toEqual([]);
    const status = await org.query(`query($id: ID!) { node(id: $id) { ... on Participant { consents { status expiresOn } } } }`, { id: w.ana });
    expect(status.node.consents).toEqual([{ status: "EXPIRED", expiresOn: "2026-12-03" }]);
  });

  it("refuses a consent that ends before today, or names a client that does not read the center", async () => {
    const { org, w } = await setup();
    setClock("2026-12-02T15:00:00Z");
    const past = await recordConsent(org, w.clinician.token, { participantId: w.ana, recipientId: w.client.id, purpose: "Billing", expiresOn: "2026-12-01" });
    expect(past.userErrors).toEqual([expect.objectContaining({ field: ["input", "expiresOn"], code: "INVALID" })]);
    const other = await createApiClient(org, org.token, { name: "Other", centerIds: [w.otherCenterId], scopes: ["ATTENDANCE_READ"] });
    const wrong = await recordConsent(org, w.clinician.token, { participantId: w.ana, recipientId: other.id, purpose: "Billing" });
    expect(wrong.userErrors).toEqual([expect.objectContaining({ field: ["input", "recipientId"], code: "NOT_FOUND" })]);
    expect(rows(await t.server.database.db.execute(sql`select count(*)::int as n from consents`))[0].n).toBe(0);
  });

  it("ATTENDANCE_READ gives a participant's id and externalId only; PARTICIPANT_READ adds names and date of birth; notes and staff never", async () => {
    const { org, w } = await setup();
    const full = await createApiClient(org, w.admin.token, { name: "Registry", centerIds: [w.centerId], scopes: ["ATTENDANCE_READ", "PARTICIPANT_READ"] });
    for (const client of [w.client, full]) await recordConsent(org, w.clinician.token, { participantId: w.ana, recipientId: client.id, purpose: "Registry" });
    const q = `{ attendanceChanges(first: 10) { edges { node { attendance { note recordedBy { id } session { topic group { name facilitators { id } } }
      participant { id externalId dateOfBirth phone } } } } } }`;
    await waitForHorizon(t.server);
    const narrow = await t.server.gql(q, {}, { token: w.client.key });
    expect(narrow.errors).toBeUndefined();
    const a = narrow.data.attendanceChanges.edges[0].node.attendance;
    expect(a).toEqual({
      note: null,
      recordedBy: null,
      session: { topic: null, group: { name: "Tuesday evening", facilitators: [] } },
      participant: { id: w.ana, externalId: "MRN-A", dateOfBirth: null, phone: null },
    });
    // A name cannot be null: it is refused, as to a VIEWER.
    const names = await t.server.gql(`{ attendanceChanges { edges { node { attendance { participant { firstName } } } } } }`, {}, { token: w.client.key });
    expect(names.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const wide = await t.server.gql(q.replace("dateOfBirth", "firstName lastName dateOfBirth"), {}, { token: full.key });
    expect(wide.data.attendanceChanges.edges[0].node.attendance.participant).toEqual({
      id: w.ana,
      externalId: "MRN-A",
      firstName: "Ana",
      lastName: "Test",
      dateOfBirth: "1990-01-01",
      phone: null,
    });
  });

  it("first outside 1..1000 and a forged cursor are BAD_USER_INPUT", async () => {
    const { w } = await setup();
    for (const variables of [{ first: 0 }, { first: 1001 }, { after: "bm9wZQ" }]) {
      const res = await t.server.gql(operation("integrator.graphql", "AttendanceChanges"), variables, { token: w.client.key });
      expect(res.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    }
  });
});

describe("accounting of disclosures", () => {
  it("every record handed to a client is logged for its participant, and clinicians read it (the last three years by default)", async () => {
    const { org, w } = await setup();
    setClock("2026-12-02T15:00:00Z");
    await recordConsent(org, w.clinician.token, { participantId: w.ana, recipientId: w.client.id, purpose: "Care" });
    await recordAttendance(org, w.sessions[1], [[w.ana, "PRESENT"]]);
    await drain(org, w.client.key);
    const res = await t.server.gql(operation("integrator.graphql", "ParticipantDisclosures"), { participantId: w.ana }, { token: w.clinician.token });
    expect(res.errors).toBeUndefined();
    expect(res.data.node.disclosures).toEqual({
      totalCount: 1,
      nodes: [{ disclosedAt: "2026-12-02T15:00:00.000Z", recipient: { id: w.client.id, name: "Acme EHR" }, recordCount: 2 }],
    });
    const ben = await t.server.gql(operation("integrator.graphql", "ParticipantDisclosures"), { participantId: w.ben }, { token: w.clinician.token });
    expect(ben.data.node.disclosures.totalCount).toBe(0);
    // Three years on, the accounting's default window no longer holds it; an explicit window does.
    setClock("2029-12-03T00:00:00Z");
    const later = await org.query(
      `query($id: ID!) { node(id: $id) { ... on Participant { recent: disclosures(first: 10) { totalCount } all: disclosures(first: 10, from: "2020-01-01T00:00:00Z") { totalCount nodes { operation attendanceIds } } } } }`,
      { id: w.ana },
    );
    expect(later.node.recent.totalCount).toBe(0);
    expect(later.node.all.totalCount).toBe(1);
    expect(later.node.all.nodes[0].operation).toBe("AttendanceChanges");
    expect(later.node.all.nodes[0].attendanceIds).toHaveLength(2);
  });
});

describe("accounting of disclosures, one row per page", () => {
  it("given two consented participants in one page, the page is one disclosures row naming both, and each participant's accounting lists only their own records", async () => {
    const { org, w } = await setup();
    setClock("2026-12-02T15:00:00Z");
    for (const participantId of [w.ana, w.ben]) await recordConsent(org, w.clinician.token, { participantId, recipientId: w.client.id, purpose: "Care" });
    await recordAttendance(org, w.sessions[1], [
      [w.ana, "PRESENT"],
      [w.ben, "LATE"],
    ]);
    // When the client drains the feed in one page (their first records twice: as changes, and addressed when consent was given)
    const page = await drain(org, w.client.key, null, 1000);
    expect(new Set(page.changes.map((c) => c.attendanceId)).size).toBe(4);
    // Then one row holds the page: both participants, the four records, each with its participant
    const logged = rows(
      await t.server.database.db.execute(
        sql`select cardinality(participant_ids) as participants, record_count, cardinality(attendance_participant_ids) as owners from disclosures`,
      ),
    );
    expect(logged).toEqual([{ participants: 2, record_count: 4, owners: 4 }]);
    // And each participant's accounting shows that disclosure with their own two records only
    for (const [participantId, externalId] of [
      [w.ana, "MRN-A"],
      [w.ben, "MRN-B"],
    ]) {
      const own = [...new Set(page.changes.filter((c) => c.attendance?.participant.externalId === externalId).map((c) => c.attendanceId))];
      const res = await org.query(
        `query($id: ID!) { node(id: $id) { ... on Participant { disclosures(first: 10) { totalCount nodes { recordCount attendanceIds recipient { name } } } } } }`,
        { id: participantId },
      );
      expect(res.node.disclosures.totalCount).toBe(1);
      expect(res.node.disclosures.nodes[0].recordCount).toBe(2);
      expect([...res.node.disclosures.nodes[0].attendanceIds].sort()).toEqual([...own].sort());
    }
  });
});

// Generated from the declarations: every field an API client can reach through its feed answers
// for its scopes as the fields' `api` declare (src/common/policy.ts): a field no scope of the
// client opens answers as for an outsider (null, an empty list), one its scopes open answers data.
describe("the declared API-client scopes, generated from the schema", () => {
  interface Reach {
    field: string;
    api: readonly string[];
    nonNull: boolean;
    path: string[];
    selection: string;
  }

  /** Every field reachable from the feed's changes (through the fields a scope opens), with its path. */
  function reachable(schema: GraphQLSchema): Reach[] {
    const out: Reach[] = [];
    const seen = new Set<string>();
    const walk = (type: GraphQLObjectType, path: string[], wrap: (inner: string) => string, depth: number) => {
      for (const field of Object.values(type.getFields())) {
        const key = `${type.name}.${field.name}`;
        if (seen.has(key) || field.args.some((a) => isNonNullType(a.type))) continue;
        seen.add(key);
        const { api } = effectivePolicy(type, field);
        const named = getNamedType(field.type);
        const leaf = !isObjectType(named);
        out.push({
          field: key,
          api,
          nonNull: isNonNullType(field.type),
          path: [...path, field.name],
          selection: wrap(leaf ? field.name : `${field.name} { __typename }`),
        });
        if (!leaf && api.length && depth < 4) walk(named, [...path, field.name], (inner) => wrap(`${field.name} { ${inner} }`), depth + 1);
      }
    };
    const change = schema.getType("AttendanceFeedChange") as GraphQLObjectType;
    walk(change, [], (inner) => `query($first: Int) { attendanceChanges(first: $first) { nodes { ${inner} } } }`, 0);
    return out;
  }

  const valuesOf = (data: any, path: string[]): unknown[] => {
    let current: unknown[] = (data?.attendanceChanges?.nodes ?? []) as unknown[];
    for (const step of path) current = current.flatMap((c) => (c && typeof c === "object" ? [(c as Record<string, unknown>)[step]] : []));
    return current;
  };
  const hasData = (v: unknown) => v != null && !(Array.isArray(v) && v.length === 0);

  it("answers each reachable field with data for a client whose scopes open it, and as for an outsider otherwise", { timeout: 300_000 }, async () => {
    // Given a consented participant with records, and a client with each scope
    const { org, w } = await setup();
    await recordConsent(org, w.clinician.token, { participantId: w.ana, recipientId: w.client.id, purpose: "Care coordination" });
    const both = await createApiClient(org, w.admin.token, { name: "Both scopes", centerIds: [w.centerId], scopes: ["ATTENDANCE_READ", "PARTICIPANT_READ"] });
    await recordConsent(org, w.clinician.token, { participantId: w.ana, recipientId: both.id, purpose: "Care coordination" });
    await waitForHorizon(t.server);
    const schema = await createSchema();
    const fields = reachable(schema);
    const leaks: string[] = [];
    const missing: string[] = [];
    for (const client of [
      { key: w.client.key, scopes: ["ATTENDANCE_READ"] },
      { key: both.key, scopes: ["ATTENDANCE_READ", "PARTICIPANT_READ"] },
    ]) {
      for (const f of fields) {
        // When the client asks for the field
        const res = await t.server.gql(f.selection, { first: 100 }, { token: client.key });
        const opens = f.api.some((s) => client.scopes.includes(s));
        const values = valuesOf(res.data, f.path);
        // Then what its scopes do not open carries nothing, and what they open answers (a required field always)
        if (!opens && values.some(hasData)) leaks.push(`${client.scopes.join("+")} read ${f.field}`);
        if (opens && (res.errors || (f.nonNull && !values.some(hasData))))
          missing.push(`${client.scopes.join("+")} got no ${f.field}: ${JSON.stringify(res.errors ?? null).slice(0, 120)}`);
      }
    }
    expect(leaks).toEqual([]);
    expect(missing).toEqual([]);
    // The walk saw both kinds: fields the feed opens and fields it keeps closed
    expect(fields.filter((f) => f.api.length === 0).length).toBeGreaterThan(10);
    expect(fields.filter((f) => f.api.includes("PARTICIPANT_READ") && !f.api.includes("ATTENDANCE_READ")).map((f) => f.field)).toEqual(
      expect.arrayContaining(["Participant.firstName", "Participant.lastName"]),
    );
  });
});
