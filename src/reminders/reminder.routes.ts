// The reminders' HTTP routes, beside /graphql (mounted by src/server.ts):
//   POST /webhooks/sms/status          the SMS provider's delivery reports (MessageSid, MessageStatus)
//   POST /webhooks/sms/inbound         members' replies (From, Body): STOP and its synonyms opt the
//                                      number out at once, START/UNSTOP back in, HELP is answered
//                                      with the sender name and callback phone
//   GET|POST /reminders/unsubscribe/:token   the email's one-click unsubscribe (RFC 8058: POST)
// Both webhooks verify X-Twilio-Signature: base64 HMAC-SHA1, keyed with SMS_AUTH_TOKEN, of the full
// URL (PUBLIC_URL, else this server's own address, and the path) followed by every POST parameter's
// name and value, sorted by name. A bad or missing signature gets 403 and changes nothing.
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { and, eq, inArray } from "drizzle-orm";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { appendAuditEntries } from "../audit/audit.service.js";
import { clock } from "../common/clock.js";
import { pgErrorOf } from "../common/errors.js";
import type { RemindersConfig } from "../config.js";
import type { Db } from "../db/client.js";
import { contactPreferences, reminders } from "../db/schema.js";
import type { Logger } from "../logger.js";
import { e164, optIn, optOut, settingsOf } from "./reminder.service.js";
import { OptOutVia } from "./reminder.type.js";
import type { ReminderMetrics } from "./reminder.worker.js";

const STOP_WORDS = new Set(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]);
const START_WORDS = new Set(["START", "UNSTOP"]);

export interface ReminderRouteDeps {
  db: Db;
  config: RemindersConfig;
  logger: Logger;
  metrics?: ReminderMetrics;
  /** This server's own address for a request, when PUBLIC_URL is not set. */
  ownUrl: (req: IncomingMessage) => string;
}

/** The provider's signature of a request: base64 HMAC-SHA1 of the URL and the sorted parameters. */
function signatureOf(authToken: string, url: string, params: URLSearchParams): string {
  const names = [...new Set(params.keys())].sort();
  let data = url;
  for (const name of names) for (const value of params.getAll(name)) data += name + value;
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}

function sameSignature(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const twiml = (message?: string) => `<?xml version="1.0" encoding="UTF-8"?><Response>${message ? `<Message>${xml(message)}</Message>` : ""}</Response>`;

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${xml(title)}</title></head><body><p>${body}</p></body></html>`;

export function reminderRoutes(app: FastifyInstance, deps: ReminderRouteDeps): void {
  const { db, config, logger } = deps;

  /** The form parameters of a signed provider request, or null after answering 403/404. */
  async function verified(request: FastifyRequest, reply: FastifyReply): Promise<URLSearchParams | null> {
    if (!config.sms) {
      await reply.code(404).send({ error: { code: "NOT_FOUND", message: "Not found" } });
      return null;
    }
    const params = new URLSearchParams(typeof request.body === "string" ? request.body : "");
    const url = `${config.publicUrl ?? deps.ownUrl(request.raw)}${request.url}`;
    const given = request.headers["x-twilio-signature"];
    if (typeof given !== "string" || !sameSignature(given, signatureOf(config.sms.authToken, url, params))) {
      logger.warn({ requestId: request.id, route: request.routeOptions.url }, "sms webhook: bad signature");
      await reply.code(403).send({ error: { code: "FORBIDDEN", message: "Bad signature" } });
      return null;
    }
    return params;
  }

  app.post("/webhooks/sms/status", async (request, reply) => {
    const params = await verified(request, reply);
    if (!params) return reply;
    const sid = params.get("MessageSid");
    const status = (params.get("MessageStatus") ?? "").toLowerCase();
    if (sid && ["delivered", "undelivered", "failed"].includes(status)) {
      const now = clock.now();
      const failed = status !== "delivered";
      const code = params.get("ErrorCode");
      const updated = await db
        .update(reminders)
        .set(
          failed
            ? {
                status: "FAILED",
                providerStatus: status,
                failureReason: `The provider reported the message ${status}${code ? ` (error ${code})` : ""}`,
                updatedAt: now,
              }
            : { status: "DELIVERED", providerStatus: status, updatedAt: now },
        )
        .where(and(eq(reminders.providerMessageId, sid), inArray(reminders.status, ["SENT", "DELIVERED"])))
        .returning({ id: reminders.id });
      for (const r of updated) {
        deps.metrics?.outcomes.inc({ channel: "SMS", outcome: failed ? "undelivered" : "delivered" });
        logger.info({ reminderId: r.id, channel: "SMS", outcome: failed ? "UNDELIVERED" : "DELIVERED" }, "reminder status");
      }
    } else if (sid && status) {
      await db
        .update(reminders)
        .set({ providerStatus: status.slice(0, 32) })
        .where(eq(reminders.providerMessageId, sid));
    }
    return reply.code(204).send();
  });

  app.post("/webhooks/sms/inbound", async (request, reply) => {
    const params = await verified(request, reply);
    if (!params) return reply;
    const from = e164(params.get("From") ?? "");
    const word = (params.get("Body") ?? "").trim().toUpperCase();
    const matched = from
      ? await db
          .select({ participantId: contactPreferences.participantId, centerId: contactPreferences.centerId })
          .from(contactPreferences)
          .where(eq(contactPreferences.phone, from))
      : [];
    const ids = matched.map((m) => m.participantId);
    let answer: string | undefined;
    if (STOP_WORDS.has(word)) {
      const changed = await db.transaction((tx) => optOut(tx, ids, "SMS", OptOutVia.SMS_REPLY));
      await auditOptChange(db, matched, changed, "sms.inbound.stop", logger);
      answer = "You will no longer get text reminders. Reply START to get them again.";
    } else if (START_WORDS.has(word)) {
      const changed = await db.transaction((tx) => optIn(tx, ids, "SMS"));
      await auditOptChange(db, matched, changed, "sms.inbound.start", logger);
      answer = "You will get text reminders again. Reply STOP to stop them.";
    } else if (word === "HELP" || word === "INFO") {
      const settings = matched.length ? await settingsOf(db, matched[0].centerId) : null;
      const sender = settings?.senderName ?? "Appointment reminder";
      answer = `${sender}.${settings?.callbackPhone ? ` Call ${settings.callbackPhone}.` : ""} Reply STOP to stop text reminders.`;
    }
    logger.info({ requestId: request.id, keyword: answer ? word : "OTHER", matched: matched.length }, "sms inbound");
    return reply.code(200).header("content-type", "text/xml; charset=utf-8").send(twiml(answer));
  });

  const unsubscribeRow = async (token: string) =>
    token.length >= 16 && token.length <= 64
      ? (await db.select().from(contactPreferences).where(eq(contactPreferences.unsubscribeToken, token)))[0]
      : undefined;

  // A visit (or a mail scanner following the link) changes nothing: it shows a button that POSTs.
  app.get<{ Params: { token: string } }>("/reminders/unsubscribe/:token", async (request, reply) => {
    const row = await unsubscribeRow(request.params.token);
    void reply.header("content-type", "text/html; charset=utf-8").header("cache-control", "no-store");
    if (!row) return reply.code(404).send(page("Unsubscribe", "This link is not valid."));
    return reply.send(
      page(
        "Unsubscribe",
        `Stop reminder emails? <form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      ),
    );
  });

  app.post<{ Params: { token: string } }>("/reminders/unsubscribe/:token", async (request, reply) => {
    const row = await unsubscribeRow(request.params.token);
    void reply.header("content-type", "text/html; charset=utf-8").header("cache-control", "no-store");
    if (!row) return reply.code(404).send(page("Unsubscribe", "This link is not valid."));
    const changed = await db.transaction((tx) => optOut(tx, [row.participantId], "EMAIL", OptOutVia.UNSUBSCRIBE_LINK));
    await auditOptChange(db, [row], changed, "email.unsubscribe", logger);
    return reply.send(page("Unsubscribed", "You will no longer get reminder emails."));
  });
}

/** The opt-out or opt-in of members, recorded as an UPDATE of their contact preferences by the system. */
async function auditOptChange(
  db: Db,
  matched: ReadonlyArray<{ participantId: string; centerId: string }>,
  changed: readonly string[],
  operation: string,
  logger: Logger,
): Promise<void> {
  const now = clock.now();
  const entries = matched
    .filter((m) => changed.includes(m.participantId))
    .map((m) => ({
      id: randomUUID(),
      occurredAt: now,
      actorType: "SYSTEM" as const,
      actorId: null,
      centerId: m.centerId,
      action: "UPDATE" as const,
      resourceType: "ContactPreferences",
      resourceId: null,
      participantIds: [m.participantId],
      operationName: operation,
      requestId: null,
      outcome: "ALLOWED" as const,
    }));
  try {
    await appendAuditEntries(db, entries);
  } catch (err) {
    logger.error({ errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code }, "audit write failed");
  }
}
