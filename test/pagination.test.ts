// Relay cursor connections: first/after and last/before walks, pageInfo at both ends, totalCount,
// argument validation, the default page size, and nested connections paged per parent.
import { describe, expect, it } from "vitest";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const PAGE = `totalCount edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`;
const ARGS = `$first: Int, $after: String, $last: Int, $before: String`;
const PASS = `first: $first, after: $after, last: $last, before: $before`;

interface Conn {
  totalCount: number;
  edges: Array<{ cursor: string; node: { label: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

interface Subject {
  name: string;
  /** Reads one page; `vars` are the connection arguments. */
  read(vars: Record<string, unknown>): Promise<{ conn?: Conn; errors?: Array<{ extensions?: { code?: string } }> }>;
}

interface World {
  admin: Api;
  centerId: string;
  groupNames: string[];
  participantNames: string[];
  /** Group with 25 sessions and three members. */
  busyGroupId: string;
  sessionStarts: string[];
  /** Groups with their members in enrolment order, for nested paging. */
  members: Array<{ groupId: string; name: string; lastNames: string[] }>;
}

async function buildWorld(): Promise<World> {
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("Paging Clinic", "UTC");
  const program = await admin.mutate("createProgram", { centerId, name: "Aftercare" }, "program { id }");
  // Created out of order, so that the connection's order (by name) is not the insertion order.
  const groupNames = ["Group E", "Group B", "Group G", "Group A", "Group D", "Group F", "Group C"];
  const groupIds = new Map<string, string>();
  for (const [i, name] of groupNames.entries()) {
    const g = await admin.mutate(
      "createGroup",
      {
        programId: program.program.id,
        name,
        capacity: 10,
        status: "ACTIVE",
        startsOn: "2026-02-01",
        schedule: {
          daysOfWeek: i === 0 ? ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"] : ["MONDAY"],
          startTime: "09:00",
          durationMinutes: 60,
        },
      },
      "group { id }",
    );
    groupIds.set(name, g.group.id);
  }
  const lastNames = ["Moreno", "Diaz", "Quinn", "Abbott", "Nakamura", "Fischer", "Oyelaran"];
  const participantIds = new Map<string, string>();
  for (const lastName of lastNames) {
    const p = await admin.mutate("createParticipant", { centerId, firstName: "Pat", lastName }, "participant { id }");
    participantIds.set(lastName, p.participant.id);
  }
  const membership: Array<[string, string[]]> = [
    ["Group A", ["Quinn", "Abbott", "Diaz"]],
    ["Group B", ["Moreno", "Fischer", "Nakamura", "Oyelaran"]],
    ["Group C", ["Oyelaran", "Quinn"]],
  ];
  for (const [group, people] of membership) {
    for (const person of people) {
      await admin.mutate("enrollParticipant", { groupId: groupIds.get(group), participantId: participantIds.get(person) }, "enrollment { id }");
    }
  }
  const busyGroupId = groupIds.get("Group E")!;
  const scheduled = await admin.mutate("scheduleSessions", { groupId: busyGroupId, from: "2026-02-01", to: "2026-02-25" }, "sessions { startsAt }");
  const sessionStarts = (scheduled.sessions as Array<{ startsAt: string }>).map((s) => s.startsAt).sort();
  expect(sessionStarts).toHaveLength(25);
  return {
    admin,
    centerId,
    groupNames: [...groupNames].sort(),
    participantNames: [...lastNames].sort(),
    busyGroupId,
    sessionStarts,
    members: membership.map(([name, people]) => ({ groupId: groupIds.get(name)!, name, lastNames: people })),
  };
}

function subjects(w: World): Subject[] {
  const read = async (query: string, vars: Record<string, unknown>, pick: (d: any) => any) => {
    const res = await t.server.gql(query, vars, { token: w.admin.token });
    return { conn: res.data ? pick(res.data) : undefined, errors: res.errors };
  };
  return [
    {
      name: "center.groups",
      read: (vars) =>
        read(
          `query($id: ID!, ${ARGS}) { center(id: $id) { groups(${PASS}) { ${PAGE} edges { node { label: name } } } } }`,
          { id: w.centerId, ...vars },
          (d) => d.center?.groups,
        ),
    },
    {
      name: "center.participants",
      read: (vars) =>
        read(
          `query($id: ID!, ${ARGS}) { center(id: $id) { participants(${PASS}) { ${PAGE} edges { node { label: lastName } } } } }`,
          { id: w.centerId, ...vars },
          (d) => d.center?.participants,
        ),
    },
    {
      name: "group.sessions",
      read: (vars) =>
        read(
          `query($id: ID!, ${ARGS}) { node(id: $id) { ... on Group { sessions(${PASS}) { ${PAGE} edges { node { label: startsAt } } } } } }`,
          { id: w.busyGroupId, ...vars },
          (d) => d.node?.sessions,
        ),
    },
  ];
}

function expectedOf(w: World, s: Subject): string[] {
  return s.name === "center.groups" ? w.groupNames : s.name === "center.participants" ? w.participantNames : w.sessionStarts;
}

async function page(s: Subject, vars: Record<string, unknown>): Promise<Conn> {
  const res = await s.read(vars);
  expect(res.errors, `${s.name} ${JSON.stringify(vars)}: ${JSON.stringify(res.errors)}`).toBeUndefined();
  return res.conn!;
}

describe("Relay connections", () => {
  it("walks every item exactly once, in order, with first/after, and reports pageInfo at both ends", async () => {
    const w = await buildWorld();
    for (const s of subjects(w)) {
      const expected = expectedOf(w, s);
      const size = s.name === "group.sessions" ? 10 : 3;
      const seen: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const c = await page(s, { first: size, after });
        expect(c.totalCount, s.name).toBe(expected.length);
        expect(c.edges.length).toBe(Math.min(size, expected.length - seen.length));
        expect(c.pageInfo.startCursor).toBe(c.edges[0].cursor);
        expect(c.pageInfo.endCursor).toBe(c.edges[c.edges.length - 1].cursor);
        expect(c.pageInfo.hasPreviousPage, `${s.name} page ${pages}`).toBe(after !== null);
        seen.push(...c.edges.map((e) => e.node.label));
        expect(c.pageInfo.hasNextPage, `${s.name} page ${pages}`).toBe(seen.length < expected.length);
        if (!c.pageInfo.hasNextPage) break;
        after = c.pageInfo.endCursor;
      }
      expect(seen, s.name).toEqual(expected);

      // Past the end: an empty page that still knows the total and that items come before it.
      const beyond = await page(s, { first: size, after: (await page(s, { last: 1 })).pageInfo.endCursor });
      expect(beyond).toMatchObject({
        totalCount: expected.length,
        edges: [],
        pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null },
      });
    }
  });

  it("walks backwards with last/before, ending with hasPreviousPage false", async () => {
    const w = await buildWorld();
    for (const s of subjects(w)) {
      const expected = expectedOf(w, s);
      const size = s.name === "group.sessions" ? 10 : 3;
      const seen: string[] = [];
      let before: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const c = await page(s, { last: size, before });
        expect(c.totalCount, s.name).toBe(expected.length);
        expect(c.edges.length).toBe(Math.min(size, expected.length - seen.length));
        expect(c.pageInfo.startCursor).toBe(c.edges[0].cursor);
        expect(c.pageInfo.endCursor).toBe(c.edges[c.edges.length - 1].cursor);
        expect(c.pageInfo.hasNextPage, `${s.name} page ${pages}`).toBe(before !== null);
        seen.unshift(...c.edges.map((e) => e.node.label));
        expect(c.pageInfo.hasPreviousPage, `${s.name} page ${pages}`).toBe(seen.length < expected.length);
        if (!c.pageInfo.hasPreviousPage) break;
        before = c.pageInfo.startCursor;
      }
      expect(seen, s.name).toEqual(expected);
    }
  });

  it("gives cursors that page the same items forwards and backwards", async () => {
    const w = await buildWorld();
    const [groups] = subjects(w);
    const all = await page(groups, { first: 7 });
    // The window strictly between the 2nd and the 6th item, from either side.
    const between = await page(groups, { first: 100, after: all.edges[1].cursor, before: all.edges[5].cursor });
    const fromEnd = await page(groups, { last: 100, after: all.edges[1].cursor, before: all.edges[5].cursor });
    expect(between.edges.map((e) => e.node.label)).toEqual(w.groupNames.slice(2, 5));
    expect(fromEnd.edges).toEqual(between.edges);
    expect(between.totalCount).toBe(7);
  });

  it("answers an empty connection with no edges, null cursors and a zero total", async () => {
    const w = await buildWorld();
    const emptyCenterId = await w.admin.createCenter("Empty Clinic", "UTC");
    const res = await w.admin.query(
      `query($id: ID!) { center(id: $id) {
        groups(first: 5) { ${PAGE} } participants(last: 5) { ${PAGE} } sessions { ${PAGE} } } }`,
      { id: emptyCenterId },
    );
    const empty = { totalCount: 0, edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };
    expect(res.center).toEqual({ groups: empty, participants: empty, sessions: empty });
    const quiet = await w.admin.query(`query($id: ID!) { node(id: $id) { ... on Group { sessions(first: 5) { ${PAGE} } } } }`, { id: w.members[0].groupId });
    expect(quiet.node.sessions).toEqual(empty);
  });

  it("returns 20 items when neither first nor last is given, and accepts 100", async () => {
    const w = await buildWorld();
    const sessions = subjects(w)[2];
    const c = await page(sessions, {});
    expect(c.edges.map((e) => e.node.label)).toEqual(w.sessionStarts.slice(0, 20));
    expect(c.totalCount).toBe(25);
    expect(c.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect((await page(sessions, { first: 100 })).edges).toHaveLength(25);
    expect((await page(sessions, { last: 100 })).edges).toHaveLength(25);
  });

  it("refuses out-of-range sizes, first with last, and garbage cursors with BAD_USER_INPUT", async () => {
    const w = await buildWorld();
    const bad: Array<Record<string, unknown>> = [
      { first: 0 },
      { first: 101 },
      { first: -1 },
      { last: 0 },
      { last: 101 },
      { first: 2, last: 2 },
      { first: 2, after: "garbage" },
      { last: 2, before: "garbage" },
      { first: 2, after: Buffer.from("pos:one").toString("base64url") },
      { first: 2, after: Buffer.from("Group:123").toString("base64url") },
    ];
    for (const s of subjects(w)) {
      for (const vars of bad) {
        const res = await s.read(vars);
        expect(
          res.errors?.map((e) => e.extensions?.code),
          `${s.name} ${JSON.stringify(vars)}`,
        ).toEqual(["BAD_USER_INPUT"]);
      }
    }
  });

  it("pages a nested connection per parent: each group gets its own first two enrolments", async () => {
    const w = await buildWorld();
    const q = `query($id: ID!, $after: String) { center(id: $id) { groups(first: 3) { nodes { name
      enrollments(first: 2, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { participant { lastName } } } } } } }`;
    const first = await w.admin.query(q, { id: w.centerId });
    const byName = (d: any) => new Map<string, any>(d.center.groups.nodes.map((g: any) => [g.name, g.enrollments]));
    const pages = byName(first);
    for (const m of w.members) {
      const c = pages.get(m.name);
      expect(
        c.nodes.map((n: any) => n.participant.lastName),
        m.name,
      ).toEqual(m.lastNames.slice(0, 2));
      expect(c.totalCount).toBe(m.lastNames.length);
      expect(c.pageInfo).toMatchObject({ hasNextPage: m.lastNames.length > 2, hasPreviousPage: false });
    }

    // The next page, after the second enrolment, for every group at once.
    const after = pages.get("Group A").pageInfo.endCursor;
    const second = byName(await w.admin.query(q, { id: w.centerId, after }));
    for (const m of w.members) {
      const c = second.get(m.name);
      expect(
        c.nodes.map((n: any) => n.participant.lastName),
        m.name,
      ).toEqual(m.lastNames.slice(2, 4));
      expect(c.totalCount).toBe(m.lastNames.length);
      expect(c.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    }

    // And from the other end: each group's own last enrolment.
    const last = await w.admin.query(
      `query($id: ID!) { center(id: $id) { groups(first: 3) { nodes { name enrollments(last: 1) { nodes { participant { lastName } } } } } } }`,
      { id: w.centerId },
    );
    expect(last.center.groups.nodes.map((g: any) => [g.name, g.enrollments.nodes.map((n: any) => n.participant.lastName)])).toEqual(
      w.members.map((m) => [m.name, m.lastNames.slice(-1)]),
    );
  });
});
