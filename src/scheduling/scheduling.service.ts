// Scheduling: the rules that span modules. A center's time zone and a group's schedule, dates,
// status and capacity are where sessions and enrolments come from, so changing them refits the
// group's future sessions, cancels them and withdraws the waitlist when the group closes, and gives
// raised capacity to the waitlist. The updates of centers and groups therefore live here, above the
// modules they coordinate (centers, groups, sessions, enrollments), which never import this one:
// each rule is called explicitly, inside the update's own transaction.
import { and, asc, eq, ne } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { intInRange, LIMITS, optionalText } from "../common/validate.js";
import { findVisibleCenter, centerTimeZone, timeZoneOf } from "../centers/center.service.js";
import type { UpdateCenterInput } from "../centers/center.inputs.js";
import { centers, groupFacilitators, groups, type CenterRow, type GroupRow } from "../db/schema.js";
import { activeEnrollmentCount, promoteWaitlist, withdrawWaitlist } from "../enrollments/enrollment.service.js";
import type { UpdateGroupInput } from "../groups/group.inputs.js";
import { checkDates, facilitatorsOf, findVisibleGroup, linkOf, lockGroup, MAX_CAPACITY, scheduleOf, TRANSITIONS } from "../groups/group.service.js";
import { cancelFutureSessions, realignFutureSessions } from "../sessions/session.service.js";

/** Why closing a group cancelled its sessions and withdrew its waitlist. */
const CLOSED_REASON = "The group was closed";

/** Changes a center; a new time zone refits the future sessions of every open group. */
export async function updateCenter(ctx: Context, input: UpdateCenterInput): Promise<CenterRow> {
  const center = await findVisibleCenter(ctx, input.centerId, "centerId");
  ctx.access.require("center.configure", { centerId: center.id });
  const p = new Problems();
  const name = optionalText(p, "name", input.name, { required: true });
  const timezone = input.timezone == null ? null : timeZoneOf(p, input.timezone);
  const address = optionalText(p, "address", input.address, { max: LIMITS.text });
  const phone = optionalText(p, "phone", input.phone, { max: LIMITS.short });
  if (input.status != null && (input.status as string) !== center.status && !ctx.access.isOrgAdmin) {
    p.add("status", UserErrorCode.NOT_ALLOWED, "Only organisation admins may change a center's status");
  }
  intInRange(p, "peerMentorMinimumDays", input.peerMentorMinimumDays, 0, 3650);
  intInRange(p, "maxMenteesPerMentor", input.maxMenteesPerMentor, 1, 20);
  intInRange(p, "lateEntryWindowDays", input.lateEntryWindowDays, 0, 60);
  intInRange(p, "checkInOpensMinutesBefore", input.checkInOpensMinutesBefore, 0, 240);
  intInRange(p, "checkInClosesMinutesAfter", input.checkInClosesMinutesAfter, 0, 240);
  p.throwIfAny();
  const row = await ctx.db.transaction(async (tx) => {
    // The zone the sessions were generated in, read under the row lock this update takes anyway.
    const [before] = timezone ? await tx.select({ timezone: centers.timezone }).from(centers).where(eq(centers.id, center.id)).for("update") : [center];
    const [updated] = await tx
      .update(centers)
      .set({
        ...(name ? { name } : {}),
        ...(timezone ? { timezone } : {}),
        ...(address !== undefined ? { address } : {}),
        ...(phone !== undefined ? { phone } : {}),
        ...(input.status ? { status: input.status } : {}),
        ...(input.peerMentorMinimumDays != null ? { peerMentorMinimumDays: input.peerMentorMinimumDays } : {}),
        ...(input.maxMenteesPerMentor != null ? { maxMenteesPerMentor: input.maxMenteesPerMentor } : {}),
        ...(input.lateEntryWindowDays != null ? { lateEntryWindowDays: input.lateEntryWindowDays } : {}),
        ...(input.checkInOpensMinutesBefore != null ? { checkInOpensMinutesBefore: input.checkInOpensMinutesBefore } : {}),
        ...(input.checkInClosesMinutesAfter != null ? { checkInClosesMinutesAfter: input.checkInClosesMinutesAfter } : {}),
        updatedAt: clock.now(),
      })
      .where(eq(centers.id, center.id))
      .returning();
    if (timezone && timezone !== before.timezone) {
      // Sessions are generated in the center's wall-clock time: refit the untouched future ones of
      // every open group, each under its group lock, in id order (as other writers take them).
      const open = await tx
        .select()
        .from(groups)
        .where(and(eq(groups.centerId, center.id), ne(groups.status, "CLOSED")))
        .orderBy(asc(groups.id))
        .for("update");
      for (const group of open) await realignFutureSessions(tx, group, updated.timezone, undefined, before.timezone);
    }
    return updated;
  });
  ctx.loaders.centers.byId.clear(row.id).prime(row.id, row);
  return row;
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

/**
 * Changes a group. A new schedule or dates refit its future sessions; closing it cancels them and
 * withdraws its waitlist; raised capacity goes to the waitlist.
 */
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
  if (input.status && (input.status as string) !== group.status && !TRANSITIONS[group.status].includes(input.status)) {
    p.add("status", UserErrorCode.INVALID_TRANSITION, `A ${group.status} group cannot become ${input.status}`);
  }
  const facilitators = input.facilitatorIds != null ? await facilitatorsOf(ctx, p, group.centerId, input.facilitatorIds, input.leadFacilitatorId) : undefined;
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
