import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { mutate } from "../common/payload.js";
import { connectionType, ConnectionArgs, pageWindow } from "../common/relay.js";
import { DateTime } from "../common/scalars.js";
import { Center } from "../centers/center.type.js";
import type { CenterRow, GroupRow, SessionRow } from "../db/schema.js";
import { Group } from "../groups/group.type.js";
import {
  CancelSessionInput,
  CancelSessionPayload,
  CompleteSessionInput,
  CompleteSessionPayload,
  ScheduleSessionsInput,
  ScheduleSessionsPayload,
  UpdateSessionInput,
  UpdateSessionPayload,
} from "./session.inputs.js";
import { cancelSession, completeSession, scheduleSessions, updateSession } from "./session.service.js";
import { Session, SessionStatus } from "./session.type.js";

const SessionConnection = connectionType(Session, "Session");

@ArgsType()
class SessionsArgs extends ConnectionArgs {
  @Field(() => DateTime, { nullable: true, description: "Sessions starting at or after this instant." })
  from?: Date | null;

  @Field(() => DateTime, { nullable: true, description: "Sessions starting before this instant." })
  to?: Date | null;

  @Field(() => SessionStatus, { nullable: true })
  status?: SessionStatus | null;
}

const filterOf = (args: SessionsArgs, groupScope: "ALL" | string[]) => ({
  from: args.from ? args.from.toISOString() : null,
  to: args.to ? args.to.toISOString() : null,
  status: args.status ?? null,
  groupScope,
});

@Resolver(() => Session)
export class SessionResolver {
  @Policy({ api: ["ATTENDANCE_READ"] })
  @FieldResolver(() => Group)
  group(@Root() session: SessionRow, @Ctx() ctx: Context) {
    return ctx.loaders.groups.byId.load(session.groupId);
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => ScheduleSessionsPayload, {
    description: "One session per schedule occurrence in [from, to], in the center's time zone; idempotent.",
  })
  scheduleSessions(@Arg("input", () => ScheduleSessionsInput) input: ScheduleSessionsInput, @Ctx() ctx: Context) {
    return mutate("sessions", () => scheduleSessions(ctx, input));
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => CancelSessionPayload, { description: "Clinical staff; cancelling again is a no-op." })
  cancelSession(@Arg("input", () => CancelSessionInput) input: CancelSessionInput, @Ctx() ctx: Context) {
    return mutate("session", () => cancelSession(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => CompleteSessionPayload, { description: "Marks a session held (staff who may record its attendance)." })
  completeSession(@Arg("input", () => CompleteSessionInput) input: CompleteSessionInput, @Ctx() ctx: Context) {
    return mutate("session", () => completeSession(ctx, input));
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => UpdateSessionPayload, { description: "Changes a session's topic or time (clinical staff)." })
  updateSession(@Arg("input", () => UpdateSessionInput) input: UpdateSessionInput, @Ctx() ctx: Context) {
    return mutate("session", () => updateSession(ctx, input));
  }
}

@Resolver(() => Group)
export class GroupSessionsResolver {
  @FieldResolver(() => SessionConnection, { description: "In order of start; `last: 5` gives the latest five." })
  sessions(@Root() group: GroupRow, @Args(() => SessionsArgs) args: SessionsArgs, @Ctx() ctx: Context) {
    return ctx.loaders.sessions.byGroup.load(group.id, filterOf(args, "ALL"), pageWindow(args));
  }
}

@Resolver(() => Center)
export class CenterSessionsResolver {
  @FieldResolver(() => SessionConnection, { description: "Sessions of the groups the viewer can see, in order of start." })
  sessions(@Root() center: CenterRow, @Args(() => SessionsArgs) args: SessionsArgs, @Ctx() ctx: Context) {
    return ctx.loaders.sessions.byCenter.load(center.id, filterOf(args, ctx.access.groupScope(center.id)), pageWindow(args));
  }
}
