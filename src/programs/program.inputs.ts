import { Field, ID, InputType, Int } from "type-graphql";
import { MaxItems } from "../common/inputs.js";
import { payloadType } from "../common/payload.js";
import { Program, ProgramStatus, UnitRule } from "./program.type.js";

@InputType()
export class AttendancePolicyInput {
  @Field(() => Int, { description: "1..52; default 2." })
  absencesBeforeFollowUp!: number;
}

@InputType()
export class CompletionRuleInput {
  @Field(() => Int, { nullable: true, description: "1..1000, or null for none." })
  minimumAttendedSessions?: number | null;
}

@InputType()
export class CreateProgramInput {
  @Field(() => ID)
  centerId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @MaxItems(200)
  @Field(() => [String], { nullable: true, description: "At most 200 topics." })
  curriculum?: string[] | null;

  @Field(() => AttendancePolicyInput, { nullable: true })
  attendancePolicy?: AttendancePolicyInput | null;

  @Field(() => CompletionRuleInput, { nullable: true })
  completionRule?: CompletionRuleInput | null;

  @Field(() => String, { nullable: true })
  billingCode?: string | null;

  @Field(() => ProgramStatus, { nullable: true, description: "Default ACTIVE." })
  status?: ProgramStatus | null;

  @Field(() => UnitRule, {
    nullable: true,
    description: "How services are counted for billing: SESSION (1 unit a session, the default) or MINUTES_15 (the 8-minute rule).",
  })
  unitRule?: UnitRule | null;
}

@InputType()
export class UpdateProgramInput {
  @Field(() => ID)
  programId!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @MaxItems(200)
  @Field(() => [String], { nullable: true, description: "At most 200 topics." })
  curriculum?: string[] | null;

  @Field(() => AttendancePolicyInput, { nullable: true })
  attendancePolicy?: AttendancePolicyInput | null;

  @Field(() => CompletionRuleInput, { nullable: true })
  completionRule?: CompletionRuleInput | null;

  @Field(() => String, { nullable: true, description: "An empty string clears it." })
  billingCode?: string | null;

  @Field(() => ProgramStatus, { nullable: true })
  status?: ProgramStatus | null;

  @Field(() => UnitRule, {
    nullable: true,
    description: "How services are counted for billing: SESSION (1 unit a session, the default) or MINUTES_15 (the 8-minute rule).",
  })
  unitRule?: UnitRule | null;
}

export const CreateProgramPayload = payloadType("CreateProgramPayload", "program", () => Program);
export const UpdateProgramPayload = payloadType("UpdateProgramPayload", "program", () => Program);
