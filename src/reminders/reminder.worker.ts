// The reminders' outbox. A worker runs in every instance (and in the one process on the embedded
// database); every tick it plans what is missing, then takes due rows with FOR UPDATE SKIP LOCKED,
// so two instances never take the same row. Taking a row (in one transaction) re-checks every rule
// against the data as it is now (reminders on, session still ahead, enrolment active, channel kept,
// no opt-out, a sender configured, quiet hours, the SMS caps), records the disclosure to the
// provider in the audit log, and marks it SENDING with a lease; the send happens after that
// commit, with the reminder's id as idempotency key, and its outcome is written after it.
//   - A crash mid-send leaves the row SENDING: once its lease passes (at once on the embedded
//     database, whose data-directory lock proves the holder dead) it is taken again and sent once
//     more, with the same key. Nothing is lost: rows live in the database, not in memory.
//   - A failed try goes back to PENDING after an exponential back-off (base x 2^(tries-1)), up to
//     REMINDERS_MAX_ATTEMPTS; then, or on a refusal a retry cannot fix, FAILED with the reason.
// Logs and metrics carry ids, channels, outcomes and error codes: never an address or a body.
import { Repeater } from "../common/repeat.js";
import { randomUUID } from "node:crypto";
import { and, eq, inArray, lte, ne, or, sql } from "drizzle-orm";
import { Counter, type Registry } from "prom-client";
import { appendAuditEntries, type AuditEntry } from "../audit/audit.service.js";
import { clock } from "../common/clock.js";
import { pgErrorOf } from "../common/errors.js";
import type { RemindersConfig } from "../config.js";
import type { Db, Tx } from "../db/client.js";
import {
  centers,
  contactPreferences,
  enrollments,
  groups,
  participants,
  reminderSettings,
  reminders,
  sessions,
  type ContactPreferencesRow,
  type ReminderRow,
} from "../db/schema.js";
import type { Logger } from "../logger.js";
import { DEFAULT_SETTINGS, isOptedOut, PLAN_GRACE_MS } from "./reminder.service.js";
import { SendError, type EmailMessage, type Senders, type SmsMessage } from "./reminder.senders.js";
import { capWindows, deliveryTime, quietHoursEnd } from "./reminder.time.js";
import { emailMessage, smsBody, type Wording } from "./reminder.wording.js";
import { checkInLinkOf } from "../checkin/checkin.token.js";

/** At most this many SMS a member gets in one day, and in the 7 days ending with it (center's zone). */
const SMS_CAP = { day: 1, week: 3 } as const;
const BATCH = 10;
const PLAN_AHEAD_MINUTES = 24 * 60;
const MAX_BATCHES_PER_TICK = 50;

export interface ReminderMetrics {
  outcomes: Counter<"channel" | "outcome">;
  providerErrors: Counter<"channel" | "code">;
}

/** reminders_total{channel,outcome}, reminder_provider_errors_total{channel,code}; the lag gauge is registered by the app. */
export function reminderMetrics(registry: Registry): ReminderMetrics {
  return {
    outcomes: new Counter({
      name: "reminders_total",
      help: "Reminders by channel and outcome (planned, sent, retry, failed, delivered, undelivered, skipped_<reason>, cancelled_<reason>)",
      labelNames: ["channel", "outcome"] as const,
      registers: [registry],
    }),
    providerErrors: new Counter({
      name: "reminder_provider_errors_total",
      help: "Failed sends by channel and error code (SMTP code, HTTP status, timeout, network)",
      labelNames: ["channel", "code"] as const,
      registers: [registry],
    }),
  };
}

/** Seconds the oldest due reminder has waited past its time (0 when the outbox is drained). */
export async function outboxLagSeconds(db: Db, now = clock.now()): Promise<number> {
  const [row] = await db
    .select({ oldest: sql<string | Date | null>`min(${reminders.nextAttemptAt})` })
    .from(reminders)
    .where(or(and(eq(reminders.status, "PENDING"), lte(reminders.nextAttemptAt, now)), and(eq(reminders.status, "SENDING"), lte(reminders.leaseUntil, now))));
  if (!row?.oldest) return 0;
  return Math.max(0, (now.getTime() - new Date(row.oldest).getTime()) / 1000);
}

export interface WorkerDeps {
  db: Db;
  /** The embedded database: one process only, so a SENDING row found at start was left by a crash. */
  embedded: boolean;
  config: RemindersConfig;
  senders: Senders;
  logger: Logger;
  metrics?: ReminderMetrics;
  /** The address the provider and mail clients reach this server at (PUBLIC_URL, or its own). */
  publicUrl: () => string;
  /** Self check-in's secret (src/checkin): when set, each reminder carries the member's check-in link. */
  checkInSecret?: string | null;
}

type Decision =
  | { kind: "send"; message: { channel: "EMAIL"; email: EmailMessage } | { channel: "SMS"; sms: SmsMessage } }
  | { kind: "defer"; at: Date }
  | { kind: "stop"; status: "SKIPPED" | "CANCELLED"; reason: string };

interface Claimed {
  row: ReminderRow;
  send: Extract<Decision, { kind: "send" }>["message"];
}

export interface TickResult {
  planned: number;
  sent: number;
  failed: number;
}

export class ReminderWorker {
  readonly #loop: Repeater;
  #recovered = false;

  constructor(readonly deps: WorkerDeps) {
    this.#loop = new Repeater(
      () => this.tick(),
      (err) => deps.logger.error({ errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code }, "reminders: worker tick failed"),
    );
  }

  /** Runs a tick every REMINDERS_WORKER_INTERVAL_MS until stopped. */
  start(): void {
    this.#loop.start(this.deps.config.workerIntervalMs);
  }

  /** Stops the loop and waits for the tick in progress (a send in flight finishes and is recorded). */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Plans, then sends everything due. */
  async tick(): Promise<TickResult> {
    if (this.deps.embedded && !this.#recovered) {
      await this.recoverAbandoned();
      this.#recovered = true;
    }
    const planned = await this.plan();
    let sent = 0;
    let failed = 0;
    for (let i = 0; i < MAX_BATCHES_PER_TICK && !this.#stoppedMidway(); i++) {
      const claimed = await this.claim();
      if (!claimed.length) break;
      for (const c of claimed) {
        if (await this.deliver(c)) sent++;
        else failed++;
      }
    }
    return { planned, sent, failed };
  }

  #stoppedMidway(): boolean {
    return this.#loop.stopped && this.deps.config.workerIntervalMs > 0;
  }

  /** Embedded database: rows left SENDING by a process that died are taken again now (same id). */
  async recoverAbandoned(): Promise<void> {
    const now = clock.now();
    await this.deps.db
      .update(reminders)
      .set({ leaseUntil: now })
      .where(and(eq(reminders.status, "SENDING"), sql`${reminders.leaseUntil} > ${now.toISOString()}::timestamptz`));
  }

  /**
   * One row per (session, member, lead time, channel) for each SCHEDULED session of a center with
   * reminders on, each ACTIVE member with channels chosen, and each lead time not long past. The
   * unique key makes planning again a no-op. Rows that cannot go out are planned SKIPPED with why.
   */
  async plan(now = clock.now()): Promise<number> {
    const { db, senders } = this.deps;
    const candidates = await db
      .select({
        sessionId: sessions.id,
        centerId: sessions.centerId,
        startsAt: sessions.startsAt,
        participantId: enrollments.participantId,
        prefs: contactPreferences,
        leads: reminderSettings.leadTimesMinutes,
        quietStart: reminderSettings.quietHoursStart,
        quietEnd: reminderSettings.quietHoursEnd,
        timezone: centers.timezone,
      })
      .from(reminderSettings)
      .innerJoin(centers, eq(centers.id, reminderSettings.centerId))
      .innerJoin(
        sessions,
        and(
          eq(sessions.centerId, reminderSettings.centerId),
          eq(sessions.status, "SCHEDULED"),
          sql`${sessions.startsAt} > ${now.toISOString()}::timestamptz`,
          // A day ahead of the longest lead time: reminders are shown planned before they are due.
          sql`${sessions.startsAt} <= ${now.toISOString()}::timestamptz + make_interval(mins => (select max(x) from unnest(${reminderSettings.leadTimesMinutes}) x) + ${PLAN_AHEAD_MINUTES})`,
        ),
      )
      .innerJoin(enrollments, and(eq(enrollments.groupId, sessions.groupId), eq(enrollments.status, "ACTIVE")))
      .innerJoin(contactPreferences, eq(contactPreferences.participantId, enrollments.participantId))
      .where(and(eq(reminderSettings.enabled, true), sql`cardinality(${contactPreferences.channels}) > 0`));
    const rows: Array<typeof reminders.$inferInsert> = [];
    for (const c of candidates) {
      const quiet = { start: c.quietStart, end: c.quietEnd };
      for (const lead of c.leads) {
        const dueAt = new Date(c.startsAt.getTime() - lead * 60_000);
        if (dueAt.getTime() < now.getTime() - PLAN_GRACE_MS) continue; // long past: this lead is missed
        for (const channel of c.prefs.channels) {
          const base = {
            centerId: c.centerId,
            sessionId: c.sessionId,
            participantId: c.participantId,
            leadMinutes: lead,
            channel,
            dueAt,
            nextAttemptAt: dueAt,
          };
          const skip = skipAtPlanning(c.prefs, channel, senders);
          if (skip) {
            rows.push({ ...base, status: "SKIPPED", skipReason: skip });
            continue;
          }
          const d = deliveryTime(dueAt < now ? now : dueAt, c.startsAt, quiet, c.timezone);
          rows.push("at" in d ? { ...base, nextAttemptAt: d.at } : { ...base, status: "SKIPPED", skipReason: d.skip });
        }
      }
    }
    let planned = 0;
    for (let i = 0; i < rows.length; i += 500) {
      const inserted = await db
        .insert(reminders)
        .values(rows.slice(i, i + 500))
        .onConflictDoNothing()
        .returning({ channel: reminders.channel, status: reminders.status, skipReason: reminders.skipReason });
      planned += inserted.length;
      for (const r of inserted) this.count(r.channel, r.status === "SKIPPED" ? `skipped_${r.skipReason}` : "planned");
    }
    return planned;
  }

  /** Takes due rows (SKIP LOCKED), decides each against the data as it is now, and marks those to send SENDING. */
  async claim(now = clock.now()): Promise<Claimed[]> {
    const { db, config } = this.deps;
    const stops: Array<{ row: ReminderRow; status: string; reason: string }> = [];
    const claimed = await db.transaction(async (tx) => {
      const due = await tx
        .select()
        .from(reminders)
        .where(
          or(and(eq(reminders.status, "PENDING"), lte(reminders.nextAttemptAt, now)), and(eq(reminders.status, "SENDING"), lte(reminders.leaseUntil, now))),
        )
        .orderBy(reminders.nextAttemptAt)
        .limit(BATCH)
        .for("update", { skipLocked: true });
      if (!due.length) return [];
      // Each member's preferences, locked in one order: two instances deciding SMS caps for the
      // same member take turns (and cannot deadlock).
      const participantIds = [...new Set(due.map((r) => r.participantId))].sort();
      const prefs = new Map(
        (
          await tx
            .select()
            .from(contactPreferences)
            .where(inArray(contactPreferences.participantId, participantIds))
            .orderBy(contactPreferences.participantId)
            .for("update")
        ).map((p) => [p.participantId, p]),
      );
      const contexts = await loadContexts(tx, due);
      const out: Claimed[] = [];
      const audit: AuditEntry[] = [];
      for (const row of due) {
        const decision = await this.decide(tx, row, prefs.get(row.participantId) ?? null, contexts.get(row.id), now);
        if (decision.kind === "stop") {
          await tx
            .update(reminders)
            .set({ status: decision.status, skipReason: decision.reason, leaseUntil: null, updatedAt: now })
            .where(eq(reminders.id, row.id));
          stops.push({ row, status: decision.status, reason: decision.reason });
        } else if (decision.kind === "defer") {
          await tx.update(reminders).set({ status: "PENDING", nextAttemptAt: decision.at, leaseUntil: null, updatedAt: now }).where(eq(reminders.id, row.id));
        } else {
          const [taken] = await tx
            .update(reminders)
            .set({
              status: "SENDING",
              attempts: sql`${reminders.attempts} + 1`,
              claimedAt: now,
              leaseUntil: new Date(now.getTime() + config.leaseMs),
              updatedAt: now,
            })
            .where(eq(reminders.id, row.id))
            .returning();
          out.push({ row: taken, send: decision.message });
          audit.push(disclosureEntry(taken, now));
        }
      }
      // Every send is a disclosure to the provider: recorded before it happens, in the same commit.
      await appendAuditEntries(tx, audit);
      return out;
    });
    for (const s of stops) {
      this.count(s.row.channel, `${s.status.toLowerCase()}_${s.reason}`);
      this.deps.logger.info({ reminderId: s.row.id, channel: s.row.channel, outcome: s.status, reason: s.reason }, "reminder not sent");
    }
    return claimed;
  }

  private async decide(tx: Tx, row: ReminderRow, prefs: ContactPreferencesRow | null, c: ReminderContext | undefined, now: Date): Promise<Decision> {
    const stop = (status: "SKIPPED" | "CANCELLED", reason: string): Decision => ({ kind: "stop", status, reason });
    if (!c || !c.enabled) return stop("CANCELLED", "REMINDERS_OFF");
    if (c.sessionStatus !== "SCHEDULED") return stop("CANCELLED", "SESSION_CANCELLED");
    if (c.startsAt <= now) return stop("SKIPPED", "SESSION_STARTED");
    if (!c.enrolled) return stop("CANCELLED", "ENROLLMENT_ENDED");
    if (!prefs || !prefs.channels.includes(row.channel)) return stop("CANCELLED", "CHANNEL_REMOVED");
    if (isOptedOut(prefs, row.channel)) return stop("SKIPPED", "OPTED_OUT");
    const planningSkip = skipAtPlanning(prefs, row.channel, this.deps.senders);
    if (planningSkip) return stop("SKIPPED", planningSkip);
    const quietEnd = quietHoursEnd(now, { start: c.quietStart, end: c.quietEnd }, c.timezone);
    if (quietEnd) return quietEnd < c.startsAt ? { kind: "defer", at: quietEnd } : stop("SKIPPED", "QUIET_HOURS");
    if (row.channel === "SMS" && (await overSmsCap(tx, row, now, c.timezone))) return stop("SKIPPED", "FREQUENCY_CAP");
    const wording: Wording = {
      name: c.preferredName?.trim() || c.firstName,
      startsAt: c.startsAt,
      timezone: c.timezone,
      senderName: c.senderName,
      callbackPhone: c.callbackPhone,
      detail: prefs.detail === "WITH_GROUP_NAME" ? "WITH_GROUP_NAME" : "MINIMAL",
      groupName: c.groupName,
      where: c.location ?? c.virtualLink ?? null,
    };
    const base = this.deps.publicUrl();
    const secret = this.deps.checkInSecret;
    if (secret) wording.checkInUrl = checkInLinkOf(base, secret, row.sessionId, row.participantId);
    if (row.channel === "SMS") {
      return {
        kind: "send",
        message: { channel: "SMS", sms: { id: row.id, to: prefs.phone!, body: smsBody(wording), statusCallback: `${base}/webhooks/sms/status` } },
      };
    }
    const unsubscribeUrl = `${base}/reminders/unsubscribe/${prefs.unsubscribeToken}`;
    const { subject, text } = emailMessage(wording, unsubscribeUrl);
    return {
      kind: "send",
      message: { channel: "EMAIL", email: { id: row.id, to: prefs.email!, fromName: c.senderName, subject, text, unsubscribeUrl } },
    };
  }

  /** Sends one claimed reminder and records the outcome. True when sent. */
  async deliver(c: Claimed): Promise<boolean> {
    const { db, senders, config, logger } = this.deps;
    const { row } = c;
    try {
      const { providerId } = c.send.channel === "SMS" ? await senders.sms!(c.send.sms) : await senders.email!(c.send.email);
      await db
        .update(reminders)
        .set({ status: "SENT", sentAt: clock.now(), providerMessageId: providerId, failureReason: null, leaseUntil: null, updatedAt: clock.now() })
        .where(and(eq(reminders.id, row.id), eq(reminders.status, "SENDING")));
      this.count(row.channel, "sent");
      logger.info({ reminderId: row.id, channel: row.channel, outcome: "SENT", attempts: row.attempts }, "reminder sent");
      return true;
    } catch (err) {
      const e = err instanceof SendError ? err : new SendError("Unexpected error while sending", "internal", true);
      const now = clock.now();
      const final = !e.retryable || row.attempts >= config.maxAttempts;
      this.deps.metrics?.providerErrors.inc({ channel: row.channel, code: e.code });
      await db
        .update(reminders)
        .set(
          final
            ? { status: "FAILED", failureReason: e.reason.slice(0, 500), leaseUntil: null, updatedAt: now }
            : {
                status: "PENDING",
                failureReason: e.reason.slice(0, 500),
                nextAttemptAt: new Date(now.getTime() + config.retryBaseMs * 2 ** (row.attempts - 1)),
                leaseUntil: null,
                updatedAt: now,
              },
        )
        .where(and(eq(reminders.id, row.id), eq(reminders.status, "SENDING")));
      this.count(row.channel, final ? "failed" : "retry");
      logger.warn(
        { reminderId: row.id, channel: row.channel, outcome: final ? "FAILED" : "RETRY", attempts: row.attempts, code: e.code },
        "reminder send failed",
      );
      return false;
    }
  }

  private count(channel: string, outcome: string): void {
    this.deps.metrics?.outcomes.inc({ channel, outcome: outcome.toLowerCase() });
  }
}

/** Why a reminder cannot go by this channel whatever the time: no sender, or no address or consent. */
function skipAtPlanning(prefs: ContactPreferencesRow, channel: string, senders: Senders): string | null {
  if (isOptedOut(prefs, channel)) return "OPTED_OUT";
  if (channel === "SMS") {
    if (!senders.sms) return "NO_CHANNEL";
    if (!prefs.phone || !prefs.smsConsentSource) return "CHANNEL_REMOVED";
    return null;
  }
  if (!senders.email) return "NO_CHANNEL";
  return prefs.email ? null : "CHANNEL_REMOVED";
}

interface ReminderContext {
  enabled: boolean;
  sessionStatus: string;
  startsAt: Date;
  enrolled: boolean;
  timezone: string;
  quietStart: string;
  quietEnd: string;
  senderName: string;
  callbackPhone: string | null;
  firstName: string;
  preferredName: string | null;
  groupName: string;
  location: string | null;
  virtualLink: string | null;
}

async function loadContexts(tx: Tx, rows: ReminderRow[]): Promise<Map<string, ReminderContext>> {
  const found = await tx
    .select({
      id: reminders.id,
      settings: reminderSettings,
      sessionStatus: sessions.status,
      startsAt: sessions.startsAt,
      enrolled: sql<boolean>`exists (select 1 from ${enrollments} where ${enrollments.groupId} = ${sessions.groupId} and ${enrollments.participantId} = ${reminders.participantId} and ${enrollments.status} = 'ACTIVE')`,
      timezone: centers.timezone,
      firstName: participants.firstName,
      preferredName: participants.preferredName,
      groupName: groups.name,
      location: groups.location,
      virtualLink: groups.virtualLink,
    })
    .from(reminders)
    .innerJoin(sessions, eq(sessions.id, reminders.sessionId))
    .innerJoin(groups, eq(groups.id, sessions.groupId))
    .innerJoin(centers, eq(centers.id, reminders.centerId))
    .innerJoin(participants, eq(participants.id, reminders.participantId))
    .leftJoin(reminderSettings, eq(reminderSettings.centerId, reminders.centerId))
    .where(
      inArray(
        reminders.id,
        rows.map((r) => r.id),
      ),
    );
  return new Map(
    found.map((f) => {
      const s = f.settings ?? { ...DEFAULT_SETTINGS };
      return [
        f.id,
        {
          enabled: s.enabled,
          sessionStatus: f.sessionStatus,
          startsAt: f.startsAt,
          enrolled: Boolean(f.enrolled),
          timezone: f.timezone,
          quietStart: s.quietHoursStart,
          quietEnd: s.quietHoursEnd,
          senderName: s.senderName,
          callbackPhone: s.callbackPhone,
          firstName: f.firstName,
          preferredName: f.preferredName,
          groupName: f.groupName,
          location: f.location,
          virtualLink: f.virtualLink,
        },
      ];
    }),
  );
}

/** Whether one more SMS now would exceed the member's caps (counting those in flight). */
async function overSmsCap(tx: Tx, row: ReminderRow, now: Date, timezone: string): Promise<boolean> {
  const w = capWindows(now, timezone);
  const at = sql`coalesce(${reminders.sentAt}, ${reminders.claimedAt})`;
  const [counts] = await tx
    .select({
      day: sql<number>`count(*) filter (where ${at} >= ${w.dayStart.toISOString()}::timestamptz and ${at} < ${w.dayEnd.toISOString()}::timestamptz)::int`,
      week: sql<number>`count(*) filter (where ${at} >= ${w.weekStart.toISOString()}::timestamptz and ${at} < ${w.dayEnd.toISOString()}::timestamptz)::int`,
    })
    .from(reminders)
    .where(
      and(
        eq(reminders.participantId, row.participantId),
        eq(reminders.channel, "SMS"),
        inArray(reminders.status, ["SENDING", "SENT", "DELIVERED"]),
        ne(reminders.id, row.id),
      ),
    );
  return Number(counts.day) >= SMS_CAP.day || Number(counts.week) >= SMS_CAP.week;
}

/** The audit entry of one send: a disclosure (EXPORT) of the member's reminder to the provider, by the system. */
function disclosureEntry(r: ReminderRow, now: Date): AuditEntry {
  return {
    id: randomUUID(),
    occurredAt: now,
    actorType: "SYSTEM",
    actorId: null,
    centerId: r.centerId,
    action: "EXPORT",
    resourceType: "Reminder",
    resourceId: r.id,
    participantIds: [r.participantId],
    operationName: `reminder.send.${r.channel.toLowerCase()}`,
    requestId: null,
    outcome: "ALLOWED",
  };
}
