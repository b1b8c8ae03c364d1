// The outbox across a crash: the server (a real process on the embedded database) is killed with
// SIGKILL while the SMS provider holds its request open; started again, it sends that reminder
// once more, with the same idempotency key, and never a third time.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mintToken } from "../src/auth/tokens.js";
import { gqlAt, startServer, stop, type Proc } from "./support/process.js";
import { operation } from "./support/operations.js";
import { SMS_ACCOUNT, SMS_FROM, SMS_TOKEN, startSmsProvider, type SmsProvider } from "./support/reminders.js";

const SECRET = "reminders-crash-secret-0123456789-abcdefgh";
const ADMIN = "crash.admin@org.test";
const dirs: string[] = [];
const procs: Proc[] = [];
let sms: SmsProvider | undefined;

afterAll(async () => {
  for (const p of procs) await stop(p, "SIGKILL");
  await sms?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function until(test: () => boolean | Promise<boolean>, what: string, ms = 60_000) {
  const end = performance.now() + ms;
  while (!(await test())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the reminders' outbox across a crash (embedded database, real processes)", () => {
  it("given a send in flight when the process is killed (SIGKILL), when it starts again, then the reminder is sent once more with the same idempotency key, and no more", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rg-reminders-crash-"));
    dirs.push(dir);
    sms = await startSmsProvider();
    sms.mode = { kind: "hang" };
    const env = {
      AUTH_JWT_SECRET: SECRET,
      BOOTSTRAP_ADMIN_EMAIL: ADMIN,
      SMS_PROVIDER_URL: sms.url,
      SMS_ACCOUNT_SID: SMS_ACCOUNT,
      SMS_AUTH_TOKEN: SMS_TOKEN,
      SMS_FROM,
      REMINDERS_WORKER_INTERVAL_MS: "200",
      // Longer than the test: the restarted process takes the row back because the embedded
      // database proves its holder dead, not because a lease ran out.
      REMINDERS_SEND_TIMEOUT_MS: "300000",
      REMINDERS_LEASE_MS: "600000",
    };
    const first = await startServer(dir, env);
    procs.push(first);
    const token = await mintToken({ jwtSecret: SECRET }, ADMIN);
    const gql = async (url: string, field: string, input: Record<string, unknown>, selection: string) => {
      const type = `${field[0].toUpperCase()}${field.slice(1)}Input`;
      const res = await gqlAt(url, token, `mutation($input: ${type}!) { ${field}(input: $input) { ${selection} userErrors { field code message } } }`, {
        input,
      });
      if (res.errors || res.data[field].userErrors.length) throw new Error(JSON.stringify(res));
      return res.data[field];
    };

    // A member reachable by SMS, and a session starting in 50 minutes with a 60-minute reminder:
    // due now (real time: this process's clock is the system's). Quiet hours: none (start = end).
    const now = Date.now();
    const today = new Date(now).toISOString().slice(0, 10);
    const weekday = ["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"][new Date(now).getUTCDay()];
    const later = new Date(now + 12 * 3_600_000).toISOString().slice(11, 16);
    const { center } = await gql(first.url, "createCenter", { name: "Crash Clinic", timezone: "UTC" }, "center { id }");
    const { program } = await gql(first.url, "createProgram", { centerId: center.id, name: "P" }, "program { id }");
    const { group } = await gql(
      first.url,
      "createGroup",
      {
        programId: program.id,
        name: "G",
        capacity: 5,
        startsOn: today,
        status: "ACTIVE",
        schedule: { daysOfWeek: [weekday], startTime: later, durationMinutes: 60 },
      },
      "group { id }",
    );
    const { participant } = await gql(first.url, "createParticipant", { centerId: center.id, firstName: "Sam", lastName: "K" }, "participant { id }");
    await gql(first.url, "enrollParticipant", { groupId: group.id, participantId: participant.id }, "enrollment { id }");
    await gql(
      first.url,
      "setContactPreferences",
      { participantId: participant.id, phone: "+16175550142", channels: ["SMS"], smsConsent: { source: "VERBAL", givenOn: today } },
      "participant { id }",
    );
    const { sessions } = await gql(first.url, "scheduleSessions", { groupId: group.id, from: today, to: today }, "sessions { id }");
    const sessionId = sessions[0].id as string;
    await gql(first.url, "updateSession", { sessionId, startsAt: new Date(now + 50 * 60_000).toISOString() }, "session { id }");
    await gql(
      first.url,
      "updateReminderSettings",
      { centerId: center.id, enabled: true, leadTimesMinutes: [60], quietHoursStart: "00:00", quietHoursEnd: "00:00" },
      "center { id }",
    );

    // When the worker has handed the SMS to the provider (which does not answer), the process is killed.
    await until(() => sms!.requests.length === 1, "the first send");
    const key = sms.requests[0].idempotencyKey;
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    await stop(first, "SIGKILL");

    // Then, started again, it sends the same reminder once more, with the same key.
    sms.mode = { kind: "ok" };
    const second = await startServer(dir, env);
    procs.push(second);
    await until(() => sms!.requests.length >= 2, "the send after the restart");
    await until(async () => {
      const res = await gqlAt(second.url, token, operation("reminders.graphql", "SessionReminders"), { sessionId });
      return res.data?.node?.reminders?.[0]?.status === "SENT";
    }, "the reminder recorded SENT");
    await new Promise((r) => setTimeout(r, 1500)); // several more ticks
    expect(sms.requests.map((r) => r.idempotencyKey)).toEqual([key, key]);
    const res = await gqlAt(second.url, token, operation("reminders.graphql", "SessionReminders"), { sessionId });
    expect(res.data.node.reminders).toEqual([
      expect.objectContaining({ participant: { id: participant.id }, channel: "SMS", status: "SENT", attempts: 2, failureReason: null }),
    ]);
    expect(await stop(second)).toBe(0);
  }, 240_000);
});
