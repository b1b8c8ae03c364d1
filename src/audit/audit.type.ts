import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { TypePolicy } from "../common/policy.js";
import { DateTime } from "../common/scalars.js";

export enum AuditActorType {
  STAFF = "STAFF",
  API_CLIENT = "API_CLIENT",
  SYSTEM = "SYSTEM",
  /** A member acting through their personal self check-in token (src/checkin): actorId is the participant. */
  PARTICIPANT = "PARTICIPANT",
  /** A caller with no valid credentials (none, or invalid): their refusals are recorded with their address. */
  ANONYMOUS = "ANONYMOUS",
}
registerEnumType(AuditActorType, { name: "AuditActorType" });

export enum AuditActionEnum {
  READ = "READ",
  CREATE = "CREATE",
  UPDATE = "UPDATE",
  DELETE = "DELETE",
  EXPORT = "EXPORT",
  DENIED = "DENIED",
}
registerEnumType(AuditActionEnum, { name: "AuditAction" });

export enum AuditOutcomeEnum {
  ALLOWED = "ALLOWED",
  DENIED = "DENIED",
  ERROR = "ERROR",
}
registerEnumType(AuditOutcomeEnum, { name: "AuditOutcome" });

@TypePolicy({ readableBy: "ADMIN" })
@ObjectType({
  description: "One entry of the audit log: a request's reads, writes, exports or refusals of one kind of participant data at one center. Identifiers only.",
})
export class AuditEvent {
  @Field(() => DateTime)
  occurredAt!: Date;

  @Field(() => AuditActorType, {
    nullable: true,
    description: "ANONYMOUS for a caller with no valid credentials (null on entries written before ANONYMOUS was recorded).",
  })
  actorType!: AuditActorType | null;

  @Field(() => ID, { nullable: true, description: "The staff member's (or API client's) global id; null for SYSTEM and anonymous callers." })
  actorId!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The network address of an ANONYMOUS caller (for reviewing failed access attempts); null for other actors.",
  })
  clientAddress!: string | null;

  @Field(() => ID, { nullable: true, description: "The center's global id; null for entries of no one center (org admins only)." })
  centerId!: string | null;

  @Field(() => AuditActionEnum)
  action!: AuditActionEnum;

  @Field(() => String, { description: "The kind of data: Participant, Attendance, Enrollment, FollowUp, Milestone, Mentorship, …" })
  resourceType!: string;

  @Field(() => ID, { nullable: true, description: "The resource's global id, when the entry is about exactly one." })
  resourceId!: string | null;

  @Field(() => [ID], { description: "Global ids of the participants whose data was touched." })
  participantIds!: string[];

  @Field(() => String, { nullable: true, description: "The GraphQL operationName, else the root field (exports: e.g. `export.attendance.csv`)." })
  operationName!: string | null;

  @Field(() => String, { nullable: true, description: "The request id (x-request-id) the entry was written for." })
  requestId!: string | null;

  @Field(() => AuditOutcomeEnum)
  outcome!: AuditOutcomeEnum;

  @Field(() => String, {
    nullable: true,
    description: "sha256 (hex) over the entry's content and the previous entry's hash; null until the sealer has chained the entry (seconds at most).",
  })
  hash!: string | null;
}
