import { Field, ObjectType } from "type-graphql";
import { TypePolicy } from "../common/policy.js";
import { mentorships, type MentorshipRow } from "../db/schema.js";
import { Node } from "../common/node.js";
import { DateScalar } from "../common/scalars.js";

@TypePolicy<MentorshipRow>({ readableBy: "CLINICAL", audit: { participants: [mentorships.mentorId, mentorships.menteeId] } })
@ObjectType({
  implements: Node,
  description: "A peer mentor (a participant further along in recovery) paired with a mentee of the same center.",
})
export class Mentorship extends Node {
  @Field(() => DateScalar, { description: "The day the pairing began, in the center's time zone." })
  startedOn!: string;

  @Field(() => DateScalar, { nullable: true, description: "The day it ended; null while current." })
  endedOn!: string | null;

  @Field(() => String, { nullable: true })
  endReason!: string | null;

  mentorId!: string;
  menteeId!: string;
  endedAt!: Date | null;
}
