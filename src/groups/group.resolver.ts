import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { mutate } from "../common/payload.js";
import { connectionType, ConnectionArgs, pageWindow } from "../common/relay.js";
import { Center } from "../centers/center.type.js";
import type { CenterRow, GroupRow, ProgramRow } from "../db/schema.js";
import { Program } from "../programs/program.type.js";
import { linkedStaff } from "../staff/staff.service.js";
import { Staff } from "../staff/staff.type.js";
import { CreateGroupInput, CreateGroupPayload } from "./group.inputs.js";
import { createGroup } from "./group.service.js";
import { DayOfWeek, Group, GroupSchedule, GroupStatus } from "./group.type.js";
import { Policy } from "../common/policy.js";

const GroupConnection = connectionType(Group, "Group");

@ArgsType()
class GroupsArgs extends ConnectionArgs {
  @Field(() => GroupStatus, { nullable: true })
  status?: GroupStatus | null;
}

@Resolver(() => Group)
export class GroupResolver {
  @Policy({ api: ["ATTENDANCE_READ"] })
  @FieldResolver(() => Program)
  program(@Root() group: GroupRow, @Ctx() ctx: Context) {
    return ctx.loaders.programs.byId.load(group.programId);
  }

  @Policy({ api: ["ATTENDANCE_READ"] })
  @FieldResolver(() => Center)
  center(@Root() group: GroupRow, @Ctx() ctx: Context) {
    return ctx.loaders.centers.byId.load(group.centerId);
  }

  @FieldResolver(() => GroupSchedule)
  schedule(@Root() group: GroupRow): GroupSchedule {
    return {
      daysOfWeek: group.scheduleDays as DayOfWeek[],
      startTime: group.scheduleStartTime,
      durationMinutes: group.scheduleDurationMinutes,
    };
  }

  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => [Staff], { description: "Lead first, then co-facilitators." })
  async facilitators(@Root() group: GroupRow, @Ctx() ctx: Context) {
    const rows = await ctx.loaders.groups.facilitatorsByGroupId.load(group.id);
    const staff = await Promise.all(rows.map((f) => linkedStaff(ctx, f.staffId)));
    return staff.filter((s) => s !== null);
  }

  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => Staff, { nullable: true })
  async leadFacilitator(@Root() group: GroupRow, @Ctx() ctx: Context) {
    const rows = await ctx.loaders.groups.facilitatorsByGroupId.load(group.id);
    const lead = rows.find((f) => f.role === "LEAD");
    return linkedStaff(ctx, lead?.staffId);
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => CreateGroupPayload, { description: "Center admins." })
  createGroup(@Arg("input", () => CreateGroupInput) input: CreateGroupInput, @Ctx() ctx: Context) {
    return mutate("group", () => createGroup(ctx, input));
  }
}

@Resolver(() => Center)
export class CenterGroupsResolver {
  @FieldResolver(() => GroupConnection, { description: "Facilitators see only the groups they facilitate." })
  groups(@Root() center: CenterRow, @Args(() => GroupsArgs) args: GroupsArgs, @Ctx() ctx: Context) {
    const win = pageWindow(args);
    return ctx.loaders.groups.byCenter.load(center.id, { status: args.status ?? null, scope: ctx.access.groupScope(center.id) }, win);
  }
}

@Resolver(() => Program)
export class ProgramGroupsResolver {
  @FieldResolver(() => GroupConnection)
  groups(@Root() program: ProgramRow, @Args(() => GroupsArgs) args: GroupsArgs, @Ctx() ctx: Context) {
    const win = pageWindow(args);
    return ctx.loaders.groups.byProgram.load(program.id, { status: args.status ?? null, scope: ctx.access.groupScope(program.centerId) }, win);
  }
}
