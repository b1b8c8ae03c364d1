import { Field, ObjectType, registerEnumType } from "type-graphql";
import { TypePolicy } from "../common/policy.js";
import { DateScalar, DateTime } from "../common/scalars.js";

export enum MilestoneKind {
  RECOVERY = "RECOVERY",
  ATTENDANCE = "ATTENDANCE",
  COMPLETION = "COMPLETION",
}
registerEnumType(MilestoneKind, {
  name: "MilestoneKind",
  valuesConfig: {
    RECOVERY: { description: "Time since the recovery start date: 1, 30, 60, 90 days; 6, 9 months; every year." },
    ATTENDANCE: { description: "The 1st, 10th, 25th, 50th and 100th session attended (present, late or left early)." },
    COMPLETION: { description: "A program completed (an enrolment ended as COMPLETED); the label is the program's name." },
  },
});

@TypePolicy<Milestone>({ readableBy: "CLINICAL", audit: { participants: (m) => [m.participantId], resourceId: null } })
@ObjectType({
  description:
    "A recovery milestone of a participant, computed from their recovery start date, attendance and completed programs. " +
    "Dates are in the center's time zone.",
})
export class Milestone {
  @Field(() => MilestoneKind)
  kind!: MilestoneKind;

  @Field(() => String, { description: 'e.g. "1 day", "30 days", "6 months", "2 years", "10 sessions", or a program name.' })
  label!: string;

  @Field(() => DateScalar, { description: "The day the milestone falls on (reached or still ahead)." })
  dueOn!: string;

  @Field(() => DateScalar, { nullable: true, description: "The day it was reached; null while it is still ahead." })
  reachedOn!: string | null;

  @Field(() => DateTime, { nullable: true, description: "When staff marked it celebrated; null if not yet." })
  celebratedAt!: Date | null;

  participantId!: string;
  /** The participant's center (the audit log's scope). */
  centerId!: string;
}
