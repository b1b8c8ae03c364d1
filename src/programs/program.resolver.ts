import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { mutate } from "../common/payload.js";
import { connectionType, ConnectionArgs, pageWindow } from "../common/relay.js";
import { Center } from "../centers/center.type.js";
import type { CenterRow, ProgramRow } from "../db/schema.js";
import { CreateProgramInput, CreateProgramPayload, UpdateProgramInput, UpdateProgramPayload } from "./program.inputs.js";
import { createProgram, updateProgram } from "./program.service.js";
import { AttendancePolicy, CompletionRule, Program, ProgramStatus } from "./program.type.js";

const ProgramConnection = connectionType(Program, "Program");

@ArgsType()
class ProgramsArgs extends ConnectionArgs {
  @Field(() => ProgramStatus, { nullable: true })
  status?: ProgramStatus | null;
}

@Resolver(() => Program)
export class ProgramResolver {
  @FieldResolver(() => Center)
  center(@Root() program: ProgramRow, @Ctx() ctx: Context) {
    return ctx.loaders.centers.byId.load(program.centerId);
  }

  @FieldResolver(() => AttendancePolicy)
  attendancePolicy(@Root() program: ProgramRow): AttendancePolicy {
    return { absencesBeforeFollowUp: program.absencesBeforeFollowUp };
  }

  @FieldResolver(() => CompletionRule)
  completionRule(@Root() program: ProgramRow): CompletionRule {
    return { minimumAttendedSessions: program.minimumAttendedSessions };
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => CreateProgramPayload, { description: "Center admins." })
  createProgram(@Arg("input", () => CreateProgramInput) input: CreateProgramInput, @Ctx() ctx: Context) {
    return mutate("program", () => createProgram(ctx, input));
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => UpdateProgramPayload, { description: "Center admins." })
  updateProgram(@Arg("input", () => UpdateProgramInput) input: UpdateProgramInput, @Ctx() ctx: Context) {
    return mutate("program", () => updateProgram(ctx, input));
  }
}

@Resolver(() => Center)
export class CenterProgramsResolver {
  @FieldResolver(() => ProgramConnection)
  programs(@Root() center: CenterRow, @Args(() => ProgramsArgs) args: ProgramsArgs, @Ctx() ctx: Context) {
    return ctx.loaders.programs.byCenter.load(center.id, { status: args.status ?? null }, pageWindow(args));
  }
}
