import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { TypePolicy } from "../common/policy.js";
import { DateScalar, DateTime } from "../common/scalars.js";
import { recoveryCapitalAssessments, type RecoveryCapitalRow } from "../db/schema.js";

export enum RecoveryCapitalInstrument {
  BARC_10 = "BARC_10",
}
registerEnumType(RecoveryCapitalInstrument, {
  name: "RecoveryCapitalInstrument",
  valuesConfig: {
    BARC_10: { description: "Brief Assessment of Recovery Capital: ten statements, each answered 1 (strongly disagree) to 6 (strongly agree); total 10-60." },
  },
});

@TypePolicy<RecoveryCapitalRow>({ readableBy: "CLINICAL", audit: { participants: [recoveryCapitalAssessments.participantId] } })
@ObjectType({ implements: Node, description: "One recovery capital assessment of a participant." })
export class RecoveryCapitalAssessment extends Node {
  @Field(() => RecoveryCapitalInstrument)
  instrument!: RecoveryCapitalInstrument;

  @Field(() => DateScalar, { description: "The day the participant answered." })
  assessedOn!: string;

  @Field(() => [Int], { description: "The answers, in the instrument's order." })
  items!: number[];

  @Field(() => Int, { description: "Sum of the answers (BARC-10: 10-60; higher means more recovery capital)." })
  total!: number;

  @Field(() => DateTime)
  recordedAt!: Date;
}
