import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { TypePolicy } from "../common/policy.js";
import { followUps, type FollowUpRow } from "../db/schema.js";
import { Node } from "../common/node.js";
import { DateScalar, DateTime } from "../common/scalars.js";

export enum FollowUpStatus {
  OPEN = "OPEN",
  COMPLETED = "COMPLETED",
  RESOLVED = "RESOLVED",
}
registerEnumType(FollowUpStatus, {
  name: "FollowUpStatus",
  valuesConfig: {
    OPEN: { description: "Someone needs to reach out." },
    COMPLETED: { description: "A staff member reached out (or tried) and recorded the outcome." },
    RESOLVED: { description: "Closed by itself: a correction of attendance took the absences below the threshold before anyone completed it." },
  },
});

export enum FollowUpOutcome {
  REACHED = "REACHED",
  NO_RESPONSE = "NO_RESPONSE",
  RE_ENGAGED = "RE_ENGAGED",
  REFERRED = "REFERRED",
  OTHER = "OTHER",
}
registerEnumType(FollowUpOutcome, { name: "FollowUpOutcome" });

export enum FollowUpEventKind {
  OPENED = "OPENED",
  CLAIMED = "CLAIMED",
  REASSIGNED = "REASSIGNED",
  RETURNED = "RETURNED",
  RETURN_CORRECTED = "RETURN_CORRECTED",
  COMPLETED = "COMPLETED",
  RESOLVED = "RESOLVED",
}
registerEnumType(FollowUpEventKind, {
  name: "FollowUpEventKind",
  valuesConfig: {
    RETURNED: { description: "The participant attended the group again (returnedAt set)." },
    RETURN_CORRECTED: { description: "A correction of attendance changed or cleared returnedAt." },
  },
});

@TypePolicy<FollowUpRow>({ readableBy: "CLINICAL", audit: { participants: [followUps.participantId] }, group: followUps.groupId })
@ObjectType({
  implements: Node,
  description:
    "Outreach owed to a participant whose absences in a row in a group reached the program's threshold. Clinical staff, and the group's facilitators.",
})
export class FollowUp extends Node {
  @Field(() => String, { description: 'Why it opened, e.g. "2 absences in a row from Tuesday evening".' })
  reason!: string;

  @Field(() => Int, { description: "Absences in a row when it opened." })
  absences!: number;

  @Field(() => FollowUpStatus)
  status!: FollowUpStatus;

  @Field(() => FollowUpOutcome, { nullable: true })
  outcome!: FollowUpOutcome | null;

  @Field(() => String, { nullable: true, description: "The note left when completing it." })
  note!: string | null;

  @Field(() => DateTime)
  openedAt!: Date;

  @Field(() => DateScalar, { description: "The triggering session's day (center's time zone) + 2 days." })
  dueOn!: string;

  @Field(() => DateTime, { nullable: true, description: "Start of the first session the participant attended after it opened." })
  returnedAt!: Date | null;

  @Field(() => DateTime, { nullable: true })
  completedAt!: Date | null;

  @Field(() => DateTime, { nullable: true })
  resolvedAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Why it was RESOLVED." })
  resolution!: string | null;
}

@TypePolicy({ readableBy: "CLINICAL" })
@ObjectType({ description: "One change to a follow-up." })
export class FollowUpEvent {
  @Field(() => FollowUpEventKind)
  kind!: FollowUpEventKind;

  @Field(() => DateTime)
  occurredAt!: Date;

  @Field(() => FollowUpOutcome, { nullable: true })
  outcome!: FollowUpOutcome | null;

  @Field(() => String, { nullable: true })
  note!: string | null;
}
