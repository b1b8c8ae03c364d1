import { Field, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { TypePolicy } from "../common/policy.js";
import { DateTime } from "../common/scalars.js";
import { enrollments, type EnrollmentEventRow, type EnrollmentRow } from "../db/schema.js";

export enum EnrollmentStatus {
  WAITLISTED = "WAITLISTED",
  ACTIVE = "ACTIVE",
  COMPLETED = "COMPLETED",
  WITHDRAWN = "WITHDRAWN",
  DISCHARGED = "DISCHARGED",
}
registerEnumType(EnrollmentStatus, {
  name: "EnrollmentStatus",
  valuesConfig: {
    WAITLISTED: { description: "Waiting for a seat; the first in line gets the next one." },
    ACTIVE: { description: "Holds a seat and is expected at every session." },
  },
});

export enum EnrollmentEndStatus {
  COMPLETED = "COMPLETED",
  WITHDRAWN = "WITHDRAWN",
  DISCHARGED = "DISCHARGED",
}
registerEnumType(EnrollmentEndStatus, { name: "EnrollmentEndStatus" });

export enum EnrollmentRole {
  MEMBER = "MEMBER",
  PEER_MENTOR = "PEER_MENTOR",
}
registerEnumType(EnrollmentRole, { name: "EnrollmentRole" });

@TypePolicy<EnrollmentRow>({ readableBy: "GROUP", audit: { participants: [enrollments.participantId] }, group: enrollments.groupId })
@ObjectType({ implements: Node, description: "A participant's place in a group." })
export class Enrollment extends Node {
  @Field(() => EnrollmentStatus)
  status!: EnrollmentStatus;

  @Field(() => EnrollmentRole)
  role!: EnrollmentRole;

  @Field(() => DateTime)
  enrolledAt!: Date;

  @Field(() => DateTime, { nullable: true, description: "When the enrolment took a seat." })
  activatedAt!: Date | null;

  @Field(() => DateTime, { nullable: true })
  endedAt!: Date | null;

  /** Enrollment.endReason: a field resolver (clinical; refused to VIEWERs). */
  endReason!: string | null;
}

@TypePolicy<EnrollmentEventRow>({
  readableBy: "GROUP",
  // The enrolment's group (loaded only for the reads that depend on it: a facilitator's).
  group: (e, ctx) => ctx.loaders.enrollments.byId.load(e.enrollmentId).then((enrollment) => enrollment?.groupId),
})
@ObjectType({ description: "One status change of an enrolment." })
export class EnrollmentEvent {
  @Field(() => EnrollmentStatus, { nullable: true, description: "Null for the enrolment itself." })
  fromStatus!: EnrollmentStatus | null;

  @Field(() => EnrollmentStatus)
  toStatus!: EnrollmentStatus;

  /** EnrollmentEvent.reason: a field resolver (clinical; refused to VIEWERs). */
  reason!: string | null;

  @Field(() => DateTime)
  occurredAt!: Date;

  actorStaffId!: string | null;
}
