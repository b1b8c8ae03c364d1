import { Field, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { sessions } from "../db/schema.js";
import { DateTime } from "../common/scalars.js";
import { Policy, TypePolicy } from "../common/policy.js";

export enum SessionStatus {
  SCHEDULED = "SCHEDULED",
  COMPLETED = "COMPLETED",
  CANCELLED = "CANCELLED",
}
registerEnumType(SessionStatus, { name: "SessionStatus" });

@TypePolicy({ readableBy: "GROUP", group: sessions.groupId })
@ObjectType({ implements: Node, description: "One meeting of a group." })
export class Session extends Node {
  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => DateTime)
  startsAt!: Date;

  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => DateTime)
  endsAt!: Date;

  @Field(() => String, { nullable: true, description: "From the program's curriculum, in order, or set by staff." })
  topic!: string | null;

  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => SessionStatus)
  status!: SessionStatus;

  @Field(() => String, { nullable: true })
  cancelReason!: string | null;

  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => DateTime, { nullable: true })
  cancelledAt!: Date | null;
}
