// Recovery capital (BARC-10): ten answers of 1-6, a day not in the future in the center's zone,
// refusals that point at the bad item, newest-first history, the change since the first, and who
// may record or read it.
import { describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { asOrgAdmin, sendMutation, type Api } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const ERRORS = "userErrors { field message code }";
const ASSESSMENT = "assessment { id total assessedOn instrument items }";
const HISTORY = `query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Participant {
  recoveryCapital(first: $first, after: $after) { totalCount nodes { id assessedOn total items } pageInfo { hasNextPage endCursor } }
  recoveryCapitalChange
} } }`;

interface World {
  admin: Api;
  centerId: string;
  groupId: string;
  participantId: string;
}

async function world(timezone = "America/New_York"): Promise<World> {
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("North Clinic", timezone);
  const program = await admin.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }");
  const group = await admin.mutate(
    "createGroup",
    {
      programId: program.program.id,
      name: "Tuesday evening",
      capacity: 20,
      status: "ACTIVE",
      startsOn: "2026-01-01",
      schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 90 },
    },
    "group { id }",
  );
  const p = await admin.mutate("createParticipant", { centerId, firstName: "Ana", lastName: "Test" }, "participant { id }");
  await admin.mutate("enrollParticipant", { groupId: group.group.id, participantId: p.participant.id }, "enrollment { id }");
  return { admin, centerId, groupId: group.group.id, participantId: p.participant.id };
}

function record(token: string, input: Record<string, unknown>) {
  return sendMutation(t.server, token, "recordRecoveryCapital", { instrument: "BARC_10", ...input }, `${ASSESSMENT} ${ERRORS}`);
}

const TEN = [4, 5, 3, 6, 2, 4, 5, 4, 3, 5]; // total 41

describe("recording BARC-10", () => {
  it("records ten answers and their total", async () => {
    const w = await world();
    setClock("2026-05-10T16:00:00Z");
    const res = await record(w.admin.token, { participantId: w.participantId, assessedOn: "2026-05-10", items: TEN });
    expect(res.errors).toBeUndefined();
    expect(res.payload.userErrors).toEqual([]);
    expect(res.payload.assessment).toMatchObject({ total: 41, assessedOn: "2026-05-10", instrument: "BARC_10", items: TEN });
    const lowest = await record(w.admin.token, { participantId: w.participantId, assessedOn: "2026-05-10", items: Array(10).fill(1) });
    const highest = await record(w.admin.token, { participantId: w.participantId, assessedOn: "2026-05-10", items: Array(10).fill(6) });
    expect([lowest.payload.assessment.total, highest.payload.assessment.total]).toEqual([10, 60]);
  });

  it("refuses anything else with a path to the bad item, writing nothing", async () => {
    const w = await world();
    setClock("2026-05-10T16:00:00Z");
    const before = await t.server.database.fingerprint();
    const cases: Array<[Record<string, unknown>, string[][]]> = [
      [{ items: TEN.slice(0, 9) }, [["input", "items"]]],
      [{ items: [...TEN, 4] }, [["input", "items"]]],
      [{ items: [] }, [["input", "items"]]],
      [{ items: [4, 5, 3, 0, 2, 4, 5, 4, 3, 5] }, [["input", "items", "3"]]],
      [
        { items: [7, 5, 3, 6, 2, 4, 5, 4, 3, -1] },
        [
          ["input", "items", "0"],
          ["input", "items", "9"],
        ],
      ],
      [{ assessedOn: "2026-05-11" }, [["input", "assessedOn"]]],
    ];
    for (const [input, fields] of cases) {
      const res = await record(w.admin.token, { participantId: w.participantId, assessedOn: "2026-05-10", items: TEN, ...input });
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      expect(res.payload.assessment).toBeNull();
      expect(res.payload.userErrors.map((e: { field: string[]; code: string }) => [e.field, e.code])).toEqual(fields.map((f) => [f, "INVALID"]));
    }
    const wrongInstrument = await record(w.admin.token, { participantId: w.participantId, assessedOn: "2026-05-10", items: TEN, instrument: "PHQ_9" });
    expect(wrongInstrument.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(await t.server.database.fingerprint()).toBe(before);
  });

  it("'not in the future' is judged by the calendar day in the center's time zone", async () => {
    const w = await world("America/Los_Angeles");
    // 23:30 on 9 May in Los Angeles; 10 May in UTC.
    setClock("2026-05-10T06:30:00Z");
    const early = await record(w.admin.token, { participantId: w.participantId, assessedOn: "2026-05-10", items: TEN });
    expect(early.payload.userErrors).toEqual([expect.objectContaining({ field: ["input", "assessedOn"], code: "INVALID" })]);
    expect((await record(w.admin.token, { participantId: w.participantId, assessedOn: "2026-05-09", items: TEN })).payload.userErrors).toEqual([]);
    setClock("2026-05-10T07:00:00Z"); // midnight in Los Angeles
    expect((await record(w.admin.token, { participantId: w.participantId, assessedOn: "2026-05-10", items: TEN })).payload.userErrors).toEqual([]);
  });
});

describe("history and change", () => {
  it("lists assessments newest first, pages them, and reports latest total minus first total", async () => {
    const w = await world();
    setClock("2026-09-01T16:00:00Z");
    let data = (await w.admin.query(HISTORY, { id: w.participantId, first: 10 })).node;
    expect(data.recoveryCapital.totalCount).toBe(0);
    expect(data.recoveryCapitalChange).toBeNull();
    // Entered out of order: the assessment day decides the order, not the entry.
    const entries: Array<[string, number]> = [
      ["2026-03-01", 1],
      ["2026-07-01", 5],
      ["2026-01-15", 2],
    ];
    for (const [day, value] of entries) {
      await w.admin.mutate(
        "recordRecoveryCapital",
        { participantId: w.participantId, instrument: "BARC_10", assessedOn: day, items: Array(10).fill(value) },
        "assessment { id }",
      );
      if (day === "2026-03-01") {
        data = (await w.admin.query(HISTORY, { id: w.participantId, first: 10 })).node;
        expect(data.recoveryCapitalChange).toBeNull(); // one assessment: no change yet
      }
    }
    data = (await w.admin.query(HISTORY, { id: w.participantId, first: 2 })).node;
    expect(data.recoveryCapital.totalCount).toBe(3);
    expect(data.recoveryCapital.nodes.map((n: { assessedOn: string; total: number }) => [n.assessedOn, n.total])).toEqual([
      ["2026-07-01", 50],
      ["2026-03-01", 10],
    ]);
    expect(data.recoveryCapital.pageInfo.hasNextPage).toBe(true);
    const next = (await w.admin.query(HISTORY, { id: w.participantId, first: 2, after: data.recoveryCapital.pageInfo.endCursor })).node;
    expect(next.recoveryCapital.nodes.map((n: { assessedOn: string }) => n.assessedOn)).toEqual(["2026-01-15"]);
    // Latest (1 July, 50) minus first (15 January, 20).
    expect(data.recoveryCapitalChange).toBe(30);
    const bad = await t.server.gql(HISTORY, { id: w.participantId, first: 101 }, { token: w.admin.token });
    expect(bad.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("who may record and read", () => {
  it("clinicians record; a group's facilitator reads but may not record; viewers and other facilitators get nothing", async () => {
    const w = await world();
    const clinician = await w.admin.createStaff("clin@org.test", [{ centerId: w.centerId, role: "CLINICIAN" }]);
    const viewer = await w.admin.createStaff("viewer@org.test", [{ centerId: w.centerId, role: "VIEWER" }]);
    const mine = await w.admin.createStaff("mine@org.test", [{ centerId: w.centerId, role: "FACILITATOR" }]);
    const other = await w.admin.createStaff("other@org.test", [{ centerId: w.centerId, role: "FACILITATOR" }]);
    await w.admin.mutate("updateGroup", { groupId: w.groupId, facilitatorIds: [mine.id] }, "group { id }");
    setClock("2026-05-10T16:00:00Z");
    const input = { participantId: w.participantId, assessedOn: "2026-05-10", items: TEN };
    const ok = await record(clinician.token, input);
    expect(ok.payload.userErrors).toEqual([]);
    const id = ok.payload.assessment.id;

    const before = await t.server.database.fingerprint();
    expect((await record(mine.token, input)).errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect((await record(viewer.token, input)).errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect((await record(other.token, input)).payload.userErrors).toEqual([expect.objectContaining({ field: ["input", "participantId"], code: "NOT_FOUND" })]);
    expect(await t.server.database.fingerprint()).toBe(before);

    const read = await t.server.gql(HISTORY, { id: w.participantId, first: 5 }, { token: mine.token });
    expect(read.errors).toBeUndefined();
    expect(read.data.node.recoveryCapital.nodes.map((n: { id: string }) => n.id)).toEqual([id]);
    expect((await t.server.gql(HISTORY, { id: w.participantId, first: 5 }, { token: other.token })).data.node).toBeNull();
    expect((await t.server.gql(HISTORY, { id: w.participantId, first: 5 }, { token: viewer.token })).errors?.[0].extensions?.code).toBe("FORBIDDEN");

    const node = `query($id: ID!) { node(id: $id) { ... on RecoveryCapitalAssessment { id total } } }`;
    expect((await t.server.gql(node, { id }, { token: mine.token })).data.node).toEqual({ id, total: 41 });
    expect((await t.server.gql(node, { id }, { token: other.token })).data.node).toBeNull();
    expect((await t.server.gql(node, { id }, { token: viewer.token })).errors?.[0].extensions?.code).toBe("FORBIDDEN");
  });
});
