import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, Authorized, Ctx, FieldResolver, Info, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { forbidden } from "../common/errors.js";
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
import { recordAttendance, requireRecordsOf } from "./attendance.service.js";
import { Attendance, AttendanceChange, AttendanceSummary, RosterEntry } from "./attendance.type.js";
import { Policy } from "../common/policy.js";

const AttendanceConnection = connectionType(Attendance, "Attendance");

/** requireRecordsOf for the session's group (a visible session has one). */
async function requireRecordsOfSession(ctx: Context, session: SessionRow): Promise<void> {
  requireRecordsOf(ctx, (await ctx.loaders.groups.byId.load(session.groupId))!);
}

/** The notes of a change: as the record's own note (reached only through a readable record, checked again). */
async function requireRecordsOfChange(ctx: Context, c: AttendanceHistoryRow): Promise<void> {
  const record = await ctx.loaders.attendance.byId.load(c.attendanceId);
  const session = record ? await ctx.loaders.sessions.byId.load(record.sessionId) : null;
  if (!session) throw forbidden("Your role does not allow reading attendance records");
  await requireRecordsOfSession(ctx, session);
}

@Resolver(() => Attendance)
export class AttendanceResolver {
  @FieldResolver(() => String, { nullable: true, description: "Clinical note; never shown to VIEWERs." })
  async note(@Root() a: AttendanceRow, @Ctx() ctx: Context) {
    const session = await ctx.loaders.sessions.byId.load(a.sessionId);
    await requireRecordsOfSession(ctx, session!);
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
  async note(@Root() c: AttendanceHistoryRow, @Ctx() ctx: Context) {
    await requireRecordsOfChange(ctx, c);
    return c.note;
  }

  @FieldResolver(() => String, { nullable: true })
  async previousNote(@Root() c: AttendanceHistoryRow, @Ctx() ctx: Context) {
    await requireRecordsOfChange(ctx, c);
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
  async attendance(@Root() session: SessionRow, @Ctx() ctx: Context) {
    await requireRecordsOfSession(ctx, session);
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
    await requireRecordsOfSession(ctx, session);
    const [expected, recorded] = await Promise.all([
      ctx.loaders.attendance.expectedBySessionId.load(session.id),
      ctx.loaders.attendance.bySessionId.load(session.id),
    ]);
    const byParticipant = new Map(recorded.map((a) => [a.participantId, a]));
    const entries: RosterEntry[] = expected.map((e) => ({
      participantId: e.participantId,
      centerId: session.centerId,
      enrollmentId: e.enrollmentId,
      attendanceId: byParticipant.get(e.participantId)?.id ?? null,
      expected: true,
    }));
    const listed = new Set(expected.map((e) => e.participantId));
    for (const a of recorded) {
      if (!listed.has(a.participantId))
        entries.push({ participantId: a.participantId, centerId: session.centerId, enrollmentId: null, attendanceId: a.id, expected: false });
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
