import { Field, ID, InputType, Int } from "type-graphql";
import { MaxItems } from "../common/inputs.js";
import { payloadType } from "../common/payload.js";
import { Attendance, AttendanceStatus } from "./attendance.type.js";

@InputType()
export class AttendanceRecordInput {
  @Field(() => ID)
  participantId!: string;

  @Field(() => AttendanceStatus)
  status!: AttendanceStatus;

  @Field(() => Int, {
    nullable: true,
    description: "0..1440. Defaults: PRESENT the session's length, ABSENT and EXCUSED 0, otherwise unknown.",
  })
  minutesAttended?: number | null;

  @Field(() => String, { nullable: true, description: "Clinical note; an empty string clears it." })
  note?: string | null;
}

@InputType()
export class RecordAttendanceInput {
  @Field(() => ID)
  sessionId!: string;

  @MaxItems(200)
  @Field(() => [AttendanceRecordInput], { description: "1..200 records, one per participant." })
  records!: AttendanceRecordInput[];

  @Field(() => String, {
    nullable: true,
    description:
      "Why attendance changes after the session's note was signed (required then): it is kept in a CORRECTION addendum to each changed member's part.",
  })
  reason?: string | null;
}

export const RecordAttendancePayload = payloadType("RecordAttendancePayload", "attendance", () => [Attendance], "All records are written, or none is.");
