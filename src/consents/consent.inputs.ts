import { Field, ID, InputType } from "type-graphql";
import { payloadType } from "../common/payload.js";
import { DateScalar } from "../common/scalars.js";
import { Consent, ConsentInformation } from "./consent.type.js";

@InputType()
export class RecordConsentInput {
  @Field(() => ID)
  participantId!: string;

  @Field(() => ID, { description: "The API client the records may go to; it must read the participant's center." })
  recipientId!: string;

  @Field(() => String)
  purpose!: string;

  @Field(() => DateScalar, { nullable: true, description: "Last day of the consent (center's time zone); not before today." })
  expiresOn?: string | null;

  @Field(() => DateScalar, { nullable: true, description: "Default: today in the center's time zone." })
  signedOn?: string | null;

  @Field(() => [ConsentInformation], { nullable: true, description: "Default: [ATTENDANCE]." })
  information?: ConsentInformation[] | null;
}

@InputType()
export class RevokeConsentInput {
  @Field(() => ID)
  consentId!: string;

  @Field(() => String, { nullable: true })
  reason?: string | null;
}

export const RecordConsentPayload = payloadType("RecordConsentPayload", "consent", () => Consent);
export const RevokeConsentPayload = payloadType("RevokeConsentPayload", "consent", () => Consent);
