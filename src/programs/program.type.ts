import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { DateTime } from "../common/scalars.js";
import { Policy, TypePolicy } from "../common/policy.js";

export enum ProgramStatus {
  DRAFT = "DRAFT",
  ACTIVE = "ACTIVE",
  RETIRED = "RETIRED",
}
registerEnumType(ProgramStatus, {
  name: "ProgramStatus",
  valuesConfig: { RETIRED: { description: "No new groups; existing groups run on." } },
});

@TypePolicy({ readableBy: "CENTER" })
@ObjectType({ description: "When missed sessions call for a follow-up." })
export class AttendancePolicy {
  @Field(() => Int, { description: "Consecutive absences after which a participant needs a follow-up." })
  absencesBeforeFollowUp!: number;
}

@TypePolicy({ readableBy: "CENTER" })
@ObjectType({ description: "What completing the program takes." })
export class CompletionRule {
  @Field(() => Int, { nullable: true, description: "Attended sessions needed to complete; null when not set." })
  minimumAttendedSessions!: number | null;
}

@TypePolicy({ readableBy: "CENTER" })
@ObjectType({ implements: Node, description: "A kind of support group a center runs (e.g. relapse prevention)." })
export class Program extends Node {
  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => [String], { description: "Ordered topics, given to a group's sessions in order as they are scheduled." })
  curriculum!: string[];

  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => String, { nullable: true, description: "Billing code, e.g. CPT 90853 or HCPCS H0005." })
  billingCode!: string | null;

  @Field(() => ProgramStatus)
  status!: ProgramStatus;

  @Field(() => DateTime)
  createdAt!: Date;
}
