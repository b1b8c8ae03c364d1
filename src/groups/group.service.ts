import { and, eq, inArray } from "drizzle-orm";
import type { Context } from "../common/context.js";
import { Problems, UserErrorCode } from "../common/errors.js";
import { decodeId } from "../common/ids.js";
import { parseLocalTime } from "../common/scalars.js";
import { idOf, intInRange, LIMITS, notFound, text } from "../common/validate.js";
import type { Tx } from "../db/client.js";
import { groupFacilitators, groups, staff, staffMemberships, type GroupRow } from "../db/schema.js";
import { findVisibleProgram } from "../programs/program.service.js";
import type { CreateGroupInput, GroupScheduleInput } from "./group.inputs.js";
import { DayOfWeek, GroupStatus } from "./group.type.js";

export const MAX_CAPACITY = 500;
const DAY_ORDER = Object.values(DayOfWeek);

/** Allowed status changes; CLOSED is final. */
export const TRANSITIONS: Record<string, string[]> = {
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

/** Whether the viewer may see the group with that database id (facilitators: only their own). */
export async function groupIdVisible(ctx: Context, groupId: string): Promise<boolean> {
  const group = await ctx.loaders.groups.byId.load(groupId);
  return Boolean(group && ctx.access.canSeeCenter(group.centerId) && ctx.access.canSeeGroup(group));
}

export function scheduleOf(p: Problems, s: GroupScheduleInput | null | undefined) {
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

export function linkOf(p: Problems, value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value.trim();
  if (!v) return null;
  let ok: boolean;
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
export async function facilitatorsOf(
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

export function checkDates(p: Problems, startsOn: string, endsOn: string | null) {
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
  if (input.status === GroupStatus.CLOSED) p.add("status", UserErrorCode.INVALID_TRANSITION, "A new group cannot start CLOSED");
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

/** Locks the group row for the rest of the transaction: enrolment and capacity changes serialize on it. */
export async function lockGroup(tx: Tx, groupId: string): Promise<GroupRow> {
  const [row] = await tx.select().from(groups).where(eq(groups.id, groupId)).for("update");
  return row;
}
