// The live roster from a client's side: a real graphql-ws client over a real WebSocket (`ws`), real
// tokens, and a world of a group with members and sessions built through the API.
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { asOrgAdmin, type Api } from "./fixtures.js";
import type { TestServer } from "./server.js";

export const LIVE_ROSTER = `subscription LiveRoster($sessionId: ID!) {
  rosterChanged(sessionId: $sessionId) { participant { id firstName } attendance { status } }
}`;

/** Without names: what a role that may not read them could still ask for. */
export const LIVE_ROSTER_IDS = `subscription LiveRosterIds($sessionId: ID!) {
  rosterChanged(sessionId: $sessionId) { expected attendance { status } }
}`;

type Entry = { participant?: { id: string; firstName?: string }; attendance: { status: string } | null; expected?: boolean };

const wsUrl = (httpUrl: string) => `${httpUrl.replace(/^http/, "ws")}/graphql`;

export interface LiveClient {
  client: Client;
  /** Close events of the socket (code, reason), in order. */
  closes: Array<{ code: number; reason: string }>;
  dispose(): Promise<void>;
}

/** A graphql-ws client that connects at once and never retries (a test sees every close). */
export async function connect(httpUrl: string, authorization: string | undefined): Promise<LiveClient> {
  const closes: LiveClient["closes"] = [];
  const client = createClient({
    url: wsUrl(httpUrl),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    // The closes are recorded below (and asserted by the tests), not printed.
    onNonLazyError: () => undefined,
    connectionParams: authorization === undefined ? {} : { authorization },
    on: { closed: (e) => closes.push({ code: (e as { code: number }).code, reason: String((e as { reason?: string }).reason ?? "") }) },
  });
  await new Promise<void>((resolve, reject) => {
    const offConnected = client.on("connected", () => {
      offConnected();
      offClosed();
      resolve();
    });
    const offClosed = client.on("closed", (e) => {
      offConnected();
      offClosed();
      reject(Object.assign(new Error(`closed ${(e as { code: number }).code}`), { code: (e as { code: number }).code }));
    });
  });
  return {
    client,
    closes,
    async dispose() {
      await client.dispose();
    },
  };
}

export interface Stream {
  events: Array<{ data?: { rosterChanged: Entry[] } | null; errors?: Array<{ message: string; extensions?: { code?: string } }> }>;
  /** The protocol's `error` message (the stream ended with an error), or a socket close. */
  error: unknown;
  completed: boolean;
  /** Resolves once `n` events have arrived (rejects on error/complete before, or after `ms`). */
  waitFor(n: number, ms?: number): Promise<void>;
  /** Resolves once the stream has ended (error or complete). */
  ended(ms?: number): Promise<void>;
  unsubscribe(): void;
}

export function subscribe(live: LiveClient, sessionId: string, query = LIVE_ROSTER): Stream {
  const listeners = new Set<() => void>();
  const stream: Stream = {
    events: [],
    error: undefined,
    completed: false,
    waitFor(n, ms = 10_000) {
      return until(
        () => stream.events.length >= n,
        () => stream.error !== undefined || stream.completed,
        ms,
        `${n} events (got ${stream.events.length})`,
      );
    },
    ended(ms = 10_000) {
      return until(
        () => stream.error !== undefined || stream.completed,
        () => false,
        ms,
        "the stream to end",
      );
    },
    unsubscribe: () => unsubscribe(),
  };
  const notify = () => listeners.forEach((l) => l());
  function until(done: () => boolean, failed: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (done()) finish(resolve);
        else if (failed()) finish(() => reject(new Error(`stream ended while waiting for ${what}: ${JSON.stringify(stream.error ?? "complete")}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${what}`))), ms);
      const finish = (f: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });
  }
  const unsubscribe = live.client.subscribe(
    // As clients send it: the operation's name when it has one (the audit log names the event by it).
    { query, variables: { sessionId }, operationName: /^\s*subscription\s+(\w+)/.exec(query)?.[1] },
    {
      next: (value) => {
        stream.events.push(value as Stream["events"][number]);
        notify();
      },
      error: (err) => {
        stream.error = err;
        notify();
      },
      complete: () => {
        stream.completed = true;
        notify();
      },
    },
  );
  return stream;
}

/** A raw WebSocket speaking graphql-transport-ws by hand (for what a well-behaved client never sends). */
export function rawSocket(httpUrl: string): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string }>; messages: unknown[] }> {
  const ws = new WebSocket(wsUrl(httpUrl), "graphql-transport-ws");
  const messages: unknown[] = [];
  ws.on("message", (m: Buffer) => messages.push(JSON.parse(m.toString())));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, closed, messages }));
    ws.once("error", reject);
  });
}

const FIRST_NAMES = ["Ana", "Ben", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal"];

/**
 * A center (New York) with its ADMIN, a VIEWER, a CLINICIAN and two FACILITATORs: `facilitator` leads the
 * Monday group (January 2027 scheduled), `otherFacilitator` the Wednesday group. `members` are
 * ACTIVE in the Monday group. (Run at a "now" before January 2027: the seats are held at every session.)
 */
export async function liveWorld(server: Pick<TestServer, "gql" | "token" | "database">, opts: { members?: number; admin?: Api } = {}) {
  const admin: Api = opts.admin ?? (await asOrgAdmin(server as TestServer));
  const centerId = await admin.createCenter("North Clinic", "America/New_York");
  const [facilitator, otherFacilitator, viewer, clinician, program] = await Promise.all([
    admin.createStaff("fac@north.test", [{ centerId, role: "FACILITATOR" }]),
    admin.createStaff("fac2@north.test", [{ centerId, role: "FACILITATOR" }]),
    admin.createStaff("viewer@north.test", [{ centerId, role: "VIEWER" }]),
    admin.createStaff("clin@north.test", [{ centerId, role: "CLINICIAN" }]),
    admin.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }"),
  ]);
  const group = async (name: string, facilitatorId: string, day: string) => {
    const g = await admin.mutate(
      "createGroup",
      {
        programId: program.program.id,
        name,
        capacity: 20,
        status: "ACTIVE",
        startsOn: "2027-01-01",
        endsOn: "2027-06-30",
        facilitatorIds: [facilitatorId],
        schedule: { daysOfWeek: [day], startTime: "18:00", durationMinutes: 90 },
      },
      "group { id }",
    );
    const groupId: string = g.group.id;
    const s = await admin.mutate("scheduleSessions", { groupId, from: "2027-01-01", to: "2027-01-31" }, "sessions { id }");
    return { groupId, sessionIds: (s.sessions as Array<{ id: string }>).map((x) => x.id) };
  };
  const [monday, wednesday] = await Promise.all([
    group("Monday evening", facilitator.id, "MONDAY"),
    group("Wednesday evening", otherFacilitator.id, "WEDNESDAY"),
  ]);
  const members: string[] = [];
  for (let i = 0; i < (opts.members ?? 3); i++) {
    const p = await admin.mutate(
      "createParticipant",
      { centerId, firstName: FIRST_NAMES[i % FIRST_NAMES.length], lastName: `Member${i}` },
      "participant { id }",
    );
    members.push(p.participant.id);
    await admin.mutate("enrollParticipant", { groupId: monday.groupId, participantId: p.participant.id }, "enrollment { id }");
  }
  return {
    admin,
    centerId,
    facilitator,
    otherFacilitator,
    viewer,
    clinician,
    ...monday,
    otherGroupId: wednesday.groupId,
    otherSessionIds: wednesday.sessionIds,
    members,
  };
}

const RECORD = `mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { attendance { id status } userErrors { field message code } } }`;

/** Records attendance through `url` (any instance) as `token`; fails loudly on any error. */
export async function recordAt(url: string, token: string, sessionId: string, records: Array<{ participantId: string; status: string }>): Promise<void> {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: RECORD, variables: { input: { sessionId, records } } }),
  });
  const body = (await res.json()) as { data?: { recordAttendance: { userErrors: unknown[] } }; errors?: unknown };
  if (body.errors || body.data?.recordAttendance.userErrors.length) throw new Error(`recordAttendance: ${JSON.stringify(body)}`);
}

/** participant id → status (null: nothing recorded) of one roster event. */
export function statuses(event: Stream["events"][number]): Record<string, string | null> {
  return Object.fromEntries((event.data?.rosterChanged ?? []).map((e) => [e.participant!.id, e.attendance?.status ?? null]));
}
