import { Field, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { DateScalar, DateTime } from "../common/scalars.js";
import { Policy, TypePolicy } from "../common/policy.js";
import { participants, type ParticipantRow } from "../db/schema.js";

export enum ParticipantStatus {
  ACTIVE = "ACTIVE",
  INACTIVE = "INACTIVE",
  DISCHARGED = "DISCHARGED",
}
registerEnumType(ParticipantStatus, { name: "ParticipantStatus" });

/** How urgently a participant needs attention; the engagement module computes it (see README, "Engagement"). */
export enum RiskLevel {
  LOW = "LOW",
  MEDIUM = "MEDIUM",
  HIGH = "HIGH",
}
registerEnumType(RiskLevel, {
  name: "RiskLevel",
  valuesConfig: {
    HIGH: { description: "Absences in a row reached the program's threshold, or nothing attended in 21 days with two or more sessions expected." },
    MEDIUM: { description: "At least one absence in a row, a 28-day rate below 0.6, or a declining trend." },
  },
});

@TypePolicy<ParticipantRow>({ readableBy: "CLINICAL", audit: { participants: [participants.id] } })
@ObjectType({
  implements: Node,
  description: "A person in post-treatment support. Protected health information: readable by clinical staff and the facilitators of their groups only.",
})
export class Participant extends Node {
  @Policy({ api: ["PARTICIPANT_READ"] })
  @Field(() => String)
  firstName!: string;

  @Policy({ api: ["PARTICIPANT_READ"] })
  @Field(() => String)
  lastName!: string;

  @Policy({ api: ["PARTICIPANT_READ"] })
  @Field(() => String, { nullable: true })
  preferredName!: string | null;

  // The identifier an integrator files a record under.
  @Policy({ api: ["ATTENDANCE_READ", "PARTICIPANT_READ"] })
  @Field(() => String, { nullable: true, description: "The center's record number (MRN); unique per center." })
  externalId!: string | null;

  @Policy({ api: ["PARTICIPANT_READ"] })
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
