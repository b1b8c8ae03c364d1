// Engagement fields on Participant, Group, Program and Center. Participant figures need
// participant.read (never VIEWERs); group, program and center figures are counts that anyone who
// sees the group or center may read. Facilitators' figures cover the groups they facilitate.
import { Arg, Ctx, FieldResolver, Float, Int, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { DateScalar } from "../common/scalars.js";
import { Center } from "../centers/center.type.js";
import type { CenterRow, GroupRow, ParticipantRow, ProgramRow } from "../db/schema.js";
import { Group } from "../groups/group.type.js";
import { canReadParticipant, participantsForbidden } from "../participants/participant.service.js";
import { Participant } from "../participants/participant.type.js";
import { Program } from "../programs/program.type.js";
import { dayWindow, rate, toParticipantEngagement, trendPoints, trendWindow } from "./engagement.service.js";
import type { RollupKind } from "./engagement.sql.js";
import { AttendanceTrendPoint, EngagementSummary, ParticipantEngagement, TrendIntervalEnum, type RollupKey } from "./engagement.type.js";

/**
 * The engagement aggregates scan every session and record of what they cover, whatever page they
 * are asked on: each one weighs this much in a query's cost (src/common/cost.ts), as much as ten
 * plain fields.
 */
const AGGREGATE_COST = 10;

const FROM = { nullable: true, description: "First day (center's time zone); omit for all time." } as const;
const TO = { nullable: true, description: "Last day, inclusive (center's time zone); omit for up to now." } as const;

@Resolver(() => Participant)
export class ParticipantEngagementResolver {
  @Policy({ cost: AGGREGATE_COST })
  @FieldResolver(() => ParticipantEngagement, {
    description: "Attendance figures, trend and risk (clinical staff; facilitators for their groups only).",
  })
  async engagement(
    @Root() participant: ParticipantRow,
    @Ctx() ctx: Context,
    @Arg("from", () => DateScalar, FROM) from?: string | null,
    @Arg("to", () => DateScalar, TO) to?: string | null,
  ): Promise<ParticipantEngagement> {
    const window = dayWindow(from, to);
    if (!(await canReadParticipant(ctx, participant))) throw participantsForbidden();
    const scope = ctx.access.groupScope(participant.centerId);
    const row = await ctx.loaders.engagement.participant.load({ id: participant.id, window, scope });
    return toParticipantEngagement(row, window);
  }
}

type SummaryRoot = EngagementSummary & RollupKey;

function summary(kind: RollupKind, id: string, centerId: string, ctx: Context, from?: string | null, to?: string | null): SummaryRoot {
  const window = dayWindow(from, to);
  return { kind, id, scope: ctx.access.groupScope(centerId), window, from: window.from, to: window.to };
}

async function trend(kind: RollupKind, id: string, centerId: string, ctx: Context, from: string, to: string, interval: TrendIntervalEnum) {
  const window = trendWindow(from, to, interval);
  const rows = await ctx.loaders.engagement.trend.load({ kind, id, window, scope: ctx.access.groupScope(centerId), interval });
  return trendPoints(rows, from, to, interval);
}

@Resolver(() => EngagementSummary)
export class EngagementSummaryResolver {
  private counts(root: SummaryRoot, ctx: Context) {
    return ctx.loaders.engagement.rollup.load({ id: root.id, kind: root.kind, window: root.window, scope: root.scope });
  }

  @FieldResolver(() => Int, { description: "Sessions in the period that have started and are not cancelled." })
  async sessionsHeld(@Root() root: SummaryRoot, @Ctx() ctx: Context) {
    return (await this.counts(root, ctx)).held;
  }

  @FieldResolver(() => Int, { description: "Expected (participant, session) pairs." })
  async sessionsExpected(@Root() root: SummaryRoot, @Ctx() ctx: Context) {
    return (await this.counts(root, ctx)).expected;
  }

  @FieldResolver(() => Int)
  async sessionsAttended(@Root() root: SummaryRoot, @Ctx() ctx: Context) {
    return (await this.counts(root, ctx)).attended;
  }

  @FieldResolver(() => Int)
  async sessionsMissed(@Root() root: SummaryRoot, @Ctx() ctx: Context) {
    return (await this.counts(root, ctx)).missed;
  }

  @FieldResolver(() => Int)
  async sessionsExcused(@Root() root: SummaryRoot, @Ctx() ctx: Context) {
    return (await this.counts(root, ctx)).excused;
  }

  @FieldResolver(() => Int)
  async sessionsUnrecorded(@Root() root: SummaryRoot, @Ctx() ctx: Context) {
    return (await this.counts(root, ctx)).unrecorded;
  }

  @FieldResolver(() => Float, { nullable: true, description: "attended / (attended + missed) over every expected pair; null when both are 0." })
  async attendanceRate(@Root() root: SummaryRoot, @Ctx() ctx: Context) {
    const c = await this.counts(root, ctx);
    return rate(c.attended, c.missed);
  }

  @FieldResolver(() => Int, { description: "Distinct participants with an ACTIVE enrolment now." })
  async activeParticipants(@Root() root: SummaryRoot, @Ctx() ctx: Context) {
    return (await this.counts(root, ctx)).active;
  }

  @FieldResolver(() => Int, { description: "ACTIVE participants whose risk level, judged on these groups, is HIGH now." })
  atRiskCount(@Root() root: SummaryRoot, @Ctx() ctx: Context) {
    return ctx.loaders.engagement.atRisk.load({ id: root.id, kind: root.kind, scope: root.scope });
  }

  @FieldResolver(() => Int, { description: "Follow-ups OPEN now." })
  async openFollowUps(@Root() root: SummaryRoot, @Ctx() ctx: Context) {
    return (await this.counts(root, ctx)).open_follow_ups;
  }
}

const INTERVAL = { defaultValue: TrendIntervalEnum.WEEK } as const;

@Resolver(() => Group)
export class GroupEngagementResolver {
  @Policy({ cost: AGGREGATE_COST })
  @FieldResolver(() => EngagementSummary, { description: "The group's attendance over a period (all time without one)." })
  engagement(
    @Root() group: GroupRow,
    @Ctx() ctx: Context,
    @Arg("from", () => DateScalar, FROM) from?: string | null,
    @Arg("to", () => DateScalar, TO) to?: string | null,
  ) {
    return summary("group", group.id, group.centerId, ctx, from, to);
  }

  @Policy({ cost: AGGREGATE_COST })
  @FieldResolver(() => [AttendanceTrendPoint], { description: "One point per week or month of [from, to]." })
  attendanceTrend(
    @Root() group: GroupRow,
    @Ctx() ctx: Context,
    @Arg("from", () => DateScalar) from: string,
    @Arg("to", () => DateScalar) to: string,
    @Arg("interval", () => TrendIntervalEnum, INTERVAL) interval: TrendIntervalEnum,
  ) {
    return trend("group", group.id, group.centerId, ctx, from, to, interval);
  }
}

@Resolver(() => Program)
export class ProgramEngagementResolver {
  @Policy({ cost: AGGREGATE_COST })
  @FieldResolver(() => EngagementSummary, { description: "The program's groups' attendance over a period (all time without one)." })
  engagement(
    @Root() program: ProgramRow,
    @Ctx() ctx: Context,
    @Arg("from", () => DateScalar, FROM) from?: string | null,
    @Arg("to", () => DateScalar, TO) to?: string | null,
  ) {
    return summary("program", program.id, program.centerId, ctx, from, to);
  }

  @Policy({ cost: AGGREGATE_COST })
  @FieldResolver(() => [AttendanceTrendPoint], { description: "One point per week or month of [from, to]." })
  attendanceTrend(
    @Root() program: ProgramRow,
    @Ctx() ctx: Context,
    @Arg("from", () => DateScalar) from: string,
    @Arg("to", () => DateScalar) to: string,
    @Arg("interval", () => TrendIntervalEnum, INTERVAL) interval: TrendIntervalEnum,
  ) {
    return trend("program", program.id, program.centerId, ctx, from, to, interval);
  }
}

@Resolver(() => Center)
export class CenterEngagementResolver {
  @Policy({ cost: AGGREGATE_COST })
  @FieldResolver(() => EngagementSummary, { description: "The center's attendance over a period (all time without one)." })
  engagement(
    @Root() center: CenterRow,
    @Ctx() ctx: Context,
    @Arg("from", () => DateScalar, FROM) from?: string | null,
    @Arg("to", () => DateScalar, TO) to?: string | null,
  ) {
    return summary("center", center.id, center.id, ctx, from, to);
  }

  @Policy({ cost: AGGREGATE_COST })
  @FieldResolver(() => [AttendanceTrendPoint], { description: "One point per week or month of [from, to]." })
  attendanceTrend(
    @Root() center: CenterRow,
    @Ctx() ctx: Context,
    @Arg("from", () => DateScalar) from: string,
    @Arg("to", () => DateScalar) to: string,
    @Arg("interval", () => TrendIntervalEnum, INTERVAL) interval: TrendIntervalEnum,
  ) {
    return trend("center", center.id, center.id, ctx, from, to, interval);
  }
}
