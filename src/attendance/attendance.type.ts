import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { Policy, TypePolicy } from "../common/policy.js";
import { attendance, type AttendanceRow } from "../db/schema.js";
import { DateTime } from "../common/scalars.js";

export enum AttendanceStatus {
  PRESENT = "PRESENT",
  LATE = "LATE",
  LEFT_EARLY = "LEFT_EARLY",
  ABSENT = "ABSENT",
  EXCUSED = "EXCUSED",
}
registerEnumType(AttendanceStatus, { name: "AttendanceStatus" });

@TypePolicy<AttendanceRow>({ readableBy: "CLINICAL", audit: { participants: [attendance.participantId] } })
@ObjectType({ implements: Node, description: "One participant's attendance at one session." })
export class Attendance extends Node {
  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => AttendanceStatus)
  status!: AttendanceStatus;

  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => Int, { nullable: true })
  minutesAttended!: number | null;

  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => DateTime, { description: "When the current value was recorded." })
  recordedAt!: Date;

  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => Int, { description: "1 for the first recording, +1 for every change." })
  version!: number;
}

@TypePolicy({ readableBy: "CLINICAL" })
@ObjectType({ description: "One recorded value of an attendance record, with the value it replaced." })
export class AttendanceChange {
  @Field(() => Int)
  version!: number;

  @Field(() => AttendanceStatus)
  status!: AttendanceStatus;

  @Field(() => Int, { nullable: true })
  minutesAttended!: number | null;

  @Field(() => AttendanceStatus, { nullable: true, description: "Null for the first recording." })
  previousStatus!: AttendanceStatus | null;

  @Field(() => Int, { nullable: true })
  previousMinutesAttended!: number | null;

  @Field(() => DateTime)
  changedAt!: Date;

  changedByStaffId!: string | null;
  note!: string | null;
  previousNote!: string | null;
}

@TypePolicy({ readableBy: "GROUP" })
@ObjectType({
  simpleResolvers: true,
  description:
    "Counts of a session's attendance by status. The status counts cover every record of the session, including anyone " +
    "recorded who was not on the expected roster, so they may add up to more than `expected`.",
})
export class AttendanceSummary {
  @Field(() => Int, { description: "The expected roster: ACTIVE enrolments at the session's start." })
  expected!: number;

  @Field(() => Int)
  present!: number;

  @Field(() => Int)
  late!: number;

  @Field(() => Int)
  leftEarly!: number;

  @Field(() => Int)
  absent!: number;

  @Field(() => Int)
  excused!: number;

  @Field(() => Int, { description: "Members of the expected roster with nothing recorded yet." })
  unrecorded!: number;
}

@TypePolicy<RosterEntry>({ readableBy: "CLINICAL", audit: { participants: (r) => [r.participantId], resourceId: null } })
@ObjectType({ description: "A member expected at a session (or recorded at it), with what was recorded." })
export class RosterEntry {
  participantId!: string;
  sessionId!: string;
  /** The session's center (the audit log's scope). */
  centerId!: string;
  enrollmentId!: string | null;
  attendanceId!: string | null;

  @Field(() => Boolean, { description: "Whether the member was an ACTIVE enrolment at the session's start." })
  expected!: boolean;
}
