// Property-based fuzzing, over real HTTP, of the input classes that once reached the database
// unchecked (issue 12, point 4): text with NUL bytes and lone surrogates, strings up to 1 MB,
// numbers past any range, impossible and out-of-range dates and times, lists far past their
// bounds, malformed bodies and documents. Whatever is sent, the answer is a 200 or a 400 (413 for
// a body over 1 MiB), every error carries a code from the catalog, no answer shows SQL, a
// constraint name or a stack trace, an input of a refused class is refused, and a refused mutation
// writes nothing.
//
// Runs are few and the seed fixed (SEED): a failure replays; fast-check prints the counterexample.
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { buildSchema, getNamedType, getNullableType, isInputObjectType, isListType, type GraphQLInputObjectType, type GraphQLInputType } from "graphql";
import { describe, expect, it } from "vitest";
import { toGlobalId } from "../src/common/ids.js";
import { UserErrorCode } from "../src/common/errors.js";
import { codesFrom } from "../src/common/codes.js";
import { asOrgAdmin, mutationDocument } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const SEED = 20261202;
/** Runs per mutation and query property (CI's second pass, on PostgreSQL, sets FUZZ_RUNS lower). */
const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 25));
const MAX_BODY_BYTES = 1024 * 1024;

const t = useTestServer();
const schema = buildSchema(readFileSync(new URL("../schema/schema.graphql", import.meta.url), "utf8"));

// ---------------------------------------------------------------------------------------------
// The world every property runs against (through the API, as the org admin).

async function world() {
  const admin = await asOrgAdmin(t.server);
  const centerId = await admin.createCenter("Harbor House", "UTC");
  const { program } = await admin.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }");
  const { group } = await admin.mutate(
    "createGroup",
    {
      programId: program.id,
      name: "Tuesday",
      capacity: 5,
      startsOn: "2026-01-06",
      schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 60 },
    },
    "group { id }",
  );
  const { sessions } = await admin.mutate("scheduleSessions", { groupId: group.id, from: "2026-01-06", to: "2026-01-13" }, "sessions { id }");
  const { participant } = await admin.mutate("createParticipant", { centerId, firstName: "Ana", lastName: "Alvarez" }, "participant { id }");
  return {
    token: admin.token,
    centerId,
    programId: program.id as string,
    groupId: group.id as string,
    sessionId: sessions[0].id as string,
    participantId: participant.id as string,
  };
}
type World = Awaited<ReturnType<typeof world>>;

// ---------------------------------------------------------------------------------------------
// Generators. Each has `fine`, plausible values, and `any`, which yields [value, refuse]: refuse
// is true when the value belongs to a class the server must refuse (so the whole request must be
// refused), false when it may go either way. An input object fuzzes ONE of its fields at a time,
// the others fine, so that a refusal is owed to that field and a check that stops working on any
// one field shows as an accepted request.

type Sample = [value: unknown, refuse: boolean];
interface Gen {
  fine: fc.Arbitrary<unknown>;
  any: fc.Arbitrary<Sample>;
}
const gen = (fine: fc.Arbitrary<unknown>, any: fc.Arbitrary<Sample>): Gen => ({ fine, any });
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<Sample> => a.map((v): Sample => [v, false]);
const refused = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<Sample> => a.map((v): Sample => [v, true]);
const plainText = fc.stringMatching(/^[A-Za-z][A-Za-z .'-]{0,15}$/);

const UNPAIRED = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isBadText = (s: string) => s.includes("\u0000") || UNPAIRED.test(s);

/** An ASCII string with a NUL byte or a lone surrogate inserted at a random position. */
const withBadChar = fc.tuple(fc.string({ maxLength: 16 }), fc.constantFrom("\u0000", "\uD800", "\uDBFF", "\uDC00", "\uDFFF"), fc.nat()).map(([s, c, i]) => {
  const at = i % (s.length + 1);
  return s.slice(0, at) + c + s.slice(at);
});

const ONE_MB = 1_000_000; // a body carrying it stays under the 1 MiB limit

/** Free text bounded to `max` characters by the service (null: a filter, no bound). */
function text(max: number | null, fine: fc.Arbitrary<unknown> = plainText): Gen {
  const long = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: (max ?? 2000) + 1, max: (max ?? 2000) + 64 }) },
    { weight: 1, arbitrary: fc.constant(ONE_MB) },
  );
  return gen(
    fine,
    fc.oneof(
      { weight: 3, arbitrary: maybe(fc.string({ minLength: 1, maxLength: 12 })) },
      { weight: 4, arbitrary: refused(withBadChar) },
      // any code point, lone surrogates included: refused exactly when it holds one
      { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 12 }).map((s): Sample => [s, isBadText(s)]) },
      { weight: 1, arbitrary: long.map((n): Sample => ["x".repeat(n), max !== null]) },
    ),
  );
}

/** A global id: the real one, a foreign or random one (NOT_FOUND), or one with a bad character. */
function id(valid: string): Gen {
  return gen(
    fc.constant(valid),
    fc.oneof(
      { weight: 4, arbitrary: maybe(fc.constant(valid)) },
      { weight: 1, arbitrary: maybe(fc.string({ maxLength: 40 })) },
      { weight: 1, arbitrary: maybe(fc.constantFrom("Center", "Staff", "Session", "Participant").map((type) => toGlobalId(type as never, randomUUID()))) },
      { weight: 2, arbitrary: refused(withBadChar) },
    ),
  );
}

/** An Int the service accepts in min..max; or past it, past 32 bits, fractional, or not a number. */
function int(min: number, max: number): Gen {
  return gen(
    fc.integer({ min, max }),
    fc.oneof(
      { weight: 3, arbitrary: maybe(fc.integer({ min, max })) },
      { weight: 2, arbitrary: refused(fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 1.5, -1, "12", true, [1])) },
      { weight: 1, arbitrary: refused(fc.integer({ min: max + 1, max: 2 ** 31 - 1 })) },
      { weight: 1, arbitrary: refused(fc.integer({ min: -(2 ** 31), max: min - 1 })) },
    ),
  );
}

const pad = (n: number, w: number) => String(n).padStart(w, "0");
const yearOutOfRange = fc.oneof(fc.integer({ min: 0, max: 1899 }), fc.integer({ min: 2201, max: 9999 }));

/** A Date (YYYY-MM-DD): plausible, impossible, out of 1900..2200, malformed. */
function day(): Gen {
  return gen(
    fc.date({ min: new Date("2026-01-01"), max: new Date("2026-06-30"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
    fc.oneof(
      {
        weight: 3,
        arbitrary: maybe(fc.date({ min: new Date("1990-01-01"), max: new Date("2100-12-31"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))),
      },
      {
        weight: 3,
        arbitrary: refused(
          fc.constantFrom(
            "0000-01-01",
            "9999-12-31",
            "2026-02-30",
            "2025-02-29",
            "1899-12-31",
            "2201-01-01",
            "2026-13-01",
            "2026-00-10",
            "2026-01-32",
            "-2026-01-01",
            "+02026-01-01",
            "26-01-01",
            "2026-1-1",
            "",
            "2026-01-01T00:00:00Z",
            "2026-06-15\u0000",
          ),
        ),
      },
      {
        weight: 1,
        arbitrary: refused(
          fc
            .tuple(yearOutOfRange, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
            .map(([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`),
        ),
      },
      { weight: 1, arbitrary: refused(fc.string({ maxLength: 12 }).filter((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s))) },
      { weight: 1, arbitrary: refused(fc.constantFrom(20260101, -1, 2 ** 31, 1e308)) },
    ),
  );
}

/** A DateTime: plausible, impossible, out of 1900..2200, at the ends of JavaScript's range, malformed. */
function instant(): Gen {
  return gen(
    fc.date({ min: new Date("2026-01-01"), max: new Date("2026-06-30"), noInvalidDate: true }).map((d) => d.toISOString()),
    fc.oneof(
      { weight: 3, arbitrary: maybe(fc.date({ min: new Date("1950-01-01"), max: new Date("2150-12-31"), noInvalidDate: true }).map((d) => d.toISOString())) },
      {
        weight: 3,
        arbitrary: refused(
          fc.constantFrom(
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-02-30T10:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T23:60:00Z",
            "2026-01-01",
            "1899-12-31T23:59:59Z",
            "2201-01-01T00:00:00Z",
            "+275760-09-13T00:00:00.000Z",
            "-271821-04-20T00:00:00.000Z",
            "2026-06-01T12:00:00+25:00",
            "",
          ),
        ),
      },
      {
        weight: 1,
        arbitrary: refused(
          fc
            .date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true })
            .filter((d) => d.getUTCFullYear() < 1900 || d.getUTCFullYear() > 2200)
            .map((d) => d.toISOString()),
        ),
      },
      { weight: 1, arbitrary: refused(fc.string({ maxLength: 24 })) },
      { weight: 1, arbitrary: refused(fc.constantFrom(2 ** 31, -1, 1e308, 0)) },
    ),
  );
}

/** A LocalTime (HH:mm). */
function wallTime(): Gen {
  const fine = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${pad(h, 2)}:${pad(m, 2)}`);
  return gen(
    fine,
    fc.oneof(
      { weight: 2, arbitrary: maybe(fine) },
      { weight: 3, arbitrary: refused(fc.constantFrom("24:00", "23:60", "99:99", "-1:00", "7:00", "18:00:60", "", "18h00", "18:00\u0000", 1800, -1)) },
      { weight: 1, arbitrary: refused(fc.string({ maxLength: 8 }).filter((s) => !/^\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(s))) },
    ),
  );
}

function enumOf(...values: string[]): Gen {
  return gen(
    fc.constantFrom(...values),
    fc.oneof(
      { weight: 4, arbitrary: maybe(fc.constantFrom(...values)) },
      { weight: 1, arbitrary: refused(fc.constantFrom("NOPE", "", values[0].toLowerCase(), 1)) },
    ),
  );
}

/**
 * A list bounded to `bound` items: fine items with one fuzzed, or far past the bound (filled with
 * `filler`). `fine` overrides the plausible lists (e.g. none, for ids of staff that don't exist).
 */
function list(item: Gen, bound: number, filler: unknown, fine: fc.Arbitrary<unknown[]> = fc.array(item.fine, { maxLength: Math.min(bound, 3) })): Gen {
  const oneFuzzed = fc.tuple(fc.array(item.fine, { maxLength: Math.min(bound - 1, 3) }), item.any, fc.nat()).map(([items, [bad, refuse], i]): Sample => {
    const at = i % (items.length + 1);
    return [[...items.slice(0, at), bad, ...items.slice(at)], refuse];
  });
  const tooLong = fc
    .oneof(fc.integer({ min: bound + 1, max: bound + 5 }), fc.constantFrom(17_000, 100_000))
    .map((n) => Array.from({ length: n }, () => filler));
  return gen(fine, fc.oneof({ weight: 3, arbitrary: oneFuzzed }, { weight: 1, arbitrary: refused(tooLong) }));
}

/** An input object: required fields always present, others sometimes; one field fuzzed (or none). */
function input(required: Record<string, Gen>, optional: Record<string, Gen> = {}): Gen {
  const all = { ...required, ...optional };
  const keys = Object.keys(all);
  const fines = Object.fromEntries(keys.map((k) => [k, all[k].fine]));
  const fine = fc.record(fines, { requiredKeys: Object.keys(required) });
  const oneFuzzed = fc
    .tuple(fine, fc.constantFrom(...keys))
    .chain(([base, key]) => all[key].any.map(([bad, refuse]): Sample => [{ ...base, [key]: bad }, refuse]));
  return gen(fine, keys.length ? fc.oneof({ weight: 1, arbitrary: maybe(fine) }, { weight: 6, arbitrary: oneFuzzed }) : maybe(fine));
}

const email = fc.stringMatching(/^[a-z]{1,8}@example\.org$/);
const DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];

const schedule = () => input({ daysOfWeek: list(enumOf(...DAYS), 100, "MONDAY"), startTime: wallTime(), durationMinutes: int(5, 720) });

/** The mutations fuzzed, each with the generator of its input over the world. */
const MUTATIONS: Record<string, (w: World) => Gen> = {
  createCenter: () => input({ name: text(200), timezone: text(64, fc.constantFrom("UTC", "Europe/London")) }, { address: text(2000), phone: text(64) }),
  updateCenter: (w) =>
    input(
      { centerId: id(w.centerId) },
      {
        name: text(200),
        address: text(2000),
        phone: text(64),
        timezone: text(64, fc.constantFrom("UTC", "Europe/London")),
        maxMenteesPerMentor: int(1, 20),
        peerMentorMinimumDays: int(0, 3650),
        status: enumOf("ACTIVE", "INACTIVE"),
      },
    ),
  createProgram: (w) =>
    input(
      { centerId: id(w.centerId), name: text(200) },
      {
        description: text(2000),
        billingCode: text(64, fc.constantFrom("90853", "H0005")),
        curriculum: list(text(200), 200, ""),
        status: enumOf("ACTIVE", "DRAFT", "RETIRED"),
        attendancePolicy: input({ absencesBeforeFollowUp: int(1, 52) }),
        completionRule: input({}, { minimumAttendedSessions: int(1, 1000) }),
      },
    ),
  createParticipant: (w) =>
    input(
      { centerId: id(w.centerId), firstName: text(200), lastName: text(200) },
      { preferredName: text(200), externalId: text(64), email: text(254, email), phone: text(64), dateOfBirth: day(), recoveryStartDate: day() },
    ),
  updateParticipant: (w) =>
    input(
      { participantId: id(w.participantId) },
      {
        firstName: text(200),
        lastName: text(200),
        externalId: text(64),
        email: text(254, email),
        dateOfBirth: day(),
        recoveryStartDate: day(),
        status: enumOf("ACTIVE", "INACTIVE", "DISCHARGED"),
      },
    ),
  createGroup: (w) =>
    input(
      { programId: id(w.programId), name: text(200), capacity: int(1, 500), startsOn: day(), schedule: schedule() },
      {
        endsOn: day(),
        location: text(2000),
        virtualLink: text(2000, fc.constant("https://meet.example.org/group")),
        facilitatorIds: list(id(toGlobalId("Staff", randomUUID())), 20, toGlobalId("Staff", randomUUID()), fc.constant([])),
        enrollmentMode: enumOf("ROLLING", "CLOSED_COHORT"),
      },
    ),
  updateGroup: (w) =>
    input({ groupId: id(w.groupId) }, { name: text(200), capacity: int(1, 500), startsOn: day(), endsOn: day(), schedule: schedule(), location: text(2000) }),
  scheduleSessions: (w) => input({ groupId: id(w.groupId), from: day(), to: day() }),
  updateSession: (w) => input({ sessionId: id(w.sessionId) }, { startsAt: instant(), endsAt: instant(), topic: text(200) }),
  recordAttendance: (w) =>
    input({
      sessionId: id(w.sessionId),
      records: list(
        input(
          { participantId: id(w.participantId), status: enumOf("PRESENT", "ABSENT", "EXCUSED", "LATE", "LEFT_EARLY") },
          { minutesAttended: int(0, 1440), note: text(4000) },
        ),
        200,
        { participantId: w.participantId, status: "PRESENT" },
      ),
    }),
  recordRecoveryCapital: (w) =>
    input({
      participantId: id(w.participantId),
      instrument: enumOf("BARC_10"),
      assessedOn: day(),
      items: list(int(1, 6), 10, 3, fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 10, maxLength: 10 })),
    }),
};

/**
 * The queries fuzzed: [document, variables generator]. A field's arguments are checked when it
 * resolves, so the center of the nested fields is the real one (node(id:) fuzzes ids).
 */
const center = (w: World): Gen => gen(fc.constant(w.centerId), maybe(fc.constant(w.centerId)));
const QUERIES: Record<string, [string, (w: World) => Gen]> = {
  "participants(search:)": [
    `query($id: ID!, $search: String, $first: Int) { center(id: $id) { participants(search: $search, first: $first) { totalCount nodes { id } } } }`,
    (w) => input({ id: center(w) }, { search: text(null), first: int(1, 100) }),
  ],
  "sessions(from:, to:)": [
    `query($id: ID!, $from: DateTime, $to: DateTime, $first: Int) { center(id: $id) { sessions(from: $from, to: $to, first: $first) { totalCount nodes { id } } } }`,
    (w) => input({ id: center(w) }, { from: instant(), to: instant(), first: int(1, 100) }),
  ],
  "engagement(from:, to:)": [
    `query($id: ID!, $from: Date, $to: Date) { center(id: $id) { engagement(from: $from, to: $to) { __typename } } }`,
    (w) => input({ id: center(w) }, { from: day(), to: day() }),
  ],
  "attendanceTrend(from:, to:)": [
    `query($id: ID!, $from: Date!, $to: Date!) { center(id: $id) { attendanceTrend(from: $from, to: $to) { __typename } } }`,
    (w) => input({ id: center(w), from: day(), to: day() }),
  ],
  "node(id:)": [`query($id: ID!) { node(id: $id) { id } }`, (w) => input({ id: id(w.participantId) })],
  "nodes(ids:)": [`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, (w) => input({ ids: list(id(w.sessionId), 100, w.sessionId) })],
};

// ---------------------------------------------------------------------------------------------
// Sending and judging an answer.

interface Answer {
  status: number;
  text: string;
  json: { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> } | null;
  bytes: number;
}

async function post(body: string, token?: string): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${t.server.url}/graphql`, { method: "POST", headers, body });
  const text = await res.text();
  let json: Answer["json"];
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, text, json, bytes: Buffer.byteLength(body) };
}

/**
 * Codes a GraphQL error may carry here (src/common/errors.ts, src/common/cost.ts, src/server.ts
 * PASS_THROUGH). Never INTERNAL_SERVER_ERROR, nor REQUEST_TIMEOUT: no input may make a request slow.
 */
const LIMIT_CODES: string[] = codesFrom("limits");
const ERROR_CODES = new Set([
  // A body past the limit (413)
  "PAYLOAD_TOO_LARGE",
  "BAD_USER_INPUT",
  "GRAPHQL_VALIDATION_FAILED",
  "GRAPHQL_PARSE_FAILED",
  "BAD_REQUEST",
  "FORBIDDEN",
  "UNAUTHENTICATED",
  ...LIMIT_CODES,
]);
/** Codes a refusal of malformed input carries (a page of 2**31 items is refused by the cost limit first). */
const REFUSAL_CODES = new Set(["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", ...LIMIT_CODES]);
const USER_ERROR_CODES = new Set<string>(Object.values(UserErrorCode));

/** What no answer may contain: SQL, driver wording, constraint names, stack frames. */
const LEAKS = [
  /select /i,
  /insert into/i,
  /delete from/i,
  /update "/i,
  /violates/i,
  /_uq\b/,
  /_fkey\b/,
  /_pkey\b/,
  /\bat .*\(.*:\d+:\d+\)/,
  / {4}at /,
  /failed query/i,
  /postgres/i,
  /pglite/i,
  /drizzle/i,
  /syntax error at/i,
];

/** Every string inside a value (to strip echoes of what was sent before looking for leaks). */
function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value.slice(0, 50)) stringsIn(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}

function withoutEchoes(text: string, sent: unknown): string {
  let out = text;
  for (const s of new Set(stringsIn(sent))) {
    if (s.length < 3) continue;
    const once = JSON.stringify(s).slice(1, -1);
    const twice = JSON.stringify(JSON.stringify(s)).slice(3, -3);
    for (const form of [twice, once, s]) out = out.split(form).join("");
  }
  return out;
}

function expectNoLeak(answer: Answer, sent: unknown, label: string) {
  const text = withoutEchoes(answer.text, sent);
  for (const leak of LEAKS) expect(text, `${label}: ${leak}`).not.toMatch(leak);
}

/** Status and error codes: a 200 or a 400 (413 past 1 MiB), every error with a catalog code. */
function expectWellFormed(answer: Answer, label: string) {
  const allowed = answer.bytes > MAX_BODY_BYTES ? [413] : [200, 400];
  expect(allowed, `${label}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`).toContain(answer.status);
  expect(answer.json, `${label}: not JSON: ${answer.text.slice(0, 300)}`).not.toBeNull();
  for (const e of answer.json?.errors ?? []) {
    expect(ERROR_CODES, `${label}: ${JSON.stringify(e).slice(0, 300)}`).toContain(e.extensions?.code);
  }
}

/** Does `path` (after "input") lead to a field of the input type? List indices are numbers. */
function pathInInput(type: GraphQLInputType, path: string[]): boolean {
  let current: GraphQLInputType = type;
  for (const step of path) {
    const nullable = getNullableType(current);
    if (isListType(nullable)) {
      if (!/^\d+$/.test(step)) return false;
      current = nullable.ofType;
    } else if (isInputObjectType(nullable)) {
      const field = nullable.getFields()[step];
      if (!field) return false;
      current = field.type;
    } else {
      return false;
    }
  }
  return true;
}

function inputTypeOf(mutation: string): GraphQLInputObjectType {
  const field = schema.getMutationType()!.getFields()[mutation];
  return getNamedType(field.args[0].type) as GraphQLInputObjectType;
}

/** Is the answer a refusal (GraphQL errors, or userErrors in the payload)? Checks their shape. */
function refusalOf(answer: Answer, mutation: string | null, label: string): boolean {
  const errors = answer.json?.errors ?? [];
  if (errors.length) return true;
  if (!mutation) return false;
  const payload = answer.json?.data?.[mutation];
  expect(payload, `${label}: no payload`).toBeTruthy();
  const userErrors = payload.userErrors as Array<{ field: string[] | null; code: string; message: string }>;
  for (const e of userErrors) {
    expect(USER_ERROR_CODES, `${label}: ${JSON.stringify(e)}`).toContain(e.code);
    expect(e.field?.[0], `${label}: ${JSON.stringify(e)}`).toBe("input");
    expect(pathInInput(inputTypeOf(mutation), e.field!.slice(1)), `${label}: ${JSON.stringify(e)}`).toBe(true);
  }
  return userErrors.length > 0;
}

/** Short description of a sample for failure messages (no megabytes). */
function describeSample(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    typeof v === "string" && v.length > 80 ? `<${v.length} chars>` : Array.isArray(v) && v.length > 20 ? `<${v.length} items>` : v,
  );
}

// ---------------------------------------------------------------------------------------------

describe(`fuzzed inputs (fast-check, seed ${SEED}, ${RUNS} runs per property)`, () => {
  it.each(Object.keys(MUTATIONS))(
    "%s: answers 200/400 with catalog codes and no SQL; refuses every bad-class value; a refusal writes nothing",
    async (mutation) => {
      const w = await world();
      const document = mutationDocument(mutation, "__typename");
      await fc.assert(
        fc.asyncProperty(MUTATIONS[mutation](w).any, async ([value, mustRefuse]) => {
          const label = `${mutation} ${describeSample(value)}`;
          const before = await t.server.database.fingerprint();
          const answer = await post(JSON.stringify({ query: document, variables: { input: value } }), w.token);
          expectWellFormed(answer, label);
          expectNoLeak(answer, value, label);
          if (answer.status === 413) return;
          const refusal = refusalOf(answer, mutation, label);
          if (mustRefuse) {
            expect(refusal, `${label}: accepted ${answer.text.slice(0, 300)}`).toBe(true);
            for (const e of answer.json?.errors ?? []) expect(REFUSAL_CODES, label).toContain(e.extensions?.code);
          }
          if (refusal) expect(await t.server.database.fingerprint(), `${label}: a refusal wrote`).toBe(before);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    },
  );

  it.each(Object.keys(QUERIES))("%s: answers 200/400 with catalog codes and no SQL, and refuses every bad-class value", async (name) => {
    const w = await world();
    const [document, variablesOf] = QUERIES[name];
    await fc.assert(
      fc.asyncProperty(variablesOf(w).any, async ([variables, mustRefuse]) => {
        const label = `${name} ${describeSample(variables)}`;
        const answer = await post(JSON.stringify({ query: document, variables }), w.token);
        expectWellFormed(answer, label);
        expectNoLeak(answer, variables, label);
        if (answer.status === 413) return;
        const refusal = refusalOf(answer, null, label);
        if (mustRefuse) {
          expect(refusal, `${label}: accepted ${answer.text.slice(0, 300)}`).toBe(true);
          for (const e of answer.json?.errors ?? []) expect(REFUSAL_CODES, label).toContain(e.extensions?.code);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("answers a body of about 1 MiB with 200/400 under the limit and 413 over it, writing nothing", async () => {
    const w = await world();
    const before = await t.server.database.fingerprint();
    const document = mutationDocument("createParticipant", "__typename");
    const overhead = Buffer.byteLength(JSON.stringify({ query: document, variables: { input: { centerId: w.centerId, firstName: "", lastName: "A" } } }));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: MAX_BODY_BYTES - overhead - 64, max: MAX_BODY_BYTES - overhead + 64 }),
        fc.constantFrom("x", "é", "\u0000"),
        async (n, unit) => {
          const firstName = unit.repeat(Math.floor(n / Buffer.byteLength(JSON.stringify(unit).slice(1, -1))));
          const answer = await post(JSON.stringify({ query: document, variables: { input: { centerId: w.centerId, firstName, lastName: "A" } } }), w.token);
          const label = `${firstName.length} × ${JSON.stringify(unit)} (${answer.bytes} bytes)`;
          expectWellFormed(answer, label);
          expectNoLeak(answer, firstName, label);
          if (answer.status !== 413) expect(refusalOf(answer, "createParticipant", label), label).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 8 },
    );
    expect(await t.server.database.fingerprint()).toBe(before);
  });

  it("answers malformed JSON bodies with 400 BAD_REQUEST, never a 500", async () => {
    const w = await world();
    const valid = JSON.stringify({ query: `query($id: ID!) { node(id: $id) { id } }`, variables: { id: w.centerId } });
    const body = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.integer({ min: 1, max: valid.length - 1 }).map((n) => valid.slice(0, n)),
      fc.tuple(fc.nat(), fc.constantFrom("\u0000", "\uD800", "{", "}", '"', ",", "\\", "\uFEFF")).map(([i, c]) => {
        const at = i % (valid.length + 1);
        return valid.slice(0, at) + c + valid.slice(at);
      }),
      fc.constantFrom(
        "{",
        "[",
        "nul",
        "{'query':'{viewer{email}}'}",
        '{"query": "{ viewer { email } }",}',
        "\uFEFF" + valid,
        valid + valid,
        "1",
        "null",
        "[]",
        '"x"',
        "{}",
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const answer = await post(raw, w.token);
        const label = `body ${JSON.stringify(raw).slice(0, 200)}`;
        expectWellFormed(answer, label);
        expectNoLeak(answer, raw, label);
        let parses = true;
        try {
          JSON.parse(Buffer.from(raw, "utf8").toString("utf8"));
        } catch {
          parses = false;
        }
        if (!parses) {
          expect(answer.status, label).toBe(400);
          expect(
            answer.json?.errors?.map((e) => e.extensions?.code),
            label,
          ).toEqual(["BAD_REQUEST"]);
        }
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  it("answers malformed documents, subscriptions and ill-typed variables with 400 and a catalog code", async () => {
    const w = await world();
    const valid = `query($id: ID!) { center(id: $id) { participants(search: "a") { totalCount } } }`;
    const document = fc.oneof(
      fc.constantFrom(
        "subscription { viewer { email } }",
        "subscription S { centers { totalCount } }",
        "query { viewer { email } } subscription { viewer { email } }",
        "{ nope }",
        "",
        "query($x: Int) { viewer { email } }",
        `{ center(id: "x") { participants(search: "a\\u0000b") { totalCount } } }`,
        `{ center(id: "x") { participants(search: "a\\ud800b") { totalCount } } }`,
        `{ center(id: "x") { sessions(from: "9999-12-31T00:00:00Z") { totalCount } } }`,
        `{ node(id: 12345678901234567890) { id } }`,
      ),
      fc.string({ maxLength: 40 }),
      fc.integer({ min: 1, max: valid.length - 1 }).map((n) => valid.slice(0, n)),
      fc.tuple(fc.nat(), fc.constantFrom("subscription ", "{", "}", "$", "\u0000", "\uD800", "(", "@skip")).map(([i, s]) => {
        const at = i % (valid.length + 1);
        return valid.slice(0, at) + s + valid.slice(at);
      }),
    );
    const variables = fc.oneof(
      fc.constant({ id: w.centerId }),
      fc.constantFrom<unknown>("not an object", 5, [], null, { id: 5 }, { id: null }, { id: [w.centerId] }, { id: "\u0000" }),
    );
    await fc.assert(
      fc.asyncProperty(document, variables, async (query, vars) => {
        const answer = await post(JSON.stringify({ query, variables: vars }), w.token);
        const label = `document ${JSON.stringify(query)} variables ${JSON.stringify(vars)}`;
        expectWellFormed(answer, label);
        expectNoLeak(answer, [query, vars], label);
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  it("answers deep nesting and alias floods of any size with data within the limits and a limit code past them, never a 5xx", async () => {
    const w = await world();
    // center → groups → center … to any depth; any number of aliases of one root field
    const nested = (depth: number) => {
      // Level 1 under the root center is groups, level 2 a group's center, and so on
      let inner = "id";
      for (let level = depth; level >= 1; level--) inner = level % 2 === 1 ? `groups(first: 2) { nodes { ${inner} } }` : `center { ${inner} }`;
      return `query($id: ID!) { center(id: $id) { ${inner} } }`;
    };
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: centers(first: 1) { totalCount }`).join(" ")} }`;
    const document = fc.oneof(
      fc.integer({ min: 0, max: 80 }).map((d) => ({ query: nested(d), kind: "depth" as const, size: d })),
      fc.integer({ min: 1, max: 6000 }).map((n) => ({ query: aliases(n), kind: "aliases" as const, size: n })),
    );
    const refusals = [...codesFrom("limits"), "GRAPHQL_PARSE_FAILED"];
    await fc.assert(
      fc.asyncProperty(document, async ({ query, kind, size }) => {
        const answer = await post(JSON.stringify({ query, variables: { id: w.centerId } }), w.token);
        const label = `${kind} ${size}`;
        expectWellFormed(answer, label);
        expectNoLeak(answer, [query], label);
        if (answer.status === 400) {
          // Refused before execution, with a limit code (or the parser's token limit)
          expect(answer.json?.data ?? null, label).toBeNull();
          expect(refusals, label).toContain(answer.json?.errors?.[0]?.extensions?.code);
        } else {
          expect(answer.json?.errors ?? [], label).toEqual([]);
        }
        // Small documents are always answered; huge ones always refused
        if ((kind === "depth" && size <= 4) || (kind === "aliases" && size <= 10)) expect(answer.status, label).toBe(200);
        if ((kind === "depth" && size >= 40) || (kind === "aliases" && size >= 1000)) expect(answer.status, label).toBe(400);
      }),
      { seed: SEED, numRuns: 30 },
    );
  });
});
