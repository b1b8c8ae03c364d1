import { and, eq, inArray, sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { decodeId } from "../common/ids.js";
import { parseLocalTime } from "../common/scalars.js";
import { idOf, intInRange, LIMITS, notFound, optionalText, text } from "../common/validate.js";
import type { Tx } from "../db/client.js";
import { enrollments, groupFacilitators, groups, staff, staffMemberships, type GroupRow } from "../db/schema.js";
import { promoteWaitlist, withdrawWaitlist } from "../enrollments/enrollment.service.js";
import { findVisibleProgram } from "../programs/program.service.js";
import { cancelFutureSessions, centerTimeZone, realignFutureSessions } from "../sessions/session.service.js";
import type { CreateGroupInput, GroupScheduleInput, UpdateGroupInput } from "./group.inputs.js";
import { DayOfWeek } from "./group.type.js";

export const MAX_CAPACITY = 500;
/** Why closing a group cancelled its sessions and withdrew its waitlist. */
const CLOSED_REASON = "The group was closed";
const DAY_ORDER = Object.values(DayOfWeek);

/** Allowed status changes; CLOSED is final. */
const TRANSITIONS: Record<string, string[]> = {
  PLANNED: ["ACTIVE", "PAUSED", "CLOSED"],
  ACTIVE: ["PAUSED", "CLOSED"],
  PAUSED: ["ACTIVE", "CLOSED"],
  CLOSED: [],
};

/** A group the viewer may see (facilitators: only their own), or NOT_FOUND. */
export async function findVisibleGroup(ctx: Context, globalId: string, field: string): Promise<GroupRow> {
  const id = idOf("Group", globalId, field);
  const row = await ctx.loaders.groups.byId.load(id);
  if (!row || !ctx.access.canSeeCenter(row.centerId) || !ctx.access.canSeeGroup(row)) throw notFound("Group", field);
  return row;
}

function scheduleOf(p: Problems, s: GroupScheduleInput | null | undefined) {
  if (!s) return undefined;
  const days = [...new Set(s.daysOfWeek)].sort((a, b) => DAY_ORDER.indexOf(a) - DAY_ORDER.indexOf(b));
  if (days.length === 0) p.add("schedule.daysOfWeek", UserErrorCode.REQUIRED, "schedule needs at least one day");
  if (days.length !== s.daysOfWeek.length) p.add("schedule.daysOfWeek", UserErrorCode.DUPLICATE, "a day is listed twice");
  const time = parseLocalTime(s.startTime);
  if (!time) p.add("schedule.startTime", UserErrorCode.INVALID, "startTime must be HH:mm");
  intInRange(p, "schedule.durationMinutes", s.durationMinutes, 5, 720);
  const startTime = time ? `${String(time.hour).padStart(2, "0")}:${String(time.minute).padStart(2, "0")}` : "";
  return { scheduleDays: days, scheduleStartTime: startTime, scheduleDurationMinutes: s.durationMinutes };
}

function linkOf(p: Problems, value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value.trim();
  if (!v) return null;
  let ok = false;
  try {
    ok = new URL(v).protocol === "https:" && v.length <= LIMITS.text;
  } catch {
    ok = false;
  }
  if (!ok) p.add("virtualLink", UserErrorCode.INVALID, "virtualLink must be an https:// URL");
  return v;
}

/**
 * Facilitators must be active staff with a role at the group's center. Returns rows in order,
 * the lead first.
 */
async function facilitatorsOf(
  ctx: Context,
  p: Problems,
  centerId: string,
  globalIds: string[],
  leadGlobalId: string | null | undefined,
): Promise<Array<{ staffId: string; role: string; position: number }>> {
  const ids: string[] = [];
  globalIds.forEach((g, i) => {
    const id = decodeId(g, "Staff");
    if (!id) p.add(`facilitatorIds.${i}`, UserErrorCode.NOT_FOUND, "No staff member with that id at this center");
    else if (ids.includes(id)) p.add(`facilitatorIds.${i}`, UserErrorCode.DUPLICATE, "A facilitator is listed twice");
    else ids.push(id);
  });
  let leadId = ids[0];
  if (leadGlobalId) {
    // Compared as given, so an unknown id gets one NOT_FOUND (at facilitatorIds), not a second error.
    const id = decodeId(leadGlobalId, "Staff");
    if (!globalIds.includes(leadGlobalId)) {
      p.add("leadFacilitatorId", UserErrorCode.INVALID, "The lead facilitator must be one of facilitatorIds");
    } else if (id) leadId = id;
  }
  if (ids.length) {
    const found = await ctx.db
      .select({ id: staff.id })
      .from(staff)
      .innerJoin(staffMemberships, eq(staffMemberships.staffId, staff.id))
      .where(and(inArray(staff.id, ids), eq(staffMemberships.centerId, centerId), eq(staff.status, "ACTIVE")));
    const ok = new Set(found.map((f) => f.id));
    globalIds.forEach((g, i) => {
      const id = decodeId(g, "Staff");
      if (id && !ok.has(id)) p.add(`facilitatorIds.${i}`, UserErrorCode.NOT_FOUND, "No staff member with that id at this center");
    });
  }
  const ordered = leadId ? [leadId, ...ids.filter((i) => i !== leadId)] : [];
  return ordered.map((staffId, position) => ({ staffId, role: position === 0 ? "LEAD" : "CO", position }));
}

function checkDates(p: Problems, startsOn: string, endsOn: string | null) {
  if (endsOn && endsOn < startsOn) p.add("endsOn", UserErrorCode.INVALID, "endsOn must not be before startsOn");
}

export async function createGroup(ctx: Context, input: CreateGroupInput): Promise<GroupRow> {
  const program = await findVisibleProgram(ctx, input.programId, "programId");
  ctx.access.require("center.configure", { centerId: program.centerId }, "Only center admins may create groups");
  const p = new Problems();
  if (program.status === "RETIRED") p.add("programId", UserErrorCode.PROGRAM_NOT_ACTIVE, "The program is retired");
  const name = text(p, "name", input.name, { required: true });
  intInRange(p, "capacity", input.capacity, 1, MAX_CAPACITY);
  checkDates(p, input.startsOn, input.endsOn ?? null);
  const schedule = scheduleOf(p, input.schedule)!;
  const location = text(p, "location", input.location, { max: LIMITS.text });
  const virtualLink = linkOf(p, input.virtualLink) ?? null;
  if (input.status === "CLOSED") p.add("status", UserErrorCode.INVALID_TRANSITION, "A new group cannot start CLOSED");
  const facilitators = await facilitatorsOf(ctx, p, program.centerId, input.facilitatorIds ?? [], input.leadFacilitatorId);
  p.throwIfAny();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(groups)
      .values({
        centerId: program.centerId,
        programId: program.id,
        name: name!,
        capacity: input.capacity,
        startsOn: input.startsOn,
        endsOn: input.endsOn ?? null,
        ...schedule,
        location,
        virtualLink,
        status: input.status ?? "PLANNED",
        enrollmentMode: input.enrollmentMode ?? "ROLLING",
      })
      .returning();
    if (facilitators.length) {
      await tx.insert(groupFacilitators).values(facilitators.map((f) => ({ ...f, centerId: row.centerId, groupId: row.id })));
    }
    return row;
  });
}

/** Whether what the group's sessions are generated from changed. */
function scheduleChanged(before: GroupRow, after: GroupRow): boolean {
  return (
    before.startsOn !== after.startsOn ||
    before.endsOn !== after.endsOn ||
    before.scheduleStartTime !== after.scheduleStartTime ||
    before.scheduleDurationMinutes !== after.scheduleDurationMinutes ||
    before.scheduleDays.join() !== after.scheduleDays.join()
  );
}

/** Locks the group row for the rest of the transaction: enrolment and capacity changes serialize on it. */
export async function lockGroup(tx: Tx, groupId: string): Promise<GroupRow> {
  const [row] = await tx.select().from(groups).where(eq(groups.id, groupId)).for("update");
  return row;
}

export async function activeEnrollmentCount(tx: Tx, groupId: string): Promise<number> {
  const [{ n }] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(enrollments)
    .where(and(eq(enrollments.groupId, groupId), eq(enrollments.status, "ACTIVE")));
  return Number(n);
}

export async function updateGroup(ctx: Context, input: UpdateGroupInput): Promise<GroupRow> {
  const group = await findVisibleGroup(ctx, input.groupId, "groupId");
  ctx.access.require("center.configure", { centerId: group.centerId }, "Only center admins may change groups");
  const p = new Problems();
  const name = optionalText(p, "name", input.name, { required: true });
  intInRange(p, "capacity", input.capacity, 1, MAX_CAPACITY);
  const schedule = scheduleOf(p, input.schedule);
  const location = optionalText(p, "location", input.location, { max: LIMITS.text });
  const virtualLink = linkOf(p, input.virtualLink);
  // endsOn: absent leaves it, an explicit null clears it (the group runs on).
  checkDates(p, input.startsOn ?? group.startsOn, input.endsOn === undefined ? group.endsOn : input.endsOn);
  if (input.status && input.status !== group.status && !TRANSITIONS[group.status].includes(input.status)) {
    p.add("status", UserErrorCode.INVALID_TRANSITION, `A ${group.status} group cannot become ${input.status}`);
  }
  const facilitators =
    input.facilitatorIds != null
      ? await facilitatorsOf(ctx, p, group.centerId, input.facilitatorIds, input.leadFacilitatorId)
      : undefined;
  if (input.facilitatorIds == null && input.leadFacilitatorId) {
    p.add("leadFacilitatorId", UserErrorCode.INVALID, "Pass facilitatorIds together with leadFacilitatorId");
  }
  p.throwIfAny();
  const row = await ctx.db.transaction(async (tx) => {
    const locked = await lockGroup(tx, group.id);
    if (input.capacity != null && input.capacity < locked.capacity) {
      const active = await activeEnrollmentCount(tx, group.id);
      if (input.capacity < active) {
        throw UserInputError.of("capacity", UserErrorCode.INVALID, `capacity cannot be below the ${active} active enrolments`);
      }
    }
    const [updated] = await tx
      .update(groups)
      .set({
        ...(name ? { name } : {}),
        ...(input.capacity != null ? { capacity: input.capacity } : {}),
        ...(input.status ? { status: input.status } : {}),
        ...(input.startsOn ? { startsOn: input.startsOn } : {}),
        ...(input.endsOn !== undefined ? { endsOn: input.endsOn } : {}),
        ...(schedule ?? {}),
        ...(location !== undefined ? { location } : {}),
        ...(virtualLink !== undefined ? { virtualLink } : {}),
        ...(input.enrollmentMode ? { enrollmentMode: input.enrollmentMode } : {}),
        updatedAt: clock.now(),
      })
      .where(eq(groups.id, group.id))
      .returning();
    if (facilitators) {
      await tx.delete(groupFacilitators).where(eq(groupFacilitators.groupId, group.id));
      if (facilitators.length) {
        await tx.insert(groupFacilitators).values(facilitators.map((f) => ({ ...f, centerId: group.centerId, groupId: group.id })));
      }
    }
    if (updated.status === "CLOSED" && locked.status !== "CLOSED") {
      await cancelFutureSessions(tx, updated.id, CLOSED_REASON);
      await withdrawWaitlist(tx, updated.id, ctx.access.staffId, CLOSED_REASON);
    } else if (updated.status !== "CLOSED" && scheduleChanged(locked, updated)) {
      await realignFutureSessions(tx, updated, await centerTimeZone(tx, updated.centerId));
    }
    if (updated.capacity > locked.capacity && updated.status !== "CLOSED") {
      await promoteWaitlist(tx, updated, ctx.access.staffId, "Capacity raised");
    }
    return updated;
  });
  ctx.loaders.groups.byId.clear(row.id).prime(row.id, row);
  ctx.loaders.groups.facilitatorsByGroupId.clear(row.id);
  return row;
}
