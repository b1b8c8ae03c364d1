import { Field, ID, InputType, Int } from "type-graphql";
import { payloadType } from "../common/payload.js";
import { Center, CenterStatus } from "./center.type.js";

@InputType()
export class CreateCenterInput {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: "IANA time zone, e.g. Europe/London." })
  timezone!: string;

  @Field(() => String, { nullable: true })
  address?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;
}

@InputType()
export class UpdateCenterInput {
  @Field(() => ID)
  centerId!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "An IANA zone. Future sessions nobody has touched move to the same wall-clock time in the new zone.",
  })
  timezone?: string | null;

  @Field(() => String, { nullable: true })
  address?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => CenterStatus, { nullable: true })
  status?: CenterStatus | null;

  @Field(() => Int, { nullable: true, description: "0..3650 days in recovery before someone may mentor peers." })
  peerMentorMinimumDays?: number | null;

  @Field(() => Int, { nullable: true, description: "1..20 current mentees per peer mentor." })
  maxMenteesPerMentor?: number | null;

  @Field(() => Int, { nullable: true, description: "0..60 days after a session within which its note is signed on time; later it is a late entry. Default 3." })
  lateEntryWindowDays?: number | null;

  @Field(() => Int, { nullable: true, description: "0..240 minutes before a session's start that its self check-in window opens. Default 30." })
  checkInOpensMinutesBefore?: number | null;

  @Field(() => Int, { nullable: true, description: "0..240 minutes after a session's start that its self check-in window closes. Default 20." })
  checkInClosesMinutesAfter?: number | null;
}

export const CreateCenterPayload = payloadType("CreateCenterPayload", "center", () => Center);
export const UpdateCenterPayload = payloadType("UpdateCenterPayload", "center", () => Center);
