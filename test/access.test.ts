// The role-by-operation access matrix, as src/auth/access.ts decides it, over real HTTP with real
// tokens: one center with a staff member per role, a facilitator of G1 (not of G2), and an
// outsider (an ADMIN of another center), against every operation. Then authentication: no token,
// an expired token, a forged one, an unknown subject and a deactivated staff member all answer
// UNAUTHENTICATED on every root field.
import { randomUUID } from "node:crypto";
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from "graphql";
import { SignJWT } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { getMetadataStorage } from "type-graphql";
import { readRule } from "../src/auth/access.js";
import { mintToken } from "../src/auth/tokens.js";
import { setClock } from "../src/common/clock.js";
import { effectivePolicy, type Audience } from "../src/common/policy.js";
import { toGlobalId } from "../src/common/ids.js";
import { createSchema } from "../src/schema.js";
import { ADMIN_EMAIL, asOrgAdmin, mutationDocument, type Api } from "./support/fixtures.js";
import { TEST_SECRET, useTestServer, type GqlResult } from "./support/server.js";

const t = useTestServer();

// "Now" is an input: every test runs at a fixed instant after the sessions below (January to March
// 2025), so completing one is allowed whatever the real date (completeSession refuses a session
// that has not started). Tokens keep the real clock (src/auth/tokens.ts).
const NOW = "2025-06-04T15:00:00.000Z";
beforeEach(() => setClock(NOW));

// ---------------------------------------------------------------------------------------------
// The expectations. A row per operation, a column per role.
//   ALLOWED    the operation succeeds (mutation: object returned, no userErrors; read: data)
//   FORBIDDEN  a GraphQL error with extensions.code FORBIDDEN, and nothing written
//   MISSING    reads as if the target did not exist: userError NOT_FOUND / null, nothing written
//   sees(...)  a list read answers exactly these items
// G1 is facilitated by FACILITATOR, G2 is not. Ana is a member of G1, Ben of G2, Cy of no group.
// OUTSIDER is an ADMIN of another center.
// ---------------------------------------------------------------------------------------------

const ROLES = ["ORG_ADMIN", "ADMIN", "CLINICIAN", "FACILITATOR", "VIEWER", "OUTSIDER"] as const;
type Role = (typeof ROLES)[number];
type Outcome = string;

const ALLOWED = "allowed";
const FORBIDDEN = "FORBIDDEN";
const MISSING = "missing";
const sees = (...items: string[]): Outcome => `sees [${items.join(", ")}]`;

const G1_AND_G2 = sees("G1", "G2");
const EVERYONE = sees("Ana", "Ben", "Cy");
const ANA_PRESENT = sees("Ana PRESENT");
const BEN_PRESENT = sees("Ben PRESENT");
const ONE_PRESENT = sees("1 present");
const IS_ACTIVE = sees("ACTIVE");

type Row = [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome];

const MATRIX = {
  configuration: {
    //                           ORG_ADMIN  ADMIN      CLINICIAN  FACILITATOR  VIEWER     OUTSIDER
    createCenter: [ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    updateCenter: [ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, MISSING],
    createStaff: [ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, MISSING],
    updateStaff: [ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, MISSING],
    setStaffMembership: [ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, MISSING],
    removeStaffMembership: [ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, MISSING],
    createProgram: [ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, MISSING],
    updateProgram: [ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, MISSING],
    createGroup: [ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, MISSING],
    "updateGroup G1": [ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, MISSING],
    "updateGroup G2": [ALLOWED, ALLOWED, FORBIDDEN, MISSING, FORBIDDEN, MISSING],
  },
  "participants and enrolment": {
    //                           ORG_ADMIN  ADMIN      CLINICIAN  FACILITATOR  VIEWER     OUTSIDER
    createParticipant: [ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, MISSING],
    "updateParticipant Ana": [ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, MISSING],
    "updateParticipant Ben": [ALLOWED, ALLOWED, ALLOWED, MISSING, FORBIDDEN, MISSING],
    "enrollParticipant G1": [ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, MISSING],
    "enrollParticipant G2": [ALLOWED, ALLOWED, ALLOWED, MISSING, FORBIDDEN, MISSING],
    "endEnrollment G1": [ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, MISSING],
    "updateEnrollment G1": [ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, MISSING],
  },
  "sessions and attendance": {
    //                           ORG_ADMIN  ADMIN      CLINICIAN  FACILITATOR  VIEWER     OUTSIDER
    "scheduleSessions G1": [ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, MISSING],
    "scheduleSessions G2": [ALLOWED, ALLOWED, ALLOWED, MISSING, FORBIDDEN, MISSING],
    "cancelSession G1": [ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, MISSING],
    "updateSession G1": [ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN, MISSING],
    "completeSession G1": [ALLOWED, ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, MISSING],
    "completeSession G2": [ALLOWED, ALLOWED, ALLOWED, MISSING, FORBIDDEN, MISSING],
    "recordAttendance G1": [ALLOWED, ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, MISSING],
    "recordAttendance G2": [ALLOWED, ALLOWED, ALLOWED, MISSING, FORBIDDEN, MISSING],
  },
  reads: {
    //                           ORG_ADMIN     ADMIN         CLINICIAN     FACILITATOR   VIEWER        OUTSIDER
    "center.groups": [G1_AND_G2, G1_AND_G2, G1_AND_G2, sees("G1"), G1_AND_G2, MISSING],
    "center.participants": [EVERYONE, EVERYONE, EVERYONE, sees("Ana"), FORBIDDEN, MISSING],
    "node(Ana)": [ALLOWED, ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, MISSING],
    "node(Ben)": [ALLOWED, ALLOWED, ALLOWED, MISSING, FORBIDDEN, MISSING],
    "session.attendance G1": [ANA_PRESENT, ANA_PRESENT, ANA_PRESENT, ANA_PRESENT, FORBIDDEN, MISSING],
    "session.attendance G2": [BEN_PRESENT, BEN_PRESENT, BEN_PRESENT, MISSING, FORBIDDEN, MISSING],
    "attendanceSummary G1": [ONE_PRESENT, ONE_PRESENT, ONE_PRESENT, ONE_PRESENT, ONE_PRESENT, MISSING],
    "attendanceSummary G2": [ONE_PRESENT, ONE_PRESENT, ONE_PRESENT, MISSING, ONE_PRESENT, MISSING],
    "enrollment.status G1": [IS_ACTIVE, IS_ACTIVE, IS_ACTIVE, IS_ACTIVE, IS_ACTIVE, MISSING],
    "enrollment.participant G1": [sees("Ana"), sees("Ana"), sees("Ana"), sees("Ana"), FORBIDDEN, MISSING],
  },
} satisfies Record<string, Record<string, Row>>;

type Section = typeof MATRIX;
type OpName = { [S in keyof Section]: keyof Section[S] }[keyof Section];

// ---------------------------------------------------------------------------------------------
// The world: built through the API by the org admin.
// ---------------------------------------------------------------------------------------------

interface World {
  org: Api;
  token: Record<Role, string>;
  centerId: string;
  programId: string;
  g1: string;
  g2: string;
  /** Ana is enrolled in G1, Ben in G2, Cy in no group. */
  ana: string;
  ben: string;
  cy: string;
  anaInG1: string;
  /** Each group's past sessions; at the first (READ), its member was recorded PRESENT. */
  g1Sessions: string[];
  g2Sessions: string[];
  /** A VIEWER at the center whose role the admins change. */
  spareStaffId: string;
}

/** Which of a group's past sessions each kind of operation uses, so that they do not meet. */
const S = { READ: 0, RECORD: 1, CANCEL: 2, COMPLETE: 3, UPDATE: 4 } as const;

const SCHEDULE = { daysOfWeek: ["MONDAY"], startTime: "18:00", durationMinutes: 90 };

async function buildWorld(): Promise<World> {
  const org = await asOrgAdmin(t.server);
  const centerId = await org.createCenter("Harbor House", "UTC");
  const elsewhereId = await org.createCenter("Elsewhere", "UTC");
  const admin = await org.createStaff("admin@harbor.test", [{ centerId, role: "ADMIN" }]);
  const clinician = await org.createStaff("clinician@harbor.test", [{ centerId, role: "CLINICIAN" }]);
  const facilitator = await org.createStaff("facilitator@harbor.test", [{ centerId, role: "FACILITATOR" }]);
  const viewer = await org.createStaff("viewer@harbor.test", [{ centerId, role: "VIEWER" }]);
  const outsider = await org.createStaff("admin@elsewhere.test", [{ centerId: elsewhereId, role: "ADMIN" }]);
  const spare = await org.createStaff("spare@harbor.test", [{ centerId, role: "VIEWER" }]);

  const { program } = await org.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }");
  const group = async (name: string, facilitatorIds: string[]) =>
    (
      await org.mutate(
        "createGroup",
        { programId: program.id, name, capacity: 20, startsOn: "2025-01-06", status: "ACTIVE", facilitatorIds, schedule: SCHEDULE },
        "group { id }",
      )
    ).group.id as string;
  const g1 = await group("G1", [facilitator.id]);
  const g2 = await group("G2", []);

  const ana = await createParticipant(org, centerId, "Ana");
  const ben = await createParticipant(org, centerId, "Ben");
  const cy = await createParticipant(org, centerId, "Cy");
  const anaInG1 = await enroll(org, g1, ana);
  await enroll(org, g2, ben);

  const pastSessions = async (groupId: string, participantId: string) => {
    const { sessions } = await org.mutate("scheduleSessions", { groupId, from: "2025-01-06", to: "2025-02-03" }, "sessions { id }");
    const ids = sessions.map((s: { id: string }) => s.id) as string[];
    await org.mutate("recordAttendance", { sessionId: ids[S.READ], records: [{ participantId, status: "PRESENT" }] }, "attendance { id }");
    return ids;
  };
  const g1Sessions = await pastSessions(g1, ana);
  const g2Sessions = await pastSessions(g2, ben);

  return {
    org,
    token: {
      ORG_ADMIN: org.token,
      ADMIN: admin.token,
      CLINICIAN: clinician.token,
      FACILITATOR: facilitator.token,
      VIEWER: viewer.token,
      OUTSIDER: outsider.token,
    },
    centerId,
    programId: program.id,
    g1,
    g2,
    ana,
    ben,
    cy,
    anaInG1,
    g1Sessions,
    g2Sessions,
    spareStaffId: spare.id,
  };
}

async function createParticipant(org: Api, centerId: string, firstName: string): Promise<string> {
  const { participant } = await org.mutate("createParticipant", { centerId, firstName, lastName: "Example" }, "participant { id }");
  return participant.id;
}

async function enroll(org: Api, groupId: string, participantId: string): Promise<string> {
  const { enrollment } = await org.mutate("enrollParticipant", { groupId, participantId }, "enrollment { id }");
  return enrollment.id;
}

// ---------------------------------------------------------------------------------------------
// The operations. `prepare` (run by the org admin before each role's attempt) makes a fresh
// target where an operation cannot be repeated, so that every role meets the same state.
// ---------------------------------------------------------------------------------------------

type Vars = Record<string, unknown>;

interface Op {
  prepare?: (w: World) => Promise<Vars>;
  send: (w: World, token: string, fresh: Vars) => Promise<GqlResult>;
  /** What an answer without GraphQL errors means. */
  read: (data: any) => Outcome;
}

let emailSeq = 0;

function mutation(field: string, object: string, input: (w: World, fresh: Vars) => Vars, prepare?: Op["prepare"]): Op {
  const doc = mutationDocument(field, `${object} { __typename }`);
  return {
    prepare,
    send: (w, token, fresh) => t.server.gql(doc, { input: input(w, fresh) }, { token }),
    read: (data) => {
      const payload = data[field];
      if (payload.userErrors.length === 0 && payload[object] !== null) return ALLOWED;
      if (payload.userErrors.length === 1 && payload.userErrors[0].code === "NOT_FOUND" && payload[object] === null) return MISSING;
      return `unexpected userErrors ${JSON.stringify(payload.userErrors)}`;
    },
  };
}

/** A read through `node(id)`: null reads as missing, otherwise `describe` says what was seen. */
function nodeRead(id: (w: World) => string, selection: string, describe?: (node: any) => string[]): Op {
  const doc = `query($id: ID!) { node(id: $id) { __typename ${selection} } }`;
  return {
    send: (w, token) => t.server.gql(doc, { id: id(w) }, { token }),
    read: (data) => (data.node === null ? MISSING : describe ? sees(...describe(data.node)) : ALLOWED),
  };
}

function centerRead(selection: string, describe: (center: any) => string[]): Op {
  const doc = `query($id: ID!) { center(id: $id) { ${selection} } }`;
  return {
    send: (w, token) => t.server.gql(doc, { id: w.centerId }, { token }),
    read: (data) => (data.center === null ? MISSING : sees(...describe(data.center))),
  };
}

const OPS: Record<OpName, Op> = {
  createCenter: mutation("createCenter", "center", () => ({ name: "New center", timezone: "Europe/London" })),
  updateCenter: mutation("updateCenter", "center", (w) => ({ centerId: w.centerId, phone: "+1 555 0100" })),
  createStaff: mutation("createStaff", "staff", (w) => ({
    email: `new${++emailSeq}@harbor.test`,
    name: "New Staff",
    memberships: [{ centerId: w.centerId, role: "CLINICIAN" }],
  })),
  updateStaff: mutation("updateStaff", "staff", (w) => ({ staffId: w.spareStaffId, name: "Renamed" })),
  setStaffMembership: mutation("setStaffMembership", "staff", (w) => ({ centerId: w.centerId, staffId: w.spareStaffId, role: "CLINICIAN" })),
  removeStaffMembership: mutation(
    "removeStaffMembership",
    "staff",
    (w, fresh) => ({ centerId: w.centerId, staffId: fresh.staffId }),
    async (w) => ({ staffId: (await w.org.createStaff(`leaving${++emailSeq}@harbor.test`, [{ centerId: w.centerId, role: "VIEWER" }])).id }),
  ),
  createProgram: mutation("createProgram", "program", (w) => ({ centerId: w.centerId, name: "Family support" })),
  updateProgram: mutation("updateProgram", "program", (w) => ({ programId: w.programId, description: "Twelve weeks" })),
  createGroup: mutation("createGroup", "group", (w) => ({
    programId: w.programId,
    name: "G3",
    capacity: 8,
    startsOn: "2025-02-03",
    schedule: SCHEDULE,
  })),
  "updateGroup G1": mutation("updateGroup", "group", (w) => ({ groupId: w.g1, location: "Room 1" })),
  "updateGroup G2": mutation("updateGroup", "group", (w) => ({ groupId: w.g2, location: "Room 2" })),
  createParticipant: mutation("createParticipant", "participant", (w) => ({ centerId: w.centerId, firstName: "Dee", lastName: "New" })),
  "updateParticipant Ana": mutation("updateParticipant", "participant", (w) => ({ participantId: w.ana, preferredName: "Annie" })),
  "updateParticipant Ben": mutation("updateParticipant", "participant", (w) => ({ participantId: w.ben, preferredName: "Benny" })),
  "enrollParticipant G1": mutation(
    "enrollParticipant",
    "enrollment",
    (w, fresh) => ({ groupId: w.g1, participantId: fresh.participantId }),
    async (w) => ({ participantId: await createParticipant(w.org, w.centerId, "Fresh") }),
  ),
  "enrollParticipant G2": mutation(
    "enrollParticipant",
    "enrollment",
    (w, fresh) => ({ groupId: w.g2, participantId: fresh.participantId }),
    async (w) => ({ participantId: await createParticipant(w.org, w.centerId, "Fresh") }),
  ),
  "endEnrollment G1": mutation(
    "endEnrollment",
    "enrollment",
    (_w, fresh) => ({ enrollmentId: fresh.enrollmentId, status: "WITHDRAWN" }),
    async (w) => ({ enrollmentId: await enroll(w.org, w.g1, await createParticipant(w.org, w.centerId, "Leaving")) }),
  ),
  "updateEnrollment G1": mutation("updateEnrollment", "enrollment", (w) => ({ enrollmentId: w.anaInG1, role: "PEER_MENTOR" })),
  "scheduleSessions G1": mutation("scheduleSessions", "sessions", (w) => ({ groupId: w.g1, from: "2025-03-01", to: "2025-03-31" })),
  "scheduleSessions G2": mutation("scheduleSessions", "sessions", (w) => ({ groupId: w.g2, from: "2025-03-01", to: "2025-03-31" })),
  "cancelSession G1": mutation("cancelSession", "session", (w) => ({ sessionId: w.g1Sessions[S.CANCEL], reason: "Snow" })),
  "updateSession G1": mutation("updateSession", "session", (w) => ({ sessionId: w.g1Sessions[S.UPDATE], topic: "Triggers" })),
  "completeSession G1": mutation("completeSession", "session", (w) => ({ sessionId: w.g1Sessions[S.COMPLETE] })),
  "completeSession G2": mutation("completeSession", "session", (w) => ({ sessionId: w.g2Sessions[S.COMPLETE] })),
  "recordAttendance G1": mutation("recordAttendance", "attendance", (w) => ({
    sessionId: w.g1Sessions[S.RECORD],
    records: [{ participantId: w.ana, status: "LATE" }],
  })),
  "recordAttendance G2": mutation("recordAttendance", "attendance", (w) => ({
    sessionId: w.g2Sessions[S.RECORD],
    records: [{ participantId: w.ben, status: "LATE" }],
  })),
  "center.groups": centerRead("groups(first: 100) { nodes { name } }", (c) => c.groups.nodes.map((g: any) => g.name)),
  "center.participants": centerRead("participants(first: 100) { nodes { firstName } }", (c) => c.participants.nodes.map((p: any) => p.firstName).sort()),
  "node(Ana)": nodeRead((w) => w.ana, "... on Participant { firstName }"),
  "node(Ben)": nodeRead((w) => w.ben, "... on Participant { firstName }"),
  "session.attendance G1": nodeRead(
    (w) => w.g1Sessions[S.READ],
    "... on Session { attendance { status participant { firstName } } }",
    (s) => s.attendance.map((a: any) => `${a.participant.firstName} ${a.status}`),
  ),
  "session.attendance G2": nodeRead(
    (w) => w.g2Sessions[S.READ],
    "... on Session { attendance { status participant { firstName } } }",
    (s) => s.attendance.map((a: any) => `${a.participant.firstName} ${a.status}`),
  ),
  "attendanceSummary G1": nodeRead(
    (w) => w.g1Sessions[S.READ],
    "... on Session { attendanceSummary { present } }",
    (s) => [`${s.attendanceSummary.present} present`],
  ),
  "attendanceSummary G2": nodeRead(
    (w) => w.g2Sessions[S.READ],
    "... on Session { attendanceSummary { present } }",
    (s) => [`${s.attendanceSummary.present} present`],
  ),
  "enrollment.status G1": nodeRead(
    (w) => w.anaInG1,
    "... on Enrollment { status }",
    (e) => [e.status],
  ),
  "enrollment.participant G1": nodeRead(
    (w) => w.anaInG1,
    "... on Enrollment { status participant { firstName } }",
    (e) => [e.participant.firstName],
  ),
};

function outcomeOf(op: Op, res: GqlResult): Outcome {
  if (res.errors?.length) {
    const codes = [...new Set(res.errors.map((e) => e.extensions?.code))];
    return codes.length === 1 && codes[0] === "FORBIDDEN" ? FORBIDDEN : `unexpected errors ${JSON.stringify(res.errors)}`;
  }
  return op.read(res.data);
}

const fingerprint = () => t.server.database.fingerprint();

describe("role-by-operation access matrix", () => {
  // One world per section; the operations of a section use targets of their own (or repeatable
  // ones), and nothing a section's reads look at is changed before them.
  it.each(Object.keys(MATRIX) as Array<keyof Section>)("%s: each role gets what the policy says", async (section) => {
    // Given the world
    const w = await buildWorld();
    const expected: Record<string, Record<Role, Outcome>> = {};
    const actual: Record<string, Record<Role, Outcome>> = {};
    for (const [name, row] of Object.entries(MATRIX[section]) as Array<[OpName, Row]>) {
      const op = OPS[name];
      expected[name] = Object.fromEntries(ROLES.map((role, i) => [role, row[i]])) as Record<Role, Outcome>;
      actual[name] = {} as Record<Role, Outcome>;
      // When every role attempts the operation
      for (const role of ROLES) {
        const fresh = (await op.prepare?.(w)) ?? {};
        const before = await fingerprint();
        const outcome = outcomeOf(op, await op.send(w, w.token[role], fresh));
        actual[name][role] = outcome;
        // A refusal writes nothing at all
        if (outcome === FORBIDDEN || outcome === MISSING) {
          expect(await fingerprint(), `${role} was refused ${name} yet something was written`).toBe(before);
        }
      }
    }
    // Then the answers form the expected table
    expect(actual).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Authentication on every root field.
// ---------------------------------------------------------------------------------------------

/** A value of the type that passes variable coercion (its content does not matter here). */
function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [sample(type.ofType)];
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type));
    return Object.fromEntries(fields.map((f) => [f.name, sample(f.type)]));
  }
  if (isEnumType(type)) return type.getValues()[0].name;
  const scalars: Record<string, unknown> = {
    ID: toGlobalId("Center", randomUUID()),
    String: "x",
    Int: 1,
    Float: 1,
    Boolean: true,
    Date: "2025-01-06",
    DateTime: "2025-01-06T18:00:00Z",
    LocalTime: "18:00",
  };
  const name = getNamedType(type).name;
  if (!(name in scalars)) throw new Error(`no sample for scalar ${name}`);
  return scalars[name];
}

interface RootCall {
  name: string;
  query: string;
  variables: Vars;
}

/** One request per Query and Mutation field, with its required arguments. */
/** Root fields declared @Authorized("PUBLIC") (no credentials: selfCheckIn's input is its own proof; test/checkin.test.ts). */
function publicRootFields(): Set<string> {
  const storage = getMetadataStorage();
  const declaredPublic = (h: { target: unknown; methodName: string }) =>
    storage.authorizedFields.some((a) => a.target === h.target && a.fieldName === h.methodName && a.roles.includes("PUBLIC"));
  return new Set([...storage.queries, ...storage.mutations].filter(declaredPublic).map((h) => h.schemaName));
}

async function rootCalls(): Promise<RootCall[]> {
  const schema = await createSchema();
  const calls: RootCall[] = [];
  const open = publicRootFields();
  for (const [kind, type] of [
    ["query", schema.getQueryType()!],
    ["mutation", schema.getMutationType()!],
  ] as const) {
    for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
      if (open.has(field.name)) continue;
      const args = field.args.filter((a) => isNonNullType(a.type));
      const decl = args.length ? `(${args.map((a) => `$${a.name}: ${String(a.type)}`).join(", ")})` : "";
      const pass = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(", ")})` : "";
      const selection = isLeafType(getNamedType(field.type)) ? "" : " { __typename }";
      calls.push({
        name: `${kind} ${field.name}`,
        query: `${kind}${decl} { ${field.name}${pass}${selection} }`,
        variables: Object.fromEntries(args.map((a) => [a.name, sample(a.type)])),
      });
    }
  }
  return calls;
}

/** Sends every root field with the token; returns the fields that did not answer UNAUTHENTICATED. */
async function notUnauthenticated(token: string | null): Promise<string[]> {
  const wrong: string[] = [];
  for (const call of await rootCalls()) {
    const res = await t.server.gql(call.query, call.variables, { token });
    const codes = (res.errors ?? []).map((e) => e.extensions?.code);
    const leaked = res.data !== null && res.data !== undefined && Object.values(res.data).some((v) => v !== null);
    if (codes.length !== 1 || codes[0] !== "UNAUTHENTICATED" || leaked) {
      wrong.push(`${call.name}: status ${res.status}, data ${JSON.stringify(res.data)}, codes ${JSON.stringify(codes)}`);
    }
  }
  return wrong;
}

const secret = new TextEncoder().encode(TEST_SECRET);

describe("authentication", () => {
  it("covers every Query and Mutation field in these checks", async () => {
    const names = (await rootCalls()).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["query viewer", "query node", "query center", "mutation recordAttendance"]));
    expect(names.length).toBeGreaterThan(20);
    // the one root field open without credentials, declared so
    expect([...publicRootFields()]).toEqual(["selfCheckIn"]);
  });

  it("answers UNAUTHENTICATED on every root field without a token", async () => {
    await asOrgAdmin(t.server);
    expect(await notUnauthenticated(null)).toEqual([]);
  });

  it("answers UNAUTHENTICATED on every root field for an expired token", async () => {
    const org = await asOrgAdmin(t.server);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(ADMIN_EMAIL)
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(secret);
    // The same subject with a live token is the org admin.
    expect((await org.query(`{ viewer { isOrgAdmin } }`)).viewer.isOrgAdmin).toBe(true);
    expect(await notUnauthenticated(expired)).toEqual([]);
  });

  it("answers UNAUTHENTICATED for a correctly signed token that never expires (no exp)", async () => {
    await asOrgAdmin(t.server);
    const endless = await new SignJWT({}).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(ADMIN_EMAIL).setIssuedAt().sign(secret);
    expect(await notUnauthenticated(endless)).toEqual([]);
  });

  it("answers UNAUTHENTICATED on every root field for a token signed with another secret", async () => {
    await asOrgAdmin(t.server);
    const forged = await mintToken({ ...t.server.config.auth, jwtSecret: "another-secret-0123456789-0123456789-xyz" }, ADMIN_EMAIL);
    expect(await notUnauthenticated(forged)).toEqual([]);
  });

  it("answers UNAUTHENTICATED for an unsigned (alg: none) token", async () => {
    await asOrgAdmin(t.server);
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const unsigned = `${enc({ alg: "none", typ: "JWT" })}.${enc({ sub: ADMIN_EMAIL, exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
    expect(await notUnauthenticated(unsigned)).toEqual([]);
  });

  it("answers UNAUTHENTICATED on every root field for a valid token whose subject matches no staff member", async () => {
    await asOrgAdmin(t.server);
    expect(await notUnauthenticated(await t.server.token("nobody@harbor.test"))).toEqual([]);
  });

  it("answers UNAUTHENTICATED on every root field once the staff member is made INACTIVE", async () => {
    // Given an admin whose token works
    const org = await asOrgAdmin(t.server);
    const centerId = await org.createCenter();
    const admin = await org.createStaff("leaver@harbor.test", [{ centerId, role: "ADMIN" }]);
    const before = await t.server.gql(`{ viewer { email } }`, {}, { token: admin.token });
    expect(before.errors).toBeUndefined();
    expect(before.data.viewer.email).toBe("leaver@harbor.test");
    // When the org admin deactivates them
    const { staff } = await org.mutate("updateStaff", { staffId: admin.id, status: "INACTIVE" }, "staff { status }");
    expect(staff.status).toBe("INACTIVE");
    // Then the same, unexpired token no longer authenticates anywhere
    expect(await notUnauthenticated(admin.token)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Generated from the declarations (src/common/policy.ts): for every field of the schema whose
// audience a role may not read (src/auth/access.ts, READERS), that role's query of it, along a
// path built from the schema, is refused (an error) or nulled. Nothing here names a field: a new
// field is covered the day it is declared.
// ---------------------------------------------------------------------------------------------

interface Probe {
  /** "Type.field" under test. */
  field: string;
  audience: Audience;
  /** The start of the path: a known object's global id, and whether it is G2's (not the facilitator's). */
  id: string;
  otherGroup: boolean;
  query: string;
  /** The response path to the field: names, with "*" where a list is walked. */
  path: string[];
}

/** Selection of `field` with its required arguments filled (their values do not matter). */
function fieldSelection(field: GraphQLField<unknown, unknown>): string {
  const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  const args = required.length
    ? `(${required.map((a) => `${a.name}: ${JSON.stringify(sample(a.type)).replace(/"([A-Z_]+)"/g, (m, v: string) => (isEnumType(getNamedType(a.type)) ? v : m))})`).join(", ")})`
    : "";
  return `${field.name}${args}${isLeafType(getNamedType(field.type)) ? "" : " { __typename }"}`;
}

/**
 * Paths from a Node type to each field of the schema: breadth first over fields without required
 * arguments, through connections' nodes, at most four levels deep. One path per (start, field).
 */
function probesFrom(schema: GraphQLSchema, start: GraphQLObjectType, id: string, otherGroup: boolean): Probe[] {
  const probes: Probe[] = [];
  const seen = new Set<string>();
  const queue: Array<{ type: GraphQLObjectType; steps: Array<{ name: string; list: boolean }> }> = [{ type: start, steps: [] }];
  while (queue.length) {
    const { type, steps } = queue.shift()!;
    for (const field of Object.values(type.getFields())) {
      const key = `${type.name}.${field.name}`;
      const policy = effectivePolicy(type, field, schema.getMutationType());
      if (!seen.has(key) && policy.readableBy) {
        seen.add(key);
        const open = steps.map((s) => `${s.name} {`).join(" ");
        const close = steps.map(() => "}").join(" ");
        probes.push({
          field: key,
          audience: policy.readableBy,
          id,
          otherGroup,
          query: `query($id: ID!) { node(id: $id) { ... on ${start.name} { ${open} ${fieldSelection(field)} ${close} } } }`,
          path: ["node", ...steps.flatMap((s) => (s.list ? [s.name, "*"] : [s.name])), field.name],
        });
      }
      const named = getNamedType(field.type);
      if (steps.length >= 4 || !isObjectType(named) || field.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
      const nodes = named.getFields().nodes;
      if (nodes && named.getFields().pageInfo) {
        queue.push({
          type: getNamedType(nodes.type) as GraphQLObjectType,
          steps: [...steps, { name: field.name, list: false }, { name: "nodes", list: true }],
        });
      } else if (!/Edge$/.test(named.name) && named.name !== "PageInfo") {
        queue.push({ type: named, steps: [...steps, { name: field.name, list: isListType(getNullableType(field.type)) }] });
      }
    }
  }
  return probes;
}

/** The values found at a path of a response (through lists), and whether the path's parent was reached. */
function valuesAt(data: unknown, path: string[]): unknown[] {
  let current: unknown[] = [data];
  for (const step of path) {
    const next: unknown[] = [];
    for (const c of current) {
      if (c == null) continue;
      if (step === "*") next.push(...(Array.isArray(c) ? c : []));
      else if (typeof c === "object" && step in c) next.push((c as Record<string, unknown>)[step]);
    }
    current = next;
  }
  return current;
}

const readsData = (v: unknown) => v != null && !(Array.isArray(v) && v.length === 0);

describe("the declared audiences, generated from the schema", () => {
  it("refuses or nulls every field whose audience a role may not read, along a path from the objects it sees", { timeout: 300_000 }, async () => {
    // Given the world, and every path from its objects to every field of the schema
    const w = await buildWorld();
    const schema = await createSchema();
    const session = (
      await w.org.query(`query($id: ID!) { node(id: $id) { ... on Session { attendance { id history { version } } } } }`, { id: w.g1Sessions[S.READ] })
    ).node;
    const g2Session = (await w.org.query(`query($id: ID!) { node(id: $id) { ... on Session { attendance { id } } } }`, { id: w.g2Sessions[S.READ] })).node;
    const starts: Array<[type: string, id: string, otherGroup: boolean]> = [
      ["Center", w.centerId, false],
      ["Program", w.programId, false],
      ["Group", w.g1, false],
      ["Group", w.g2, true],
      ["Participant", w.ana, false],
      ["Participant", w.ben, true],
      ["Enrollment", w.anaInG1, false],
      ["Session", w.g1Sessions[S.READ], false],
      ["Session", w.g2Sessions[S.READ], true],
      ["Attendance", session.attendance[0].id, false],
      ["Attendance", g2Session.attendance[0].id, true],
    ];
    // One path per field and kind of start (the facilitator's group or the other), the shortest found
    const byField = new Map<string, Probe>();
    for (const [type, id, other] of starts) {
      for (const probe of probesFrom(schema, schema.getType(type) as GraphQLObjectType, id, other)) {
        const key = `${probe.field} ${probe.otherGroup}`;
        if (!byField.has(key) || byField.get(key)!.path.length > probe.path.length) byField.set(key, probe);
      }
    }
    const probes = [...byField.values()];
    const leaks: string[] = [];
    const reached = new Set<string>();
    const checked = new Set<string>();
    for (const probe of probes) {
      // The org admin reads it (the world holds such objects), and each role that may not read its audience does not
      const asOrg = await t.server.gql(probe.query, { id: probe.id }, { token: w.org.token });
      if (valuesAt(asOrg.data, probe.path).length > 0) reached.add(probe.field.split(".")[0]);
      for (const role of ["ADMIN", "CLINICIAN", "FACILITATOR", "VIEWER"] as const) {
        const rule = readRule(probe.audience, role);
        const excluded = rule === false || (rule === "their groups" && probe.otherGroup);
        if (!excluded) continue;
        checked.add(`${probe.field} ${role}`);
        const res = await t.server.gql(probe.query, { id: probe.id }, { token: w.token[role] });
        const values = valuesAt(res.data, probe.path).filter(readsData);
        if (values.length) leaks.push(`${role} read ${probe.field} (${probe.audience}) from ${probe.id}: ${JSON.stringify(values).slice(0, 80)}`);
      }
    }
    // Then no role read what its audience excludes
    expect(leaks).toEqual([]);
    // and the walk reached the objects it is about (every type a VIEWER may not read was checked for it)
    expect(checked.size).toBeGreaterThan(100);
    for (const type of ["Participant", "Attendance", "Enrollment", "EnrollmentEvent", "AttendanceChange", "RosterEntry", "Session", "Group", "Center"]) {
      expect(reached, `no path reached ${type}`).toContain(type);
    }
  });
});
