import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from "type-graphql";
import { Policy } from "../common/policy.js";
import type { Context } from "../common/context.js";
import { mutate } from "../common/payload.js";
import type { GroupRow, ParticipantRow } from "../db/schema.js";
import { Group } from "../groups/group.type.js";
import { canReadParticipant, participantsForbidden, readableParticipant } from "../participants/participant.service.js";
import { Participant } from "../participants/participant.type.js";
import { MarkMilestoneCelebratedInput, MarkMilestoneCelebratedPayload } from "./milestone.inputs.js";
import { checkWithinDays, groupUpcomingMilestones, markMilestoneCelebrated, reachedMilestones, upcomingMilestones } from "./milestone.service.js";
import { Milestone } from "./milestone.type.js";

const WITHIN_DAYS = { defaultValue: 14, description: "Days ahead, 0..366; today counts." };

async function requireReadable(ctx: Context, participant: ParticipantRow): Promise<void> {
  if (!(await canReadParticipant(ctx, participant))) throw participantsForbidden();
}

@Resolver(() => Milestone)
export class MilestoneResolver {
  @FieldResolver(() => Participant)
  participant(@Root() milestone: Milestone, @Ctx() ctx: Context) {
    return readableParticipant(ctx, milestone.participantId);
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => MarkMilestoneCelebratedPayload, {
    description:
      "Records that a milestone was celebrated (reached, or due within 31 days). Staff who may read the participant and facilitators of their groups.",
  })
  markMilestoneCelebrated(@Arg("input", () => MarkMilestoneCelebratedInput) input: MarkMilestoneCelebratedInput, @Ctx() ctx: Context) {
    return mutate("milestone", () => markMilestoneCelebrated(ctx, input));
  }
}

@Resolver(() => Participant)
export class ParticipantMilestonesResolver {
  @FieldResolver(() => [Milestone], { description: "Milestones reached up to today (center's time zone), oldest first." })
  async milestones(@Root() participant: ParticipantRow, @Ctx() ctx: Context) {
    await requireReadable(ctx, participant);
    return reachedMilestones(ctx, participant);
  }

  @FieldResolver(() => [Milestone], {
    description:
      "Milestones due from today to today + withinDays, inclusive. Attendance and completion milestones cannot be foreseen, so only those reached today appear.",
  })
  async upcomingMilestones(@Root() participant: ParticipantRow, @Arg("withinDays", () => Int, WITHIN_DAYS) withinDays: number, @Ctx() ctx: Context) {
    checkWithinDays(withinDays);
    await requireReadable(ctx, participant);
    return upcomingMilestones(ctx, participant, withinDays);
  }
}

@Resolver(() => Group)
export class GroupMilestonesResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => [Milestone], {
    nullable: true,
    description:
      "Milestones of the group's ACTIVE members due within the days ahead, for the next session to celebrate; members who opted out are left off. Names participants: refused to VIEWERs.",
  })
  async upcomingMilestones(@Root() group: GroupRow, @Arg("withinDays", () => Int, WITHIN_DAYS) withinDays: number, @Ctx() ctx: Context) {
    checkWithinDays(withinDays);
    return groupUpcomingMilestones(ctx, group.id, withinDays);
  }
}
