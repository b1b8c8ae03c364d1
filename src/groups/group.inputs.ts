import { Field, ID, InputType, Int } from "type-graphql";
import { MaxItems } from "../common/inputs.js";
import { payloadType } from "../common/payload.js";
import { DateScalar, LocalTime } from "../common/scalars.js";
import { DayOfWeek, EnrollmentMode, Group, GroupStatus } from "./group.type.js";

@InputType()
export class GroupScheduleInput {
  @MaxItems(7)
  @Field(() => [DayOfWeek])
  daysOfWeek!: DayOfWeek[];

  @Field(() => LocalTime, { description: "Wall-clock start in the center's time zone, HH:mm." })
  startTime!: string;

  @Field(() => Int, { description: "5..720." })
  durationMinutes!: number;
}

@InputType()
export class CreateGroupInput {
  @Field(() => ID)
  programId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Int, { description: "1..500." })
  capacity!: number;

  @Field(() => DateScalar)
  startsOn!: string;

  @Field(() => DateScalar, { nullable: true })
  endsOn?: string | null;

  @MaxItems(20)
  @Field(() => [ID], { nullable: true, description: "Staff of the center (at most 20); the first is the lead unless leadFacilitatorId says otherwise." })
  facilitatorIds?: string[] | null;

  @Field(() => ID, { nullable: true })
  leadFacilitatorId?: string | null;

  @Field(() => GroupScheduleInput)
  schedule!: GroupScheduleInput;

  @Field(() => String, { nullable: true })
  location?: string | null;

  @Field(() => String, { nullable: true, description: "An https:// link for virtual sessions." })
  virtualLink?: string | null;

  @Field(() => EnrollmentMode, { nullable: true, description: "Default ROLLING." })
  enrollmentMode?: EnrollmentMode | null;

  @Field(() => GroupStatus, { nullable: true, description: "Default PLANNED." })
  status?: GroupStatus | null;
}

@InputType()
export class UpdateGroupInput {
  @Field(() => ID)
  groupId!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => Int, { nullable: true, description: "Raising it gives freed seats to the waitlist, in order." })
  capacity?: number | null;

  @Field(() => GroupStatus, { nullable: true })
  status?: GroupStatus | null;

  @Field(() => DateScalar, { nullable: true })
  startsOn?: string | null;

  @Field(() => DateScalar, {
    nullable: true,
    description: "Absent leaves it; null clears it (the group runs on). Sessions after a new end that nobody has touched are removed.",
  })
  endsOn?: string | null;

  @Field(() => GroupScheduleInput, {
    nullable: true,
    description:
      "Future sessions nobody has touched (SCHEDULED, at their generated time, without attendance) are refitted to it: " +
      "those it no longer produces are removed, its new occurrences are created as far ahead as the group was scheduled.",
  })
  schedule?: GroupScheduleInput | null;

  @MaxItems(20)
  @Field(() => [ID], { nullable: true, description: "Replaces the facilitators (at most 20)." })
  facilitatorIds?: string[] | null;

  @Field(() => ID, { nullable: true })
  leadFacilitatorId?: string | null;

  @Field(() => String, { nullable: true, description: "An empty string clears it." })
  location?: string | null;

  @Field(() => String, { nullable: true, description: "An empty string clears it." })
  virtualLink?: string | null;

  @Field(() => EnrollmentMode, { nullable: true })
  enrollmentMode?: EnrollmentMode | null;
}

export const CreateGroupPayload = payloadType("CreateGroupPayload", "group", () => Group);
export const UpdateGroupPayload = payloadType("UpdateGroupPayload", "group", () => Group);
