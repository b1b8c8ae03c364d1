import { Field, ObjectType, registerEnumType } from "type-graphql";
import { TypePolicy } from "../common/policy.js";
import { DateTime } from "../common/scalars.js";
import { checkIns, type CheckInRow } from "../db/schema.js";

export enum CheckInStatus {
  PENDING = "PENDING",
  ACCEPTED = "ACCEPTED",
  REJECTED = "REJECTED",
}
registerEnumType(CheckInStatus, { name: "CheckInStatus", description: "A self check-in's state: staff accept it (it becomes attendance) or reject it." });

@TypePolicy<CheckInRow>({ readableBy: "CLINICAL", audit: { participants: [checkIns.participantId] } })
@ObjectType({ description: "A member's claim of presence (self check-in). Not attendance until staff accept it." })
export class CheckIn {
  @Field(() => DateTime)
  checkedInAt!: Date;

  @Field(() => Boolean, { description: "Claimed after the session's start." })
  late!: boolean;

  @Field(() => CheckInStatus)
  status!: CheckInStatus;
}

/** An open check-in window as openCheckIn answers it (the room code is for the room, not a member). */
export interface CheckInWindowView {
  sessionId: string;
  centerId: string;
  roomCode: string;
  roomCodeExpiresAt: Date;
  opensAt: Date;
  closesAt: Date;
}

@TypePolicy({ readableBy: "CALLER" })
@ObjectType({ description: "A session's self check-in window and the room code to show in the room." })
export class CheckInWindow {
  sessionId!: string;
  centerId!: string;

  @Field(() => String, { description: "6 digits. A new one every few minutes; the previous one is still accepted for one more period." })
  roomCode!: string;

  @Field(() => DateTime, { description: "When the next code replaces this one on the screen." })
  roomCodeExpiresAt!: Date;

  @Field(() => DateTime, { description: "The window's first instant (inclusive)." })
  opensAt!: Date;

  @Field(() => DateTime, { description: "The window's last instant (inclusive)." })
  closesAt!: Date;
}

@TypePolicy({ readableBy: "CALLER" })
@ObjectType({ description: "A member's accepted self check-in." })
export class SelfCheckInResult {
  @Field(() => DateTime)
  checkedInAt!: Date;

  @Field(() => DateTime)
  sessionStartsAt!: Date;
}
