import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { centers } from "../db/schema.js";
import { DateTime } from "../common/scalars.js";
import { Policy, TypePolicy } from "../common/policy.js";

export enum CenterStatus {
  ACTIVE = "ACTIVE",
  INACTIVE = "INACTIVE",
}
registerEnumType(CenterStatus, { name: "CenterStatus" });

@TypePolicy({ readableBy: "CENTER", center: centers.id })
@ObjectType({ implements: Node, description: "A treatment center: the unit of tenancy and access." })
export class Center extends Node {
  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => String)
  name!: string;

  @Policy({ api: ["ATTENDANCE_READ"] })
  @Field(() => String, { description: "IANA time zone, e.g. America/New_York; sessions are scheduled in it." })
  timezone!: string;

  @Field(() => String, { nullable: true })
  address!: string | null;

  @Field(() => String, { nullable: true })
  phone!: string | null;

  @Field(() => CenterStatus)
  status!: CenterStatus;

  @Field(() => Int, { description: "Days in recovery before a participant may become a peer mentor (unless they completed a program)." })
  peerMentorMinimumDays!: number;

  @Field(() => Int, { description: "Most current mentees one peer mentor may have." })
  maxMenteesPerMentor!: number;

  @Policy({ readableBy: "CENTER" })
  @Field(() => Int, { description: "Days after a session within which its note is signed on time; a note signed later is a late entry and needs a reason." })
  lateEntryWindowDays!: number;

  @Policy({ readableBy: "CENTER" })
  @Field(() => Int, { description: "Self check-in opens this many minutes before a session's start (inclusive)." })
  checkInOpensMinutesBefore!: number;

  @Policy({ readableBy: "CENTER" })
  @Field(() => Int, { description: "Self check-in closes this many minutes after a session's start (inclusive)." })
  checkInClosesMinutesAfter!: number;

  @Field(() => DateTime)
  createdAt!: Date;
}
