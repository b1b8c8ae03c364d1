// Participants over HTTP: registration and its validation, updates, search and listing, and who
// may read whom (clinical staff, the facilitators of a participant's groups, never viewers).
import { count } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { clock, setClock } from "../src/common/clock.js";
import { participants } from "../src/db/schema.js";
import { Api, asOrgAdmin, sendMutation } from "./support/fixtures.js";
import { operation } from "./support/operations.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

// "Now" is an input: a fixed instant, late in the evening in the Americas and already the next day in UTC.
beforeEach(() => setClock("2026-11-24T01:00:00.000Z"));

const PARTICIPANT = `participant { id firstName lastName preferredName externalId dateOfBirth recoveryStartDate phone email status }`;

const send = (token: string, field: string, input: Record<string, unknown>, selection = PARTICIPANT) => sendMutation(t.server, token, field, input, selection);

/** The userErrors of a mutation that must not fail with a GraphQL error, as [field path, code]. */
async function refusals(token: string, field: string, input: Record<string, unknown>) {
  const res = await send(token, field, input);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  expect(res.payload.participant).toBeNull();
  return (res.payload.userErrors as Array<{ field: string[] | null; code: string }>).map((e) => [e.field?.join("."), e.code]);
}

async function participantRows(): Promise<number> {
  const [{ n }] = await t.server.database.db.select({ n: count() }).from(participants);
  return Number(n);
}

const LIST = `query($id: ID!, $search: String, $status: ParticipantStatus) {
  center(id: $id) { participants(first: 50, search: $search, status: $status) { totalCount nodes { firstName lastName } } }
}`;

/** "First Last" of the center's participants as the token's holder lists them. */
async function listed(token: string, centerId: string, args: { search?: string; status?: string } = {}): Promise<string[]> {
  const data = await new Api(t.server, token).query(LIST, { id: centerId, ...args });
  const conn = data.center.participants;
  expect(conn.totalCount).toBe(conn.nodes.length);
  return conn.nodes.map((p: { firstName: string; lastName: string }) => `${p.firstName} ${p.lastName}`);
}

/** Two centers, a clinician at each, and an API acting as the North clinician. */
async function world() {
  const admin = await asOrgAdmin(t.server);
  const north = await admin.createCenter("North Clinic", "America/New_York");
  const south = await admin.createCenter("South Clinic", "America/Chicago");
  const clinician = await admin.createStaff("carl@org.test", [{ centerId: north, role: "CLINICIAN" }]);
  const southClinician = await admin.createStaff("sue@org.test", [{ centerId: south, role: "CLINICIAN" }]);
  const carl = new Api(t.server, clinician.token);
  const register = async (input: Record<string, unknown>, centerId = north, api = carl): Promise<string> => {
    const p = await api.mutate("createParticipant", { centerId, ...input }, "participant { id }");
    return p.participant.id;
  };
  return { admin, north, south, clinician, southClinician, carl, register };
}

function daysFromToday(days: number): string {
  return new Date(clock.now().getTime() + days * 86_400_000).toISOString().slice(0, 10);
}

describe("createParticipant", () => {
  it("registers a participant through the client's CreateParticipant operation, trimming names", async () => {
    const w = await world();
    const res = await t.server.gql(
      operation("care.graphql", "CreateParticipant"),
      { input: { centerId: w.north, firstName: "  Ana ", lastName: " Alvarez  ", externalId: " MRN-1 ", recoveryStartDate: "2025-06-01" } },
      { token: w.clinician.token },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.createParticipant.userErrors).toEqual([]);
    expect(res.data.createParticipant.participant).toMatchObject({
      firstName: "Ana",
      lastName: "Alvarez",
      externalId: "MRN-1",
      recoveryStartDate: "2025-06-01",
    });

    const id = res.data.createParticipant.participant.id;
    const node = await w.carl.query(
      `query($id: ID!) { node(id: $id) { ... on Participant { ${PARTICIPANT.slice("participant { ".length, -2)} center { id } } } }`,
      {
        id,
      },
    );
    expect(node.node).toEqual({
      id,
      firstName: "Ana",
      lastName: "Alvarez",
      preferredName: null,
      externalId: "MRN-1",
      dateOfBirth: null,
      recoveryStartDate: "2025-06-01",
      phone: null,
      email: null,
      status: "ACTIVE",
      center: { id: w.north },
    });
  });

  it("keeps the optional fields: preferred name, date of birth, phone and email", async () => {
    const w = await world();
    const res = await send(w.clinician.token, "createParticipant", {
      centerId: w.north,
      firstName: "Robert",
      lastName: "Brooks",
      preferredName: "Bobby",
      dateOfBirth: "1980-02-29",
      recoveryStartDate: "2024-11-15",
      phone: "+1 (555) 010-0000",
      email: "bobby@example.test",
    });
    expect(res.payload.userErrors).toEqual([]);
    expect(res.payload.participant).toMatchObject({
      preferredName: "Bobby",
      externalId: null,
      dateOfBirth: "1980-02-29",
      recoveryStartDate: "2024-11-15",
      phone: "+1 (555) 010-0000",
      email: "bobby@example.test",
    });
  });

  it("requires first and last names", async () => {
    const w = await world();
    expect(await refusals(w.clinician.token, "createParticipant", { centerId: w.north, firstName: "", lastName: "   " })).toEqual([
      ["input.firstName", "REQUIRED"],
      ["input.lastName", "REQUIRED"],
    ]);
    expect(await participantRows()).toBe(0);
  });

  it("refuses an invalid email and phone, a future birth date and a recovery start before birth, all together, writing nothing", async () => {
    const w = await world();
    expect(
      await refusals(w.clinician.token, "createParticipant", {
        centerId: w.north,
        firstName: "Ana",
        lastName: "Alvarez",
        phone: "call me maybe",
        email: "ana-at-example",
        dateOfBirth: daysFromToday(2),
      }),
    ).toEqual([
      ["input.phone", "INVALID"],
      ["input.email", "INVALID"],
      ["input.dateOfBirth", "INVALID"],
    ]);
    expect(
      await refusals(w.clinician.token, "createParticipant", {
        centerId: w.north,
        firstName: "Ana",
        lastName: "Alvarez",
        dateOfBirth: "1990-05-01",
        recoveryStartDate: "1990-04-30",
      }),
    ).toEqual([["input.recoveryStartDate", "INVALID"]]);
    expect(await participantRows()).toBe(0);
  });

  it("keeps externalId unique per center (EXTERNAL_ID_TAKEN) while another center may reuse it", async () => {
    const w = await world();
    await w.register({ firstName: "Ana", lastName: "Alvarez", externalId: "MRN-1" });
    const res = await send(w.clinician.token, "createParticipant", { centerId: w.north, firstName: "Ben", lastName: "Brooks", externalId: "MRN-1" });
    expect(res.errors).toBeUndefined();
    expect(res.payload.participant).toBeNull();
    expect(res.payload.userErrors).toEqual([
      { field: ["input", "externalId"], code: "EXTERNAL_ID_TAKEN", message: expect.not.stringMatching(/participants_|constraint|insert/i) },
    ]);
    expect(await participantRows()).toBe(1);

    const south = new Api(t.server, w.southClinician.token);
    expect(await w.register({ firstName: "Ben", lastName: "Brooks", externalId: "MRN-1" }, w.south, south)).toBeTruthy();
    expect(await participantRows()).toBe(2);
  });

  it("lets exactly one of two simultaneous registrations take an externalId", async () => {
    const w = await world();
    const results = await Promise.all(
      ["Ana", "Ben"].map((firstName) => send(w.clinician.token, "createParticipant", { centerId: w.north, firstName, lastName: "Same", externalId: "MRN-9" })),
    );
    expect(results.map((r) => r.errors)).toEqual([undefined, undefined]);
    const codes = results.map((r) => r.payload.userErrors.map((e: { code: string }) => e.code).join()).sort();
    expect(codes).toEqual(["", "EXTERNAL_ID_TAKEN"]);
    expect(await participantRows()).toBe(1);
  });

  it("refuses registration to facilitators and viewers (FORBIDDEN) and at another center (NOT_FOUND)", async () => {
    const w = await world();
    const fay = await w.admin.createStaff("fay@org.test", [{ centerId: w.north, role: "FACILITATOR" }]);
    const vic = await w.admin.createStaff("vic@org.test", [{ centerId: w.north, role: "VIEWER" }]);
    for (const token of [fay.token, vic.token]) {
      const res = await send(token, "createParticipant", { centerId: w.north, firstName: "Ana", lastName: "Alvarez" });
      expect(res.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    }
    expect(await refusals(w.clinician.token, "createParticipant", { centerId: w.south, firstName: "Ana", lastName: "Alvarez" })).toEqual([
      ["input.centerId", "NOT_FOUND"],
    ]);
    expect(await participantRows()).toBe(0);
  });
});

describe("updateParticipant", () => {
  const FULL = {
    firstName: "Robert",
    lastName: "Brooks",
    preferredName: "Bobby",
    externalId: "MRN-2",
    dateOfBirth: "1980-02-29",
    recoveryStartDate: "2024-11-15",
    phone: "555 0100",
    email: "bobby@example.test",
  };

  it("changes only the fields given", async () => {
    const w = await world();
    const id = await w.register(FULL);
    const res = await send(w.clinician.token, "updateParticipant", { participantId: id, phone: " 555 0199 ", lastName: " Brooks-Hale " });
    expect(res.payload.userErrors).toEqual([]);
    expect(res.payload.participant).toEqual({ id, ...FULL, lastName: "Brooks-Hale", phone: "555 0199", status: "ACTIVE" });
  });

  it("clears optional fields with empty strings", async () => {
    const w = await world();
    const id = await w.register(FULL);
    const res = await send(w.clinician.token, "updateParticipant", { participantId: id, preferredName: "", externalId: "", phone: "", email: " " });
    expect(res.payload.userErrors).toEqual([]);
    expect(res.payload.participant).toEqual({ id, ...FULL, preferredName: null, externalId: null, phone: null, email: null, status: "ACTIVE" });
  });

  it("refuses another participant's externalId (EXTERNAL_ID_TAKEN), blank names and bad values, changing nothing", async () => {
    const w = await world();
    const id = await w.register(FULL);
    await w.register({ firstName: "Ana", lastName: "Alvarez", externalId: "MRN-1" });
    expect(await refusals(w.clinician.token, "updateParticipant", { participantId: id, externalId: "MRN-1", firstName: "Rob" })).toEqual([
      ["input.externalId", "EXTERNAL_ID_TAKEN"],
    ]);
    expect(
      await refusals(w.clinician.token, "updateParticipant", { participantId: id, firstName: " ", email: "nope", recoveryStartDate: "1970-01-01" }),
    ).toEqual([
      ["input.firstName", "REQUIRED"],
      ["input.email", "INVALID"],
      ["input.recoveryStartDate", "INVALID"],
    ]);
    const node = await w.carl.query(`query($id: ID!) { node(id: $id) { ... on Participant { firstName externalId email recoveryStartDate } } }`, { id });
    expect(node.node).toEqual({ firstName: "Robert", externalId: "MRN-2", email: "bobby@example.test", recoveryStartDate: "2024-11-15" });
  });

  it("keeps its own externalId when saved unchanged, and changes status", async () => {
    const w = await world();
    const id = await w.register(FULL);
    const res = await send(w.clinician.token, "updateParticipant", { participantId: id, externalId: "MRN-2", status: "DISCHARGED" });
    expect(res.payload.userErrors).toEqual([]);
    expect(res.payload.participant).toMatchObject({ externalId: "MRN-2", status: "DISCHARGED" });
  });

  it("answers NOT_FOUND for a participant of another center", async () => {
    const w = await world();
    const south = await w.register({ firstName: "Sol", lastName: "South" }, w.south, new Api(t.server, w.southClinician.token));
    expect(await refusals(w.clinician.token, "updateParticipant", { participantId: south, firstName: "X" })).toEqual([["input.participantId", "NOT_FOUND"]]);
  });
});

describe("Center.participants", () => {
  async function people() {
    const w = await world();
    const young = await w.register({ firstName: "Zed", lastName: "Young", externalId: "MRN-100" });
    await w.register({ firstName: "Ana", lastName: "Alvarez", externalId: "MRN_1" });
    await w.register({ firstName: "Amy", lastName: "Alvarez", externalId: "MRN11" });
    await w.register({ firstName: "Robert", lastName: "Brooks", preferredName: "Bobby", externalId: "A%B" });
    const chen = await w.register({ firstName: "Cy", lastName: "Chen", externalId: "AXB" });
    await w.register({ firstName: "Other", lastName: "Center" }, w.south, new Api(t.server, w.southClinician.token));
    return { ...w, young, chen };
  }

  it("lists the center's participants by last name, then first name", async () => {
    const w = await people();
    expect(await listed(w.clinician.token, w.north)).toEqual(["Amy Alvarez", "Ana Alvarez", "Robert Brooks", "Cy Chen", "Zed Young"]);
    expect(await listed(w.southClinician.token, w.south)).toEqual(["Other Center"]);
  });

  it("searches first, last and preferred names and externalId, case-insensitively", async () => {
    const w = await people();
    const token = w.clinician.token;
    expect(await listed(token, w.north, { search: "ana" })).toEqual(["Ana Alvarez"]);
    expect(await listed(token, w.north, { search: "ALVA" })).toEqual(["Amy Alvarez", "Ana Alvarez"]);
    expect(await listed(token, w.north, { search: "bObBy" })).toEqual(["Robert Brooks"]);
    expect(await listed(token, w.north, { search: "mrn-1" })).toEqual(["Zed Young"]);
    expect(await listed(token, w.north, { search: "  young " })).toEqual(["Zed Young"]);
    expect(await listed(token, w.north, { search: "nobody" })).toEqual([]);
  });

  it("takes % and _ in a search literally", async () => {
    const w = await people();
    const token = w.clinician.token;
    expect(await listed(token, w.north, { search: "N_1" })).toEqual(["Ana Alvarez"]);
    expect(await listed(token, w.north, { search: "_" })).toEqual(["Ana Alvarez"]);
    expect(await listed(token, w.north, { search: "a%b" })).toEqual(["Robert Brooks"]);
    expect(await listed(token, w.north, { search: "%" })).toEqual(["Robert Brooks"]);
    expect(await listed(token, w.north, { search: "\\" })).toEqual([]);
  });

  it("filters by status", async () => {
    const w = await people();
    await w.carl.mutate("updateParticipant", { participantId: w.young, status: "INACTIVE" }, "participant { id }");
    await w.carl.mutate("updateParticipant", { participantId: w.chen, status: "DISCHARGED" }, "participant { id }");
    expect(await listed(w.clinician.token, w.north, { status: "INACTIVE" })).toEqual(["Zed Young"]);
    expect(await listed(w.clinician.token, w.north, { status: "DISCHARGED" })).toEqual(["Cy Chen"]);
    expect(await listed(w.clinician.token, w.north, { status: "ACTIVE" })).toEqual(["Amy Alvarez", "Ana Alvarez", "Robert Brooks"]);
    expect(await listed(w.clinician.token, w.north, { status: "ACTIVE", search: "alvarez" })).toEqual(["Amy Alvarez", "Ana Alvarez"]);
  });
});

describe("who reads participants", () => {
  /**
   * North has two groups: Fay facilitates Monday (Ana, Ben), Gus facilitates Thursday (Cy).
   * Dee is registered but in no group. Vic is a VIEWER at North.
   */
  async function groupsWorld() {
    const w = await world();
    const fay = await w.admin.createStaff("fay@org.test", [{ centerId: w.north, role: "FACILITATOR" }]);
    const gus = await w.admin.createStaff("gus@org.test", [{ centerId: w.north, role: "FACILITATOR" }]);
    const vic = await w.admin.createStaff("vic@org.test", [{ centerId: w.north, role: "VIEWER" }]);
    const program = await w.admin.mutate("createProgram", { centerId: w.north, name: "Relapse prevention" }, "program { id }");
    const group = async (name: string, facilitatorId: string, day: string): Promise<string> => {
      const g = await w.admin.mutate(
        "createGroup",
        {
          programId: program.program.id,
          name,
          capacity: 10,
          startsOn: "2026-01-05",
          facilitatorIds: [facilitatorId],
          schedule: { daysOfWeek: [day], startTime: "18:00", durationMinutes: 60 },
        },
        "group { id }",
      );
      return g.group.id;
    };
    const monday = await group("Monday", fay.id, "MONDAY");
    const thursday = await group("Thursday", gus.id, "THURSDAY");
    const ana = await w.register({ firstName: "Ana", lastName: "Alvarez" });
    const ben = await w.register({ firstName: "Ben", lastName: "Brooks" });
    const cy = await w.register({ firstName: "Cy", lastName: "Chen" });
    const dee = await w.register({ firstName: "Dee", lastName: "Diaz" });
    for (const [groupId, participantId] of [
      [monday, ana],
      [monday, ben],
      [thursday, cy],
    ]) {
      await w.carl.mutate("enrollParticipant", { groupId, participantId }, "enrollment { id }");
    }
    return { ...w, fay, gus, vic, monday, thursday, ana, ben, cy, dee };
  }

  const NODE = `query($id: ID!) { node(id: $id) { id ... on Participant { firstName } } }`;

  it("shows a facilitator only the members of the groups they facilitate", async () => {
    const w = await groupsWorld();
    expect(await listed(w.fay.token, w.north)).toEqual(["Ana Alvarez", "Ben Brooks"]);
    expect(await listed(w.gus.token, w.north)).toEqual(["Cy Chen"]);
    expect(await listed(w.fay.token, w.north, { search: "chen" })).toEqual([]);
    expect(await listed(w.clinician.token, w.north)).toEqual(["Ana Alvarez", "Ben Brooks", "Cy Chen", "Dee Diaz"]);
  });

  it("answers node(id) with null for a facilitator of another group, and with the participant for their own", async () => {
    const w = await groupsWorld();
    const own = await t.server.gql(NODE, { id: w.ana }, { token: w.fay.token });
    expect(own.errors).toBeUndefined();
    expect(own.data.node).toEqual({ id: w.ana, firstName: "Ana" });
    for (const id of [w.cy, w.dee]) {
      const other = await t.server.gql(NODE, { id }, { token: w.fay.token });
      expect(other.errors).toBeUndefined();
      expect(other.data.node).toBeNull();
    }
  });

  it("lets a facilitator read but not change their members, and treats others as missing", async () => {
    const w = await groupsWorld();
    const mine = await send(w.fay.token, "updateParticipant", { participantId: w.ana, preferredName: "Annie" });
    expect(mine.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(await refusals(w.fay.token, "updateParticipant", { participantId: w.cy, preferredName: "C" })).toEqual([["input.participantId", "NOT_FOUND"]]);
  });

  it("refuses participants to a VIEWER (FORBIDDEN), in lists and by id", async () => {
    const w = await groupsWorld();
    const list = await t.server.gql(LIST, { id: w.north }, { token: w.vic.token });
    expect(list.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(JSON.stringify(list.data ?? null)).not.toContain("Alvarez");
    const byId = await t.server.gql(NODE, { id: w.ana }, { token: w.vic.token });
    expect(byId.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(JSON.stringify(byId.data ?? null)).not.toContain("Ana");
    // The viewer still reads the center and its groups.
    const groups = await new Api(t.server, w.vic.token).query(`query($id: ID!) { center(id: $id) { groups { totalCount } } }`, { id: w.north });
    expect(groups.center.groups.totalCount).toBe(2);
  });

  it("hides another center's participants: node(id) is null and the list is out of reach", async () => {
    const w = await groupsWorld();
    const res = await t.server.gql(NODE, { id: w.ana }, { token: w.southClinician.token });
    expect(res.errors).toBeUndefined();
    expect(res.data.node).toBeNull();
    const center = await t.server.gql(LIST, { id: w.north }, { token: w.southClinician.token });
    expect(center.errors).toBeUndefined();
    expect(center.data.center).toBeNull();
  });
});
