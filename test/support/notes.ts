// A world for the session-notes tests, built through the API at fixed instants: Harbor House (New
// York) runs "Tuesday group" (program "Group therapy", 90853, MINUTES_15; Tuesdays 18:00, 90 min,
// facilitated by `fac` and `peer`) with Sam Rivera, José Núñez ("Pepe"), Faith Morgan and J Okafor
// enrolled, and "Other group" (facilitated by `facOther`) with Ola Berg. Sessions on 2026-01-06,
// 13, 20, 27. `peer` is a Peer Recovery Specialist whose notes need a co-signature.
import { setClock } from "../../src/common/clock.js";
import type { Api } from "./fixtures.js";
import { operation } from "./operations.js";
import type { TestServer } from "./server.js";

/** Building happens before the sessions; notes are written the day after the first. */
const BUILT_AT = "2026-01-02T15:00:00Z";
const DAY_AFTER_FIRST = "2026-01-07T15:00:00Z";

type Role = "ORG_ADMIN" | "ADMIN" | "CLINICIAN" | "CLINICIAN2" | "FACILITATOR" | "PEER" | "FAC_OTHER" | "VIEWER";

export async function notesWorld(org: Api, opts: { unitRule?: "SESSION" | "MINUTES_15"; billingCode?: string } = {}) {
  setClock(BUILT_AT);
  const centerId = await org.createCenter("Harbor House", "America/New_York");
  const staff = async (email: string, role: string, extra: Record<string, unknown> = {}) => org.createStaff(email, [{ centerId, role }], extra);
  const admin = await staff("admin@harbor.test", "ADMIN");
  const clinician = await staff("clinician@harbor.test", "CLINICIAN", { credential: "LCSW" });
  const clinician2 = await staff("clinician2@harbor.test", "CLINICIAN");
  const fac = await staff("fac@harbor.test", "FACILITATOR", { credential: "CADC-I" });
  const peer = await staff("peer@harbor.test", "FACILITATOR", { credential: "Peer Recovery Specialist", requiresCosign: true });
  const facOther = await staff("other@harbor.test", "FACILITATOR");
  const viewer = await staff("viewer@harbor.test", "VIEWER");
  const { program } = await org.mutate(
    "createProgram",
    { centerId, name: "Group therapy", billingCode: opts.billingCode ?? "90853", unitRule: opts.unitRule ?? "MINUTES_15" },
    "program { id }",
  );
  const group = async (name: string, facilitatorIds: string[]) =>
    (
      await org.mutate(
        "createGroup",
        {
          programId: program.id,
          name,
          capacity: 20,
          startsOn: "2026-01-05",
          status: "ACTIVE",
          facilitatorIds,
          schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 90 },
        },
        "group { id }",
      )
    ).group.id as string;
  const groupId = await group("Tuesday group", [fac.id, peer.id]);
  const otherGroupId = await group("Other group", [facOther.id]);
  const person = async (firstName: string, lastName: string, externalId: string, preferredName?: string) =>
    (await org.mutate("createParticipant", { centerId, firstName, lastName, externalId, preferredName, dateOfBirth: "1990-01-01" }, "participant { id }"))
      .participant.id as string;
  const sam = await person("Sam", "Rivera", "MRN-SAM");
  const jose = await person("José", "Núñez", "MRN-JOSE", "Pepe");
  const faith = await person("Faith", "Morgan", "MRN-FAITH");
  const j = await person("J", "Okafor", "MRN-J");
  const ola = await person("Ola", "Berg", "MRN-OLA");
  for (const p of [sam, jose, faith, j]) await org.mutate("enrollParticipant", { groupId, participantId: p }, "enrollment { id }");
  await org.mutate("enrollParticipant", { groupId: otherGroupId, participantId: ola }, "enrollment { id }");
  const schedule = async (g: string) =>
    ((await org.mutate("scheduleSessions", { groupId: g, from: "2026-01-05", to: "2026-01-31" }, "sessions { id }")).sessions as Array<{ id: string }>).map(
      (s) => s.id,
    );
  const sessions = await schedule(groupId);
  const otherSessions = await schedule(otherGroupId);
  setClock(DAY_AFTER_FIRST);
  const tokens: Record<Role, string> = {
    ORG_ADMIN: org.token,
    ADMIN: admin.token,
    CLINICIAN: clinician.token,
    CLINICIAN2: clinician2.token,
    FACILITATOR: fac.token,
    PEER: peer.token,
    FAC_OTHER: facOther.token,
    VIEWER: viewer.token,
  };
  return {
    centerId,
    programId: program.id as string,
    groupId,
    otherGroupId,
    sessions,
    otherSessions,
    members: { sam, jose, faith, j },
    ola,
    staff: { admin, clinician, clinician2, fac, peer, facOther, viewer },
    tokens,
  };
}

export type NotesWorld = Awaited<ReturnType<typeof notesWorld>>;

/** Sends one of the contract's notes operations (test/operations/notes.graphql). */
export function send(server: TestServer, name: string, variables: Record<string, unknown>, token: string | null) {
  return server.gql(operation("notes.graphql", name), variables, { token, operationName: name });
}

type Rec = { participantId: string; status: string; minutesAttended?: number };

/** Records attendance as `token`; returns the payload (userErrors included). */
export async function recordAttendance(server: TestServer, token: string, sessionId: string, records: Rec[], reason?: string) {
  const res = await server.gql(
    `mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { attendance { id status minutesAttended } userErrors { field message code } } }`,
    { input: { sessionId, records, reason } },
    { token },
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.recordAttendance as {
    attendance: Array<{ id: string; status: string }> | null;
    userErrors: Array<{ field: string[]; code: string; message: string }>;
  };
}
