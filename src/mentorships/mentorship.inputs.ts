import { Field, ID, InputType } from "type-graphql";
import { payloadType } from "../common/payload.js";
import { Mentorship } from "./mentorship.type.js";

@InputType()
export class AssignPeerMentorInput {
  @Field(() => ID, { description: "The participant who will mentor." })
  mentorId!: string;

  @Field(() => ID, { description: "The participant being mentored; of the same center." })
  menteeId!: string;
}

@InputType()
export class EndMentorshipInput {
  @Field(() => ID)
  mentorshipId!: string;

  @Field(() => String, { nullable: true })
  reason?: string | null;
}

export const AssignPeerMentorPayload = payloadType("AssignPeerMentorPayload", "mentorship", () => Mentorship);
export const EndMentorshipPayload = payloadType("EndMentorshipPayload", "mentorship", () => Mentorship);
