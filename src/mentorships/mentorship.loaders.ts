import { and, desc, eq, inArray } from "drizzle-orm";
import { listLoader, tableByIdLoader } from "../common/loaders.js";
import type { Db } from "../db/client.js";
import { enrollments, mentorships, participants, type MentorshipRow, type ParticipantRow } from "../db/schema.js";

export function mentorshipLoaders(db: Db) {
  return {
    byId: tableByIdLoader(db, mentorships),
    /** Every mentorship (current and ended) where the participant mentors, newest first. */
    asMentorByParticipantId: listLoader<MentorshipRow>(
      (ids) =>
        db
          .select()
          .from(mentorships)
          .where(inArray(mentorships.mentorId, [...ids]))
          .orderBy(desc(mentorships.startedAt)),
      (r) => r.mentorId,
    ),
    /** Every mentorship (current and ended) where the participant is mentored, newest first. */
    asMenteeByParticipantId: listLoader<MentorshipRow>(
      (ids) =>
        db
          .select()
          .from(mentorships)
          .where(inArray(mentorships.menteeId, [...ids]))
          .orderBy(desc(mentorships.startedAt)),
      (r) => r.menteeId,
    ),
    /** Participants with an ACTIVE PEER_MENTOR enrolment in each group. */
    peerMentorsByGroupId: listLoader<{ groupId: string; participant: ParticipantRow }>(
      (ids) =>
        db
          .select({ groupId: enrollments.groupId, participant: participants })
          .from(enrollments)
          .innerJoin(participants, eq(participants.id, enrollments.participantId))
          .where(and(inArray(enrollments.groupId, [...ids]), eq(enrollments.status, "ACTIVE"), eq(enrollments.role, "PEER_MENTOR")))
          .orderBy(participants.lastName, participants.firstName, participants.id),
      (r) => r.groupId,
    ),
  };
}
