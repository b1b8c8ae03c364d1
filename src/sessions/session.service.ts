import { and, asc, eq, gt, gte, inArray, lt, ne, sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { isUniqueViolation, Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { WriteSteps } from "../common/steps.js";
import { idOf, LIMITS, notFound, optionalText, text } from "../common/validate.js";
import { parseLocalTime } from "../common/scalars.js";
import type { Tx } from "../db/client.js";
import { centerTimeZone } from "../centers/center.service.js";
import { attendance, programs, sessions, type GroupRow, type SessionRow } from "../db/schema.js";
import { findVisibleGroup, lockGroup } from "../groups/group.service.js";
import type { CancelSessionInput, CompleteSessionInput, ScheduleSessionsInput, UpdateSessionInput } from "./session.inputs.js";
import { addDays, dayInZone, daysBetween, weekdayOf, zonedTimeToUtc } from "./timezone.js";

const MAX_SCHEDULE_DAYS = 366;

/** What happened to sessions, for the steps that follow it (reminders): cancelled, or moved to another time. */
export interface SessionChange {
  kind: "CANCELLED" | "MOVED";
  sessionIds: string[];
}

/** Steps run in the transaction that cancels or moves sessions (composed in src/steps.ts). */
export const sessionWriteSteps = new WriteSteps<[SessionChange]>("session change");

/** Steps run in the transaction that adds sessions to a group, with the new sessions' ids (composed in src/steps.ts). */
export const sessionsAddedSteps = new WriteSteps<[sessionIds: string[]]>("sessions added");

/** A session whose group the viewer can see, or NOT_FOUND. */
export async function findVisibleSession(ctx: Context, globalId: string, field: string): Promise<{ session: SessionRow; group: GroupRow }> {
  const id = idOf("Session", globalId, field);
  const session = await ctx.loaders.sessions.byId.load(id);
  const group = session ? await ctx.loaders.groups.byId.load(session.groupId) : null;
  if (!session || !group || !ctx.access.canSeeCenter(group.centerId) || !ctx.access.canSeeGroup(group)) {
    throw notFound("Session", field);
  }
  return { session, group };
}

/** The columns a cancellation sets. */
const cancellation = (reason: string | null, now: Date) => ({ status: "CANCELLED", cancelReason: reason, cancelledAt: now, updatedAt: now });

/** A session as it is now, after a conditional update matched nothing; NOT_FOUND if a schedule change removed it. */
async function reread(ctx: Context, sessionId: string): Promise<SessionRow> {
  const [row] = await ctx.db.select().from(sessions).where(eq(sessions.id, sessionId));
  if (!row) throw notFound("Session", "sessionId");
  return row;
}

interface Occurrence {
  startsAt: Date;
  endsAt: Date;
}

/** Every schedule occurrence of the group on the days [from, to], in the zone's wall-clock time. */
function occurrences(group: GroupRow, timezone: string, from: string, to: string): Occurrence[] {
  const start = from > group.startsOn ? from : group.startsOn;
  const end = group.endsOn && group.endsOn < to ? group.endsOn : to;
  const time = parseLocalTime(group.scheduleStartTime)!;
  const days = new Set(group.scheduleDays);
  const out: Occurrence[] = [];
  for (let day = start; day <= end; day = addDays(day, 1)) {
    if (!days.has(weekdayOf(day))) continue;
    const startsAt = zonedTimeToUtc(day, time.hour, time.minute, timezone);
    out.push({ startsAt, endsAt: new Date(startsAt.getTime() + group.scheduleDurationMinutes * 60_000) });
  }
  return out;
}

async function sessionsBetween(tx: Tx, groupId: string, from: Date, to: Date): Promise<SessionRow[]> {
  return tx
    .select()
    .from(sessions)
    .where(and(eq(sessions.groupId, groupId), gte(sessions.startsAt, from), lt(sessions.startsAt, to)))
    .orderBy(asc(sessions.startsAt));
}

/**
 * The occurrences whose schedule slot is free. A slot is a day of the schedule in the center's
 * zone (one occurrence a day at most); a session keeps the slot it was generated for, even once
 * moved, cancelled or held, so a slot that a session used is never used again: not when the
 * group's time changes, nor when the center moves to another zone (then the same day's occurrence
 * is at another instant). A session's slot is the day of its `scheduledFor` in `slotZone`, the zone
 * it was generated in (the previous zone, during a zone change); a session at one of the wanted
 * instants is that occurrence. A slot is also taken by a session starting at the occurrence's instant.
 */
function freeOccurrences(
  existing: Array<{ startsAt: Date; scheduledFor: Date }>,
  wanted: Occurrence[],
  timezone: string,
  slotZone: string = timezone,
): Occurrence[] {
  const wantedAt = new Set(wanted.map((o) => o.startsAt.getTime()));
  const takenAt = new Set(existing.flatMap((s) => [s.scheduledFor.getTime(), s.startsAt.getTime()]));
  const takenDays = new Set(existing.map((s) => dayInZone(s.scheduledFor, wantedAt.has(s.scheduledFor.getTime()) ? timezone : slotZone)));
  return wanted.filter((o) => !takenAt.has(o.startsAt.getTime()) && !takenDays.has(dayInZone(o.startsAt, timezone)));
}

/**
 * Inserts a session for every occurrence whose slot is free (see freeOccurrences). New sessions
 * take the curriculum's topics by their position among the group's held sessions. Call with the
 * group locked.
 */
async function insertOccurrences(tx: Tx, group: GroupRow, wanted: Occurrence[], timezone: string, slotZone = timezone): Promise<void> {
  if (!wanted.length) return;
  const existing = await tx
    .select({ startsAt: sessions.startsAt, scheduledFor: sessions.scheduledFor, status: sessions.status })
    .from(sessions)
    .where(eq(sessions.groupId, group.id));
  const fresh = freeOccurrences(existing, wanted, timezone, slotZone);
  if (!fresh.length) return;
  const [program] = await tx.select({ curriculum: programs.curriculum }).from(programs).where(eq(programs.id, group.programId));
  const topics = program?.curriculum ?? [];
  const held = existing.filter((s) => s.status !== "CANCELLED").map((s) => s.startsAt.getTime());
  const added = await tx
    .insert(sessions)
    .values(
      fresh.map((o, i) => {
        // Position among the group's sessions once these exist: earlier ones plus new ones before it.
        const position = held.filter((t) => t < o.startsAt.getTime()).length + i;
        return {
          centerId: group.centerId,
          groupId: group.id,
          startsAt: o.startsAt,
          endsAt: o.endsAt,
          scheduledFor: o.startsAt,
          topic: topics.length ? topics[position % topics.length] : null,
        };
      }),
    )
    .onConflictDoNothing()
    .returning({ id: sessions.id });
  if (added.length)
    await sessionsAddedSteps.run(
      tx,
      added.map((a) => a.id),
    );
}

/**
 * Fits the group's future sessions to its schedule, dates and the center's time zone as they are
 * now, after one of them changed. Only sessions nobody has touched are changed: SCHEDULED, not yet
 * started, still at the time they were generated for, and without attendance. Of those, one the
 * schedule no longer produces is removed (it never happened and nothing refers to it); one it
 * still produces gets the schedule's length; and the schedule's new occurrences up to the last of
 * them are created, so the group stays scheduled as far ahead as it was, except on days whose
 * slot a kept session holds (freeOccurrences). Moved, cancelled, completed and recorded sessions
 * stay as they are. `previousTimezone`: the center's zone before a zone change (the sessions' slots
 * are days in it). Call with the group locked.
 */
export async function realignFutureSessions(tx: Tx, group: GroupRow, timezone: string, now = clock.now(), previousTimezone = timezone): Promise<void> {
  // Locked first, so that no attendance is recorded for one between the check below and the delete.
  const candidates = await tx
    .select({ id: sessions.id, startsAt: sessions.startsAt, endsAt: sessions.endsAt })
    .from(sessions)
    .where(and(eq(sessions.groupId, group.id), eq(sessions.status, "SCHEDULED"), gt(sessions.startsAt, now), eq(sessions.startsAt, sessions.scheduledFor)))
    .orderBy(asc(sessions.startsAt))
    .for("update");
  if (!candidates.length) return;
  const recorded = new Set(
    (
      await tx
        .selectDistinct({ sessionId: attendance.sessionId })
        .from(attendance)
        .where(
          inArray(
            attendance.sessionId,
            candidates.map((c) => c.id),
          ),
        )
    ).map((r) => r.sessionId),
  );
  const untouched = candidates.filter((c) => !recorded.has(c.id));
  if (!untouched.length) return;
  // The last slot scheduled (a day in the zone it was generated in): the new schedule goes as far.
  const horizon = dayInZone(untouched[untouched.length - 1].startsAt, previousTimezone);
  const wanted = occurrences(group, timezone, dayInZone(now, timezone), horizon).filter((o) => o.startsAt > now);
  const wantedAt = new Map(wanted.map((o) => [o.startsAt.getTime(), o]));
  const stale = untouched.filter((c) => !wantedAt.has(c.startsAt.getTime())).map((c) => c.id);
  if (stale.length) await tx.delete(sessions).where(inArray(sessions.id, stale));
  const resized = untouched.filter((c) => {
    const o = wantedAt.get(c.startsAt.getTime());
    return o && o.endsAt.getTime() !== c.endsAt.getTime();
  });
  if (resized.length) {
    await tx
      .update(sessions)
      .set({ endsAt: sql`${sessions.startsAt} + make_interval(mins => ${group.scheduleDurationMinutes})`, updatedAt: now })
      .where(
        inArray(
          sessions.id,
          resized.map((c) => c.id),
        ),
      );
  }
  await insertOccurrences(tx, group, wanted, timezone, previousTimezone);
}

/** Cancels the group's SCHEDULED sessions that have not started, giving the reason. */
export async function cancelFutureSessions(tx: Tx, groupId: string, reason: string, now = clock.now()): Promise<void> {
  const cancelled = await tx
    .update(sessions)
    .set(cancellation(reason, now))
    .where(and(eq(sessions.groupId, groupId), eq(sessions.status, "SCHEDULED"), gt(sessions.startsAt, now)))
    .returning({ id: sessions.id });
  if (cancelled.length) await sessionWriteSteps.run(tx, { kind: "CANCELLED", sessionIds: cancelled.map((c) => c.id) });
}

/**
 * Creates the group's sessions for [from, to] in the center's time zone. Idempotent: occurrences
 * that already have a session are left alone. New sessions take the curriculum's topics in order.
 * Returns every session of the group in the range.
 */
export async function scheduleSessions(ctx: Context, input: ScheduleSessionsInput): Promise<SessionRow[]> {
  const group = await findVisibleGroup(ctx, input.groupId, "groupId");
  ctx.access.require("session.write", { centerId: group.centerId, groupIds: [group.id] }, "Only clinical staff may schedule sessions");
  const p = new Problems();
  if (input.to < input.from) p.add("to", UserErrorCode.INVALID, "`to` must not be before `from`");
  else if (daysBetween(input.from, input.to) >= MAX_SCHEDULE_DAYS) {
    p.add("to", UserErrorCode.RANGE_TOO_LARGE, `Schedule at most ${MAX_SCHEDULE_DAYS} days at a time`);
  }
  if (group.status === "CLOSED") p.add("groupId", UserErrorCode.GROUP_NOT_OPEN, "The group is closed");
  p.throwIfAny();
  return ctx.db.transaction(async (tx) => {
    const locked = await lockGroup(tx, group.id);
    if (locked.status === "CLOSED") throw UserInputError.of("groupId", UserErrorCode.GROUP_NOT_OPEN, "The group is closed");
    const timezone = await centerTimeZone(tx, locked.centerId);
    const wanted = occurrences(locked, timezone, input.from, input.to);
    const rangeStart = zonedTimeToUtc(input.from, 0, 0, timezone);
    const rangeEnd = zonedTimeToUtc(addDays(input.to, 1), 0, 0, timezone);
    await insertOccurrences(tx, locked, wanted, timezone);
    return sessionsBetween(tx, group.id, rangeStart, rangeEnd);
  });
}

export async function cancelSession(ctx: Context, input: CancelSessionInput): Promise<SessionRow> {
  const { session, group } = await findVisibleSession(ctx, input.sessionId, "sessionId");
  ctx.access.require("session.write", { centerId: group.centerId, groupIds: [group.id] }, "Only clinical staff may cancel sessions");
  const p = new Problems();
  const reason = text(p, "reason", input.reason, { max: LIMITS.text });
  p.throwIfAny();
  if (session.status === "CANCELLED") return session; // a retry: already done
  if (session.status === "COMPLETED") {
    throw UserInputError.of("sessionId", UserErrorCode.INVALID_TRANSITION, "A completed session cannot be cancelled");
  }
  const now = clock.now();
  const row = await ctx.db.transaction(async (tx) => {
    const [cancelled] = await tx
      .update(sessions)
      .set(cancellation(reason, now))
      .where(and(eq(sessions.id, session.id), eq(sessions.status, "SCHEDULED")))
      .returning();
    if (cancelled) await sessionWriteSteps.run(tx, { kind: "CANCELLED", sessionIds: [cancelled.id] });
    return cancelled;
  });
  return row ?? reread(ctx, session.id); // changed meanwhile: as it is now
}

export async function completeSession(ctx: Context, input: CompleteSessionInput): Promise<SessionRow> {
  const { session, group } = await findVisibleSession(ctx, input.sessionId, "sessionId");
  ctx.access.require("attendance.write", { centerId: group.centerId, groupIds: [group.id] }, "Your role does not allow completing sessions");
  if (session.status === "COMPLETED") return session;
  if (session.status === "CANCELLED") {
    throw UserInputError.of("sessionId", UserErrorCode.SESSION_CANCELLED, "The session was cancelled");
  }
  if (session.startsAt.getTime() > clock.now().getTime()) {
    throw UserInputError.of("sessionId", UserErrorCode.INVALID_TRANSITION, "A session cannot be completed before it starts");
  }
  const [row] = await ctx.db
    .update(sessions)
    .set({ status: "COMPLETED", updatedAt: clock.now() })
    .where(and(eq(sessions.id, session.id), ne(sessions.status, "CANCELLED")))
    .returning();
  if (row) return row;
  await reread(ctx, session.id); // NOT_FOUND if removed meanwhile; otherwise it was cancelled meanwhile
  throw UserInputError.of("sessionId", UserErrorCode.SESSION_CANCELLED, "The session was cancelled");
}

export async function updateSession(ctx: Context, input: UpdateSessionInput): Promise<SessionRow> {
  const { session, group } = await findVisibleSession(ctx, input.sessionId, "sessionId");
  ctx.access.require("session.write", { centerId: group.centerId, groupIds: [group.id] }, "Only clinical staff may change sessions");
  const p = new Problems();
  const topic = optionalText(p, "topic", input.topic);
  const startsAt = input.startsAt ?? session.startsAt;
  const endsAt =
    input.endsAt ?? (input.startsAt ? new Date(input.startsAt.getTime() + (session.endsAt.getTime() - session.startsAt.getTime())) : session.endsAt);
  if (endsAt.getTime() <= startsAt.getTime()) p.add("endsAt", UserErrorCode.INVALID, "endsAt must be after startsAt");
  if (endsAt.getTime() - startsAt.getTime() > 12 * 3_600_000) p.add("endsAt", UserErrorCode.INVALID, "A session lasts at most 12 hours");
  if (session.status === "CANCELLED" && (input.startsAt || input.endsAt)) {
    p.add("sessionId", UserErrorCode.SESSION_CANCELLED, "A cancelled session cannot be rescheduled");
  }
  p.throwIfAny();
  try {
    const row = await ctx.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(sessions)
        .set({ ...(topic !== undefined ? { topic } : {}), startsAt, endsAt, updatedAt: clock.now() })
        .where(eq(sessions.id, session.id))
        .returning();
      if (updated && updated.startsAt.getTime() !== session.startsAt.getTime()) {
        await sessionWriteSteps.run(tx, { kind: "MOVED", sessionIds: [updated.id] });
      }
      return updated;
    });
    if (!row) throw notFound("Session", "sessionId"); // removed meanwhile by a schedule change
    ctx.loaders.sessions.byId.clear(row.id).prime(row.id, row);
    return row;
  } catch (err) {
    if (isUniqueViolation(err, "sessions_group_start_uq")) {
      throw UserInputError.of("startsAt", UserErrorCode.DUPLICATE, "The group already has a session starting then");
    }
    throw err;
  }
}
