// The reminders' rules: a center's settings, a participant's contact preferences and opt-outs, and
// what schedule changes do to pending reminders (steps run inside the writer's transaction,
// composed in src/steps.ts). Planning and delivery are the outbox's (reminder.worker.ts).
import { randomBytes } from "node:crypto";
import { and, eq, gt, inArray, or, sql } from "drizzle-orm";
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { Problems, UserErrorCode } from "../common/errors.js";
import { parseLocalTime } from "../common/scalars.js";
import { isEmail, LIMITS, text } from "../common/validate.js";
import type { Db, Tx } from "../db/client.js";
import { findVisibleCenter } from "../centers/center.service.js";
import {
  centers,
  contactPreferences,
  reminderSettings,
  reminders,
  sessions,
  type CenterRow,
  type ContactPreferencesRow,
  type EnrollmentRow,
  type ParticipantRow,
  type ReminderSettingsRow,
} from "../db/schema.js";
import { findReadableParticipant } from "../participants/participant.service.js";
import type { SessionChange } from "../sessions/session.service.js";
import type { SetContactPreferencesInput, SetReminderOptOutInput, UpdateReminderSettingsInput } from "./reminder.inputs.js";
import { deliveryTime } from "./reminder.time.js";
import type { ChannelOptOut } from "./reminder.type.js";
import { ContactDetail, OptOutVia, ReminderChannel } from "./reminder.type.js";

/** A center's settings before an admin sets them: off, 24 h and 2 h, a neutral sender, 21:00-08:00. */
export const DEFAULT_SETTINGS: Omit<ReminderSettingsRow, "centerId" | "updatedAt" | "updatedByStaffId"> = {
  enabled: false,
  leadTimesMinutes: [1440, 120],
  senderName: "Appointment reminder",
  callbackPhone: null,
  quietHoursStart: "21:00",
  quietHoursEnd: "08:00",
};

/** Reminders not planned for a lead time whose due time passed longer ago than this (an outage, a late enrolment). */
export const PLAN_GRACE_MS = 30 * 60_000;

const MIN_LEAD = 15;
const MAX_LEAD = 7 * 24 * 60;
const SENDER_MAX = 30;

/** The settings of a center (its row, or the defaults). */
export async function settingsOf(db: Db | Tx, centerId: string): Promise<ReminderSettingsRow> {
  const [row] = await db.select().from(reminderSettings).where(eq(reminderSettings.centerId, centerId));
  return row ?? { ...DEFAULT_SETTINGS, centerId, updatedAt: new Date(0), updatedByStaffId: null };
}

/** A phone number as E.164, or null when it is not a valid number (national numbers read in `country`). */
export function e164(value: string, country?: CountryCode): string | null {
  const parsed = parsePhoneNumberFromString(value, country ? { defaultCountry: country } : undefined);
  return parsed?.isValid() ? parsed.number : null;
}

const optOutColumns = (channel: string) =>
  channel === "SMS"
    ? { at: contactPreferences.smsOptedOutAt, via: contactPreferences.smsOptedOutVia, atKey: "smsOptedOutAt", viaKey: "smsOptedOutVia" }
    : { at: contactPreferences.emailOptedOutAt, via: contactPreferences.emailOptedOutVia, atKey: "emailOptedOutAt", viaKey: "emailOptedOutVia" };

/** The opt-outs of a preferences row, for ContactPreferences.optedOut. */
export function optOutsOf(p: ContactPreferencesRow): Array<ChannelOptOut & { participantId: string; centerId: string }> {
  const out: Array<ChannelOptOut & { participantId: string; centerId: string }> = [];
  if (p.emailOptedOutAt) {
    out.push({
      channel: ReminderChannel.EMAIL,
      at: p.emailOptedOutAt,
      via: p.emailOptedOutVia as OptOutVia,
      participantId: p.participantId,
      centerId: p.centerId,
    });
  }
  if (p.smsOptedOutAt) {
    out.push({ channel: ReminderChannel.SMS, at: p.smsOptedOutAt, via: p.smsOptedOutVia as OptOutVia, participantId: p.participantId, centerId: p.centerId });
  }
  return out;
}

export function isOptedOut(p: ContactPreferencesRow, channel: string): boolean {
  return channel === "SMS" ? p.smsOptedOutAt !== null : p.emailOptedOutAt !== null;
}

export async function updateReminderSettings(ctx: Context, input: UpdateReminderSettingsInput): Promise<CenterRow> {
  const center = await findVisibleCenter(ctx, input.centerId, "centerId");
  ctx.access.require("center.configure", { centerId: center.id }, "Only admins may change a center's reminders");
  const p = new Problems();
  const values: Partial<ReminderSettingsRow> = { enabled: input.enabled };
  if (input.leadTimesMinutes !== undefined && input.leadTimesMinutes !== null) {
    const leads = [...new Set(input.leadTimesMinutes)].sort((a, b) => b - a);
    if (leads.length < 1 || leads.length > 4) p.add("leadTimesMinutes", UserErrorCode.INVALID, "Give 1 to 4 lead times");
    else if (leads.some((m) => !Number.isInteger(m) || m < MIN_LEAD || m > MAX_LEAD)) {
      p.add("leadTimesMinutes", UserErrorCode.INVALID, `Each lead time is between ${MIN_LEAD} minutes and ${MAX_LEAD} (7 days)`);
    } else values.leadTimesMinutes = leads;
  }
  if (input.senderName !== undefined && input.senderName !== null) {
    values.senderName = text(p, "senderName", input.senderName, { max: SENDER_MAX }) ?? DEFAULT_SETTINGS.senderName;
  }
  if (input.callbackPhone !== undefined && input.callbackPhone !== null) {
    const raw = text(p, "callbackPhone", input.callbackPhone, { max: LIMITS.short });
    const phone = raw ? e164(raw) : null;
    if (raw && !phone) p.add("callbackPhone", UserErrorCode.INVALID, "callbackPhone is not a valid phone number in E.164 form (e.g. +16175550123)");
    values.callbackPhone = phone;
  }
  for (const key of ["quietHoursStart", "quietHoursEnd"] as const) {
    const v = input[key];
    if (v === undefined || v === null) continue;
    const t = parseLocalTime(v);
    if (!t) p.add(key, UserErrorCode.INVALID, `${key} is not a time of day`);
    else values[key] = `${String(t.hour).padStart(2, "0")}:${String(t.minute).padStart(2, "0")}`;
  }
  p.throwIfAny();
  const now = clock.now();
  await ctx.db.transaction(async (tx) => {
    await tx
      .insert(reminderSettings)
      .values({ ...DEFAULT_SETTINGS, ...values, centerId: center.id, updatedAt: now, updatedByStaffId: ctx.access.staffId })
      .onConflictDoUpdate({ target: reminderSettings.centerId, set: { ...values, updatedAt: now, updatedByStaffId: ctx.access.staffId } });
    if (!input.enabled) {
      await tx
        .update(reminders)
        .set({ status: "CANCELLED", skipReason: "REMINDERS_OFF", updatedAt: now })
        .where(and(eq(reminders.centerId, center.id), eq(reminders.status, "PENDING")));
    } else {
      // Turned back on: what was cancelled for it and can still go out is pending again.
      await tx
        .update(reminders)
        .set({ status: "PENDING", skipReason: null, updatedAt: now })
        .where(
          and(
            eq(reminders.centerId, center.id),
            eq(reminders.status, "CANCELLED"),
            eq(reminders.skipReason, "REMINDERS_OFF"),
            gt(reminders.nextAttemptAt, now),
          ),
        );
    }
  });
  return center;
}

export async function setContactPreferences(ctx: Context, input: SetContactPreferencesInput): Promise<ParticipantRow> {
  const participant = await findReadableParticipant(ctx, input.participantId, "participantId");
  ctx.access.require("participant.write", { centerId: participant.centerId }, "Your role does not allow changing participants");
  const p = new Problems();
  const channels = [...new Set(input.channels)].sort();
  const email = text(p, "email", input.email, { max: 254 });
  if (email && !isEmail(email)) p.add("email", UserErrorCode.INVALID, "email is not a valid address");
  const rawPhone = text(p, "phone", input.phone, { max: LIMITS.short });
  const phone = rawPhone ? e164(rawPhone) : null;
  if (rawPhone && !phone) p.add("phone", UserErrorCode.INVALID, "phone is not a valid phone number in E.164 form (e.g. +16175550123)");
  const [existing] = await ctx.db.select().from(contactPreferences).where(eq(contactPreferences.participantId, participant.id));
  let consent = existing?.smsConsentSource ? { source: existing.smsConsentSource, givenOn: existing.smsConsentGivenOn } : null;
  if (input.smsConsent) {
    const today = new Date(clock.now().getTime() + 14 * 3_600_000).toISOString().slice(0, 10); // the furthest zone's today
    if (input.smsConsent.givenOn > today) p.add(["smsConsent", "givenOn"], UserErrorCode.INVALID, "The consent cannot be given in the future");
    consent = { source: input.smsConsent.source, givenOn: input.smsConsent.givenOn };
  }
  if (channels.includes(ReminderChannel.EMAIL) && !email && !p.list.some((e) => e.field?.[1] === "email")) {
    p.add("email", UserErrorCode.REQUIRED, "EMAIL reminders need an email address");
  }
  if (channels.includes(ReminderChannel.SMS)) {
    if (!rawPhone) p.add("phone", UserErrorCode.REQUIRED, "SMS reminders need a phone number");
    if (!consent) p.add("smsConsent", UserErrorCode.SMS_CONSENT_REQUIRED, "SMS reminders need the member's consent: record its source and date");
  }
  p.throwIfAny();
  const now = clock.now();
  const values = {
    email,
    phone,
    channels,
    smsConsentSource: consent?.source ?? null,
    smsConsentGivenOn: consent?.givenOn ?? null,
    detail: input.detail ?? existing?.detail ?? ContactDetail.MINIMAL,
    updatedAt: now,
    updatedByStaffId: ctx.access.staffId,
  };
  await ctx.db.transaction(async (tx) => {
    await tx
      .insert(contactPreferences)
      .values({ ...values, participantId: participant.id, centerId: participant.centerId, unsubscribeToken: randomBytes(24).toString("base64url") })
      .onConflictDoUpdate({ target: contactPreferences.participantId, set: values });
    // A channel taken away: its pending reminders will not go.
    const removed = ["EMAIL", "SMS"].filter((c) => !channels.includes(c as ReminderChannel));
    if (removed.length) {
      await tx
        .update(reminders)
        .set({ status: "CANCELLED", skipReason: "CHANNEL_REMOVED", updatedAt: now })
        .where(and(eq(reminders.participantId, participant.id), eq(reminders.status, "PENDING"), inArray(reminders.channel, removed)));
    }
    // A channel given back: its reminders cancelled for the removal that can still go out are pending again.
    if (channels.length) {
      await tx
        .update(reminders)
        .set({ status: "PENDING", skipReason: null, updatedAt: now })
        .where(
          and(
            eq(reminders.participantId, participant.id),
            eq(reminders.status, "CANCELLED"),
            eq(reminders.skipReason, "CHANNEL_REMOVED"),
            inArray(reminders.channel, channels),
            gt(reminders.nextAttemptAt, now),
          ),
        );
    }
  });
  ctx.loaders.reminders.preferencesByParticipant.clear(participant.id);
  return participant;
}

/**
 * Opts participants out of a channel at once (STOP, an unsubscribe link, staff): recorded with
 * when and how, and their pending reminders of that channel SKIPPED (OPTED_OUT). Returns the
 * participants who were opted in until now.
 */
export async function optOut(tx: Db | Tx, participantIds: readonly string[], channel: "EMAIL" | "SMS", via: OptOutVia, now = clock.now()): Promise<string[]> {
  if (!participantIds.length) return [];
  const cols = optOutColumns(channel);
  const changed = await tx
    .update(contactPreferences)
    .set({ [cols.atKey]: now, [cols.viaKey]: via, updatedAt: now })
    .where(and(inArray(contactPreferences.participantId, [...participantIds]), sql`${cols.at} is null`))
    .returning({ participantId: contactPreferences.participantId });
  await tx
    .update(reminders)
    .set({ status: "SKIPPED", skipReason: "OPTED_OUT", updatedAt: now })
    .where(and(inArray(reminders.participantId, [...participantIds]), eq(reminders.channel, channel), eq(reminders.status, "PENDING")));
  return changed.map((c) => c.participantId);
}

/** Opts participants back in (START, staff): reminders skipped for the opt-out that can still go out are pending again. */
export async function optIn(tx: Db | Tx, participantIds: readonly string[], channel: "EMAIL" | "SMS", now = clock.now()): Promise<string[]> {
  if (!participantIds.length) return [];
  const cols = optOutColumns(channel);
  const changed = await tx
    .update(contactPreferences)
    .set({ [cols.atKey]: null, [cols.viaKey]: null, updatedAt: now })
    .where(and(inArray(contactPreferences.participantId, [...participantIds]), sql`${cols.at} is not null`))
    .returning({ participantId: contactPreferences.participantId });
  await tx
    .update(reminders)
    .set({ status: "PENDING", skipReason: null, updatedAt: now })
    .where(
      and(
        inArray(reminders.participantId, [...participantIds]),
        eq(reminders.channel, channel),
        eq(reminders.status, "SKIPPED"),
        eq(reminders.skipReason, "OPTED_OUT"),
        gt(reminders.nextAttemptAt, now),
      ),
    );
  return changed.map((c) => c.participantId);
}

export async function setReminderOptOut(ctx: Context, input: SetReminderOptOutInput): Promise<ParticipantRow> {
  const participant = await findReadableParticipant(ctx, input.participantId, "participantId");
  ctx.access.require("participant.write", { centerId: participant.centerId }, "Your role does not allow changing participants");
  const [prefs] = await ctx.db.select().from(contactPreferences).where(eq(contactPreferences.participantId, participant.id));
  if (!prefs) {
    const p = new Problems();
    p.add("participantId", UserErrorCode.INVALID, "The participant has no contact preferences yet (setContactPreferences)");
    p.throwIfAny();
  }
  await ctx.db.transaction(async (tx) => {
    if (input.optedOut) await optOut(tx, [participant.id], input.channel, OptOutVia.STAFF);
    else await optIn(tx, [participant.id], input.channel);
  });
  ctx.loaders.reminders.preferencesByParticipant.clear(participant.id);
  return participant;
}

// Steps in other modules' transactions (src/steps.ts).

/** A session cancelled: its pending reminders are CANCELLED; moved: they are due again relative to its new start. */
export async function sessionChangeStep(tx: Tx, change: SessionChange): Promise<void> {
  const now = clock.now();
  if (change.kind === "CANCELLED") {
    await tx
      .update(reminders)
      .set({ status: "CANCELLED", skipReason: "SESSION_CANCELLED", updatedAt: now })
      .where(and(inArray(reminders.sessionId, change.sessionIds), eq(reminders.status, "PENDING")));
    return;
  }
  for (const sessionId of change.sessionIds) {
    const [session] = await tx
      .select({ startsAt: sessions.startsAt, centerId: sessions.centerId, timezone: centers.timezone })
      .from(sessions)
      .innerJoin(centers, eq(centers.id, sessions.centerId))
      .where(eq(sessions.id, sessionId));
    if (!session) continue;
    const settings = await settingsOf(tx, session.centerId);
    const quiet = { start: settings.quietHoursStart, end: settings.quietHoursEnd };
    const rows = await tx
      .select()
      .from(reminders)
      .where(
        and(
          eq(reminders.sessionId, sessionId),
          or(eq(reminders.status, "PENDING"), and(eq(reminders.status, "SKIPPED"), inArray(reminders.skipReason, ["QUIET_HOURS", "SESSION_STARTED"]))),
        ),
      )
      .for("update");
    for (const r of rows) {
      const dueAt = new Date(session.startsAt.getTime() - r.leadMinutes * 60_000);
      // Moved earlier past this lead time: it goes now (the member should hear of the new time).
      const d = deliveryTime(dueAt < now ? now : dueAt, session.startsAt, quiet, session.timezone);
      await tx
        .update(reminders)
        .set(
          "at" in d
            ? { dueAt, nextAttemptAt: d.at, status: "PENDING", skipReason: null, updatedAt: now }
            : { dueAt, status: "SKIPPED", skipReason: d.skip, updatedAt: now },
        )
        .where(eq(reminders.id, r.id));
    }
  }
}

/** An enrolment ended: the member's pending reminders of the group's sessions are CANCELLED. */
export async function enrollmentEndStep(tx: Tx, enrollment: EnrollmentRow): Promise<void> {
  await tx
    .update(reminders)
    .set({ status: "CANCELLED", skipReason: "ENROLLMENT_ENDED", updatedAt: clock.now() })
    .where(
      and(
        eq(reminders.participantId, enrollment.participantId),
        eq(reminders.status, "PENDING"),
        inArray(reminders.sessionId, tx.select({ id: sessions.id }).from(sessions).where(eq(sessions.groupId, enrollment.groupId))),
      ),
    );
}

/**
 * The check-in hook: a member who checked in to a session needs no more reminders of it. For the
 * self check-in's write steps (src/steps.ts): it runs in the transaction that recorded or decided the claims.
 */
export async function checkInStep(tx: Tx, checkIn: { sessionId: string; participantIds: readonly string[] }): Promise<void> {
  if (!checkIn.participantIds.length) return;
  await tx
    .update(reminders)
    .set({ status: "CANCELLED", skipReason: "CHECKED_IN", updatedAt: clock.now() })
    .where(and(eq(reminders.sessionId, checkIn.sessionId), inArray(reminders.participantId, [...checkIn.participantIds]), eq(reminders.status, "PENDING")));
}
