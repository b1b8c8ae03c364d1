import { Field, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { DateScalar, DateTime } from "../common/scalars.js";

export enum ParticipantStatus {
  ACTIVE = "ACTIVE",
  INACTIVE = "INACTIVE",
  DISCHARGED = "DISCHARGED",
}
registerEnumType(ParticipantStatus, { name: "ParticipantStatus" });

@ObjectType({
  implements: Node,
  description: "A person in post-treatment support. Protected health information: readable by clinical staff and the facilitators of their groups only.",
})
export class Participant extends Node {
  @Field(() => String)
  firstName!: string;

  @Field(() => String)
  lastName!: string;

  @Field(() => String, { nullable: true })
  preferredName!: string | null;

  @Field(() => String, { nullable: true, description: "The center's record number (MRN); unique per center." })
  externalId!: string | null;

  @Field(() => DateScalar, { nullable: true })
  dateOfBirth!: string | null;

  @Field(() => DateScalar, { nullable: true })
  recoveryStartDate!: string | null;

  @Field(() => String, { nullable: true })
  phone!: string | null;

  @Field(() => String, { nullable: true })
  email!: string | null;

  @Field(() => Boolean, { description: "When true, the participant is left off every group's list of milestones to celebrate." })
  celebrationOptOut!: boolean;

  @Field(() => ParticipantStatus)
  status!: ParticipantStatus;

  @Field(() => DateTime)
  createdAt!: Date;
}
