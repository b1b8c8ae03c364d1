import { Field, ID, InputType } from "type-graphql";
import { payloadType } from "../common/payload.js";
import { FollowUp, FollowUpOutcome } from "./followup.type.js";

@InputType()
export class ClaimFollowUpInput {
  @Field(() => ID)
  followUpId!: string;
}

@InputType()
export class ReassignFollowUpInput {
  @Field(() => ID)
  followUpId!: string;

  @Field(() => ID, { description: "Staff of the center who may act on it: clinical staff, or a facilitator of its group." })
  assigneeId!: string;

  @Field(() => String, { nullable: true, description: "Why, kept in the history." })
  note?: string | null;
}

@InputType()
export class CompleteFollowUpInput {
  @Field(() => ID)
  followUpId!: string;

  @Field(() => FollowUpOutcome)
  outcome!: FollowUpOutcome;

  @Field(() => String, { nullable: true })
  note?: string | null;
}

export const ClaimFollowUpPayload = payloadType("ClaimFollowUpPayload", "followUp", () => FollowUp);
export const ReassignFollowUpPayload = payloadType("ReassignFollowUpPayload", "followUp", () => FollowUp);
export const CompleteFollowUpPayload = payloadType("CompleteFollowUpPayload", "followUp", () => FollowUp);
