import { Field, ID, InputType } from "type-graphql";
import { MaxItems } from "../common/inputs.js";
import { payloadType } from "../common/payload.js";
import { Attendance } from "../attendance/attendance.type.js";
import { CheckInWindow, SelfCheckInResult } from "./checkin.type.js";

@InputType()
export class OpenCheckInInput {
  @Field(() => ID)
  sessionId!: string;
}

@InputType()
export class SelfCheckInInput {
  @Field(() => String, { description: "The member's personal check-in token (the last part of their link)." })
  token!: string;

  @Field(() => String, { description: "The 6-digit code shown in the room." })
  roomCode!: string;
}

@InputType()
export class ReconcileCheckInsInput {
  @Field(() => ID)
  sessionId!: string;

  @MaxItems(200)
  @Field(() => [ID], { description: "Participants whose claims become attendance (PRESENT, or LATE when claimed after the start)." })
  accept!: string[];

  @MaxItems(200)
  @Field(() => [ID], { nullable: true, description: "Participants whose claims are rejected (kept as REJECTED)." })
  reject?: string[] | null;

  @Field(() => String, {
    nullable: true,
    description: "Why attendance changes after the session's note was signed (required then), as in recordAttendance.",
  })
  reason?: string | null;
}

export const OpenCheckInPayload = payloadType("OpenCheckInPayload", "checkIn", () => CheckInWindow, "The open window and its current room code.");
export const SelfCheckInPayload = payloadType("SelfCheckInPayload", "result", () => SelfCheckInResult, "Every refusal is INVALID_CHECK_IN.");
export const ReconcileCheckInsPayload = payloadType(
  "ReconcileCheckInsPayload",
  "attendance",
  () => [Attendance],
  "The attendance of the accepted members. Everything is written, or nothing is.",
);
