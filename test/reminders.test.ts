// Session reminders (src/reminders), end to end with real components: the API over HTTP, a real
// SMTP server receiving over TCP, a local HTTP server speaking the SMS provider's API, webhooks
// signed as the provider signs them, and the outbox worker driven tick by tick at fixed instants
// (America/New_York; DST starts 2027-03-14).
import { and, asc, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resetClock, setClock } from "../src/common/clock.js";
import { fromGlobalId } from "../src/common/ids.js";
import { loadConfig } from "../src/config.js";
import { auditEvents, reminders } from "../src/db/schema.js";
import { createLogger } from "../src/logger.js";
import { signCheckInToken } from "../src/checkin/checkin.token.js";
import { createSenders } from "../src/reminders/reminder.senders.js";
import { ReminderWorker } from "../src/reminders/reminder.worker.js";
import { operation } from "./support/operations.js";
import {
  postWebhook,
  reminderWorld,
  sign,
  SMS_ACCOUNT,
  SMS_FROM,
  SMS_TOKEN,
  startMailServer,
  startSmsProvider,
  type MailServer,
  type SmsProvider,
} from "./support/reminders.js";
import { startTestServer, type TestServer } from "./support/server.js";

const uuidOf = (globalId: string) => fromGlobalId(globalId)!.id;
const EMAIL = "alex.member@mail.test";
const PHONE = "+16175550123";

let server: TestServer;
let mail: MailServer;
let sms: SmsProvider;
const logLines: string[] = [];

beforeAll(async () => {
  mail = await startMailServer();
  sms = await startSmsProvider();
  server = await startTestServer({
    env: {
      SMTP_URL: mail.url,
      EMAIL_FROM: "reminders@clinic.test",
      SMS_PROVIDER_URL: sms.url,
      SMS_ACCOUNT_SID: SMS_ACCOUNT,
      SMS_AUTH_TOKEN: SMS_TOKEN,
      SMS_FROM,
      REMINDERS_MAX_ATTEMPTS: "3",
      REMINDERS_RETRY_BASE_MS: "60000",
      REMINDERS_SEND_TIMEOUT_MS: "3000",
      REMINDERS_LEASE_MS: "60000",
    },
    logger: createLogger("info", (line) => logLines.push(line)),
  });
});
beforeEach(async () => {
  await server.database.reset();
  mail.messages.length = 0;
  sms.requests.length = 0;
  sms.malformed.length = 0;
  sms.mode = { kind: "ok" };
});
afterEach(() => resetClock());
afterAll(async () => {
  await server?.close();
  await mail?.close();
  await sms?.close();
});

const tick = () => server.app.reminders.tick();
const rows = () => server.database.db.select().from(reminders).orderBy(asc(reminders.dueAt), asc(reminders.channel));

/** A member of a Tuesday 18:00 group (sessions in March 2027) reachable by the given channels. */
async function member(channels: string[], opts: { settings?: Record<string, unknown>; detail?: string; people?: number } = {}) {
  setClock("2027-03-01T12:00:00-05:00");
  const w = await reminderWorld(server, { from: "2027-03-01", to: "2027-03-31", people: opts.people ?? 1, settings: opts.settings });
  for (const participantId of w.participants) {
    await w.org.mutate(
      "setContactPreferences",
      {
        participantId,
        email: EMAIL,
        phone: "+1 (617) 555-0123",
        channels,
        smsConsent: channels.includes("SMS") ? { source: "WRITTEN", givenOn: "2027-02-20" } : null,
        detail: opts.detail ?? null,
      },
      "participant { id }",
    );
  }
  return w;
}

describe("settings and contact preferences", () => {
  it("given a new center, then reminders read as off with 24 h and 2 h, a neutral sender and quiet hours 21:00-08:00; an admin's update is answered as the contract asks", async () => {
    setClock("2027-03-01T12:00:00-05:00");
    const w = await reminderWorld(server, { from: "2027-03-01", to: "2027-03-02", settings: { enabled: false } });
    const res = await server.gql(
      operation("reminders.graphql", "UpdateReminderSettings"),
      { input: { centerId: w.centerId, enabled: true, leadTimesMinutes: [120, 1440, 120], callbackPhone: "+1 617 555 0199", quietHoursStart: "22:00" } },
      { token: w.org.token },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.updateReminderSettings).toEqual({
      center: {
        id: w.centerId,
        reminderSettings: {
          enabled: true,
          leadTimesMinutes: [1440, 120],
          senderName: "Appointment reminder",
          callbackPhone: "+16175550199",
          quietHoursStart: "22:00",
          quietHoursEnd: "08:00",
        },
      },
      userErrors: [],
    });
  });

  it("refuses lead times out of range, a callback number that is not one, and a clinician changing settings; nothing is written", async () => {
    setClock("2027-03-01T12:00:00-05:00");
    const w = await reminderWorld(server, { from: "2027-03-01", to: "2027-03-02" });
    const clinician = await w.org.createStaff("clin@clinic.test", [{ centerId: w.centerId, role: "CLINICIAN" }]);
    const before = await server.database.fingerprint();
    const res = await server.gql(
      operation("reminders.graphql", "UpdateReminderSettings"),
      { input: { centerId: w.centerId, enabled: true, leadTimesMinutes: [5], callbackPhone: "555-01" } },
      { token: w.org.token },
    );
    expect(res.data.updateReminderSettings.userErrors.map((e: { field: string[]; code: string }) => [e.field.join("."), e.code])).toEqual([
      ["input.leadTimesMinutes", "INVALID"],
      ["input.callbackPhone", "INVALID"],
    ]);
    const refused = await server.gql(
      operation("reminders.graphql", "UpdateReminderSettings"),
      { input: { centerId: w.centerId, enabled: false } },
      { token: clinician.token },
    );
    expect(refused.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(await server.database.fingerprint()).toBe(before);
  });

  it("stores the phone as E.164 (libphonenumber-js), asks SMS for a phone and a recorded consent (SMS_CONSENT_REQUIRED) and EMAIL for an address, and writes nothing when refused", async () => {
    setClock("2027-03-01T12:00:00-05:00");
    const w = await reminderWorld(server, { from: "2027-03-01", to: "2027-03-02" });
    const participantId = w.participants[0];
    const before = await server.database.fingerprint();
    const set = (input: Record<string, unknown>) =>
      server.gql(operation("reminders.graphql", "SetContactPreferences"), { input: { participantId, ...input } }, { token: w.org.token });
    const codes = (res: Awaited<ReturnType<typeof set>>) =>
      res.data.setContactPreferences.userErrors.map((e: { field: string[]; code: string }) => [e.field.join("."), e.code]);
    expect(codes(await set({ phone: "+1 617 555", channels: ["SMS"], smsConsent: { source: "VERBAL", givenOn: "2027-02-01" } }))).toEqual([
      ["input.phone", "INVALID"],
    ]);
    expect(codes(await set({ phone: PHONE, channels: ["SMS"] }))).toEqual([["input.smsConsent", "SMS_CONSENT_REQUIRED"]]);
    expect(codes(await set({ channels: ["EMAIL"] }))).toEqual([["input.email", "REQUIRED"]]);
    expect(codes(await set({ email: "not-an-address", channels: [] }))).toEqual([["input.email", "INVALID"]]);
    expect(await server.database.fingerprint()).toBe(before);

    // A national number, without its country code, is not E.164.
    expect(codes(await set({ phone: "(617) 555-0123", channels: [] }))).toEqual([["input.phone", "INVALID"]]);
    const ok = await set({ email: EMAIL, phone: " +1 (617) 555-0123 ", channels: ["SMS", "EMAIL"], smsConsent: { source: "WRITTEN", givenOn: "2027-02-20" } });
    expect(ok.data.setContactPreferences.userErrors).toEqual([]);
    const again = await set({ email: EMAIL, phone: "+1 617-555-0123", channels: ["SMS", "EMAIL"], detail: "WITH_GROUP_NAME" });
    expect(again.data.setContactPreferences.participant.contactPreferences).toEqual({
      channels: ["EMAIL", "SMS"],
      email: EMAIL,
      phone: PHONE,
      smsConsentSource: "WRITTEN",
      smsConsentGivenOn: "2027-02-20",
      detail: "WITH_GROUP_NAME",
      optedOut: [],
    });
  });
});

describe("planning", () => {
  it("plans one reminder per (session, member, lead time, channel) for sessions within the longest lead time, and planning again changes nothing", async () => {
    const w = await member(["EMAIL", "SMS"], { people: 2 });
    setClock("2027-03-08T17:30:00-05:00"); // Tuesday 9th 18:00 is 24.5 h away: its 24 h reminder is due in 30 minutes
    expect(await server.app.reminders.plan()).toBe(8); // 2 members x 2 lead times x 2 channels
    const first = await server.database.fingerprint();
    expect(await server.app.reminders.plan()).toBe(0);
    expect(await server.database.fingerprint()).toBe(first);
    const planned = await rows();
    expect(new Set(planned.map((r) => r.sessionId))).toEqual(new Set([uuidOf(w.sessions.get("2027-03-09")!)]));
    expect(planned.every((r) => r.status === "PENDING")).toBe(true);
    expect(planned.filter((r) => r.leadMinutes === 1440).map((r) => r.dueAt.toISOString())).toEqual(Array(4).fill("2027-03-08T23:00:00.000Z"));
    expect(planned.filter((r) => r.leadMinutes === 120).map((r) => r.dueAt.toISOString())).toEqual(Array(4).fill("2027-03-09T21:00:00.000Z"));
    expect(mail.messages).toHaveLength(0); // nothing due yet
  });

  it("turning reminders off cancels the pending ones (REMINDERS_OFF) and on again restores them; a channel removed and given back does the same (CHANNEL_REMOVED)", async () => {
    const w = await member(["EMAIL", "SMS"]);
    setClock("2027-03-08T17:00:00-05:00");
    await server.app.reminders.plan();
    const state = async () => (await rows()).map((r) => `${r.channel}:${r.status}:${r.skipReason ?? ""}`).sort();
    await w.org.mutate("updateReminderSettings", { centerId: w.centerId, enabled: false }, "center { id }");
    expect(new Set(await state())).toEqual(new Set(["EMAIL:CANCELLED:REMINDERS_OFF", "SMS:CANCELLED:REMINDERS_OFF"]));
    await w.org.mutate("updateReminderSettings", { centerId: w.centerId, enabled: true }, "center { id }");
    expect(new Set(await state())).toEqual(new Set(["EMAIL:PENDING:", "SMS:PENDING:"]));
    const prefs = (channels: string[]) =>
      w.org.mutate("setContactPreferences", { participantId: w.participants[0], email: EMAIL, phone: PHONE, channels }, "participant { id }");
    await prefs(["EMAIL"]);
    expect(await state()).toEqual(["EMAIL:PENDING:", "EMAIL:PENDING:", "SMS:CANCELLED:CHANNEL_REMOVED", "SMS:CANCELLED:CHANNEL_REMOVED"]);
    await prefs(["EMAIL", "SMS"]); // the consent recorded before still stands
    expect(await state()).toEqual(["EMAIL:PENDING:", "EMAIL:PENDING:", "SMS:PENDING:", "SMS:PENDING:"]);
  });

  it("with no SMTP or SMS settings (the default), plans reminders and shows them SKIPPED (NO_CHANNEL)", async () => {
    const w = await member(["EMAIL", "SMS"]);
    setClock("2027-03-08T18:00:00-05:00");
    const off = new ReminderWorker({ ...server.app.reminders.deps, senders: createSenders(loadConfig({}).reminders) });
    await off.tick();
    const res = await w.org.query(operation("reminders.graphql", "ParticipantReminders"), { participantId: w.participants[0] });
    expect(res.node.reminders.totalCount).toBe(4);
    expect(res.node.reminders.nodes.map((n: { status: string; skipReason: string }) => [n.status, n.skipReason])).toEqual(
      Array(4).fill(["SKIPPED", "NO_CHANNEL"]),
    );
    expect(mail.messages).toHaveLength(0);
    expect(sms.requests).toHaveLength(0);
  });
});

describe("email", () => {
  it("sends over SMTP from the neutral sender with the reminder's id as Message-ID and idempotency key, and a one-click List-Unsubscribe (RFC 8058) that opts the member out at once", async () => {
    const w = await member(["EMAIL"], { settings: { callbackPhone: "+16175550199" } });
    setClock("2027-03-08T18:00:00-05:00");
    expect(await tick()).toMatchObject({ planned: 2, sent: 1 });
    expect(mail.messages).toHaveLength(1);
    const m = mail.messages[0];
    const [sent] = (await rows()).filter((r) => r.status === "SENT");
    expect(m.to && "text" in m.to ? m.to.text : null).toBe(EMAIL);
    expect(m.from?.value[0]).toEqual({ name: "Appointment reminder", address: "reminders@clinic.test" });
    expect(m.messageId).toBe(`<${sent.id}@clinic.test>`);
    expect(m.headers.get("x-idempotency-key")).toBe(sent.id);
    expect(m.subject).toBe("Reminder: Tuesday, March 9 at 6:00 PM");
    expect(m.text).toContain("Hello Alex0,");
    expect(m.text).toContain("Call +16175550199");
    const header = (name: string) =>
      m.headerLines
        .find((h) => h.key === name)
        ?.line.replace(/^[^:]+:\s*/, "")
        .replace(/\r\n\s*/g, " ");
    expect(header("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
    const unsubscribe = /^<([^>]+)>$/.exec(header("list-unsubscribe")!)![1];
    expect(unsubscribe.startsWith(`${server.url}/reminders/unsubscribe/`)).toBe(true);
    expect(m.text).toContain(unsubscribe);

    // Visiting the link (or a mail scanner following it) changes nothing; the one-click POST does.
    const before = await server.database.fingerprint();
    expect((await fetch(unsubscribe)).status).toBe(200);
    expect(await server.database.fingerprint()).toBe(before);
    const posted = await fetch(unsubscribe, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(posted.status).toBe(200);
    const prefs = await w.org.query(`query($id: ID!) { node(id: $id) { ... on Participant { contactPreferences { optedOut { channel at via } } } } }`, {
      id: w.participants[0],
    });
    expect(prefs.node.contactPreferences.optedOut).toEqual([{ channel: "EMAIL", at: "2027-03-08T23:00:00.000Z", via: "UNSUBSCRIBE_LINK" }]);
    const twoHour = (await rows()).find((r) => r.leadMinutes === 120)!;
    expect([twoHour.status, twoHour.skipReason]).toEqual(["SKIPPED", "OPTED_OUT"]);
    setClock("2027-03-09T16:00:00-05:00");
    await tick();
    expect(mail.messages).toHaveLength(1);
    expect((await fetch(`${server.url}/reminders/unsubscribe/not-a-real-token-0123456789`, { method: "POST" })).status).toBe(404);
  });
});

describe("SMS", () => {
  it("posts the Messages API form with basic auth, the reminder's id as idempotency key and the status callback; a signed delivery report marks it DELIVERED, a forged one is refused", async () => {
    const w = await member(["SMS"]);
    setClock("2027-03-08T18:00:00-05:00");
    await tick();
    expect(sms.malformed).toEqual([]);
    expect(sms.requests).toHaveLength(1);
    const [request] = sms.requests;
    const [sent] = (await rows()).filter((r) => r.status === "SENT");
    expect(request).toMatchObject({ idempotencyKey: sent.id, to: PHONE, from: SMS_FROM, statusCallback: `${server.url}/webhooks/sms/status` });
    // Self check-in is on (the test server's development secret): the member's link to this session rides along.
    const link = `${server.url}/c/${signCheckInToken(server.config.checkIn.secret!, sent.sessionId, sent.participantId)}`;
    expect(request.body).toBe(`Hi Alex0, reminder: Tue, Mar 9 at 6:00 PM. Check in: ${link} Appointment reminder. Reply STOP to opt out`);
    expect(sent.providerMessageId).toMatch(/^SM/);

    const report = { MessageSid: sent.providerMessageId!, MessageStatus: "delivered", AccountSid: SMS_ACCOUNT };
    const forged = await postWebhook(server.url, "/webhooks/sms/status", report, sign(`${server.url}/webhooks/sms/status`, report, "wrong-token"));
    expect(forged.status).toBe(403);
    expect(
      (await postWebhook(server.url, "/webhooks/sms/status", { ...report, MessageStatus: "failed" }, sign(`${server.url}/webhooks/sms/status`, report))).status,
    ).toBe(403);
    expect((await rows()).find((r) => r.id === sent.id)!.status).toBe("SENT");
    expect((await postWebhook(server.url, "/webhooks/sms/status", report)).status).toBe(204);

    const res = await w.org.query(operation("reminders.graphql", "SessionReminders"), { sessionId: w.sessions.get("2027-03-09") });
    expect(res.node.reminders).toEqual([
      {
        participant: { id: w.participants[0] },
        channel: "SMS",
        status: "DELIVERED",
        dueAt: "2027-03-08T23:00:00.000Z",
        sentAt: "2027-03-08T23:00:00.000Z",
        failureReason: null,
        attempts: 1,
      },
      {
        participant: { id: w.participants[0] },
        channel: "SMS",
        status: "PENDING",
        dueAt: "2027-03-09T21:00:00.000Z",
        sentAt: null,
        failureReason: null,
        attempts: 0,
      },
    ]);
  });

  it("given a STOP received between planning and sending, then nothing is sent; START opts back in; HELP answers with the sender name and callback phone", async () => {
    const w = await member(["SMS"], { settings: { callbackPhone: "+16175550199" } });
    setClock("2027-03-08T17:55:00-05:00");
    expect(await server.app.reminders.plan()).toBe(2);
    const stop = await postWebhook(server.url, "/webhooks/sms/inbound", { From: PHONE, To: SMS_FROM, Body: " stop " });
    expect(stop.status).toBe(200);
    expect(stop.headers.get("content-type")).toContain("text/xml");
    expect(await stop.text()).toContain("<Message>You will no longer get text reminders.");
    expect((await rows()).map((r) => [r.status, r.skipReason])).toEqual([
      ["SKIPPED", "OPTED_OUT"],
      ["SKIPPED", "OPTED_OUT"],
    ]);
    setClock("2027-03-08T18:00:00-05:00");
    await tick();
    expect(sms.requests).toHaveLength(0);
    const prefs = await w.org.query(`query($id: ID!) { node(id: $id) { ... on Participant { contactPreferences { optedOut { channel at via } } } } }`, {
      id: w.participants[0],
    });
    expect(prefs.node.contactPreferences.optedOut).toEqual([{ channel: "SMS", at: "2027-03-08T22:55:00.000Z", via: "SMS_REPLY" }]);

    // An unsigned STOP changes nothing (and is not answered).
    const unsigned = await postWebhook(server.url, "/webhooks/sms/inbound", { From: PHONE, Body: "START" }, "bm90IGEgc2lnbmF0dXJl");
    expect(unsigned.status).toBe(403);
    expect((await postWebhook(server.url, "/webhooks/sms/inbound", { From: PHONE, Body: "START" })).status).toBe(200);
    // The 24 h reminder's time has passed while opted out; the 2 h one will go.
    expect((await rows()).map((r) => [r.leadMinutes, r.status])).toEqual([
      [1440, "SKIPPED"],
      [120, "PENDING"],
    ]);
    const help = await (await postWebhook(server.url, "/webhooks/sms/inbound", { From: PHONE, Body: "help" })).text();
    expect(help).toContain("<Message>Appointment reminder. Call +16175550199.");
    setClock("2027-03-09T16:00:00-05:00");
    await tick();
    expect(sms.requests).toHaveLength(1);
  });

  it("given a worker that died after taking a reminder (SENDING), then another takes it once its lease has passed, not before, and sends it with the same key", async () => {
    await member(["SMS"]);
    setClock("2027-03-08T18:00:00-05:00");
    const crashed = new ReminderWorker({ ...server.app.reminders.deps, embedded: false });
    await crashed.plan();
    const [taken] = await crashed.claim(); // and then nothing: it died before sending
    expect(taken.row.status).toBe("SENDING");
    const survivor = new ReminderWorker({ ...server.app.reminders.deps, embedded: false });
    setClock("2027-03-08T18:00:59-05:00"); // the lease is 60 s
    await survivor.tick();
    expect(sms.requests).toHaveLength(0);
    setClock("2027-03-08T18:01:00-05:00");
    await survivor.tick();
    expect(sms.requests.map((r) => r.idempotencyKey)).toEqual([taken.row.id]);
    const [row] = (await rows()).filter((r) => r.id === taken.row.id);
    expect([row.status, row.attempts]).toEqual(["SENT", 2]);
  });

  it("retries a provider's outage with exponential back-off, then FAILED with the provider's reason; a refused number is FAILED at once", async () => {
    await member(["SMS"]);
    setClock("2027-03-08T18:00:00-05:00");
    sms.mode = { kind: "error", status: 503, code: 20500, message: "Service unavailable" };
    await tick();
    let [r] = (await rows()).filter((x) => x.leadMinutes === 1440);
    expect([r.status, r.attempts, r.nextAttemptAt.toISOString(), r.failureReason]).toEqual([
      "PENDING",
      1,
      "2027-03-08T23:01:00.000Z",
      "503 20500: Service unavailable",
    ]);
    setClock("2027-03-08T18:00:59-05:00");
    await tick();
    expect(sms.requests).toHaveLength(1); // not before its time
    setClock("2027-03-08T18:01:00-05:00");
    await tick();
    [r] = (await rows()).filter((x) => x.leadMinutes === 1440);
    expect([r.status, r.attempts, r.nextAttemptAt.toISOString()]).toEqual(["PENDING", 2, "2027-03-08T23:03:00.000Z"]); // 2 minutes later
    setClock("2027-03-08T18:03:00-05:00");
    await tick();
    [r] = (await rows()).filter((x) => x.leadMinutes === 1440);
    expect([r.status, r.attempts, r.failureReason]).toEqual(["FAILED", 3, "503 20500: Service unavailable"]);
    expect(new Set(sms.requests.map((q) => q.idempotencyKey))).toEqual(new Set([r.id]));

    sms.mode = { kind: "error", status: 400, code: 21211, message: "The 'To' number is not a valid phone number." };
    setClock("2027-03-09T16:00:00-05:00");
    await tick();
    const [two] = (await rows()).filter((x) => x.leadMinutes === 120);
    expect([two.status, two.attempts, two.failureReason]).toEqual(["FAILED", 1, "400 21211: The 'To' number is not a valid phone number."]);
  });
});

describe("schedule changes", () => {
  it("cancels pending reminders of a cancelled session, re-plans those of a moved one, and cancels a member's when their enrolment ends", async () => {
    const w = await member(["EMAIL"], { people: 2 });
    setClock("2027-03-08T17:00:00-05:00");
    await server.app.reminders.plan();
    const sessionId = w.sessions.get("2027-03-09")!;
    // Moved a day later: due a day later, pending again.
    await w.org.mutate("updateSession", { sessionId, startsAt: "2027-03-10T22:00:00Z" }, "session { id }");
    expect(new Set((await rows()).map((r) => `${r.leadMinutes}:${r.dueAt.toISOString()}:${r.status}`))).toEqual(
      new Set(["1440:2027-03-09T22:00:00.000Z:PENDING", "120:2027-03-10T20:00:00.000Z:PENDING"]),
    );
    // One member's enrolment ends: their reminders are cancelled, the other's stay.
    await w.org.mutate("endEnrollment", { enrollmentId: w.enrollments[0], status: "WITHDRAWN", reason: "Moved away" }, "enrollment { id }");
    const after = await rows();
    expect(after.filter((r) => r.participantId === uuidOf(w.participants[0])).map((r) => [r.status, r.skipReason])).toEqual([
      ["CANCELLED", "ENROLLMENT_ENDED"],
      ["CANCELLED", "ENROLLMENT_ENDED"],
    ]);
    expect(after.filter((r) => r.participantId === uuidOf(w.participants[1])).every((r) => r.status === "PENDING")).toBe(true);
    // The session is cancelled: the rest are cancelled, with the reason.
    await w.org.mutate("cancelSession", { sessionId, reason: "Facilitator ill" }, "session { id }");
    expect((await rows()).filter((r) => r.participantId === uuidOf(w.participants[1])).map((r) => [r.status, r.skipReason])).toEqual([
      ["CANCELLED", "SESSION_CANCELLED"],
      ["CANCELLED", "SESSION_CANCELLED"],
    ]);
    setClock("2027-03-09T17:00:00-05:00");
    await tick();
    expect(mail.messages).toHaveLength(0);
    const res = await w.org.query(operation("reminders.graphql", "ParticipantReminders"), { participantId: w.participants[1] });
    expect(
      res.node.reminders.nodes.map((n: { status: string; skipReason: string; session: { id: string } }) => [n.status, n.skipReason, n.session.id]),
    ).toEqual([
      ["CANCELLED", "SESSION_CANCELLED", sessionId],
      ["CANCELLED", "SESSION_CANCELLED", sessionId],
    ]);
  });

  it("defers a reminder due inside quiet hours to their end when that is before the session, and skips it (QUIET_HOURS) when not", async () => {
    setClock("2027-03-01T12:00:00-05:00");
    // Sessions at 09:00 (2 h reminder due 07:00: goes at 08:00) and at 07:30 (due 05:30: quiet until after it starts).
    const early = await reminderWorld(server, { from: "2027-03-13", to: "2027-03-15", days: ["SUNDAY"], time: "09:00", settings: { leadTimesMinutes: [120] } });
    const dawn = await reminderWorld(server, { from: "2027-03-13", to: "2027-03-15", days: ["MONDAY"], time: "07:30", settings: { leadTimesMinutes: [120] } });
    for (const w of [early, dawn]) {
      await w.org.mutate("setContactPreferences", { participantId: w.participants[0], email: EMAIL, channels: ["EMAIL"] }, "participant { id }");
    }
    // Sunday 2027-03-14, the day DST starts: 07:00 EDT is 11:00Z, quiet hours end 08:00 EDT = 12:00Z.
    setClock("2027-03-14T11:00:00Z");
    await tick();
    const [deferred] = (await rows()).filter((r) => r.centerId === uuidOf(early.centerId));
    expect([deferred.status, deferred.dueAt.toISOString(), deferred.nextAttemptAt.toISOString()]).toEqual([
      "PENDING",
      "2027-03-14T11:00:00.000Z",
      "2027-03-14T12:00:00.000Z",
    ]);
    expect(mail.messages).toHaveLength(0);
    setClock("2027-03-14T12:00:00Z");
    await tick();
    expect(mail.messages).toHaveLength(1);
    // Monday 05:30 EDT: quiet until 08:00, after the 07:30 start.
    setClock("2027-03-15T09:30:00Z");
    await tick();
    const [skipped] = (await rows()).filter((r) => r.centerId === uuidOf(dawn.centerId));
    expect([skipped.status, skipped.skipReason]).toEqual(["SKIPPED", "QUIET_HOURS"]);
    expect(mail.messages).toHaveLength(1);
  });
});

describe("frequency caps", () => {
  it("sends a member at most one SMS a day and three in the seven days ending that day (center's zone); the rest are SKIPPED (FREQUENCY_CAP)", async () => {
    setClock("2027-02-27T12:00:00-05:00");
    const w = await reminderWorld(server, {
      from: "2027-03-01",
      to: "2027-03-07",
      days: ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"],
      time: "18:00",
    });
    await w.org.mutate(
      "setContactPreferences",
      { participantId: w.participants[0], phone: PHONE, channels: ["SMS"], smsConsent: { source: "ELECTRONIC", givenOn: "2027-02-01" } },
      "participant { id }",
    );
    // Every hour from Sunday noon to the next Sunday evening.
    for (let t = Date.parse("2027-02-28T17:00:00Z"); t <= Date.parse("2027-03-07T23:00:00Z"); t += 3_600_000) {
      setClock(new Date(t));
      await tick();
    }
    const all = await rows();
    const sent = all.filter((r) => r.status === "SENT");
    const localDay = (d: Date) => new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York" }).format(d);
    // Sunday's 24 h reminder, Monday's and Tuesday's 2 h ones; then the week is full until Sunday
    // the 7th, whose seven days (1st-7th) hold two.
    expect(sent.map((r) => localDay(r.sentAt!))).toEqual(["2027-02-28", "2027-03-01", "2027-03-02", "2027-03-07"]);
    expect(sms.requests).toHaveLength(4);
    for (const r of sent) {
      const day = localDay(r.sentAt!);
      const weekStart = new Date(Date.parse(`${day}T12:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10);
      expect(sent.filter((o) => localDay(o.sentAt!) === day)).toHaveLength(1);
      expect(sent.filter((o) => localDay(o.sentAt!) >= weekStart && localDay(o.sentAt!) <= day).length).toBeLessThanOrEqual(3);
    }
    expect(all.filter((r) => r.status !== "SENT").every((r) => r.status === "SKIPPED" && r.skipReason === "FREQUENCY_CAP")).toBe(true);
    expect(all).toHaveLength(14); // 7 sessions x 2 lead times
  });
});

describe("access, audit, logs and metrics", () => {
  it("audits every send as a disclosure to the provider and every read of a member's reminders; refuses VIEWERs the session's reminders", async () => {
    const w = await member(["EMAIL", "SMS"]);
    setClock("2027-03-08T18:00:00-05:00");
    await tick();
    const sends = await server.database.db.select().from(auditEvents).where(eq(auditEvents.action, "EXPORT"));
    const sent = (await rows()).filter((r) => r.status === "SENT");
    expect(sent).toHaveLength(2);
    expect(sends.map((e) => [e.actorType, e.resourceType, e.resourceId, e.participantIds, e.operationName]).sort()).toEqual(
      sent.map((r) => ["SYSTEM", "Reminder", r.id, [r.participantId], `reminder.send.${r.channel.toLowerCase()}`]).sort(),
    );
    await w.org.query(operation("reminders.graphql", "ParticipantReminders"), { participantId: w.participants[0] });
    const reads = await server.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "READ"), eq(auditEvents.resourceType, "Reminder")));
    expect(reads).toHaveLength(1);
    expect(reads[0].participantIds).toEqual([uuidOf(w.participants[0])]);

    const viewer = await w.org.createStaff("viewer@clinic.test", [{ centerId: w.centerId, role: "VIEWER" }]);
    const res = await server.gql(operation("reminders.graphql", "SessionReminders"), { sessionId: w.sessions.get("2027-03-09") }, { token: viewer.token });
    expect(res.errors?.map((e) => [e.extensions?.code, e.path?.join(".")])).toEqual([["FORBIDDEN", "node.reminders"]]);
    expect(res.data.node).toEqual({ id: w.sessions.get("2027-03-09"), reminders: null });
  });

  it("counts reminders by channel and outcome, provider errors and the outbox lag at /metrics, and never logs an address, a phone number or a body", async () => {
    logLines.length = 0;
    const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
    const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    const EMAIL_SENT = 'reminders_total{channel="EMAIL",outcome="sent"}';
    const SMS_FAILED = 'reminders_total{channel="SMS",outcome="failed"}';
    const SMS_400 = 'reminder_provider_errors_total{channel="SMS",code="sms_400"}';
    const before = await scrape();
    await member(["EMAIL", "SMS"]);
    setClock("2027-03-08T18:00:00-05:00");
    sms.mode = { kind: "error", status: 400, code: 21211, message: `The 'To' number ${PHONE} is not a valid phone number.` };
    await tick();
    await postWebhook(server.url, "/webhooks/sms/inbound", { From: PHONE, Body: "STOP" });
    const metrics = await scrape();
    expect([EMAIL_SENT, SMS_FAILED, SMS_400].map((series) => value(metrics, series) - value(before, series))).toEqual([1, 1, 1]);
    expect(metrics).toMatch(/^reminders_outbox_lag_seconds 0$/m);
    const text = logLines.join("\n") + metrics;
    expect(logLines.some((l) => l.includes('"reminder sent"'))).toBe(true);
    for (const secret of [EMAIL, PHONE, "6175550123", "617-555", "Alex0", "reminder: Tue", "Reminder: Tuesday", "Hello"]) {
      expect(text, secret).not.toContain(secret);
    }
    // The provider's reason (which quotes the number) is kept for staff, not logged.
    expect((await rows()).find((r) => r.status === "FAILED")?.failureReason).toContain(PHONE);
  });
});
