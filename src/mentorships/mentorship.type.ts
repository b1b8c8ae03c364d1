import { Field, ObjectType } from "type-graphql";
import { ReadableBy } from "../common/readable.js";
import { Node } from "../common/node.js";
import { DateScalar } from "../common/scalars.js";

@ObjectType({
  implements: Node,
  description: "A peer mentor (a participant further along in recovery) paired with a mentee of the same center.",
})
export class Mentorship extends Node {
  @Field(() => DateScalar, { description: "The day the pairing began, in the center's time zone." })
  startedOn!: string;

  @Field(() => DateScalar, { nullable: true, description: "The day it ended; null while current." })
  endedOn!: string | null;

  @ReadableBy("CLINICAL")
  @Field(() => String, { nullable: true })
  endReason!: string | null;

  mentorId!: string;
  menteeId!: string;
  endedAt!: Date | null;
}
