import { Field, ID, InputType } from "type-graphql";
import { payloadType } from "../common/payload.js";
import { Enrollment, EnrollmentEndStatus, EnrollmentRole } from "./enrollment.type.js";

@InputType()
export class EnrollParticipantInput {
  @Field(() => ID)
  groupId!: string;

  @Field(() => ID)
  participantId!: string;

  @Field(() => EnrollmentRole, { nullable: true, description: "Default MEMBER." })
  role?: EnrollmentRole | null;
}

@InputType()
export class EndEnrollmentInput {
  @Field(() => ID)
  enrollmentId!: string;

  @Field(() => EnrollmentEndStatus)
  status!: EnrollmentEndStatus;

  @Field(() => String, { nullable: true })
  reason?: string | null;
}

@InputType()
export class UpdateEnrollmentInput {
  @Field(() => ID)
  enrollmentId!: string;

  @Field(() => EnrollmentRole, { nullable: true })
  role?: EnrollmentRole | null;
}

export const EnrollParticipantPayload = payloadType("EnrollParticipantPayload", "enrollment", () => Enrollment);
export const EndEnrollmentPayload = payloadType("EndEnrollmentPayload", "enrollment", () => Enrollment);
export const UpdateEnrollmentPayload = payloadType("UpdateEnrollmentPayload", "enrollment", () => Enrollment);
