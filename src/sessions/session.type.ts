import { Field, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { DateTime } from "../common/scalars.js";
import { ReadableBy } from "../common/readable.js";

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

  @ReadableBy("GROUP")
  @Field(() => String, { nullable: true, description: "From the program's curriculum, in order, or set by staff." })
  topic!: string | null;

  @Field(() => SessionStatus)
  status!: SessionStatus;

  @ReadableBy("GROUP")
  @Field(() => String, { nullable: true })
  cancelReason!: string | null;

  @Field(() => DateTime, { nullable: true })
  cancelledAt!: Date | null;
}
