import { Field, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { TypePolicy } from "../common/policy.js";
import { consents, type ConsentRow } from "../db/schema.js";
import { DateScalar, DateTime } from "../common/scalars.js";

export enum ConsentStatus {
  ACTIVE = "ACTIVE",
  REVOKED = "REVOKED",
  EXPIRED = "EXPIRED",
}
registerEnumType(ConsentStatus, {
  name: "ConsentStatus",
  description: "Judged when read: REVOKED once revoked; EXPIRED after the end of `expiresOn` in the center's time zone; else ACTIVE.",
});

export enum ConsentInformation {
  ATTENDANCE = "ATTENDANCE",
}
registerEnumType(ConsentInformation, { name: "ConsentInformation", description: "The kinds of records a consent allows to disclose." });

@TypePolicy<ConsentRow>({ readableBy: "CLINICAL", audit: { participants: [consents.participantId] } })
@ObjectType({
  implements: Node,
  description: "A participant's written consent (42 CFR 2.31) to disclose their records to one recipient (an API client). Kept after it ends.",
})
export class Consent extends Node {
  @Field(() => ConsentStatus)
  status!: ConsentStatus;

  @Field(() => String, { description: "The purpose of the disclosure, as written in the consent." })
  purpose!: string;

  @Field(() => [ConsentInformation])
  information!: ConsentInformation[];

  @Field(() => DateScalar)
  signedOn!: string;

  @Field(() => DateScalar, { nullable: true, description: "Active through the end of this day (center's time zone); null: until revoked." })
  expiresOn!: string | null;

  @Field(() => DateTime)
  recordedAt!: Date;

  @Field(() => DateTime, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => String, { nullable: true })
  revokeReason!: string | null;
}
