import { Field, ID, InputType, Int } from "type-graphql";
import { payloadType } from "../common/payload.js";
import { DateScalar } from "../common/scalars.js";
import { RecoveryCapitalAssessment, RecoveryCapitalInstrument } from "./recoverycapital.type.js";

@InputType()
export class RecordRecoveryCapitalInput {
  @Field(() => ID)
  participantId!: string;

  @Field(() => DateScalar, { description: "Not in the future (center's time zone)." })
  assessedOn!: string;

  @Field(() => RecoveryCapitalInstrument)
  instrument!: RecoveryCapitalInstrument;

  @Field(() => [Int], { description: "BARC-10: exactly ten answers, each 1-6." })
  items!: number[];
}

export const RecordRecoveryCapitalPayload = payloadType("RecordRecoveryCapitalPayload", "assessment", () => RecoveryCapitalAssessment);
