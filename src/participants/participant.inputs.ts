import { Field, ID, InputType } from "type-graphql";
import { payloadType } from "../common/payload.js";
import { DateScalar } from "../common/scalars.js";
import { Participant, ParticipantStatus } from "./participant.type.js";

@InputType()
export class CreateParticipantInput {
  @Field(() => ID)
  centerId!: string;

  @Field(() => String)
  firstName!: string;

  @Field(() => String)
  lastName!: string;

  @Field(() => String, { nullable: true })
  preferredName?: string | null;

  @Field(() => String, { nullable: true, description: "MRN; unique per center." })
  externalId?: string | null;

  @Field(() => DateScalar, { nullable: true })
  dateOfBirth?: string | null;

  @Field(() => DateScalar, { nullable: true })
  recoveryStartDate?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => Boolean, { nullable: true, description: "Leave the participant off groups' milestone celebrations." })
  celebrationOptOut?: boolean | null;
}

@InputType({ description: "Fields left out stay as they are; an empty string clears an optional text field." })
export class UpdateParticipantInput {
  @Field(() => ID)
  participantId!: string;

  @Field(() => String, { nullable: true })
  firstName?: string | null;

  @Field(() => String, { nullable: true })
  lastName?: string | null;

  @Field(() => String, { nullable: true })
  preferredName?: string | null;

  @Field(() => String, { nullable: true })
  externalId?: string | null;

  @Field(() => DateScalar, { nullable: true })
  dateOfBirth?: string | null;

  @Field(() => DateScalar, { nullable: true })
  recoveryStartDate?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => Boolean, { nullable: true, description: "Leave the participant off groups' milestone celebrations." })
  celebrationOptOut?: boolean | null;

  @Field(() => ParticipantStatus, { nullable: true })
  status?: ParticipantStatus | null;
}

export const CreateParticipantPayload = payloadType("CreateParticipantPayload", "participant", () => Participant);
export const UpdateParticipantPayload = payloadType("UpdateParticipantPayload", "participant", () => Participant);
