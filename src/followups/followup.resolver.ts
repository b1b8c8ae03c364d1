import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { decodeId } from "../common/ids.js";
import { mutate } from "../common/payload.js";
import { connectionType, ConnectionArgs, emptyConnection, pageWindow } from "../common/relay.js";
import { Center } from "../centers/center.type.js";
import type { CenterRow, FollowUpEventRow, FollowUpRow, StaffRow } from "../db/schema.js";
import { Group } from "../groups/group.type.js";
import { readableParticipant } from "../participants/participant.service.js";
import { Participant } from "../participants/participant.type.js";
import { Session } from "../sessions/session.type.js";
import { linkedStaff } from "../staff/staff.service.js";
import { Staff } from "../staff/staff.type.js";
import { Policy } from "../common/policy.js";
import {
  ClaimFollowUpInput,
  ClaimFollowUpPayload,
  CompleteFollowUpInput,
  CompleteFollowUpPayload,
  ReassignFollowUpInput,
  ReassignFollowUpPayload,
} from "./followup.inputs.js";
import { claimFollowUp, completeFollowUp, reassignFollowUp } from "./followup.service.js";
import { FollowUp, FollowUpEvent, FollowUpStatus } from "./followup.type.js";

const FollowUpConnection = connectionType(FollowUp, "FollowUp");

@ArgsType()
class StaffFollowUpsArgs extends ConnectionArgs {
  @Field(() => FollowUpStatus, { nullable: true })
  status?: FollowUpStatus | null;
}

@ArgsType()
class CenterFollowUpsArgs extends StaffFollowUpsArgs {
  @Field(() => ID, { nullable: true, description: "Only those assigned to this staff member." })
  assigneeId?: string | null;
}

@Resolver(() => FollowUp)
export class FollowUpResolver {
  @FieldResolver(() => Participant)
  participant(@Root() f: FollowUpRow, @Ctx() ctx: Context) {
    return readableParticipant(ctx, f.participantId);
  }

  @FieldResolver(() => Group)
  group(@Root() f: FollowUpRow, @Ctx() ctx: Context) {
    return ctx.loaders.groups.byId.load(f.groupId);
  }

  @FieldResolver(() => Session, { description: "The absence that opened it." })
  session(@Root() f: FollowUpRow, @Ctx() ctx: Context) {
    return ctx.loaders.sessions.byId.load(f.sessionId);
  }

  @FieldResolver(() => Staff, { nullable: true, description: "Who should reach out; null when the center has no one to assign." })
  @Policy({ readableBy: "STAFF" })
  assignee(@Root() f: FollowUpRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, f.assigneeStaffId);
  }

  @FieldResolver(() => Staff, { nullable: true })
  @Policy({ readableBy: "STAFF" })
  completedBy(@Root() f: FollowUpRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, f.completedByStaffId);
  }

  @FieldResolver(() => [FollowUpEvent], { description: "Every change, oldest first." })
  history(@Root() f: FollowUpRow, @Ctx() ctx: Context) {
    return ctx.loaders.followUps.eventsByFollowUpId.load(f.id);
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => ClaimFollowUpPayload, { description: "Assigns an OPEN follow-up to the viewer." })
  claimFollowUp(@Arg("input", () => ClaimFollowUpInput) input: ClaimFollowUpInput, @Ctx() ctx: Context) {
    return mutate("followUp", () => claimFollowUp(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => ReassignFollowUpPayload, { description: "Assigns an OPEN follow-up to another staff member who may act on it." })
  reassignFollowUp(@Arg("input", () => ReassignFollowUpInput) input: ReassignFollowUpInput, @Ctx() ctx: Context) {
    return mutate("followUp", () => reassignFollowUp(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => CompleteFollowUpPayload, { description: "Records the outcome of an OPEN follow-up; anything else is INVALID_TRANSITION." })
  completeFollowUp(@Arg("input", () => CompleteFollowUpInput) input: CompleteFollowUpInput, @Ctx() ctx: Context) {
    return mutate("followUp", () => completeFollowUp(ctx, input));
  }
}

@Resolver(() => FollowUpEvent)
export class FollowUpEventResolver {
  @FieldResolver(() => Staff, { nullable: true, description: "Who made the change (the staff member who recorded attendance, for automatic ones)." })
  @Policy({ readableBy: "STAFF" })
  actor(@Root() e: FollowUpEventRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, e.actorStaffId);
  }

  @FieldResolver(() => Staff, { nullable: true })
  @Policy({ readableBy: "STAFF" })
  fromAssignee(@Root() e: FollowUpEventRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, e.fromAssigneeStaffId);
  }

  @FieldResolver(() => Staff, { nullable: true })
  @Policy({ readableBy: "STAFF" })
  toAssignee(@Root() e: FollowUpEventRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, e.toAssigneeStaffId);
  }
}

@Resolver(() => Center)
export class CenterFollowUpsResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => FollowUpConnection, {
    description: "Soonest due first. Clinical staff see all; facilitators those of their groups; viewers are refused.",
  })
  followUps(@Root() center: CenterRow, @Args(() => CenterFollowUpsArgs) args: CenterFollowUpsArgs, @Ctx() ctx: Context) {
    const win = pageWindow(args);
    // Who reads it is declared (CLINICAL); which follow-ups a facilitator sees is the data's rule.
    const groupScope = ctx.access.groupScope(center.id);
    let assigneeId: string | null = null;
    if (args.assigneeId != null) {
      assigneeId = decodeId(args.assigneeId, "Staff");
      if (!assigneeId) return emptyConnection();
    }
    return ctx.loaders.followUps.byCenter.load(center.id, { status: args.status ?? null, assigneeId, groupScope }, win);
  }
}

@Resolver(() => Staff)
export class StaffFollowUpsResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => FollowUpConnection, {
    description: "Follow-ups assigned to this staff member that the viewer may read, soonest due first.",
  })
  followUps(@Root() member: StaffRow, @Args(() => StaffFollowUpsArgs) args: StaffFollowUpsArgs, @Ctx() ctx: Context) {
    const win = pageWindow(args);
    return ctx.loaders.followUps.byAssignee.load(member.id, { status: args.status ?? null, scope: ctx.access.followUpScope() }, win);
  }
}
