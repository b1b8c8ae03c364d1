// Milestones: computed, never stored, from the recovery start date, attended sessions and completed
// programs; only a celebration is stored. Every date is a calendar day in the center's time zone.
import { and, eq } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { badInput, UserErrorCode, UserInputError } from "../common/errors.js";
import { milestoneCelebrations, type ParticipantRow } from "../db/schema.js";
import { findReadableParticipant } from "../participants/participant.service.js";
import { addDays, dayInZone } from "../sessions/timezone.js";
import type { MarkMilestoneCelebratedInput } from "./milestone.inputs.js";
import { ATTENDANCE_MARKS } from "./milestone.loaders.js";
import { Milestone, MilestoneKind } from "./milestone.type.js";

/** Bounds of `withinDays` on upcoming-milestone lists. */
const MAX_WITHIN_DAYS = 366;
/** A milestone may be marked celebrated once reached, or up to this many days ahead of it. */
const CELEBRATE_AHEAD_DAYS = 31;

const KIND_ORDER = [MilestoneKind.RECOVERY, MilestoneKind.ATTENDANCE, MilestoneKind.COMPLETION];

/**
 * `day` plus `months` calendar months; a day that the target month lacks becomes its last day
 * (31 August + 6 months = 28 February, or 29 in a leap year; 29 February + 12 months = 28 February).
 */
export function addMonths(day: string, months: number): string {
  const [y, m, d] = day.split("-").map(Number);
  const monthIndex = m - 1 + months;
  const year = y + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return `${String(year).padStart(4, "0")}-${String(month + 1).padStart(2, "0")}-${String(Math.min(d, lastDay)).padStart(2, "0")}`;
}

/** Recovery milestones from a start date, up to and including `until`, in date order. */
export function recoveryMilestones(start: string, until: string): Array<{ label: string; dueOn: string }> {
  const out: Array<{ label: string; dueOn: string }> = [];
  const push = (label: string, dueOn: string) => {
    if (dueOn <= until) out.push({ label, dueOn });
  };
  push("1 day", addDays(start, 1));
  for (const n of [30, 60, 90]) push(`${n} days`, addDays(start, n));
  push("6 months", addMonths(start, 6));
  push("9 months", addMonths(start, 9));
  for (let years = 1; ; years++) {
    const dueOn = addMonths(start, 12 * years);
    if (dueOn > until) break;
    push(years === 1 ? "1 year" : `${years} years`, dueOn);
  }
  return out;
}

const attendanceLabel = (n: number) => (n === 1 ? "1 session" : `${n} sessions`);

const celebrationKey = (kind: string, label: string, dueOn: string) => `${kind}|${label}|${dueOn}`;

/** Today's date in the participant's center's time zone. */
async function todayFor(ctx: Context, centerId: string): Promise<{ today: string; timezone: string }> {
  const center = await ctx.loaders.centers.byId.load(centerId);
  const timezone = center!.timezone;
  return { today: dayInZone(clock.now(), timezone), timezone };
}

/**
 * Every milestone of a participant due up to `until` (inclusive), oldest first. Batched: a list
 * of participants costs one statement per kind of fact, however many there are.
 */
async function milestonesOf(ctx: Context, participant: ParticipantRow, until: string): Promise<Milestone[]> {
  const l = ctx.loaders.milestones;
  const [{ today, timezone }, marks, completions, celebrations] = await Promise.all([
    todayFor(ctx, participant.centerId),
    l.attendanceMarksByParticipantId.load(participant.id),
    l.completionsByParticipantId.load(participant.id),
    l.celebrationsByParticipantId.load(participant.id),
  ]);
  const celebrated = new Map(celebrations.map((c) => [celebrationKey(c.kind, c.label, c.dueOn), c.celebratedAt]));
  const items: Array<{ kind: MilestoneKind; label: string; dueOn: string; at?: number }> = [];
  if (participant.recoveryStartDate) {
    for (const m of recoveryMilestones(participant.recoveryStartDate, until)) items.push({ kind: MilestoneKind.RECOVERY, ...m });
  }
  for (const mark of marks) {
    if (!ATTENDANCE_MARKS.includes(mark.n as (typeof ATTENDANCE_MARKS)[number])) continue;
    items.push({ kind: MilestoneKind.ATTENDANCE, label: attendanceLabel(mark.n), dueOn: dayInZone(mark.startsAt, timezone), at: mark.n });
  }
  for (const c of completions) {
    items.push({ kind: MilestoneKind.COMPLETION, label: c.programName, dueOn: dayInZone(c.endedAt, timezone), at: c.endedAt.getTime() });
  }
  return items
    .filter((i) => i.dueOn <= until)
    .sort(
      (a, b) =>
        a.dueOn.localeCompare(b.dueOn) ||
        KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
        (a.at ?? 0) - (b.at ?? 0) ||
        a.label.localeCompare(b.label),
    )
    .map((i) =>
      Object.assign(new Milestone(), {
        kind: i.kind,
        label: i.label,
        dueOn: i.dueOn,
        reachedOn: i.dueOn <= today ? i.dueOn : null,
        celebratedAt: celebrated.get(celebrationKey(i.kind, i.label, i.dueOn)) ?? null,
        participantId: participant.id,
        centerId: participant.centerId,
      }),
    );
}

/** Milestones reached up to today, oldest first. */
export async function reachedMilestones(ctx: Context, participant: ParticipantRow): Promise<Milestone[]> {
  const { today } = await todayFor(ctx, participant.centerId);
  return milestonesOf(ctx, participant, today);
}

export function checkWithinDays(withinDays: number): void {
  if (!Number.isInteger(withinDays) || withinDays < 0 || withinDays > MAX_WITHIN_DAYS) {
    throw badInput(`withinDays must be between 0 and ${MAX_WITHIN_DAYS}`, "withinDays");
  }
}

/** Milestones due from today to today + withinDays, both inclusive (one due today is also reached). */
export async function upcomingMilestones(ctx: Context, participant: ParticipantRow, withinDays: number): Promise<Milestone[]> {
  const { today } = await todayFor(ctx, participant.centerId);
  const all = await milestonesOf(ctx, participant, addDays(today, withinDays));
  return all.filter((m) => m.dueOn >= today);
}

/** A group's upcoming milestones: its ACTIVE members who have not opted out, soonest first. */
export async function groupUpcomingMilestones(ctx: Context, groupId: string, withinDays: number): Promise<Milestone[]> {
  const members = await ctx.loaders.milestones.celebratingMembersByGroupId.load(groupId);
  const lists = await Promise.all(members.map((m) => upcomingMilestones(ctx, m.participant, withinDays)));
  const byId = new Map(members.map((m) => [m.participant.id, m.participant]));
  const name = (id: string) => `${byId.get(id)!.lastName}\u0000${byId.get(id)!.firstName}\u0000${id}`;
  return lists.flat().sort((a, b) => a.dueOn.localeCompare(b.dueOn) || name(a.participantId).localeCompare(name(b.participantId)));
}

export async function markMilestoneCelebrated(ctx: Context, input: MarkMilestoneCelebratedInput): Promise<Milestone> {
  const participant = await findReadableParticipant(ctx, input.participantId, "participantId");
  const groupIds = (await ctx.loaders.participants.groupIdsByParticipantId.load(participant.id)).map((r) => r.groupId);
  ctx.access.require("milestone.celebrate", { centerId: participant.centerId, groupIds }, "Your role does not allow celebrating milestones");
  const { today } = await todayFor(ctx, participant.centerId);
  const label = input.label.trim();
  const candidates = (await milestonesOf(ctx, participant, addDays(today, CELEBRATE_AHEAD_DAYS))).filter(
    (m) => m.kind === input.kind && m.label === label && (!input.dueOn || m.dueOn === input.dueOn),
  );
  if (candidates.length === 0) {
    throw UserInputError.of(
      input.dueOn ? "dueOn" : "label",
      UserErrorCode.NOT_FOUND,
      `The participant has no ${input.kind.toLowerCase()} milestone "${label.slice(0, 100)}" reached or due within ${CELEBRATE_AHEAD_DAYS} days`,
    );
  }
  if (candidates.length > 1) {
    throw UserInputError.of("dueOn", UserErrorCode.REQUIRED, "Two milestones share that label; give dueOn to say which");
  }
  const milestone = candidates[0];
  if (milestone.celebratedAt) return milestone;
  // Marking twice (or twice at once) keeps the first celebration.
  await ctx.db
    .insert(milestoneCelebrations)
    .values({
      centerId: participant.centerId,
      participantId: participant.id,
      kind: milestone.kind,
      label: milestone.label,
      dueOn: milestone.dueOn,
      celebratedAt: clock.now(),
      celebratedByStaffId: ctx.access.staffId,
    })
    .onConflictDoNothing();
  const [row] = await ctx.db
    .select({ celebratedAt: milestoneCelebrations.celebratedAt })
    .from(milestoneCelebrations)
    .where(
      and(
        eq(milestoneCelebrations.participantId, participant.id),
        eq(milestoneCelebrations.kind, milestone.kind),
        eq(milestoneCelebrations.label, milestone.label),
        eq(milestoneCelebrations.dueOn, milestone.dueOn),
      ),
    );
  ctx.loaders.milestones.celebrationsByParticipantId.clear(participant.id);
  return Object.assign(milestone, { celebratedAt: row.celebratedAt });
}
