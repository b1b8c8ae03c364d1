// Exports over real HTTP: the attendance CSV (RFC 4180, CSV injection, the center's offsets across
// a daylight-saving change, days read in the center's zone, access) and the FHIR R4 Encounter
// search (every resource checked against the FHIR R4 JSON schema, next links, ABSENT and EXCUSED
// left out, date filters, access). One world, built once through the API; the tests only read it
// (the last one changes two names and reads again).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Access } from "../src/auth/access.js";
import { loadViewer } from "../src/auth/viewer.js";
import { setClock } from "../src/common/clock.js";
import { exportAttendanceCsv } from "../src/exports/attendance.csv.js";
import { searchEncounters } from "../src/exports/fhir.js";
import type { ExportAuditEvent } from "../src/exports/http.js";
import { toGlobalId } from "../src/common/ids.js";
import { fhirErrors } from "./support/fhir.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { startTestServer, type TestServer } from "./support/server.js";

let server: TestServer;
let w: Awaited<ReturnType<typeof world>>;

// "Now" is an input: the world is built, and the tests read it, at a fixed instant after its last
// session (2026-03-15), so completing the first one is allowed whatever the real date; tests about
// a session under way set their own instant.
const NOW = "2026-03-20T12:00:00.000Z";
beforeEach(() => setClock(NOW));

const PROGRAM = 'Relapse prevention, "phase 2"';
const FORMULA_GROUP = '=HYPERLINK("http://evil.test","late")';
const EXT = ["MRN-1", "-2+3", "@risk", "=1+1", null] as const;

type Rec = { participantId: string; status: string; minutesAttended?: number };

/**
 * North Clinic (New York): program PROGRAM (billing 90853); "Sunday evening" (18:30, 90 min,
 * facilitated by `fac`) and FORMULA_GROUP (23:30, 60 min), Sundays 2026-02-22..03-15 (the clocks
 * go forward on 03-08). Five participants with external ids EXT, all in the evening group, the
 * first also in the late one. South Clinic (Chicago) has its own group and a record on 03-01.
 */
async function world() {
  const admin = await asOrgAdmin(server);
  const [north, south] = await Promise.all([admin.createCenter("North Clinic", "America/New_York"), admin.createCenter("South Clinic", "America/Chicago")]);
  const [clinician, viewer, fac, fac2, southClinician, northProgram, southProgram] = await Promise.all([
    admin.createStaff("clin@north.test", [{ centerId: north, role: "CLINICIAN" }]),
    admin.createStaff("viewer@north.test", [{ centerId: north, role: "VIEWER" }]),
    admin.createStaff("fac@north.test", [{ centerId: north, role: "FACILITATOR" }]),
    admin.createStaff("fac2@north.test", [{ centerId: north, role: "FACILITATOR" }]),
    admin.createStaff("clin@south.test", [{ centerId: south, role: "CLINICIAN" }]),
    admin.mutate("createProgram", { centerId: north, name: PROGRAM, billingCode: "90853" }, "program { id }"),
    admin.mutate("createProgram", { centerId: south, name: "South program", billingCode: "H0005" }, "program { id }"),
  ]);
  const group = async (programId: string, name: string, facilitatorId: string, startTime: string, durationMinutes: number, virtualLink?: string) => {
    const g = await admin.mutate(
      "createGroup",
      {
        programId,
        name,
        capacity: 20,
        status: "ACTIVE",
        startsOn: "2026-02-01",
        facilitatorIds: [facilitatorId],
        schedule: { daysOfWeek: ["SUNDAY"], startTime, durationMinutes },
        virtualLink,
      },
      "group { id }",
    );
    const s = await admin.mutate("scheduleSessions", { groupId: g.group.id, from: "2026-02-22", to: "2026-03-15" }, "sessions { id startsAt }");
    return { id: g.group.id as string, sessions: (s.sessions as Array<{ id: string; startsAt: string }>).map((x) => x.id) };
  };
  const [evening, late, southGroup] = await Promise.all([
    group(northProgram.program.id, "Sunday evening", fac.id, "18:30", 90),
    group(northProgram.program.id, FORMULA_GROUP, fac2.id, "23:30", 60),
    group(southProgram.program.id, "South group", southClinician.id, "18:30", 60, "https://meet.example.org/south"),
  ]);
  const people = await Promise.all(
    EXT.map(async (externalId, i) => {
      const p = await admin.mutate("createParticipant", { centerId: north, firstName: `P${i}`, lastName: "North", externalId }, "participant { id }");
      return p.participant.id as string;
    }),
  );
  const southPerson = (await admin.mutate("createParticipant", { centerId: south, firstName: "S", lastName: "South", externalId: "S-1" }, "participant { id }"))
    .participant.id as string;
  for (const p of people) await admin.mutate("enrollParticipant", { groupId: evening.id, participantId: p }, "enrollment { id }");
  await admin.mutate("enrollParticipant", { groupId: late.id, participantId: people[0] }, "enrollment { id }");
  await admin.mutate("enrollParticipant", { groupId: southGroup.id, participantId: southPerson }, "enrollment { id }");
  const record = (sessionId: string, records: Rec[]) => admin.mutate("recordAttendance", { sessionId, records }, "attendance { id }");
  // Sessions: [0] 02-22, [1] 03-01, [2] 03-08, [3] 03-15.
  await record(evening.sessions[1], [
    { participantId: people[0], status: "PRESENT", minutesAttended: 90 },
    { participantId: people[1], status: "LATE", minutesAttended: 70 },
    { participantId: people[2], status: "ABSENT" },
    { participantId: people[3], status: "EXCUSED" },
    { participantId: people[4], status: "LEFT_EARLY", minutesAttended: 45 },
  ]);
  await record(evening.sessions[2], [
    { participantId: people[0], status: "PRESENT", minutesAttended: 90 },
    { participantId: people[1], status: "ABSENT" },
  ]);
  await record(late.sessions[1], [{ participantId: people[0], status: "PRESENT", minutesAttended: 60 }]);
  await record(southGroup.sessions[1], [{ participantId: southPerson, status: "PRESENT", minutesAttended: 60 }]);
  await admin.mutate("cancelSession", { sessionId: late.sessions[3], reason: "Holiday" }, "session { id }");
  await admin.mutate("completeSession", { sessionId: evening.sessions[0] }, "session { id }");
  return { admin, north, south, clinician, viewer, fac, fac2, southClinician, evening, late, southGroup, people, southPerson };
}

beforeAll(async () => {
  // Compiling the schema blocks for seconds: done before the server has connections to keep alive.
  for (const resourceType of ["Encounter", "Bundle", "OperationOutcome"]) fhirErrors({ resourceType });
  server = await startTestServer();
  setClock(NOW);
  w = await world();
}, 120_000);

afterAll(async () => {
  await server?.close();
});

// ---- helpers -----------------------------------------------------------------------------------

async function get(path: string, token: string | null | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const csvPath = (params: Record<string, string>) => `/exports/attendance.csv?${new URLSearchParams(params).toString()}`;

/** RFC 4180 records of a CSV text (CRLF line ends, quoted fields with doubled quotes). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else if (i >= text.length) throw new Error("unterminated quote");
        else field += text[i++];
      }
    } else if (text[i] === ",") {
      record.push(field);
      field = "";
      i++;
    } else if (text[i] === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      field = "";
      record = [];
      i += 2;
    } else {
      field += text[i++];
    }
  }
  if (field || record.length) throw new Error("the last record has no CRLF");
  return records;
}

async function csvRows(token: string, params: Record<string, string>) {
  const res = await get(csvPath(params), token);
  expect(res.status, res.text).toBe(200);
  const [header, ...rows] = parseCsv(res.text);
  return { header, rows, res };
}

const HEADER = ["center", "program", "billing_code", "group", "session_start", "session_end", "participant_external_id", "status", "minutes"];

// ---- CSV ---------------------------------------------------------------------------------------

describe("GET /exports/attendance.csv", () => {
  it("given records on both sides of the spring-forward, when clinical staff export them, then each is one CRLF row with the center's offset of its day", async () => {
    const token = w.clinician.token;
    const { header, rows, res } = await csvRows(token, { centerId: w.north, from: "2026-03-01", to: "2026-03-08" });
    expect(res.headers.get("content-type")).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="attendance-2026-03-01-to-2026-03-08.csv"');
    expect(res.text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/); // no bare LF or CR line ends
    expect(header).toEqual(HEADER);
    // 5 records on 03-01 (evening) + 1 (late group, 23:30) + 2 on 03-08; nothing of South Clinic.
    expect(rows).toHaveLength(8);
    const evening0301 = rows.filter((r) => r[4] === "2026-03-01T18:30:00-05:00");
    expect(evening0301.map((r) => [r[6], r[7], r[8]])).toEqual(
      expect.arrayContaining([
        ["MRN-1", "PRESENT", "90"],
        ["'-2+3", "LATE", "70"],
        ["'@risk", "ABSENT", "0"],
        ["'=1+1", "EXCUSED", "0"],
        ["", "LEFT_EARLY", "45"],
      ]),
    );
    expect(evening0301).toHaveLength(5);
    expect(evening0301[0].slice(0, 6)).toEqual(["North Clinic", PROGRAM, "90853", "Sunday evening", "2026-03-01T18:30:00-05:00", "2026-03-01T20:00:00-05:00"]);
    // After the clocks went forward: -04:00.
    const evening0308 = rows.filter((r) => r[3] === "Sunday evening" && r[4].startsWith("2026-03-08"));
    expect(evening0308.map((r) => [r[4], r[5], r[6], r[7]])).toEqual(
      expect.arrayContaining([
        ["2026-03-08T18:30:00-04:00", "2026-03-08T20:00:00-04:00", "MRN-1", "PRESENT"],
        ["2026-03-08T18:30:00-04:00", "2026-03-08T20:00:00-04:00", "'-2+3", "ABSENT"],
      ]),
    );
    // Rows follow session start.
    const starts = rows.map((r) => Date.parse(r[4]));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
  });

  it("given a program name with a comma and quotes and a group named like a formula, when exported, then the raw text quotes them and the formula starts with '", async () => {
    const res = await get(csvPath({ centerId: w.north, from: "2026-03-01", to: "2026-03-01" }), w.clinician.token);
    expect(res.text).toContain(`"Relapse prevention, ""phase 2"""`);
    expect(res.text).toContain(`"'=HYPERLINK(""http://evil.test"",""late"")"`);
    expect(res.text).toContain(`,'-2+3,LATE,70\r\n`);
    const rows = parseCsv(res.text).slice(1);
    const late = rows.filter((r) => r[3].startsWith("'="));
    expect(late).toEqual([
      ["North Clinic", PROGRAM, "90853", `'${FORMULA_GROUP}`, "2026-03-01T23:30:00-05:00", "2026-03-02T00:30:00-05:00", "MRN-1", "PRESENT", "60"],
    ]);
    // No field of the file begins with a character a spreadsheet would run.
    for (const field of rows.flat()) expect(field).not.toMatch(/^[=+\-@\t\r]/);
  });

  it("given a session at 23:30 in New York (04:30 UTC the next day), when one day is asked for, then days are the center's: 03-01 has it, 03-02 does not", async () => {
    const token = w.clinician.token;
    const day1 = await csvRows(token, { centerId: w.north, from: "2026-03-01", to: "2026-03-01" });
    expect(day1.rows.map((r) => r[4]).sort()).toEqual([...Array(5).fill("2026-03-01T18:30:00-05:00"), "2026-03-01T23:30:00-05:00"]);
    const day2 = await csvRows(token, { centerId: w.north, from: "2026-03-02", to: "2026-03-02" });
    expect(day2.res.text).toBe(HEADER.join(",") + "\r\n");
    // Both ends inclusive: from 02-28 to 03-08 holds 03-01 and 03-08; to 03-07 stops before 03-08.
    expect((await csvRows(token, { centerId: w.north, from: "2026-02-28", to: "2026-03-08" })).rows).toHaveLength(8);
    expect((await csvRows(token, { centerId: w.north, from: "2026-03-08", to: "2026-03-08" })).rows).toHaveLength(2);
    expect((await csvRows(token, { centerId: w.north, from: "2026-02-28", to: "2026-03-07" })).rows).toHaveLength(6);
  });

  it("given a facilitator, when they export their center, then only the group they facilitate is in it", async () => {
    const { rows } = await csvRows(w.fac.token, { centerId: w.north, from: "2026-03-01", to: "2026-03-08" });
    expect(rows).toHaveLength(7);
    expect(new Set(rows.map((r) => r[3]))).toEqual(new Set(["Sunday evening"]));
  });

  it("given no or a bad token, when exporting, then 401 and no data", async () => {
    const path = csvPath({ centerId: w.north, from: "2026-03-01", to: "2026-03-08" });
    for (const token of [null, "not-a-jwt"]) {
      const res = await get(path, token);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text).errors[0].extensions.code).toBe("UNAUTHENTICATED");
      expect(res.text).not.toContain("MRN-1");
    }
  });

  it("given staff of another center, when they export North Clinic, then 404 exactly as for a center that does not exist", async () => {
    const params = { from: "2026-03-01", to: "2026-03-08" };
    const other = await get(csvPath({ centerId: w.north, ...params }), w.southClinician.token);
    const missing = await get(csvPath({ centerId: toGlobalId("Center", "00000000-0000-4000-8000-000000000000"), ...params }), w.southClinician.token);
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(other.text).toBe(missing.text);
    expect(other.headers.get("content-type")).toBe(missing.headers.get("content-type"));
  });

  it("given a VIEWER of the center (never sees participants), when exporting, then 403 FORBIDDEN", async () => {
    const res = await get(csvPath({ centerId: w.north, from: "2026-03-01", to: "2026-03-08" }), w.viewer.token);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).errors[0].extensions.code).toBe("FORBIDDEN");
  });

  it.each([
    [{ from: "2026-03-01", to: "2026-03-08" }, /centerId is required/],
    [{ centerId: "nope", from: "2026-03-01", to: "2026-03-08" }, /centerId is not the id of a center/],
    [{ centerId: "PROGRAM", from: "2026-03-01", to: "2026-03-08" }, /centerId is not the id of a center/],
    [{ centerId: "NORTH", to: "2026-03-08" }, /from is required/],
    [{ centerId: "NORTH", from: "2026-02-30", to: "2026-03-08" }, /from must be a day, YYYY-MM-DD/],
    [{ centerId: "NORTH", from: "2026-03-01", to: "03/08/2026" }, /to must be a day, YYYY-MM-DD/],
    [{ centerId: "NORTH", from: "2026-03-09", to: "2026-03-08" }, /from must not be after to/],
    [{ centerId: "NORTH", from: "2027-01-01", to: "2028-01-02" }, /at most 366 days/],
  ])("given bad parameters %j, when exporting, then 400 with a message that says what is wrong", async (raw, message) => {
    const params = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [k, v === "NORTH" ? w.north : v === "PROGRAM" ? toGlobalId("Program", "00000000-0000-4000-8000-000000000000") : v]),
    );
    const res = await get(csvPath(params), w.clinician.token);
    expect(res.status).toBe(400);
    const body = JSON.parse(res.text);
    expect(body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(body.errors[0].message).toMatch(message);
  });

  it("given a whole year, or a leap year's 366 days, when exported, then the range is accepted", async () => {
    const { rows } = await csvRows(w.clinician.token, { centerId: w.north, from: "2026-01-01", to: "2026-12-31" });
    expect(rows).toHaveLength(8);
    expect((await csvRows(w.clinician.token, { centerId: w.north, from: "2028-01-01", to: "2028-12-31" })).rows).toHaveLength(0);
    expect((await csvRows(w.clinician.token, { centerId: w.north, from: "2025-12-31", to: "2026-12-31" })).rows).toHaveLength(8);
  });
});

// ---- FHIR --------------------------------------------------------------------------------------

type Bundle = {
  resourceType: string;
  type: string;
  link: Array<{ relation: string; url: string }>;
  entry?: Array<{ fullUrl: string; resource: Encounter; search: { mode: string } }>;
};
type Encounter = {
  resourceType: string;
  id: string;
  status: string;
  class: { system: string; code: string };
  period: { start: string; end: string };
  partOf?: { reference: string };
  subject?: { type: string; identifier: { system: string; value: string } };
  serviceType?: { coding?: Array<{ system?: string; code: string }>; text: string };
  length?: { value: number };
};

async function fhir(pathAndQuery: string, token: string | null) {
  const res = await get(pathAndQuery, token, { accept: "application/fhir+json" });
  return { ...res, body: JSON.parse(res.text) as Bundle & { issue?: Array<{ severity: string; code: string; diagnostics: string }> } };
}

/** Every resource of a bundle (and the bundle) passes the FHIR R4 JSON schema. */
function expectValid(bundle: Bundle) {
  for (const e of bundle.entry ?? []) {
    expect(fhirErrors(e.resource), JSON.stringify(e.resource)).toEqual([]);
    expect(e.resource.status).toBeTruthy();
  }
  expect(fhirErrors(bundle)).toEqual([]);
}

/** Follows next links from a first page to the end; returns every page. */
async function allPages(first: string, token: string): Promise<Bundle[]> {
  const pages: Bundle[] = [];
  let next: string | undefined = first;
  while (next) {
    const url = new URL(next, server.url);
    const res = await fhir(`${url.pathname}${url.search}`, token);
    expect(res.status, res.text).toBe(200);
    pages.push(res.body);
    next = res.body.link.find((l) => l.relation === "next")?.url;
    expect(pages.length).toBeLessThan(50);
  }
  return pages;
}

describe("GET /fhir/Encounter", () => {
  it("given March's sessions, when clinical staff search them, then a valid searchset of session Encounters and one finished Encounter per attended record, ABSENT and EXCUSED left out", async () => {
    setClock("2026-03-10T12:00:00Z");
    const res = await fhir("/fhir/Encounter?date=ge2026-03-01&date=lt2026-03-09", w.clinician.token);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/fhir+json; charset=utf-8");
    expect(res.body.resourceType).toBe("Bundle");
    expect(res.body.type).toBe("searchset");
    expectValid(res.body);
    const resources = res.body.entry!.map((e) => e.resource);
    const sessions = resources.filter((r) => !r.partOf);
    const attended = resources.filter((r) => r.partOf);
    // Sessions on 03-01 and 03-08 of both North groups.
    expect(sessions.map((s) => s.period.start).sort()).toEqual([
      "2026-03-01T18:30:00-05:00",
      "2026-03-01T23:30:00-05:00",
      "2026-03-08T18:30:00-04:00",
      "2026-03-08T23:30:00-04:00",
    ]);
    // PRESENT, LATE, LEFT_EARLY on 03-01, PRESENT on 03-08, PRESENT in the late group: 5.
    expect(attended).toHaveLength(5);
    expect(attended.every((a) => a.status === "finished")).toBe(true);
    const values = attended.map((a) => a.subject!.identifier.value);
    for (const absentOrExcused of ["@risk", "=1+1", "-2+3 on 03-08"]) expect(values).not.toContain(absentOrExcused);
    expect(values.filter((v) => v === "-2+3")).toHaveLength(1); // LATE on 03-01 only; ABSENT on 03-08
    for (const a of attended) {
      const parent = sessions.find((s) => `Encounter/${s.id}` === a.partOf!.reference);
      expect(parent, "partOf names a session Encounter of the bundle").toBeDefined();
      expect(a.period).toEqual(parent!.period);
      expect(a.subject!.type).toBe("Patient");
    }
    const mrn1 = attended.find((a) => a.subject!.identifier.value === "MRN-1" && a.period.start === "2026-03-08T18:30:00-04:00")!;
    expect(mrn1.subject!.identifier.system).toBe(`urn:uuid:${Buffer.from(w.north, "base64url").toString().split(":")[1]}`);
    expect(mrn1.length?.value).toBe(90);
    expect(mrn1.serviceType).toEqual({ coding: [{ system: "http://www.ama-assn.org/go/cpt", code: "90853" }], text: PROGRAM });
    expect(mrn1.class).toEqual({ system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: "AMB", display: "ambulatory" });
    // A participant without an external id is referenced by a URI identifier, not left out.
    expect(attended.filter((a) => a.subject!.identifier.system === "urn:ietf:rfc:3986")).toHaveLength(1);
    // Past, scheduled, someone attended: finished; past, nobody recorded: unknown.
    const bySessionStart = Object.fromEntries(sessions.map((s) => [s.period.start, s.status]));
    expect(bySessionStart["2026-03-01T18:30:00-05:00"]).toBe("finished");
    expect(bySessionStart["2026-03-08T23:30:00-04:00"]).toBe("unknown");
    // South Clinic's record is not there.
    expect(values).not.toContain("S-1");
  });

  it("given a page size of 2, when the next links are followed, then every entry comes once, in order, pages split inside a session", async () => {
    setClock("2026-03-10T12:00:00Z");
    const whole = await fhir("/fhir/Encounter?date=ge2026-02-01&date=lt2026-04-01&_count=1000", w.clinician.token);
    expect(whole.body.link.find((l) => l.relation === "next")).toBeUndefined();
    const ids = whole.body.entry!.map((e) => e.resource.id);
    // 8 sessions of North (02-22 .. 03-15 of two groups) + 5 attended records.
    expect(ids).toHaveLength(13);
    const pages = await allPages("/fhir/Encounter?date=ge2026-02-01&date=lt2026-04-01&_count=2", w.clinician.token);
    expect(pages).toHaveLength(7);
    for (const p of pages) {
      expectValid(p);
      expect(p.entry!.length).toBeLessThanOrEqual(2);
      expect(p.link.find((l) => l.relation === "self")!.url).toContain("_count=2");
    }
    expect(pages.flatMap((p) => p.entry!.map((e) => e.resource.id))).toEqual(ids);
    const next = new URL(pages[0].link.find((l) => l.relation === "next")!.url);
    expect(next.searchParams.getAll("date")).toEqual(["ge2026-02-01", "lt2026-04-01"]);
    // The cancelled session is an Encounter, cancelled; the future one is planned.
    const statuses = Object.fromEntries(whole.body.entry!.filter((e) => !e.resource.partOf).map((e) => [e.resource.period.start, e.resource.status]));
    expect(statuses["2026-03-15T23:30:00-04:00"]).toBe("cancelled");
    expect(statuses["2026-03-15T18:30:00-04:00"]).toBe("planned");
  });

  it("given date filters, when searching, then they apply to the period start, a day in each center's zone, an instant as given", async () => {
    const starts = async (query: string, token = w.clinician.token) => {
      const res = await fhir(`/fhir/Encounter?${query}&_count=1000`, token);
      expect(res.status, res.text).toBe(200);
      return [...new Set(res.body.entry?.map((e) => e.resource.period.start) ?? [])].sort();
    };
    // A day (eq) holds the 23:30 session, which starts on 03-02 in UTC.
    expect(await starts("date=2026-03-01")).toEqual(["2026-03-01T18:30:00-05:00", "2026-03-01T23:30:00-05:00"]);
    expect(await starts("date=eq2026-03-02")).toEqual([]);
    expect(await starts("date=gt2026-03-01&date=le2026-03-08")).toEqual(["2026-03-08T18:30:00-04:00", "2026-03-08T23:30:00-04:00"]);
    expect(await starts("date=ge2026-03-01T23:00:00-05:00&date=lt2026-03-08T19:00:00-04:00")).toEqual([
      "2026-03-01T23:30:00-05:00",
      "2026-03-08T18:30:00-04:00",
    ]);
    expect(await starts("date=lt2026-02-23")).toEqual(["2026-02-22T18:30:00-05:00", "2026-02-22T23:30:00-05:00"]);
    expect(await starts("date=2026-02")).toEqual(["2026-02-22T18:30:00-05:00", "2026-02-22T23:30:00-05:00"]);
    // South Clinic's staff get its own session, in Chicago time.
    expect(await starts("date=2026-03-01", w.southClinician.token)).toEqual(["2026-03-01T18:30:00-06:00"]);
  });

  it("given sessions completed, cancelled, under way, past and unrecorded, when searched, then each status maps to the Encounter's", async () => {
    setClock("2026-03-15T22:45:00Z"); // 18:45 in New York: the evening session of 03-15 runs
    const res = await fhir("/fhir/Encounter?date=ge2026-02-22&_count=1000", w.clinician.token);
    const status = Object.fromEntries(res.body.entry!.filter((e) => !e.resource.partOf).map((e) => [e.resource.period.start, e.resource.status]));
    expect(status).toEqual({
      "2026-02-22T18:30:00-05:00": "finished", // COMPLETED, nobody recorded
      "2026-02-22T23:30:00-05:00": "unknown", // scheduled, past, nobody recorded
      "2026-03-01T18:30:00-05:00": "finished", // scheduled, past, attended
      "2026-03-01T23:30:00-05:00": "finished",
      "2026-03-08T18:30:00-04:00": "finished",
      "2026-03-08T23:30:00-04:00": "unknown",
      "2026-03-15T18:30:00-04:00": "in-progress",
      "2026-03-15T23:30:00-04:00": "cancelled",
    });
  });

  it("given a program billed with an HCPCS code and a virtual group, when South Clinic's staff search, then the coding names HCPCS, the class is VR and the period in Chicago's offset", async () => {
    const res = await fhir("/fhir/Encounter?date=2026-03-01", w.southClinician.token);
    expectValid(res.body);
    const [session, record] = res.body.entry!.map((e) => e.resource);
    expect(session.serviceType).toEqual({ coding: [{ system: "urn:oid:2.16.840.1.113883.6.285", code: "H0005" }], text: "South program" });
    expect(record.subject!.identifier).toEqual({ system: `urn:uuid:${Buffer.from(w.south, "base64url").toString().split(":")[1]}`, value: "S-1" });
    expect(record.period.start).toBe("2026-03-01T18:30:00-06:00");
    expect([session.class.code, record.class.code]).toEqual(["VR", "VR"]);
  });

  it("given a facilitator, when searching, then only the sessions and records of their group", async () => {
    const res = await fhir("/fhir/Encounter?date=2026-03-01", w.fac.token);
    expect(res.status).toBe(200);
    const resources = res.body.entry!.map((e) => e.resource);
    expect(resources.filter((r) => !r.partOf).map((r) => r.period.start)).toEqual(["2026-03-01T18:30:00-05:00"]);
    expect(resources.filter((r) => r.partOf)).toHaveLength(3);
  });

  it("given _count above 1000, when searching, then the page is 1000 at most and the self link says so", async () => {
    const res = await fhir("/fhir/Encounter?_count=5000", w.clinician.token);
    expect(res.status).toBe(200);
    expect(new URL(res.body.link[0].url).searchParams.get("_count")).toBe("1000");
  });

  it.each([
    ["date=yesterday", /not a FHIR date/],
    ["date=2026-02-30", /not a real date/],
    ["date=ne2026-03-01", /prefix "ne" is not supported/],
    ["_count=0", /_count must be a whole number/],
    ["_count=ten", /_count must be a whole number/],
    ["_cursor=bm90LWEtY3Vyc29y", /_cursor is not a cursor/],
  ])("given %s, when searching, then 400 with an OperationOutcome saying why", async (query, message) => {
    const res = await fhir(`/fhir/Encounter?${query}`, w.clinician.token);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/fhir+json; charset=utf-8");
    expect(fhirErrors(res.body)).toEqual([]);
    expect(res.body.resourceType).toBe("OperationOutcome");
    expect(res.body.issue![0]).toMatchObject({ severity: "error", code: "invalid" });
    expect(res.body.issue![0].diagnostics).toMatch(message);
  });

  it("given no token, a bad one, or a VIEWER, when searching, then 401 / 403 OperationOutcomes and no Encounter", async () => {
    for (const token of [null, "garbage"]) {
      const res = await fhir("/fhir/Encounter", token);
      expect(res.status).toBe(401);
      expect(res.body.resourceType).toBe("OperationOutcome");
      expect(res.body.issue![0].code).toBe("login");
      expect(fhirErrors(res.body)).toEqual([]);
    }
    const viewer = await fhir("/fhir/Encounter", w.viewer.token);
    expect(viewer.status).toBe(403);
    expect(viewer.body.issue![0].code).toBe("forbidden");
  });
});

// The audit log's call site (src/exports/http.ts `audit`): the handlers, called as the server calls
// them, report each export once, with identifiers only.
describe("the audit call site", () => {
  async function run(handler: typeof exportAttendanceCsv, email: string | null, query: string) {
    const viewer = email ? await loadViewer(server.database.db, email) : null;
    const events: ExportAuditEvent[] = [];
    const answer = await handler({
      query: new URLSearchParams(query),
      access: new Access(viewer),
      db: server.database.db,
      requestId: "req-1",
      baseUrl: "http://api.test",
      audit: (e) => void events.push(e),
    });
    if (typeof answer.body !== "string") for await (const chunk of answer.body) void chunk; // sends it
    return { answer, events };
  }
  const uuid = (globalId: string) => Buffer.from(globalId, "base64url").toString().split(":")[1];

  it("given a CSV export, when it has been sent, then one EXPORT event names the operation, the center and the participants whose records left", async () => {
    const { answer, events } = await run(exportAttendanceCsv, "clin@north.test", `centerId=${w.north}&from=2026-03-08&to=2026-03-08`);
    expect(answer.status).toBe(200);
    expect(events).toEqual([
      {
        operation: "export.attendance.csv",
        action: "EXPORT",
        outcome: "ALLOWED",
        requestId: "req-1",
        centerIds: [uuid(w.north)],
        participantIds: expect.arrayContaining([uuid(w.people[0]), uuid(w.people[1])]) as unknown,
      },
    ]);
    expect(events[0].participantIds).toHaveLength(2);
  });

  it("given a FHIR search, when answered, then one EXPORT event with the participants of the page; a refusal is an event too", async () => {
    const { events } = await run(searchEncounters, "clin@north.test", "date=2026-03-08");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ operation: "fhir.Encounter.search", action: "EXPORT", outcome: "ALLOWED", centerIds: [uuid(w.north)] });
    expect(events[0].participantIds).toEqual([uuid(w.people[0])]); // PRESENT; the ABSENT record did not leave
    const refused = await run(searchEncounters, "viewer@north.test", "");
    expect(refused.answer.status).toBe(403);
    expect(refused.events).toMatchObject([{ operation: "fhir.Encounter.search", outcome: "DENIED", participantIds: [] }]);
    const anonymous = await run(exportAttendanceCsv, null, `centerId=${w.north}&from=2026-03-08&to=2026-03-08`);
    expect(anonymous.events).toMatchObject([{ operation: "export.attendance.csv", outcome: "DENIED", participantIds: [] }]);
  });
});

// Changes the world: last.
describe("CSV injection from stored text", () => {
  it("given a name that begins with a tab and an external id that begins with CR, when exported, then both get the leading ' (and CR is quoted)", async () => {
    const db = server.database.db;
    const { sql } = await import("drizzle-orm");
    await db.execute(
      sql`update groups set name = ${"\tcmd|' /C calc'!A0"} where id = ${Buffer.from(w.evening.id, "base64url").toString().split(":")[1]}::uuid`,
    );
    await db.execute(sql`update participants set external_id = ${"\r+SUM(1)"} where external_id = 'MRN-1'`);
    const res = await get(csvPath({ centerId: w.north, from: "2026-03-08", to: "2026-03-08" }), w.clinician.token);
    const rows = parseCsv(res.text).slice(1);
    const evening = rows.filter((r) => r[4] === "2026-03-08T18:30:00-04:00");
    expect(evening.map((r) => r[3])).toEqual(["'\tcmd|' /C calc'!A0", "'\tcmd|' /C calc'!A0"]);
    expect(evening.map((r) => r[6])).toContain("'\r+SUM(1)");
    expect(res.text).toContain(`"'\r+SUM(1)"`);
  });
});
