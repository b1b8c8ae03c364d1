// The reminders' outbox on two server instances sharing one PostgreSQL: each takes due rows with
// FOR UPDATE SKIP LOCKED, so when both work at once every reminder is sent exactly once.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resetClock, setClock } from "../src/common/clock.js";
import { reminders } from "../src/db/schema.js";
import { reminderWorld, SMS_ACCOUNT, SMS_FROM, SMS_TOKEN, startMailServer, startSmsProvider, type MailServer, type SmsProvider } from "./support/reminders.js";
import { startAnotherInstance, startTestServer, type Instance, type TestServer } from "./support/server.js";

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

describe.skipIf(!onPostgres)("reminders on two instances", () => {
  let server: TestServer;
  let other: Instance;
  let mail: MailServer;
  let sms: SmsProvider;

  beforeAll(async () => {
    mail = await startMailServer();
    sms = await startSmsProvider();
    server = await startTestServer({
      env: { SMTP_URL: mail.url, SMS_PROVIDER_URL: sms.url, SMS_ACCOUNT_SID: SMS_ACCOUNT, SMS_AUTH_TOKEN: SMS_TOKEN, SMS_FROM },
    });
    other = await startAnotherInstance(server);
  });
  beforeEach(async () => {
    await server.database.reset();
    mail.messages.length = 0;
    sms.requests.length = 0;
  });
  afterEach(() => resetClock());
  afterAll(async () => {
    await other?.close();
    await server?.close();
    await mail?.close();
    await sms?.close();
  });

  /** 15 members of a group meeting daily, each with the channels given, then the clock at the eve of a session (its 24-hour reminders due). */
  async function membersDue(channels: Array<"EMAIL" | "SMS">) {
    setClock("2027-03-01T12:00:00-05:00");
    const w = await reminderWorld(server, { from: "2027-03-01", to: "2027-03-10", people: 15, settings: { leadTimesMinutes: [1440] } });
    for (const [i, participantId] of w.participants.entries()) {
      await w.org.mutate(
        "setContactPreferences",
        {
          participantId,
          ...(channels.includes("EMAIL") ? { email: `member${i}@mail.test` } : {}),
          phone: `+1617555${String(1000 + i)}`,
          channels,
          smsConsent: { source: "WRITTEN", givenOn: "2027-02-01" },
        },
        "participant { id }",
      );
    }
    setClock("2027-03-08T18:00:00-05:00");
  }

  it("given 15 members due an email and an SMS, when both instances' workers tick at once, round after round, then every reminder is sent exactly once", async () => {
    await membersDue(["EMAIL", "SMS"]);
    const ticks = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => (i % 2 ? other.app.reminders.tick() : server.app.reminders.tick())));
    expect(ticks.reduce((n, t) => n + t.sent, 0)).toBe(30);
    const rows = await server.database.db.select().from(reminders);
    expect(rows).toHaveLength(30);
    expect(rows.every((r) => r.status === "SENT" && r.attempts === 1)).toBe(true);
    expect(sms.requests).toHaveLength(15);
    expect(new Set(sms.requests.map((r) => r.idempotencyKey)).size).toBe(15);
    expect(mail.messages).toHaveLength(15);
    expect(new Set(mail.messages.map((m) => m.messageId)).size).toBe(15);
  });

  it("given one instance stuck on a slow provider mid-batch, when the other ticks, then it sends the rest at once instead of queueing behind the rows the first holds", async () => {
    await membersDue(["SMS"]);
    // Given: instance A's first message is held open by the provider, A's batch taken.
    sms.mode = { kind: "hang" };
    const first = sms.nextRequest();
    const a = server.app.reminders.tick();
    await first;
    sms.mode = { kind: "ok" };
    // When: instance B ticks meanwhile. Then: it finishes while A still waits, with every row A did not take.
    const b = await other.app.reminders.tick();
    expect(b.sent).toBeGreaterThan(0);
    expect(b.sent).toBeLessThan(15);
    sms.releaseHeld();
    const done = await a;
    expect(done.sent + b.sent).toBe(15);
    const rows = await server.database.db.select().from(reminders);
    expect(rows.every((r) => r.status === "SENT" && r.attempts === 1)).toBe(true);
    expect(new Set(sms.requests.map((r) => r.idempotencyKey)).size).toBe(15);
    expect(sms.requests).toHaveLength(15);
  });
});
