import { Field, Int, ObjectType } from "type-graphql";
import { TypePolicy } from "../common/policy.js";
import type { ParticipantDisclosure } from "./disclosure.loaders.js";
import { DateTime } from "../common/scalars.js";

// Read as one participant's accounting (disclosure.loaders.ts): a READ of that participant.
@TypePolicy<ParticipantDisclosure>({ readableBy: "CLINICAL", audit: { participants: (d) => [d.participantId], resourceId: null } })
@ObjectType({ description: "One disclosure of a participant's records to a recipient (42 CFR 2.24, 2.25): what went to whom, and when." })
export class Disclosure {
  @Field(() => DateTime)
  disclosedAt!: Date;

  @Field(() => Int, { description: "How many of the participant's records were handed out." })
  recordCount!: number;

  @Field(() => String, { description: "The operation that handed them out (the GraphQL operation name, else the root field)." })
  operation!: string;
}
