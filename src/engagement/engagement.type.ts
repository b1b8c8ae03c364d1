import { Field, Float, Int, ObjectType, registerEnumType } from "type-graphql";
import { TypePolicy } from "../common/policy.js";
import { DateScalar, DateTime } from "../common/scalars.js";
import { RiskLevel } from "../participants/participant.type.js";
import type { DayWindow, GroupScope, RollupKind } from "./engagement.sql.js";

export enum EngagementTrend {
  IMPROVING = "IMPROVING",
  STEADY = "STEADY",
  DECLINING = "DECLINING",
  UNKNOWN = "UNKNOWN",
}
registerEnumType(EngagementTrend, {
  name: "EngagementTrend",
  description: "The attendance rate of the last 28 days against the 28 days before.",
  valuesConfig: {
    IMPROVING: { description: "Up by 0.10 or more." },
    DECLINING: { description: "Down by 0.10 or more." },
    STEADY: { description: "Changed by less than 0.10." },
    UNKNOWN: { description: "Either period has nothing attended or missed to compare." },
  },
});

export enum TrendIntervalEnum {
  WEEK = "WEEK",
  MONTH = "MONTH",
}
registerEnumType(TrendIntervalEnum, {
  name: "TrendInterval",
  valuesConfig: {
    WEEK: { description: "Weeks from Monday, in the center's time zone." },
    MONTH: { description: "Calendar months, in the center's time zone." },
  },
});

@TypePolicy({ readableBy: "CLINICAL" })
@ObjectType({
  description:
    "A participant's attendance. Counts, rate, runs and lastAttendedAt cover the period asked for (all time without one); " +
    "trend and riskLevel always describe the participant now. Facilitators see the figures of their own groups only.",
})
export class ParticipantEngagement {
  @Field(() => DateScalar, { nullable: true, description: "First day of the period; null for all time." })
  from!: string | null;

  @Field(() => DateScalar, { nullable: true, description: "Last day of the period (inclusive); null for up to now." })
  to!: string | null;

  @Field(() => Int, { description: "Sessions held (started, not cancelled) where the participant was on the roster or has a record." })
  sessionsExpected!: number;

  @Field(() => Int, { description: "Records PRESENT, LATE or LEFT_EARLY." })
  sessionsAttended!: number;

  @Field(() => Int, { description: "Records ABSENT." })
  sessionsMissed!: number;

  @Field(() => Int, { description: "Records EXCUSED." })
  sessionsExcused!: number;

  @Field(() => Int, { description: "Expected sessions with nothing recorded." })
  sessionsUnrecorded!: number;

  @Field(() => Float, { nullable: true, description: "attended / (attended + missed); null when both are 0." })
  attendanceRate!: number | null;

  @Field(() => Int, { description: "ABSENT records in a row, counting back from the latest recorded session (EXCUSED and unrecorded skipped), across groups." })
  consecutiveMisses!: number;

  @Field(() => Int, { description: "Attended sessions in a row, counted the same way." })
  currentStreak!: number;

  @Field(() => DateTime, { nullable: true, description: "Start of the latest attended session." })
  lastAttendedAt!: Date | null;

  @Field(() => Float, { nullable: true, description: "The rate over the last 28 × 24 hours." })
  recentAttendanceRate!: number | null;

  @Field(() => Float, { nullable: true, description: "The rate over the 28 × 24 hours before those." })
  previousAttendanceRate!: number | null;

  @Field(() => EngagementTrend)
  trend!: EngagementTrend;

  @Field(() => Float, { nullable: true, description: "recentAttendanceRate − previousAttendanceRate; null when either is null." })
  trendDelta!: number | null;

  @Field(() => RiskLevel)
  riskLevel!: RiskLevel;
}

/** What a rolled-up figure is about: resolved field by field, so each field costs only its own statement. */
export interface RollupKey {
  kind: RollupKind;
  id: string;
  scope: GroupScope;
  window: DayWindow;
}

@TypePolicy({ readableBy: "GROUP" })
@ObjectType({
  description:
    "Attendance of a group, program or center over a period (all time without one): every expected (participant, session) pair pooled. " +
    "activeParticipants, atRiskCount and openFollowUps describe now. Facilitators' figures cover their own groups.",
})
export class EngagementSummary {
  @Field(() => DateScalar, { nullable: true })
  from!: string | null;

  @Field(() => DateScalar, { nullable: true })
  to!: string | null;
}

@TypePolicy({ readableBy: "GROUP" })
@ObjectType({ description: "Attendance in one week or month; periods with no sessions have zero counts and a null rate." })
export class AttendanceTrendPoint {
  @Field(() => DateScalar, { description: "The Monday (WEEK) or the 1st (MONTH) the period starts on; counts stay within the range asked for." })
  periodStart!: string;

  @Field(() => Int, { description: "Expected pairs, recorded or not." })
  expected!: number;

  @Field(() => Int)
  attended!: number;

  @Field(() => Int)
  missed!: number;

  @Field(() => Int)
  excused!: number;

  @Field(() => Int)
  unrecorded!: number;

  @Field(() => Float, { nullable: true, description: "attended / (attended + missed); null when both are 0." })
  rate!: number | null;
}
