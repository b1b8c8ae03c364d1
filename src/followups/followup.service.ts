// Follow-ups: the safety net. They open, resolve and note returns inside the attendance
// transaction (followUpStep, registered in attendance.service's attendanceWriteSteps); staff
// claim, reassign and complete them. Every change is kept in follow_up_events.
import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { forbidden, Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { decodeId } from "../common/ids.js";
import { idOf, LIMITS, notFound, text } from "../common/validate.js";
import type { Tx } from "../db/client.js";
import {
  attendance,
  centers,
  enrollments,
  followUpEvents,
  followUps,
  groupFacilitators,
  groups,
  programs,
  sessions,
  staff,
  staffMemberships,
  type FollowUpRow,
} from "../db/schema.js";
import type { AttendanceWriteStep } from "../attendance/attendance.service.js";
import { addDays, dayInZone } from "../sessions/timezone.js";
import type { ClaimFollowUpInput, CompleteFollowUpInput, ReassignFollowUpInput } from "./followup.inputs.js";

const ATTENDED = new Set(["PRESENT", "LATE", "LEFT_EARLY"]);

// ---------------------------------------------------------------------------------------------
// Reach
// ---------------------------------------------------------------------------------------------

const target = (f: Pick<FollowUpRow, "centerId" | "groupId">) => ({ centerId: f.centerId, groupIds: [f.groupId] });

/** The refusal for a role that may never read follow-ups (VIEWER): they name participants. */
export const followUpsForbidden = () => forbidden("Your role does not allow reading follow-ups");

/**
 * How a follow-up reads for the viewer: readable; missing (another center, or a facilitator of
 * other groups); or refused (a VIEWER), as participants do.
 */
export function followUpVisibility(ctx: Context, f: FollowUpRow): "readable" | "missing" | "forbidden" {
  if (!ctx.access.canSeeCenter(f.centerId)) return "missing";
  if (ctx.access.can("followup.read", target(f))) return "readable";
  return ctx.access.refusalOf("CLINICAL", f.centerId);
}

async function findActionable(ctx: Context, globalId: string): Promise<FollowUpRow> {
  const id = idOf("FollowUp", globalId, "followUpId");
  const row = await ctx.loaders.followUps.byId.load(id);
  const visibility = row ? followUpVisibility(ctx, row) : "missing";
  if (visibility === "missing") throw notFound("FollowUp", "followUpId");
  if (visibility === "forbidden") throw followUpsForbidden();
  ctx.access.require("followup.write", target(row!), "Your role does not allow acting on this follow-up");
  return row!;
}

// ---------------------------------------------------------------------------------------------
// Opening, resolving and returns: inside the attendance transaction
// ---------------------------------------------------------------------------------------------

interface Rec {
  sessionId: string;
  startsAt: Date;
  status: string;
}

/** ABSENT records strictly between the last attended record at or before `t` and the first after it. */
function absencesAround(recs: Rec[], t: Date): { count: number; returnedAt: Date | null } {
  let lower = -Infinity;
  let upper = Infinity;
  for (const r of recs) {
    const s = r.startsAt.getTime();
    if (!ATTENDED.has(r.status)) continue;
    if (s <= t.getTime()) lower = Math.max(lower, s);
    else upper = Math.min(upper, s);
  }
  const count = recs.filter((r) => r.status === "ABSENT" && r.startsAt.getTime() > lower && r.startsAt.getTime() < upper).length;
  return { count, returnedAt: Number.isFinite(upper) ? new Date(upper) : null };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * After a batch: for each participant it wrote, in the session's group —
 *  - an OPEN follow-up whose absences a correction took below the threshold is RESOLVED;
 *  - an OPEN follow-up notes (returnedAt) the first session attended after the one that opened it;
 *  - with none OPEN, absences in a row reaching the threshold open one, unless one already
 *    COMPLETED covers them (absences after its completion count again).
 * A transaction-scoped lock on the group serializes this for concurrent batches of the group's
 * sessions, so each sees the other's records; the partial unique index is the last guard.
 */
export const followUpStep: AttendanceWriteStep = async (tx, { group, actorStaffId }, writes) => {
  if (!writes.length) return;
  const participantIds = [...new Set(writes.map((w) => w.after.participantId))];
  // The lock first, then the four reads, all sent together (one round trip): PostgreSQL runs them
  // one after the other, each read with a snapshot taken as it starts, so the reads start once the
  // lock is held and see the records of a batch that held it before. The order sent is the order
  // in which `then` is called: the lock's at once, the reads' a promise turn later (Promise.all),
  // all of them select builders, which reach the driver after the same number of turns. (The lock
  // as `tx.execute` reached it later than a builder started after it: it was awaited alone then.)
  const lock = tx
    .select({ held: sql<string>`pg_advisory_xact_lock(hashtextextended(${`follow-ups:${group.id}`}, 0))::text` })
    .from(groups)
    .where(eq(groups.id, group.id));
  const locked = new Promise<unknown>((resolve, reject) => void lock.then(resolve, reject));
  const reads = Promise.all([
    tx
      .select({ threshold: programs.absencesBeforeFollowUp, timezone: centers.timezone, name: groups.name })
      .from(groups)
      .innerJoin(programs, eq(programs.id, groups.programId))
      .innerJoin(centers, eq(centers.id, groups.centerId))
      .where(eq(groups.id, group.id)),
    tx
      .select({ participantId: attendance.participantId, sessionId: sessions.id, startsAt: sessions.startsAt, status: attendance.status })
      .from(attendance)
      .innerJoin(sessions, eq(sessions.id, attendance.sessionId))
      .where(
        and(
          eq(sessions.groupId, group.id),
          inArray(attendance.participantId, participantIds),
          ne(sessions.status, "CANCELLED"),
          ne(attendance.status, "EXCUSED"),
        ),
      )
      .orderBy(asc(sessions.startsAt)),
    tx
      .select({ followUp: followUps, triggeredAt: sessions.startsAt })
      .from(followUps)
      .innerJoin(sessions, eq(sessions.id, followUps.sessionId))
      .where(and(eq(followUps.groupId, group.id), inArray(followUps.participantId, participantIds), inArray(followUps.status, ["OPEN", "COMPLETED"]))),
    tx
      .selectDistinct({ participantId: enrollments.participantId })
      .from(enrollments)
      .where(and(eq(enrollments.groupId, group.id), inArray(enrollments.participantId, participantIds), eq(enrollments.status, "ACTIVE"))),
  ]);
  const [, [[policy], recRows, existing, active]] = await Promise.all([locked, reads]);
  if (!policy || policy.threshold < 1) return;
  const now = clock.now();
  const activeIds = new Set(active.map((a) => a.participantId));
  const recsOf = new Map<string, Rec[]>();
  for (const r of recRows) recsOf.set(r.participantId, [...(recsOf.get(r.participantId) ?? []), r]);

  const toOpen: Array<{ participantId: string; trigger: Rec; absences: number }> = [];
  const events: Array<typeof followUpEvents.$inferInsert> = [];
  for (const participantId of participantIds) {
    const recs = recsOf.get(participantId) ?? [];
    const mine = existing.filter((e) => e.followUp.participantId === participantId);
    const open = mine.find((e) => e.followUp.status === "OPEN");
    if (open) {
      const f = open.followUp;
      const { count, returnedAt } = absencesAround(recs, open.triggeredAt);
      if (count < policy.threshold) {
        const resolution = `Attendance corrected: ${plural(count, "absence")} in a row, below the program's ${policy.threshold}`;
        await tx.update(followUps).set({ status: "RESOLVED", resolvedAt: now, resolution, updatedAt: now }).where(eq(followUps.id, f.id));
        events.push({ centerId: f.centerId, followUpId: f.id, kind: "RESOLVED", actorStaffId, note: resolution, occurredAt: now });
      } else if ((returnedAt?.getTime() ?? null) !== (f.returnedAt?.getTime() ?? null)) {
        await tx.update(followUps).set({ returnedAt, updatedAt: now }).where(eq(followUps.id, f.id));
        events.push({
          centerId: f.centerId,
          followUpId: f.id,
          kind: f.returnedAt === null ? "RETURNED" : "RETURN_CORRECTED",
          actorStaffId,
          note: returnedAt ? `Attended the session of ${returnedAt.toISOString()}` : "The attendance noted as a return was corrected",
          occurredAt: now,
        });
      }
      if (count >= policy.threshold) continue; // still open: no second one
    }
    if (!activeIds.has(participantId)) continue;
    // The current run: ABSENT records after the latest attended one (EXCUSED were left out above).
    let lastAttended = -Infinity;
    for (const r of recs) if (ATTENDED.has(r.status)) lastAttended = Math.max(lastAttended, r.startsAt.getTime());
    // A follow-up COMPLETED during this run already answered the absences before its completion.
    let since = lastAttended;
    for (const e of mine) {
      if (e.followUp.status === "COMPLETED" && e.triggeredAt.getTime() > lastAttended && e.followUp.completedAt) {
        since = Math.max(since, e.followUp.completedAt.getTime());
      }
    }
    const run = recs.filter((r) => r.status === "ABSENT" && r.startsAt.getTime() > lastAttended);
    const counted = run.filter((r) => r.startsAt.getTime() > since);
    if (counted.length >= policy.threshold) toOpen.push({ participantId, trigger: run[run.length - 1], absences: run.length });
  }

  if (toOpen.length) {
    const assigneeStaffId = await defaultAssignee(tx, group.id, group.centerId);
    const created = await tx
      .insert(followUps)
      .values(
        toOpen.map((o) => ({
          centerId: group.centerId,
          participantId: o.participantId,
          groupId: group.id,
          sessionId: o.trigger.sessionId,
          reason: `${plural(o.absences, "absence")} in a row from ${policy.name}`,
          absences: o.absences,
          status: "OPEN",
          openedAt: now,
          dueOn: addDays(dayInZone(o.trigger.startsAt, policy.timezone), 2),
          assigneeStaffId,
          createdAt: now,
          updatedAt: now,
        })),
      )
      .onConflictDoNothing()
      .returning();
    for (const f of created) {
      events.push({
        centerId: f.centerId,
        followUpId: f.id,
        kind: "OPENED",
        actorStaffId,
        toAssigneeStaffId: assigneeStaffId,
        note: f.reason,
        occurredAt: now,
      });
    }
  }
  if (events.length) await tx.insert(followUpEvents).values(events);
};

/**
 * The group's lead facilitator (active, still on the center's staff), else the center's active
 * clinician with the fewest OPEN follow-ups; null when there is neither.
 */
async function defaultAssignee(tx: Tx, groupId: string, centerId: string): Promise<string | null> {
  const [lead] = await tx
    .select({ staffId: groupFacilitators.staffId })
    .from(groupFacilitators)
    .innerJoin(staff, eq(staff.id, groupFacilitators.staffId))
    .innerJoin(staffMemberships, and(eq(staffMemberships.staffId, staff.id), eq(staffMemberships.centerId, centerId)))
    .where(
      and(
        eq(groupFacilitators.groupId, groupId),
        eq(groupFacilitators.role, "LEAD"),
        eq(staff.status, "ACTIVE"),
        inArray(staffMemberships.role, ["ADMIN", "CLINICIAN", "FACILITATOR"]),
      ),
    )
    .limit(1);
  if (lead) return lead.staffId;
  const [clinician] = await tx
    .select({ staffId: staff.id })
    .from(staffMemberships)
    .innerJoin(staff, eq(staff.id, staffMemberships.staffId))
    .where(and(eq(staffMemberships.centerId, centerId), eq(staffMemberships.role, "CLINICIAN"), eq(staff.status, "ACTIVE")))
    .orderBy(sql`(select count(*) from ${followUps} f where f.assignee_staff_id = ${staff.id} and f.status = 'OPEN')`, asc(staff.name), asc(staff.id))
    .limit(1);
  return clinician?.staffId ?? null;
}

// ---------------------------------------------------------------------------------------------
// Staff actions
// ---------------------------------------------------------------------------------------------

type EventChange = Pick<typeof followUpEvents.$inferInsert, "kind"> &
  Partial<Pick<typeof followUpEvents.$inferInsert, "fromAssigneeStaffId" | "toAssigneeStaffId" | "outcome" | "note">>;

/** Locks the follow-up, refuses unless it is OPEN, applies the change and records the event. */
async function transition(
  ctx: Context,
  followUp: FollowUpRow,
  change: (current: FollowUpRow, now: Date) => { set: Partial<typeof followUps.$inferInsert>; event: EventChange } | null,
): Promise<FollowUpRow> {
  const row = await ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(followUps).where(eq(followUps.id, followUp.id)).for("update");
    if (current.status !== "OPEN") {
      throw UserInputError.of("followUpId", UserErrorCode.INVALID_TRANSITION, `The follow-up is ${current.status}, not OPEN`);
    }
    const now = clock.now();
    const c = change(current, now);
    if (!c) return current; // nothing to change: a retry
    const [updated] = await tx
      .update(followUps)
      .set({ ...c.set, updatedAt: now })
      .where(eq(followUps.id, current.id))
      .returning();
    await tx.insert(followUpEvents).values({
      centerId: current.centerId,
      followUpId: current.id,
      actorStaffId: ctx.access.staffId,
      occurredAt: now,
      ...c.event,
    });
    return updated;
  });
  ctx.loaders.followUps.byId.clear(row.id).prime(row.id, row);
  ctx.loaders.followUps.eventsByFollowUpId.clear(row.id);
  return row;
}

export async function claimFollowUp(ctx: Context, input: ClaimFollowUpInput): Promise<FollowUpRow> {
  const followUp = await findActionable(ctx, input.followUpId);
  const me = ctx.access.requireViewer().staffId;
  return transition(ctx, followUp, (current) =>
    current.assigneeStaffId === me
      ? null
      : { set: { assigneeStaffId: me }, event: { kind: "CLAIMED", fromAssigneeStaffId: current.assigneeStaffId, toAssigneeStaffId: me } },
  );
}

export async function reassignFollowUp(ctx: Context, input: ReassignFollowUpInput): Promise<FollowUpRow> {
  const followUp = await findActionable(ctx, input.followUpId);
  const p = new Problems();
  const note = text(p, "note", input.note, { max: LIMITS.note });
  const assigneeId = decodeId(input.assigneeId, "Staff");
  p.throwIfAny();
  const [candidate] = assigneeId
    ? await ctx.db
        .select({ role: staffMemberships.role, status: staff.status })
        .from(staffMemberships)
        .innerJoin(staff, eq(staff.id, staffMemberships.staffId))
        .where(and(eq(staffMemberships.staffId, assigneeId), eq(staffMemberships.centerId, followUp.centerId)))
    : [];
  if (!candidate) throw UserInputError.of("assigneeId", UserErrorCode.NOT_FOUND, "No staff member with that id at this center");
  const facilitates =
    candidate.role === "FACILITATOR" ? (await ctx.loaders.groups.facilitatorsByGroupId.load(followUp.groupId)).some((f) => f.staffId === assigneeId) : false;
  if (candidate.status !== "ACTIVE" || !(candidate.role === "ADMIN" || candidate.role === "CLINICIAN" || facilitates)) {
    throw UserInputError.of(
      "assigneeId",
      UserErrorCode.NOT_ALLOWED,
      "That staff member cannot act on this follow-up: it needs active clinical staff of the center or a facilitator of its group",
    );
  }
  return transition(ctx, followUp, (current) =>
    current.assigneeStaffId === assigneeId
      ? null
      : {
          set: { assigneeStaffId: assigneeId },
          event: { kind: "REASSIGNED", fromAssigneeStaffId: current.assigneeStaffId, toAssigneeStaffId: assigneeId, note },
        },
  );
}

export async function completeFollowUp(ctx: Context, input: CompleteFollowUpInput): Promise<FollowUpRow> {
  const followUp = await findActionable(ctx, input.followUpId);
  const p = new Problems();
  const note = text(p, "note", input.note, { max: LIMITS.note });
  p.throwIfAny();
  const me = ctx.access.requireViewer().staffId;
  return transition(ctx, followUp, (_current, now) => ({
    set: { status: "COMPLETED", outcome: input.outcome, note, completedAt: now, completedByStaffId: me },
    event: { kind: "COMPLETED", outcome: input.outcome, note },
  }));
}
