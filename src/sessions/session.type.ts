import { Field, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { DateTime } from "../common/scalars.js";

export enum SessionStatus {
  SCHEDULED = "SCHEDULED",
  COMPLETED = "COMPLETED",
  CANCELLED = "CANCELLED",
}
registerEnumType(SessionStatus, { name: "SessionStatus" });

@ObjectType({ implements: Node, description: "One meeting of a group." })
export class Session extends Node {
  @Field(() => DateTime)
  startsAt!: Date;

  @Field(() => DateTime)
  endsAt!: Date;

  @Field(() => String, { nullable: true, description: "From the program's curriculum, in order, or set by staff." })
  topic!: string | null;

  @Field(() => SessionStatus)
  status!: SessionStatus;

  @Field(() => String, { nullable: true })
  cancelReason!: string | null;

  @Field(() => DateTime, { nullable: true })
  cancelledAt!: Date | null;
}
