import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { groups } from "../db/schema.js";
import { DateScalar, DateTime, LocalTime } from "../common/scalars.js";
import { Policy, TypePolicy } from "../common/policy.js";

export enum GroupStatus {
  PLANNED = "PLANNED",
  ACTIVE = "ACTIVE",
  PAUSED = "PAUSED",
  CLOSED = "CLOSED",
}
registerEnumType(GroupStatus, {
  name: "GroupStatus",
  valuesConfig: {
    CLOSED: {
      description:
        "Final: no enrolments, no new sessions. Closing cancels the sessions that have not started and withdraws the waitlist; ACTIVE enrolments stay for staff to end.",
    },
  },
});

export enum EnrollmentMode {
  ROLLING = "ROLLING",
  CLOSED_COHORT = "CLOSED_COHORT",
}
registerEnumType(EnrollmentMode, {
  name: "EnrollmentMode",
  valuesConfig: {
    ROLLING: { description: "Members join at any time; a new member appears on every future session." },
    CLOSED_COHORT: { description: "Members join before the first session; no one joins after it has started." },
  },
});

export enum DayOfWeek {
  MONDAY = "MONDAY",
  TUESDAY = "TUESDAY",
  WEDNESDAY = "WEDNESDAY",
  THURSDAY = "THURSDAY",
  FRIDAY = "FRIDAY",
  SATURDAY = "SATURDAY",
  SUNDAY = "SUNDAY",
}
registerEnumType(DayOfWeek, { name: "DayOfWeek" });

enum FacilitatorRole {
  LEAD = "LEAD",
  CO = "CO",
}
registerEnumType(FacilitatorRole, { name: "FacilitatorRole" });

@TypePolicy({ readableBy: "GROUP" })
@ObjectType({ description: "When a group meets, in its center's time zone." })
export class GroupSchedule {
  @Field(() => [DayOfWeek])
  daysOfWeek!: DayOfWeek[];

  @Field(() => LocalTime)
  startTime!: string;

  @Field(() => Int)
  durationMinutes!: number;
}

@TypePolicy({ readableBy: "GROUP", group: groups.id })
@ObjectType({ implements: Node, description: "A support group: a program run by facilitators on a weekly schedule." })
export class Group extends Node {
  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => String)
  name!: string;

  @Field(() => Int, { description: "Seats for ACTIVE enrolments; further enrolments join the waitlist." })
  capacity!: number;

  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => GroupStatus)
  status!: GroupStatus;

  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => DateScalar)
  startsOn!: string;

  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => DateScalar, { nullable: true })
  endsOn!: string | null;

  @Field(() => String, { nullable: true })
  location!: string | null;

  @Field(() => String, { nullable: true })
  virtualLink!: string | null;

  @Field(() => EnrollmentMode)
  enrollmentMode!: EnrollmentMode;

  @Field(() => DateTime)
  createdAt!: Date;
}
