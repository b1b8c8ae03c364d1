import { Field, Int, ObjectType } from "type-graphql";
import { ReadableBy } from "../common/readable.js";
import { DateTime } from "../common/scalars.js";

@ObjectType({ description: "One disclosure of a participant's records to a recipient (42 CFR 2.24, 2.25): what went to whom, and when." })
export class Disclosure {
  @Field(() => DateTime)
  disclosedAt!: Date;

  @Field(() => Int, { description: "How many records were handed out." })
  recordCount!: number;

  @ReadableBy("CLINICAL")
  @Field(() => String, { description: "The operation that handed them out (the GraphQL operation name, else the root field)." })
  operation!: string;
}
