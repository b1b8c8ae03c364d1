import { Field, ID, InputType } from "type-graphql";
import { payloadType } from "../common/payload.js";
import { DateScalar } from "../common/scalars.js";
import { Milestone, MilestoneKind } from "./milestone.type.js";

@InputType({ description: "Names a milestone by participant, kind and label; dueOn tells apart two with the same label." })
export class MarkMilestoneCelebratedInput {
  @Field(() => ID)
  participantId!: string;

  @Field(() => MilestoneKind)
  kind!: MilestoneKind;

  @Field(() => String, { description: 'The milestone\'s label, e.g. "30 days".' })
  label!: string;

  @Field(() => DateScalar, { nullable: true, description: "The milestone's dueOn; needed only when two share a label." })
  dueOn?: string | null;
}

export const MarkMilestoneCelebratedPayload = payloadType("MarkMilestoneCelebratedPayload", "milestone", () => Milestone);
