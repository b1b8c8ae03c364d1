import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import { Policy } from "../common/policy.js";
import type { Context } from "../common/context.js";
import { mutate } from "../common/payload.js";
import type { GroupRow, MentorshipRow, ParticipantRow } from "../db/schema.js";
import { Group } from "../groups/group.type.js";
import { canReadParticipant, participantsForbidden, readableParticipant } from "../participants/participant.service.js";
import { Participant } from "../participants/participant.type.js";
import { AssignPeerMentorInput, AssignPeerMentorPayload, EndMentorshipInput, EndMentorshipPayload } from "./mentorship.inputs.js";
import { assignPeerMentor, endMentorship, readableMentorships } from "./mentorship.service.js";
import { Mentorship } from "./mentorship.type.js";

async function requireReadable(ctx: Context, participant: ParticipantRow): Promise<void> {
  if (!(await canReadParticipant(ctx, participant))) throw participantsForbidden();
}

@Resolver(() => Mentorship)
export class MentorshipResolver {
  @FieldResolver(() => Participant)
  mentor(@Root() row: MentorshipRow, @Ctx() ctx: Context) {
    return readableParticipant(ctx, row.mentorId);
  }

  @FieldResolver(() => Participant)
  mentee(@Root() row: MentorshipRow, @Ctx() ctx: Context) {
    return readableParticipant(ctx, row.menteeId);
  }

  @FieldResolver(() => Boolean, { description: "True until the mentorship is ended." })
  current(@Root() row: MentorshipRow): boolean {
    return row.endedAt === null;
  }

  @Authorized()
  @Policy({ audit: "CREATE" })
  @Mutation(() => AssignPeerMentorPayload, {
    description:
      "Pairs a peer mentor with a mentee of the same center. Clinicians and center admins. Refused: the same person, a mentor not eligible, a mentor at capacity, a pair already current.",
  })
  assignPeerMentor(@Arg("input", () => AssignPeerMentorInput) input: AssignPeerMentorInput, @Ctx() ctx: Context) {
    return mutate("mentorship", () => assignPeerMentor(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => EndMentorshipPayload, { description: "Ends a current mentorship (kept in both people's history). Clinicians and center admins." })
  endMentorship(@Arg("input", () => EndMentorshipInput) input: EndMentorshipInput, @Ctx() ctx: Context) {
    return mutate("mentorship", () => endMentorship(ctx, input));
  }
}

@Resolver(() => Participant)
export class ParticipantMentorshipsResolver {
  @FieldResolver(() => [Participant], { description: "Current peer mentors of this participant." })
  async mentors(@Root() participant: ParticipantRow, @Ctx() ctx: Context) {
    await requireReadable(ctx, participant);
    const rows = (await ctx.loaders.mentorships.asMenteeByParticipantId.load(participant.id)).filter((r) => r.endedAt === null);
    const visible = await readableMentorships(ctx, rows, (r) => r.mentorId);
    return Promise.all(visible.map((r) => ctx.loaders.participants.byId.load(r.mentorId)));
  }

  @FieldResolver(() => [Participant], { description: "Current mentees of this participant, as a peer mentor." })
  async mentees(@Root() participant: ParticipantRow, @Ctx() ctx: Context) {
    await requireReadable(ctx, participant);
    const rows = (await ctx.loaders.mentorships.asMentorByParticipantId.load(participant.id)).filter((r) => r.endedAt === null);
    const visible = await readableMentorships(ctx, rows, (r) => r.menteeId);
    return Promise.all(visible.map((r) => ctx.loaders.participants.byId.load(r.menteeId)));
  }

  @FieldResolver(() => [Mentorship], { description: "Every mentorship, as mentor or mentee, current and ended, newest first." })
  async mentorships(@Root() participant: ParticipantRow, @Ctx() ctx: Context) {
    await requireReadable(ctx, participant);
    const [asMentor, asMentee] = await Promise.all([
      ctx.loaders.mentorships.asMentorByParticipantId.load(participant.id),
      ctx.loaders.mentorships.asMenteeByParticipantId.load(participant.id),
    ]);
    const visible = [...(await readableMentorships(ctx, asMentor, (r) => r.menteeId)), ...(await readableMentorships(ctx, asMentee, (r) => r.mentorId))];
    return visible.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.id.localeCompare(a.id));
  }
}

@Resolver(() => Group)
export class GroupPeerMentorsResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => [Participant], {
    nullable: true,
    description: "Members enrolled in this group with the PEER_MENTOR role (ACTIVE): they mentor within the group. Refused to VIEWERs.",
  })
  async peerMentors(@Root() group: GroupRow, @Ctx() ctx: Context) {
    return (await ctx.loaders.mentorships.peerMentorsByGroupId.load(group.id)).map((r) => r.participant);
  }
}
