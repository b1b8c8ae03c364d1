import { and, asc, eq, gte, lt, ne } from "drizzle-orm";
import type { Context } from "../common/context.js";
import { isUniqueViolation, Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { idOf, LIMITS, notFound, text } from "../common/validate.js";
import { parseLocalTime } from "../common/scalars.js";
import type { Tx } from "../db/client.js";
import { programs, sessions, type GroupRow, type SessionRow } from "../db/schema.js";
import { lockGroup } from "../groups/group.service.js";
import { findVisibleGroup } from "../groups/group.service.js";
import type { CancelSessionInput, CompleteSessionInput, ScheduleSessionsInput, UpdateSessionInput } from "./session.inputs.js";
import { addDays, daysBetween, weekdayOf, zonedTimeToUtc } from "./timezone.js";

export const MAX_SCHEDULE_DAYS = 366;

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

export interface Occurrence {
  startsAt: Date;
  endsAt: Date;
}

/** Every schedule occurrence of the group on the days [from, to], in the zone's wall-clock time. */
export function occurrences(group: GroupRow, timezone: string, from: string, to: string): Occurrence[] {
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
  const center = (await ctx.loaders.centers.byId.load(group.centerId))!;
  return ctx.db.transaction(async (tx) => {
    const locked = await lockGroup(tx, group.id);
    if (locked.status === "CLOSED") throw UserInputError.of("groupId", UserErrorCode.GROUP_NOT_OPEN, "The group is closed");
    const wanted = occurrences(locked, center.timezone, input.from, input.to);
    const rangeStart = zonedTimeToUtc(input.from, 0, 0, center.timezone);
    const rangeEnd = zonedTimeToUtc(addDays(input.to, 1), 0, 0, center.timezone);
    if (wanted.length) {
      const existing = await tx
        .select({ startsAt: sessions.startsAt, scheduledFor: sessions.scheduledFor, status: sessions.status })
        .from(sessions)
        .where(eq(sessions.groupId, group.id));
      // A slot is taken by the session generated for it (even if since moved) or by one starting then.
      const taken = new Set(existing.flatMap((s) => [s.scheduledFor.getTime(), s.startsAt.getTime()]));
      const fresh = wanted.filter((o) => !taken.has(o.startsAt.getTime()));
      if (fresh.length) {
        const [program] = await tx.select({ curriculum: programs.curriculum }).from(programs).where(eq(programs.id, locked.programId));
        const topics = program?.curriculum ?? [];
        const held = existing.filter((s) => s.status !== "CANCELLED").map((s) => s.startsAt.getTime());
        await tx
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
          .onConflictDoNothing();
      }
    }
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
  const now = new Date();
  const [row] = await ctx.db
    .update(sessions)
    .set({ status: "CANCELLED", cancelReason: reason, cancelledAt: now, updatedAt: now })
    .where(and(eq(sessions.id, session.id), eq(sessions.status, "SCHEDULED")))
    .returning();
  if (!row) return (await ctx.db.select().from(sessions).where(eq(sessions.id, session.id)))[0];
  return row;
}

export async function completeSession(ctx: Context, input: CompleteSessionInput): Promise<SessionRow> {
  const { session, group } = await findVisibleSession(ctx, input.sessionId, "sessionId");
  ctx.access.require("attendance.write", { centerId: group.centerId, groupIds: [group.id] }, "Your role does not allow completing sessions");
  if (session.status === "COMPLETED") return session;
  if (session.status === "CANCELLED") {
    throw UserInputError.of("sessionId", UserErrorCode.SESSION_CANCELLED, "The session was cancelled");
  }
  if (session.startsAt.getTime() > Date.now()) {
    throw UserInputError.of("sessionId", UserErrorCode.INVALID_TRANSITION, "A session cannot be completed before it starts");
  }
  const [row] = await ctx.db
    .update(sessions)
    .set({ status: "COMPLETED", updatedAt: new Date() })
    .where(and(eq(sessions.id, session.id), ne(sessions.status, "CANCELLED")))
    .returning();
  return row ?? session;
}

export async function updateSession(ctx: Context, input: UpdateSessionInput): Promise<SessionRow> {
  const { session, group } = await findVisibleSession(ctx, input.sessionId, "sessionId");
  ctx.access.require("session.write", { centerId: group.centerId, groupIds: [group.id] }, "Only clinical staff may change sessions");
  const p = new Problems();
  const topic = input.topic === undefined || input.topic === null ? undefined : text(p, "topic", input.topic);
  const startsAt = input.startsAt ?? session.startsAt;
  const endsAt = input.endsAt ?? (input.startsAt ? new Date(input.startsAt.getTime() + (session.endsAt.getTime() - session.startsAt.getTime())) : session.endsAt);
  if (endsAt.getTime() <= startsAt.getTime()) p.add("endsAt", UserErrorCode.INVALID, "endsAt must be after startsAt");
  if (endsAt.getTime() - startsAt.getTime() > 12 * 3_600_000) p.add("endsAt", UserErrorCode.INVALID, "A session lasts at most 12 hours");
  if (session.status === "CANCELLED" && (input.startsAt || input.endsAt)) {
    p.add("sessionId", UserErrorCode.SESSION_CANCELLED, "A cancelled session cannot be rescheduled");
  }
  p.throwIfAny();
  try {
    const [row] = await ctx.db
      .update(sessions)
      .set({ ...(topic !== undefined ? { topic } : {}), startsAt, endsAt, updatedAt: new Date() })
      .where(eq(sessions.id, session.id))
      .returning();
    ctx.loaders.sessions.byId.clear(row.id).prime(row.id, row);
    return row;
  } catch (err) {
    if (isUniqueViolation(err, "sessions_group_start_uq")) {
      throw UserInputError.of("startsAt", UserErrorCode.DUPLICATE, "The group already has a session starting then");
    }
    throw err;
  }
}
