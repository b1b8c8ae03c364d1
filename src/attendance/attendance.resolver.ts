import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, Authorized, Ctx, FieldResolver, Info, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { mutate } from "../common/payload.js";
import { connectionType, ConnectionArgs, pageWindow } from "../common/relay.js";
import type { AttendanceHistoryRow, AttendanceRow, ParticipantRow, SessionRow } from "../db/schema.js";
import { Enrollment } from "../enrollments/enrollment.type.js";
import { readableParticipant } from "../participants/participant.service.js";
import { selectsOnly } from "../common/selection.js";
import { TIME_FIELDS } from "../sessions/session.loaders.js";
import { Participant } from "../participants/participant.type.js";
import { Session } from "../sessions/session.type.js";
import { linkedStaff } from "../staff/staff.service.js";
import { Staff } from "../staff/staff.type.js";
import { RecordAttendanceInput, RecordAttendancePayload } from "./attendance.inputs.js";
import { recordAttendance } from "./attendance.service.js";
import { Attendance, AttendanceChange, AttendanceSummary, RosterEntry } from "./attendance.type.js";
import { Policy } from "../common/policy.js";

const AttendanceConnection = connectionType(Attendance, "Attendance");

@Resolver(() => Attendance)
export class AttendanceResolver {
  @FieldResolver(() => String, { nullable: true, description: "Clinical note; never shown to VIEWERs." })
  note(@Root() a: AttendanceRow) {
    return a.note;
  }

  @Policy({ api: ["ATTENDANCE_READ"] })
  @FieldResolver(() => Session)
  session(@Root() a: AttendanceRow, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    const loader = selectsOnly(info, TIME_FIELDS) ? ctx.loaders.sessions.timesById : ctx.loaders.sessions.byId;
    return loader.load(a.sessionId);
  }

  @Policy({ api: ["ATTENDANCE_READ"] })
  @FieldResolver(() => Participant)
  participant(@Root() a: AttendanceRow, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return readableParticipant(ctx, a.participantId, info);
  }

  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => Staff, { nullable: true })
  recordedBy(@Root() a: AttendanceRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, a.recordedByStaffId);
  }

  @FieldResolver(() => [AttendanceChange], { description: "Every recorded value, oldest first." })
  history(@Root() a: AttendanceRow, @Ctx() ctx: Context) {
    return ctx.loaders.attendance.historyByAttendanceId.load(a.id);
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => RecordAttendancePayload, {
    description: "Upserts one record per (session, participant). All records are written or none is.",
  })
  recordAttendance(@Arg("input", () => RecordAttendanceInput) input: RecordAttendanceInput, @Ctx() ctx: Context) {
    return mutate("attendance", () => recordAttendance(ctx, input));
  }
}

@Resolver(() => AttendanceChange)
export class AttendanceChangeResolver {
  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => Staff, { nullable: true })
  changedBy(@Root() c: AttendanceHistoryRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, c.changedByStaffId);
  }

  @FieldResolver(() => String, { nullable: true })
  note(@Root() c: AttendanceHistoryRow) {
    return c.note;
  }

  @FieldResolver(() => String, { nullable: true })
  previousNote(@Root() c: AttendanceHistoryRow) {
    return c.previousNote;
  }
}

@Resolver(() => RosterEntry)
export class RosterEntryResolver {
  @FieldResolver(() => Participant)
  participant(@Root() r: RosterEntry, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return readableParticipant(ctx, r.participantId, info);
  }

  @FieldResolver(() => Enrollment, { nullable: true })
  enrollment(@Root() r: RosterEntry, @Ctx() ctx: Context) {
    return r.enrollmentId ? ctx.loaders.enrollments.byId.load(r.enrollmentId) : null;
  }

  @FieldResolver(() => Attendance, { nullable: true, description: "Null until something is recorded." })
  attendance(@Root() r: RosterEntry, @Ctx() ctx: Context) {
    return r.attendanceId ? ctx.loaders.attendance.byId.load(r.attendanceId) : null;
  }
}

@Resolver(() => Session)
export class SessionAttendanceResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => [Attendance], { description: "What has been recorded, by participant name (clinical staff and facilitators)." })
  attendance(@Root() session: SessionRow, @Ctx() ctx: Context) {
    return ctx.loaders.attendance.bySessionId.load(session.id);
  }

  @FieldResolver(() => AttendanceSummary)
  attendanceSummary(@Root() session: SessionRow, @Ctx() ctx: Context) {
    return ctx.loaders.attendance.summaryBySessionId.load(session.id);
  }

  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => [RosterEntry], {
    description: "The expected roster (ACTIVE enrolments at the start) plus anyone else recorded, with their attendance.",
  })
  async roster(@Root() session: SessionRow, @Ctx() ctx: Context): Promise<RosterEntry[]> {
    const [expected, recorded] = await Promise.all([
      ctx.loaders.attendance.expectedBySessionId.load(session.id),
      ctx.loaders.attendance.bySessionId.load(session.id),
    ]);
    const byParticipant = new Map(recorded.map((a) => [a.participantId, a]));
    const entries: RosterEntry[] = expected.map((e) => ({
      participantId: e.participantId,
      sessionId: session.id,
      centerId: session.centerId,
      enrollmentId: e.enrollmentId,
      attendanceId: byParticipant.get(e.participantId)?.id ?? null,
      expected: true,
    }));
    const listed = new Set(expected.map((e) => e.participantId));
    for (const a of recorded) {
      if (!listed.has(a.participantId))
        entries.push({
          participantId: a.participantId,
          sessionId: session.id,
          centerId: session.centerId,
          enrollmentId: null,
          attendanceId: a.id,
          expected: false,
        });
    }
    return entries;
  }
}

@Resolver(() => Participant)
export class ParticipantAttendanceResolver {
  @FieldResolver(() => AttendanceConnection, { description: "Latest session first. Facilitators see their groups' sessions only." })
  attendance(@Root() participant: ParticipantRow, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    return ctx.loaders.attendance.byParticipant.load(participant.id, { groupScope: ctx.access.groupScope(participant.centerId) }, pageWindow(args));
  }
}
