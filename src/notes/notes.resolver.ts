import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Info, Int, Mutation, Resolver, Root } from "type-graphql";
import { Center } from "../centers/center.type.js";
import type { Context } from "../common/context.js";
import { badInput, forbidden } from "../common/errors.js";
import { toGlobalId } from "../common/ids.js";
import { mutate } from "../common/payload.js";
import { Policy } from "../common/policy.js";
import { ConnectionArgs, connectionType, pageWindow } from "../common/relay.js";
import { DateScalar, isCalendarDay } from "../common/scalars.js";
import type { CenterRow, NoteAddendumRow, ParticipantRow, ServiceRecordRow, SessionRow } from "../db/schema.js";
import { Participant } from "../participants/participant.type.js";
import { readableParticipant } from "../participants/participant.service.js";
import { Session } from "../sessions/session.type.js";
import { addDays, dayInZone, daysBetween } from "../sessions/timezone.js";
import { clock } from "../common/clock.js";
import { linkedStaff } from "../staff/staff.service.js";
import { Staff } from "../staff/staff.type.js";
import {
  AddNoteAddendumInput,
  AddNoteAddendumPayload,
  CosignSessionNoteInput,
  CosignSessionNotePayload,
  SaveSessionNoteInput,
  SaveSessionNotePayload,
  SignSessionNoteInput,
  SignSessionNotePayload,
} from "./notes.inputs.js";
import type { MemberRow } from "./notes.loaders.js";
import { addNoteAddendum, cosignSessionNote, requireNotesOf, saveSessionNote, signSessionNote } from "./notes.service.js";
import { ChartNote, NoteAddendum, ServiceRecord, SessionNote, SessionNoteMember, type ChartEntry, type NoteView } from "./notes.type.js";

const ChartNoteConnection = connectionType(ChartNote, "ChartNote");
const ServiceRecordConnection = connectionType(ServiceRecord, "ServiceRecord");

const ATTENDED = new Set(["PRESENT", "LATE", "LEFT_EARLY"]);

@Resolver(() => Session)
export class SessionNoteResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => SessionNote, {
    nullable: true,
    description: "The session's note (null until first saved): the group's facilitators and clinical staff.",
  })
  async note(@Root() session: SessionRow, @Ctx() ctx: Context): Promise<NoteView | null> {
    const group = (await ctx.loaders.groups.byId.load(session.groupId))!;
    requireNotesOf(ctx, group);
    const note = await ctx.loaders.notes.bySessionId.load(session.id);
    if (!note) return null;
    const members = await ctx.loaders.notes.membersByNoteId.load(note.id);
    return { ...note, memberIds: members.map((m) => m.participantId) };
  }
}

@Resolver(() => SessionNote)
export class NoteResolver {
  @FieldResolver(() => Int, { description: "Members who attended (PRESENT, LATE, LEFT_EARLY), from attendance." })
  async presentCount(@Root() note: NoteView, @Ctx() ctx: Context): Promise<number> {
    const members = await ctx.loaders.notes.membersByNoteId.load(note.id);
    return members.filter((m) => ATTENDED.has(m.attendanceStatus ?? "")).length;
  }

  @FieldResolver(() => [SessionNoteMember], { description: "One part per member with an attendance record (or a part), by name." })
  async members(@Root() note: NoteView, @Ctx() ctx: Context): Promise<Array<MemberRow & { note: NoteView }>> {
    const members = await ctx.loaders.notes.membersByNoteId.load(note.id);
    return members.map((m) => ({ ...m, note }));
  }

  @FieldResolver(() => [NoteAddendum], { description: "Every addendum, to the shared part and to members' parts, oldest first." })
  addenda(@Root() note: NoteView, @Ctx() ctx: Context) {
    return ctx.loaders.notes.addendaByNoteId.load(note.id);
  }

  @FieldResolver(() => Session)
  session(@Root() note: NoteView, @Ctx() ctx: Context) {
    return ctx.loaders.sessions.byId.load(note.sessionId);
  }

  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => Staff, { nullable: true, description: "Who first saved the note." })
  author(@Root() note: NoteView, @Ctx() ctx: Context) {
    return linkedStaff(ctx, note.authorStaffId);
  }

  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => Staff, { nullable: true, description: "The rendering provider." })
  signedBy(@Root() note: NoteView, @Ctx() ctx: Context) {
    return linkedStaff(ctx, note.signedByStaffId);
  }

  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => Staff, { nullable: true, description: "The supervising provider." })
  cosignedBy(@Root() note: NoteView, @Ctx() ctx: Context) {
    return linkedStaff(ctx, note.cosignedByStaffId);
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => SaveSessionNotePayload, { description: "Creates or updates the DRAFT note of a session (one note per session)." })
  saveSessionNote(@Arg("input", () => SaveSessionNoteInput) input: SaveSessionNoteInput, @Ctx() ctx: Context) {
    return mutate("note", () => saveSessionNote(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => SignSessionNotePayload, { description: "The author or a facilitator of the session signs and locks the note." })
  signSessionNote(@Arg("input", () => SignSessionNoteInput) input: SignSessionNoteInput, @Ctx() ctx: Context) {
    return mutate("note", () => signSessionNote(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => CosignSessionNotePayload, { description: "A clinician or admin other than the signer co-signs a PENDING_COSIGN note." })
  cosignSessionNote(@Arg("input", () => CosignSessionNoteInput) input: CosignSessionNoteInput, @Ctx() ctx: Context) {
    return mutate("note", () => cosignSessionNote(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "CREATE" })
  @Mutation(() => AddNoteAddendumPayload, { description: "A new signed entry on a signed note, to its shared part or to one member's part." })
  addNoteAddendum(@Arg("input", () => AddNoteAddendumInput) input: AddNoteAddendumInput, @Ctx() ctx: Context) {
    return mutate("addendum", () => addNoteAddendum(ctx, input));
  }
}

@Resolver(() => SessionNoteMember)
export class NoteMemberResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => Participant)
  participant(@Root() m: MemberRow, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return readableParticipant(ctx, m.participantId, info);
  }

  @FieldResolver(() => [NoteAddendum], { description: "The addenda to this member's part." })
  async addenda(@Root() m: MemberRow, @Ctx() ctx: Context) {
    return (await ctx.loaders.notes.addendaByNoteId.load(m.noteId)).filter((a) => a.participantId === m.participantId);
  }
}

@Resolver(() => NoteAddendum)
export class NoteAddendumResolver {
  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => Staff, { nullable: true })
  author(@Root() a: NoteAddendumRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, a.authorStaffId);
  }

  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => Participant, { nullable: true, description: "The member whose part it adds to; null: the shared part." })
  participant(@Root() a: NoteAddendumRow, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return a.participantId ? readableParticipant(ctx, a.participantId, info) : null;
  }
}

@Resolver(() => ChartNote)
export class ChartNoteResolver {
  @FieldResolver(() => ID)
  noteId(@Root() e: ChartEntry): string {
    return toGlobalId("SessionNote", e.noteId);
  }

  @FieldResolver(() => [NoteAddendum], { description: "Addenda to the shared part and to this member's part, oldest first." })
  async addenda(@Root() e: ChartEntry, @Ctx() ctx: Context) {
    return (await ctx.loaders.notes.addendaByNoteId.load(e.noteId)).filter((a) => a.participantId === null || a.participantId === e.participantId);
  }
}

@Resolver(() => Participant)
export class ParticipantChartResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => ChartNoteConnection, {
    description: "The member's chart: each signed note's shared part and this member's own part, latest session first. Facilitators see their groups' notes.",
  })
  chartNotes(@Root() participant: ParticipantRow, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    const win = pageWindow(args);
    const groupScope = ctx.access.groupScope(participant.centerId);
    if (!ctx.access.can("note.read", { centerId: participant.centerId, groupIds: groupScope === "ALL" ? [] : groupScope })) {
      throw forbidden("Your role does not allow reading session notes");
    }
    return ctx.loaders.notes.chartByParticipant.load({ participantId: participant.id, filter: { groupScope }, win });
  }
}

@ArgsType()
class ServiceRecordsArgs extends ConnectionArgs {
  @Field(() => DateScalar, { nullable: true, description: "First day of service (center's zone), inclusive; default 30 days before `to`." })
  from?: string | null;

  @Field(() => DateScalar, {
    nullable: true,
    description: "Last day of service, inclusive; at most 366 days after `from`; default today in the center's zone.",
  })
  to?: string | null;
}

@Resolver(() => Center)
export class CenterServiceRecordsResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => ServiceRecordConnection, { description: "Billable services by day of service (voided ones too): clinicians and admins." })
  serviceRecords(@Root() center: CenterRow, @Args(() => ServiceRecordsArgs) args: ServiceRecordsArgs, @Ctx() ctx: Context) {
    if (!ctx.access.can("service.read", { centerId: center.id })) throw forbidden("Only clinicians and admins read service records");
    const win = pageWindow(args);
    const to = args.to ?? dayInZone(clock.now(), center.timezone);
    const from = args.from ?? addDays(to, -30);
    if (!isCalendarDay(from) || !isCalendarDay(to)) throw badInput("from and to are days (YYYY-MM-DD)", "from");
    const span = daysBetween(from, to);
    if (span < 0) throw badInput("from must not be after to", "from");
    if (span > 365) throw badInput("A range covers at most 366 days", "to");
    return ctx.loaders.notes.serviceRecordsByCenter.load(center.id, { from, to }, win);
  }
}

@Resolver(() => ServiceRecord)
export class ServiceRecordResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => Participant)
  participant(@Root() r: ServiceRecordRow, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return readableParticipant(ctx, r.participantId, info);
  }

  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => Staff, { nullable: true, description: "The signer of the note." })
  renderingProvider(@Root() r: ServiceRecordRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, r.renderingStaffId);
  }

  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => Staff, { nullable: true, description: "The co-signer of the note, when it needed one." })
  supervisingProvider(@Root() r: ServiceRecordRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, r.supervisingStaffId);
  }

  @FieldResolver(() => Session)
  session(@Root() r: ServiceRecordRow, @Ctx() ctx: Context) {
    return ctx.loaders.sessions.byId.load(r.sessionId);
  }

  @FieldResolver(() => ServiceRecord, { nullable: true, description: "The voided record this one replaces." })
  replaces(@Root() r: ServiceRecordRow, @Ctx() ctx: Context) {
    return r.replacesId ? ctx.loaders.notes.serviceRecordById.load(r.replacesId) : null;
  }
}
