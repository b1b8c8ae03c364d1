import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { Attendance } from "../attendance/attendance.type.js";
import { TypePolicy } from "../common/policy.js";
import { PageInfo } from "../common/relay.js";
import { DateTime } from "../common/scalars.js";

export enum AttendanceChangeType {
  UPSERT = "UPSERT",
  DELETE = "DELETE",
}
registerEnumType(AttendanceChangeType, {
  name: "AttendanceChangeType",
  valuesConfig: {
    UPSERT: { description: "The record is new or changed, or newly yours (consent given): store `attendance`." },
    DELETE: { description: "The record is no longer yours to hold (consent revoked or expired): drop `attendanceId`. Attendance itself is never deleted." },
  },
});

@TypePolicy({ readableBy: "CALLER", api: ["ATTENDANCE_READ"] })
@ObjectType({ description: "One change of one attendance record, as the API client may see it." })
export class AttendanceFeedChange {
  @Field(() => AttendanceChangeType)
  changeType!: AttendanceChangeType;

  @Field(() => DateTime, { description: "When the change happened (for a DELETE: when the consent ended)." })
  changedAt!: Date;

  @Field(() => ID, { description: "The record's global id, on every change (DELETE included)." })
  attendanceId!: string;

  @Field(() => Attendance, { nullable: true, description: "The record as it is now; null on DELETE." })
  attendance!: object | null;
}

@TypePolicy({ readableBy: "CALLER", api: ["ATTENDANCE_READ"] })
@ObjectType()
export class AttendanceFeedEdge {
  @Field(() => String, { description: "The change's position: resume after it with `after`." })
  cursor!: string;

  @Field(() => AttendanceFeedChange)
  node!: AttendanceFeedChange;
}

@TypePolicy({ readableBy: "CALLER", api: ["ATTENDANCE_READ"] })
@ObjectType({
  description:
    "A page of the attendance change feed. Resume from `pageInfo.endCursor` (it moves past changes that are not yours too, so a page may hold fewer than `first` changes, even none, while `hasNextPage` is true).",
})
export class AttendanceChangeFeed {
  @Field(() => String, { description: "The notice that must accompany each disclosure (42 CFR 2.32)." })
  disclosureNotice!: string;

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => [AttendanceFeedEdge])
  edges!: AttendanceFeedEdge[];

  @Field(() => [AttendanceFeedChange])
  nodes!: AttendanceFeedChange[];
}
