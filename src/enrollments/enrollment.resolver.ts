import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Info, Int, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { mutate } from "../common/payload.js";
import { connectionType, ConnectionArgs, pageWindow } from "../common/relay.js";
import type { EnrollmentEventRow, EnrollmentRow, GroupRow, ParticipantRow } from "../db/schema.js";
import { Group } from "../groups/group.type.js";
import { readableParticipant } from "../participants/participant.service.js";
import { Participant } from "../participants/participant.type.js";
import { linkedStaff } from "../staff/staff.service.js";
import { Staff } from "../staff/staff.type.js";
import {
  EndEnrollmentInput,
  EndEnrollmentPayload,
  EnrollParticipantInput,
  EnrollParticipantPayload,
  UpdateEnrollmentInput,
  UpdateEnrollmentPayload,
} from "./enrollment.inputs.js";
import { endEnrollment, enrollParticipant, updateEnrollment } from "./enrollment.service.js";
import { Enrollment, EnrollmentEvent, EnrollmentStatus } from "./enrollment.type.js";
import { Policy } from "../common/policy.js";

const EnrollmentConnection = connectionType(Enrollment, "Enrollment");

@ArgsType()
class EnrollmentsArgs extends ConnectionArgs {
  @Field(() => EnrollmentStatus, { nullable: true })
  status?: EnrollmentStatus | null;
}

@Resolver(() => Enrollment)
export class EnrollmentResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => String, { nullable: true, description: "Why it ended: a clinical note, refused (FORBIDDEN) to VIEWERs." })
  endReason(@Root() e: EnrollmentRow) {
    return e.endReason;
  }

  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => Participant, { description: "Refused (FORBIDDEN) to VIEWERs." })
  participant(@Root() e: EnrollmentRow, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return readableParticipant(ctx, e.participantId, info);
  }

  @FieldResolver(() => Group)
  group(@Root() e: EnrollmentRow, @Ctx() ctx: Context) {
    return ctx.loaders.groups.byId.load(e.groupId);
  }

  @FieldResolver(() => Int, { nullable: true, description: "1 for the first in line; null unless WAITLISTED." })
  async waitlistPosition(@Root() e: EnrollmentRow, @Ctx() ctx: Context) {
    if (e.status !== "WAITLISTED") return null;
    const line = await ctx.loaders.enrollments.waitlistByGroupId.load(e.groupId);
    const i = line.findIndex((w) => w.id === e.id);
    return i < 0 ? null : i + 1;
  }

  @FieldResolver(() => [EnrollmentEvent], { description: "Every status change, oldest first." })
  history(@Root() e: EnrollmentRow, @Ctx() ctx: Context) {
    return ctx.loaders.enrollments.eventsByEnrollmentId.load(e.id);
  }

  @Authorized()
  @Policy({ audit: "CREATE" })
  @Mutation(() => EnrollParticipantPayload, { description: "A full group puts the enrolment on the waitlist, in order." })
  enrollParticipant(@Arg("input", () => EnrollParticipantInput) input: EnrollParticipantInput, @Ctx() ctx: Context) {
    return mutate("enrollment", () => enrollParticipant(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => EndEnrollmentPayload, { description: "Ends an enrolment; a freed seat goes to the first on the waitlist." })
  endEnrollment(@Arg("input", () => EndEnrollmentInput) input: EndEnrollmentInput, @Ctx() ctx: Context) {
    return mutate("enrollment", () => endEnrollment(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => UpdateEnrollmentPayload, { description: "Changes an enrolment's role (e.g. to PEER_MENTOR)." })
  updateEnrollment(@Arg("input", () => UpdateEnrollmentInput) input: UpdateEnrollmentInput, @Ctx() ctx: Context) {
    return mutate("enrollment", () => updateEnrollment(ctx, input));
  }
}

@Resolver(() => EnrollmentEvent)
export class EnrollmentEventResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => String, { nullable: true, description: "A clinical note, refused (FORBIDDEN) to VIEWERs." })
  reason(@Root() e: EnrollmentEventRow) {
    return e.reason;
  }

  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => Staff, { nullable: true, description: "Who made the change; null for automatic promotions at start-up." })
  actor(@Root() e: EnrollmentEventRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, e.actorStaffId);
  }
}

@Resolver(() => Group)
export class GroupEnrollmentsResolver {
  @FieldResolver(() => EnrollmentConnection, { description: "In enrolment order (the waitlist's order for WAITLISTED)." })
  enrollments(@Root() group: GroupRow, @Args(() => EnrollmentsArgs) args: EnrollmentsArgs, @Ctx() ctx: Context) {
    return ctx.loaders.enrollments.byGroup.load(group.id, { status: args.status ?? null, groupScope: "ALL" }, pageWindow(args));
  }

  @FieldResolver(() => Int, { description: "ACTIVE enrolments." })
  async activeCount(@Root() group: GroupRow, @Ctx() ctx: Context) {
    return (await ctx.loaders.enrollments.countsByGroupId.load(group.id)).active;
  }

  @FieldResolver(() => Int)
  async waitlistCount(@Root() group: GroupRow, @Ctx() ctx: Context) {
    return (await ctx.loaders.enrollments.countsByGroupId.load(group.id)).waitlisted;
  }

  @FieldResolver(() => Int)
  async seatsAvailable(@Root() group: GroupRow, @Ctx() ctx: Context) {
    return Math.max(0, group.capacity - (await ctx.loaders.enrollments.countsByGroupId.load(group.id)).active);
  }
}

@Resolver(() => Participant)
export class ParticipantEnrollmentsResolver {
  @FieldResolver(() => EnrollmentConnection, { description: "Facilitators see only enrolments in their groups." })
  enrollments(@Root() participant: ParticipantRow, @Args(() => EnrollmentsArgs) args: EnrollmentsArgs, @Ctx() ctx: Context) {
    return ctx.loaders.enrollments.byParticipant.load(
      participant.id,
      { status: args.status ?? null, groupScope: ctx.access.groupScope(participant.centerId) },
      pageWindow(args),
    );
  }
}
