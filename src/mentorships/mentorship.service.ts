// Peer mentoring. A mentor is eligible when their recovery started at least the center's
// peerMentorMinimumDays before today (center's time zone) or they completed a program; they may
// have at most the center's maxMenteesPerMentor current mentees. Assignments for one mentor are
// serialised by locking the mentor's row, so two racing for the last slot cannot both win.
import { and, count, eq, isNull } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { isUniqueViolation, Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { decodeId } from "../common/ids.js";
import { LIMITS, notFound, text } from "../common/validate.js";
import type { Tx } from "../db/client.js";
import { centers, enrollments, mentorships, participants, type MentorshipRow, type ParticipantRow } from "../db/schema.js";
import { canReadParticipant, participantsForbidden, participantVisibility } from "../participants/participant.service.js";
import { addDays, dayInZone } from "../sessions/timezone.js";
import type { AssignPeerMentorInput, EndMentorshipInput } from "./mentorship.inputs.js";

const ALREADY_PAIRED = "This mentor and mentee are already paired";

/** A participant by global id the viewer may read; NOT_FOUND when missing or out of reach. */
async function participantFor(ctx: Context, globalId: string, field: string): Promise<ParticipantRow> {
  const id = decodeId(globalId, "Participant");
  const row = id ? await ctx.loaders.participants.byId.load(id) : null;
  const visibility = row ? await participantVisibility(ctx, row) : "missing";
  if (visibility === "forbidden") throw participantsForbidden();
  if (visibility === "missing") throw notFound("Participant", field);
  return row!;
}

/** How a mentorship reads for the viewer: both people readable, else missing (or refused to VIEWERs). */
export async function mentorshipVisibility(ctx: Context, row: MentorshipRow): Promise<"readable" | "missing" | "forbidden"> {
  if (!ctx.access.canSeeCenter(row.centerId)) return "missing";
  const [mentor, mentee] = await Promise.all([ctx.loaders.participants.byId.load(row.mentorId), ctx.loaders.participants.byId.load(row.menteeId)]);
  if (!mentor || !mentee) return "missing";
  const [a, b] = await Promise.all([participantVisibility(ctx, mentor), participantVisibility(ctx, mentee)]);
  if (a === "forbidden" || b === "forbidden") return "forbidden";
  return a === "readable" && b === "readable" ? "readable" : "missing";
}

/** Whether a participant may mentor, as of `today`: far enough in recovery, or a program completed. */
async function isEligible(tx: Tx, mentor: ParticipantRow, minimumDays: number, today: string): Promise<boolean> {
  if (mentor.recoveryStartDate && mentor.recoveryStartDate <= addDays(today, -minimumDays)) return true;
  const [completed] = await tx
    .select({ id: enrollments.id })
    .from(enrollments)
    .where(and(eq(enrollments.participantId, mentor.id), eq(enrollments.status, "COMPLETED")))
    .limit(1);
  return Boolean(completed);
}

export async function assignPeerMentor(ctx: Context, input: AssignPeerMentorInput): Promise<MentorshipRow> {
  const mentor = await participantFor(ctx, input.mentorId, "mentorId");
  const mentee = await participantFor(ctx, input.menteeId, "menteeId");
  const p = new Problems();
  if (mentor.id === mentee.id) {
    p.add("menteeId", UserErrorCode.SAME_PARTICIPANT, "A participant cannot be their own peer mentor");
  } else if (mentor.centerId !== mentee.centerId) {
    p.add("menteeId", UserErrorCode.CENTER_MISMATCH, "The mentor and the mentee belong to different centers");
  }
  p.throwIfAny();
  ctx.access.require("participant.write", { centerId: mentor.centerId }, "Only clinical staff may pair peer mentors");
  if (mentor.status !== "ACTIVE") p.add("mentorId", UserErrorCode.MENTOR_NOT_ELIGIBLE, `The mentor is ${mentor.status.toLowerCase()}`);
  if (mentee.status !== "ACTIVE") p.add("menteeId", UserErrorCode.INVALID, `The mentee is ${mentee.status.toLowerCase()}`);
  p.throwIfAny();
  try {
    return await ctx.db.transaction(async (tx) => {
      // The mentor's row is the lock: assignments to one mentor take turns.
      const [locked] = await tx.select().from(participants).where(eq(participants.id, mentor.id)).for("update");
      const [center] = await tx.select().from(centers).where(eq(centers.id, locked.centerId));
      const now = clock.now();
      const today = dayInZone(now, center.timezone);
      if (!(await isEligible(tx, locked, center.peerMentorMinimumDays, today))) {
        throw UserInputError.of(
          "mentorId",
          UserErrorCode.MENTOR_NOT_ELIGIBLE,
          `A peer mentor needs ${center.peerMentorMinimumDays} days in recovery or a completed program`,
        );
      }
      const current = and(eq(mentorships.mentorId, locked.id), isNull(mentorships.endedAt));
      const [paired] = await tx
        .select({ id: mentorships.id })
        .from(mentorships)
        .where(and(current, eq(mentorships.menteeId, mentee.id)));
      if (paired) throw UserInputError.of("menteeId", UserErrorCode.ALREADY_PAIRED, ALREADY_PAIRED);
      const [{ n }] = await tx.select({ n: count() }).from(mentorships).where(current);
      if (Number(n) >= center.maxMenteesPerMentor) {
        throw UserInputError.of(
          "mentorId",
          UserErrorCode.MENTOR_AT_CAPACITY,
          `The mentor already has ${center.maxMenteesPerMentor} current mentees, the most this center allows`,
        );
      }
      const [row] = await tx
        .insert(mentorships)
        .values({
          centerId: locked.centerId,
          mentorId: locked.id,
          menteeId: mentee.id,
          startedOn: today,
          startedAt: now,
          startedByStaffId: ctx.access.staffId,
        })
        .returning();
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err, "mentorships_current_uq")) throw UserInputError.of("menteeId", UserErrorCode.ALREADY_PAIRED, ALREADY_PAIRED);
    throw err;
  }
}

export async function endMentorship(ctx: Context, input: EndMentorshipInput): Promise<MentorshipRow> {
  const id = decodeId(input.mentorshipId, "Mentorship");
  const row = id ? await ctx.loaders.mentorships.byId.load(id) : null;
  const visibility = row ? await mentorshipVisibility(ctx, row) : "missing";
  if (visibility === "forbidden") throw participantsForbidden();
  if (visibility === "missing") throw notFound("Mentorship", "mentorshipId");
  ctx.access.require("participant.write", { centerId: row!.centerId }, "Only clinical staff may end peer mentorships");
  const p = new Problems();
  const reason = text(p, "reason", input.reason, { max: LIMITS.text });
  p.throwIfAny();
  const center = await ctx.loaders.centers.byId.load(row!.centerId);
  const now = clock.now();
  const [ended] = await ctx.db
    .update(mentorships)
    .set({ endedAt: now, endedOn: dayInZone(now, center!.timezone), endReason: reason, endedByStaffId: ctx.access.staffId })
    .where(and(eq(mentorships.id, row!.id), isNull(mentorships.endedAt)))
    .returning();
  if (!ended) throw UserInputError.of("mentorshipId", UserErrorCode.INVALID_TRANSITION, "This mentorship has already ended");
  ctx.loaders.mentorships.byId.clear(ended.id).prime(ended.id, ended);
  return ended;
}

/** Current mentorships of a participant on one side, limited to those whose other person the viewer may read. */
export async function readableMentorships(ctx: Context, rows: MentorshipRow[], other: (r: MentorshipRow) => string): Promise<MentorshipRow[]> {
  const checks = await Promise.all(
    rows.map(async (r) => {
      const person = await ctx.loaders.participants.byId.load(other(r));
      return Boolean(person && (await canReadParticipant(ctx, person)));
    }),
  );
  return rows.filter((_, i) => checks[i]);
}
