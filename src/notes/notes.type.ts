// Group session notes: a shared part (what the group did) and a part per member, signed and locked,
// corrected only by addenda; a member's chart entry; the billable service records of signed notes.
// Every field is clinical: VIEWERs and API clients read none of it (integrators get chart entries
// as FHIR DocumentReferences under consent, src/exports/documentreference.ts).
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { AttendanceStatus } from "../attendance/attendance.type.js";
import { Node } from "../common/node.js";
import { TypePolicy } from "../common/policy.js";
import { DateScalar, DateTime } from "../common/scalars.js";
import { noteAddenda, serviceRecords, sessionNoteMembers, type NoteAddendumRow, type ServiceRecordRow, type SessionNoteRow } from "../db/schema.js";

export enum SessionNoteStatus {
  DRAFT = "DRAFT",
  PENDING_COSIGN = "PENDING_COSIGN",
  SIGNED = "SIGNED",
}
registerEnumType(SessionNoteStatus, {
  name: "SessionNoteStatus",
  valuesConfig: {
    DRAFT: { description: "Being written; saved with the version read." },
    PENDING_COSIGN: { description: "Signed and locked; waits for a clinician's or admin's co-signature (the signer's credential needs it)." },
    SIGNED: { description: "Signed (and co-signed where needed) and locked: changed only by addenda." },
  },
});

export enum Participation {
  ACTIVE = "ACTIVE",
  MINIMAL = "MINIMAL",
  DISRUPTIVE = "DISRUPTIVE",
  NONE = "NONE",
}
registerEnumType(Participation, { name: "Participation", description: "How a member took part in the session." });

export enum NoteAddendumKind {
  ADDENDUM = "ADDENDUM",
  CORRECTION = "CORRECTION",
  LATE_ENTRY = "LATE_ENTRY",
}
registerEnumType(NoteAddendumKind, { name: "NoteAddendumKind", description: "What an entry added to a signed note is." });

export enum ServiceRecordStatus {
  ACTIVE = "ACTIVE",
  VOIDED = "VOIDED",
}
registerEnumType(ServiceRecordStatus, { name: "ServiceRecordStatus", description: "VOIDED: replaced after a correction (the new record names it)." });

/** A note as the API hands it out: its row and the participants it is about (the audit's identity). */
export type NoteView = SessionNoteRow & { memberIds: string[] };

@TypePolicy<NoteView>({ readableBy: "CLINICAL", audit: { participants: (note) => note.memberIds } })
@ObjectType({ implements: Node, description: "The note of a group session: a shared part and one part per member with an attendance record." })
export class SessionNote extends Node {
  @Field(() => SessionNoteStatus)
  status!: SessionNoteStatus;

  @Field(() => Int, { description: "Sent back with a save or a signature; a stale one is refused (CONFLICT)." })
  version!: number;

  @Field(() => String, { nullable: true, description: "Default: the program's billing code." })
  serviceCode!: string | null;

  @Field(() => DateTime, { description: "When the group actually started (default: the session's start)." })
  startedAt!: Date;

  @Field(() => DateTime, { description: "When the group actually ended (default: the session's end)." })
  endedAt!: Date;

  @Field(() => String, { nullable: true, description: "Default: the session's topic." })
  topic!: string | null;

  @Field(() => String, { nullable: true })
  interventions!: string | null;

  @Field(() => String, { nullable: true, description: "What the group did; names no member." })
  groupSummary!: string | null;

  @Field(() => DateTime, { nullable: true })
  signedAt!: Date | null;

  @Field(() => DateTime, { nullable: true })
  cosignedAt!: Date | null;

  @Field(() => Boolean, { description: "Signed later than the center's late-entry window after the session." })
  lateEntry!: boolean;

  @Field(() => String, { nullable: true, description: "Why the note was signed late." })
  lateEntryReason!: string | null;

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime)
  updatedAt!: Date;
}

/** One member's part of a note: their attendance and what was written of them (a SessionNoteMember, and a ChartNote's own part). */
@ObjectType()
abstract class MemberPart {
  @Field(() => AttendanceStatus, { nullable: true, description: "Null while nothing is recorded." })
  attendanceStatus!: AttendanceStatus | null;

  @Field(() => Int, { nullable: true })
  minutesAttended!: number | null;

  @Field(() => Participation, { nullable: true, description: "Null: no part written yet." })
  participation!: Participation | null;

  @Field(() => String, { nullable: true })
  progress!: string | null;

  @Field(() => String, { nullable: true })
  plan!: string | null;

  @Field(() => String, { nullable: true })
  risk!: string | null;
}

@TypePolicy({ readableBy: "CLINICAL", audit: { participants: [sessionNoteMembers.participantId], resourceId: null } })
@ObjectType({ description: "A member's part of a session note. Attendance is read from the attendance record (kept as signed once the note is signed)." })
export class SessionNoteMember extends MemberPart {}

@TypePolicy<NoteAddendumRow>({ readableBy: "CLINICAL", audit: { participants: [noteAddenda.participantId] } })
@ObjectType({ implements: Node, description: "An entry added to a signed note, to its shared part or to one member's part. Never changed." })
export class NoteAddendum extends Node {
  @Field(() => NoteAddendumKind)
  kind!: NoteAddendumKind;

  @Field(() => String)
  text!: string;

  @Field(() => String)
  reason!: string;

  @Field(() => DateTime)
  createdAt!: Date;
}

/** A chart entry: one signed note as one member's record (ChartNote's fields, flat). */
export interface ChartEntry {
  noteId: string;
  sessionId: string;
  centerId: string;
  participantId: string;
  sessionStartsAt: Date;
  groupName: string;
  serviceCode: string | null;
  status: string;
  signedAt: Date | null;
  topic: string | null;
  interventions: string | null;
  groupSummary: string | null;
  attendanceStatus: string | null;
  minutesAttended: number | null;
  participation: string | null;
  progress: string | null;
  plan: string | null;
  risk: string | null;
}

@TypePolicy<ChartEntry>({ readableBy: "CLINICAL", audit: { participants: [sessionNoteMembers.participantId], resourceId: (e) => e.noteId } })
@ObjectType({
  description: "One signed session note as a member's record: the shared part and that member's own part and addenda, never another member's.",
})
export class ChartNote extends MemberPart {
  @Field(() => ID, { description: "The SessionNote's id." })
  noteId!: string;

  @Field(() => DateTime)
  sessionStartsAt!: Date;

  @Field(() => String)
  groupName!: string;

  @Field(() => String, { nullable: true })
  serviceCode!: string | null;

  @Field(() => SessionNoteStatus)
  status!: SessionNoteStatus;

  @Field(() => DateTime, { nullable: true })
  signedAt!: Date | null;

  @Field(() => String, { nullable: true })
  topic!: string | null;

  @Field(() => String, { nullable: true })
  interventions!: string | null;

  @Field(() => String, { nullable: true })
  groupSummary!: string | null;
}

@TypePolicy<ServiceRecordRow>({ readableBy: "CLINICAL", audit: { participants: [serviceRecords.participantId] } })
@ObjectType({ implements: Node, description: "A billable service from a signed note: one per member who attended. Corrections void it and issue a new one." })
export class ServiceRecord extends Node {
  @Field(() => DateScalar, { description: "The session's day in the center's time zone." })
  dateOfService!: string;

  @Field(() => String, { nullable: true, description: "CPT or HCPCS code, e.g. 90853 or H0038." })
  serviceCode!: string | null;

  @Field(() => [String], { description: "HQ: group setting." })
  modifiers!: string[];

  @Field(() => Int)
  units!: number;

  @Field(() => Int, { nullable: true, description: "Minutes attended, as counted for the units." })
  minutes!: number | null;

  @Field(() => String, { description: "CMS place-of-service code: 11 office, 02 telehealth." })
  placeOfService!: string;

  @Field(() => ServiceRecordStatus)
  status!: ServiceRecordStatus;

  @Field(() => DateTime, { nullable: true })
  voidedAt!: Date | null;

  @Field(() => DateTime)
  createdAt!: Date;
}
