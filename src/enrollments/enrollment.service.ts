import { and, asc, eq, gte, inArray, lte, sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { isUniqueViolation, Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { decodeId } from "../common/ids.js";
import { WriteSteps } from "../common/steps.js";
import { idOf, LIMITS, notFound, text } from "../common/validate.js";
import type { Tx } from "../db/client.js";
import { attendance, enrollmentEvents, enrollments, programs, sessions, type EnrollmentRow, type GroupRow } from "../db/schema.js";
import { findVisibleGroup, lockGroup } from "../groups/group.service.js";
import type { EndEnrollmentInput, EnrollParticipantInput, UpdateEnrollmentInput } from "./enrollment.inputs.js";
import { EnrollmentEndStatus } from "./enrollment.type.js";

/** @public */
export const ATTENDED_STATUSES = ["PRESENT", "LATE", "LEFT_EARLY"] as const;
const ENDING: Record<string, string[]> = {
  ACTIVE: ["COMPLETED", "WITHDRAWN", "DISCHARGED"],
  WAITLISTED: ["WITHDRAWN", "DISCHARGED"],
};

/** Steps run in the transaction that ends an ACTIVE enrolment (composed in src/steps.ts): the ended enrolment. */
export const enrollmentEndSteps = new WriteSteps<[EnrollmentRow]>("enrollment ended");

/** Steps run in the transaction that enrols participants or gives them a seat (composed in src/steps.ts). */
export const enrollmentWriteSteps = new WriteSteps<[EnrollmentRow[]]>("enrollment written");

/** An enrolment whose group the viewer can see, or NOT_FOUND. */
async function findVisibleEnrollment(ctx: Context, globalId: string, field: string): Promise<{ enrollment: EnrollmentRow; group: GroupRow }> {
  const id = idOf("Enrollment", globalId, field);
  const enrollment = await ctx.loaders.enrollments.byId.load(id);
  const group = enrollment ? await ctx.loaders.groups.byId.load(enrollment.groupId) : null;
  if (!enrollment || !group || !ctx.access.canSeeCenter(group.centerId) || !ctx.access.canSeeGroup(group)) {
    throw notFound("Enrollment", field);
  }
  return { enrollment, group };
}

async function recordEvent(
  tx: Tx,
  e: Pick<EnrollmentRow, "id" | "centerId">,
  fromStatus: string | null,
  toStatus: string,
  actorStaffId: string | null,
  reason: string | null,
) {
  await tx.insert(enrollmentEvents).values({ centerId: e.centerId, enrollmentId: e.id, fromStatus, toStatus, actorStaffId, reason });
}

/** The same transition of several enrolments, in one statement. */
async function recordEvents(
  tx: Tx,
  rows: Array<Pick<EnrollmentRow, "id" | "centerId">>,
  fromStatus: string,
  toStatus: string,
  actorStaffId: string | null,
  reason: string,
) {
  if (!rows.length) return;
  await tx.insert(enrollmentEvents).values(rows.map((e) => ({ centerId: e.centerId, enrollmentId: e.id, fromStatus, toStatus, actorStaffId, reason })));
}

export async function activeEnrollmentCount(tx: Tx, groupId: string): Promise<number> {
  const [{ n }] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(enrollments)
    .where(and(eq(enrollments.groupId, groupId), eq(enrollments.status, "ACTIVE")));
  return Number(n);
}

/**
 * Gives free seats to the waitlist, first come first served. Call with the group row locked.
 */
export async function promoteWaitlist(tx: Tx, group: GroupRow, actorStaffId: string | null, reason: string): Promise<EnrollmentRow[]> {
  if (group.status === "CLOSED") return [];
  const free = group.capacity - (await activeEnrollmentCount(tx, group.id));
  if (free <= 0) return [];
  const next = await tx
    .select({ id: enrollments.id })
    .from(enrollments)
    .where(and(eq(enrollments.groupId, group.id), eq(enrollments.status, "WAITLISTED")))
    .orderBy(asc(enrollments.seq))
    .limit(free);
  if (next.length === 0) return [];
  const now = clock.now();
  const promoted = await tx
    .update(enrollments)
    .set({ status: "ACTIVE", activatedAt: now, updatedAt: now })
    .where(
      inArray(
        enrollments.id,
        next.map((n) => n.id),
      ),
    )
    .returning();
  await recordEvents(tx, promoted, "WAITLISTED", "ACTIVE", actorStaffId, reason);
  await enrollmentWriteSteps.run(tx, promoted);
  return promoted;
}

/** Closed cohorts take no one once their first session has started. */
/**
 * Withdraws the whole waitlist of a group that closed: those seats will never come. ACTIVE
 * enrolments stay for staff to complete or discharge. Call with the group row locked.
 */
export async function withdrawWaitlist(tx: Tx, groupId: string, actorStaffId: string | null, reason: string): Promise<EnrollmentRow[]> {
  const now = clock.now();
  const withdrawn = await tx
    .update(enrollments)
    .set({ status: "WITHDRAWN", endedAt: now, endReason: reason, updatedAt: now })
    .where(and(eq(enrollments.groupId, groupId), eq(enrollments.status, "WAITLISTED")))
    .returning();
  await recordEvents(tx, withdrawn, "WAITLISTED", "WITHDRAWN", actorStaffId, reason);
  return withdrawn;
}

async function cohortStarted(tx: Tx, groupId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.groupId, groupId), lte(sessions.startsAt, clock.now()), sql`${sessions.status} <> 'CANCELLED'`))
    .limit(1);
  return Boolean(row);
}

export async function enrollParticipant(ctx: Context, input: EnrollParticipantInput): Promise<EnrollmentRow> {
  const group = await findVisibleGroup(ctx, input.groupId, "groupId");
  ctx.access.require("enrollment.write", { centerId: group.centerId, groupIds: [group.id] }, "Only clinical staff may enrol participants");
  const participantId = decodeId(input.participantId, "Participant");
  const participant = participantId ? await ctx.loaders.participants.byId.load(participantId) : null;
  if (!participant || !ctx.access.canSeeCenter(participant.centerId)) throw notFound("Participant", "participantId");
  const p = new Problems();
  if (participant.centerId !== group.centerId) {
    p.add("participantId", UserErrorCode.CENTER_MISMATCH, "The participant belongs to another center than the group");
  } else if (participant.status !== "ACTIVE") {
    p.add("participantId", UserErrorCode.INVALID, `The participant is ${participant.status.toLowerCase()}`);
  }
  if (group.status === "CLOSED") p.add("groupId", UserErrorCode.GROUP_NOT_OPEN, "The group is closed");
  p.throwIfAny();
  try {
    return await ctx.db.transaction(async (tx) => {
      const locked = await lockGroup(tx, group.id);
      if (locked.status === "CLOSED") throw UserInputError.of("groupId", UserErrorCode.GROUP_NOT_OPEN, "The group is closed");
      if (locked.enrollmentMode === "CLOSED_COHORT" && (await cohortStarted(tx, group.id))) {
        throw UserInputError.of("groupId", UserErrorCode.GROUP_NOT_OPEN, "This closed cohort has already started");
      }
      const [open] = await tx
        .select({ id: enrollments.id })
        .from(enrollments)
        .where(and(eq(enrollments.groupId, group.id), eq(enrollments.participantId, participant.id), inArray(enrollments.status, ["WAITLISTED", "ACTIVE"])));
      if (open) throw UserInputError.of("participantId", UserErrorCode.ALREADY_ENROLLED, "The participant is already enrolled in or waitlisted for this group");
      await promoteWaitlist(tx, locked, ctx.access.staffId, "Seat available");
      const active = await activeEnrollmentCount(tx, group.id);
      const status = active < locked.capacity ? "ACTIVE" : "WAITLISTED";
      const now = clock.now();
      const [row] = await tx
        .insert(enrollments)
        .values({
          centerId: group.centerId,
          groupId: group.id,
          participantId: participant.id,
          status,
          role: input.role ?? "MEMBER",
          enrolledAt: now,
          activatedAt: status === "ACTIVE" ? now : null,
        })
        .returning();
      await recordEvent(tx, row, null, status, ctx.access.staffId, null);
      await enrollmentWriteSteps.run(tx, [row]);
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err, "enrollments_open_uq")) {
      throw UserInputError.of("participantId", UserErrorCode.ALREADY_ENROLLED, "The participant is already enrolled in or waitlisted for this group");
    }
    throw err;
  }
}

/**
 * Sessions of the group attended for this enrolment: since an earlier enrolment in the same group
 * ended (a re-enrolment starts counting again), backfilled sessions included.
 */
async function attendedCount(tx: Tx, e: EnrollmentRow): Promise<number> {
  const [{ since }] = await tx
    .select({ since: sql<Date | null>`max(${enrollments.endedAt})`.mapWith(enrollments.endedAt) })
    .from(enrollments)
    .where(and(eq(enrollments.groupId, e.groupId), eq(enrollments.participantId, e.participantId), sql`${enrollments.id} <> ${e.id}`));
  const [{ n }] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(attendance)
    .innerJoin(sessions, eq(sessions.id, attendance.sessionId))
    .where(
      and(
        eq(sessions.groupId, e.groupId),
        since ? gte(sessions.startsAt, since) : undefined,
        eq(attendance.participantId, e.participantId),
        inArray(attendance.status, [...ATTENDED_STATUSES]),
      ),
    );
  return Number(n);
}

export async function endEnrollment(ctx: Context, input: EndEnrollmentInput): Promise<EnrollmentRow> {
  const { enrollment, group } = await findVisibleEnrollment(ctx, input.enrollmentId, "enrollmentId");
  ctx.access.require("enrollment.write", { centerId: group.centerId, groupIds: [group.id] }, "Only clinical staff may end enrolments");
  const p = new Problems();
  const reason = text(p, "reason", input.reason, { max: LIMITS.text });
  p.throwIfAny();
  return ctx.db.transaction(async (tx) => {
    const locked = await lockGroup(tx, group.id);
    const [current] = await tx.select().from(enrollments).where(eq(enrollments.id, enrollment.id));
    if (!(ENDING[current.status] ?? []).includes(input.status)) {
      throw UserInputError.of("status", UserErrorCode.INVALID_TRANSITION, `A ${current.status} enrolment cannot become ${input.status}`);
    }
    if (input.status === EnrollmentEndStatus.COMPLETED) {
      const [program] = await tx.select().from(programs).where(eq(programs.id, locked.programId));
      const needed = program?.minimumAttendedSessions;
      if (needed) {
        const attended = await attendedCount(tx, current);
        if (attended < needed) {
          throw UserInputError.of("status", UserErrorCode.INVALID_TRANSITION, `Completion needs ${needed} attended sessions; the participant has ${attended}`);
        }
      }
    }
    const now = clock.now();
    const [row] = await tx
      .update(enrollments)
      .set({ status: input.status, endedAt: now, endReason: reason, updatedAt: now })
      .where(eq(enrollments.id, current.id))
      .returning();
    await recordEvent(tx, row, current.status, input.status, ctx.access.staffId, reason);
    await enrollmentEndSteps.run(tx, row);
    if (current.status === "ACTIVE") await promoteWaitlist(tx, locked, ctx.access.staffId, "Seat freed");
    return row;
  });
}

export async function updateEnrollment(ctx: Context, input: UpdateEnrollmentInput): Promise<EnrollmentRow> {
  const { enrollment, group } = await findVisibleEnrollment(ctx, input.enrollmentId, "enrollmentId");
  ctx.access.require("enrollment.write", { centerId: group.centerId, groupIds: [group.id] }, "Only clinical staff may change enrolments");
  if (!input.role || (input.role as string) === enrollment.role) return enrollment;
  const [row] = await ctx.db.update(enrollments).set({ role: input.role, updatedAt: clock.now() }).where(eq(enrollments.id, enrollment.id)).returning();
  return row;
}
