// All drizzle tables live here. Every tenant table carries `center_id` so the data can be
// sharded by center later (Citus) and every query can be scoped to the viewer's centers.
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { clock } from "../common/clock.js";

// Timestamps that default to "now" take it from the clock (src/common/clock.ts) when drizzle
// inserts a row; the SQL default is only for rows written by hand.
const now = () => clock.now();
const id = () => uuid("id").primaryKey().defaultRandom();
const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow().$defaultFn(now);
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow().$defaultFn(now);
const centerId = () =>
  uuid("center_id")
    .notNull()
    .references(() => centers.id);

export const centers = pgTable("centers", {
  id: id(),
  name: text("name").notNull(),
  timezone: text("timezone").notNull(),
  address: text("address"),
  phone: text("phone"),
  status: text("status").notNull().default("ACTIVE"),
  /** Recovery days before a participant may mentor peers (unless they completed a program). */
  peerMentorMinimumDays: integer("peer_mentor_minimum_days").notNull().default(180),
  /** Current mentees one peer mentor may have at most. */
  maxMenteesPerMentor: integer("max_mentees_per_mentor").notNull().default(3),
  /** Days after a session within which its note may be signed without being a late entry. */
  lateEntryWindowDays: integer("late_entry_window_days").notNull().default(3),
  /** Self check-in (src/checkin): the window opens this many minutes before a session's start… */
  checkInOpensMinutesBefore: integer("check_in_opens_minutes_before").notNull().default(30),
  /** …and closes this many minutes after it (both ends inclusive). */
  checkInClosesMinutesAfter: integer("check_in_closes_minutes_after").notNull().default(20),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

// Staff are organisation-wide people; their reach into centers is through memberships.
export const staff = pgTable(
  "staff",
  {
    id: id(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    authSubject: text("auth_subject").notNull(),
    isOrgAdmin: boolean("is_org_admin").notNull().default(false),
    status: text("status").notNull().default("ACTIVE"),
    /** Free text: "LCSW", "CADC-I", "Peer Recovery Specialist". */
    credential: text("credential"),
    /** Notes this person signs wait for a clinician's or admin's co-signature. */
    requiresCosign: boolean("requires_cosign").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("staff_email_lower_uq").on(sql`lower(${t.email})`), uniqueIndex("staff_auth_subject_uq").on(t.authSubject)],
);

export const staffMemberships = pgTable(
  "staff_memberships",
  {
    centerId: centerId(),
    staffId: uuid("staff_id")
      .notNull()
      .references(() => staff.id),
    role: text("role").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.centerId, t.staffId] }), index("staff_memberships_staff_idx").on(t.staffId)],
);

export const programs = pgTable(
  "programs",
  {
    id: id(),
    centerId: centerId(),
    name: text("name").notNull(),
    description: text("description"),
    curriculum: jsonb("curriculum").$type<string[]>().notNull().default([]),
    absencesBeforeFollowUp: integer("absences_before_follow_up").notNull().default(2),
    minimumAttendedSessions: integer("minimum_attended_sessions"),
    billingCode: text("billing_code"),
    /** How a service is counted for billing: SESSION (1 unit a session) or MINUTES_15 (the 8-minute rule). */
    unitRule: text("unit_rule").notNull().default("SESSION"),
    status: text("status").notNull().default("ACTIVE"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("programs_center_idx").on(t.centerId)],
);

export const groups = pgTable(
  "groups",
  {
    id: id(),
    centerId: centerId(),
    programId: uuid("program_id")
      .notNull()
      .references(() => programs.id),
    name: text("name").notNull(),
    capacity: integer("capacity").notNull(),
    startsOn: date("starts_on", { mode: "string" }).notNull(),
    endsOn: date("ends_on", { mode: "string" }),
    scheduleDays: jsonb("schedule_days").$type<string[]>().notNull(),
    scheduleStartTime: text("schedule_start_time").notNull(),
    scheduleDurationMinutes: integer("schedule_duration_minutes").notNull(),
    location: text("location"),
    virtualLink: text("virtual_link"),
    status: text("status").notNull().default("PLANNED"),
    enrollmentMode: text("enrollment_mode").notNull().default("ROLLING"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("groups_center_idx").on(t.centerId), index("groups_program_idx").on(t.programId), check("groups_capacity_positive", sql`${t.capacity} > 0`)],
);

export const groupFacilitators = pgTable(
  "group_facilitators",
  {
    centerId: centerId(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id),
    staffId: uuid("staff_id")
      .notNull()
      .references(() => staff.id),
    role: text("role").notNull().default("CO"),
    position: integer("position").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.staffId] }), index("group_facilitators_staff_idx").on(t.staffId)],
);

export const participants = pgTable(
  "participants",
  {
    id: id(),
    centerId: centerId(),
    firstName: text("first_name").notNull(),
    lastName: text("last_name").notNull(),
    preferredName: text("preferred_name"),
    externalId: text("external_id"),
    dateOfBirth: date("date_of_birth", { mode: "string" }),
    recoveryStartDate: date("recovery_start_date", { mode: "string" }),
    phone: text("phone"),
    email: text("email"),
    /** Keeps the participant off every group's list of milestones to celebrate. */
    celebrationOptOut: boolean("celebration_opt_out").notNull().default(false),
    status: text("status").notNull().default("ACTIVE"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("participants_center_idx").on(t.centerId, t.lastName, t.firstName), uniqueIndex("participants_external_id_uq").on(t.centerId, t.externalId)],
);

export const enrollments = pgTable(
  "enrollments",
  {
    id: id(),
    // Monotonic sequence: keeps waitlist order stable even for enrolments in the same instant.
    seq: bigserial("seq", { mode: "number" }).notNull(),
    centerId: centerId(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id),
    participantId: uuid("participant_id")
      .notNull()
      .references(() => participants.id),
    status: text("status").notNull(),
    role: text("role").notNull().default("MEMBER"),
    enrolledAt: timestamp("enrolled_at", { withTimezone: true }).notNull().defaultNow().$defaultFn(now),
    activatedAt: timestamp("activated_at", { withTimezone: true }),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    endReason: text("end_reason"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("enrollments_group_idx").on(t.groupId, t.status, t.seq),
    index("enrollments_participant_idx").on(t.participantId),
    // One open (waitlisted or active) enrolment per participant and group.
    uniqueIndex("enrollments_open_uq")
      .on(t.groupId, t.participantId)
      .where(sql`${t.status} in ('WAITLISTED', 'ACTIVE')`),
  ],
);

export const enrollmentEvents = pgTable(
  "enrollment_events",
  {
    id: id(),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    centerId: centerId(),
    enrollmentId: uuid("enrollment_id")
      .notNull()
      .references(() => enrollments.id),
    fromStatus: text("from_status"),
    toStatus: text("to_status").notNull(),
    reason: text("reason"),
    actorStaffId: uuid("actor_staff_id").references(() => staff.id),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull().defaultNow().$defaultFn(now),
  },
  (t) => [index("enrollment_events_enrollment_idx").on(t.enrollmentId, t.seq)],
);

export const sessions = pgTable(
  "sessions",
  {
    id: id(),
    centerId: centerId(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
    // The schedule occurrence this session was generated for; stays put when the session is moved,
    // so scheduling again does not recreate a moved session.
    scheduledFor: timestamp("scheduled_for", { withTimezone: true }).notNull(),
    topic: text("topic"),
    status: text("status").notNull().default("SCHEDULED"),
    cancelReason: text("cancel_reason"),
    cancelledAt: timestamp("cancelled_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Scheduling is idempotent: one session per group and schedule slot, and per start instant.
    uniqueIndex("sessions_group_slot_uq").on(t.groupId, t.scheduledFor),
    uniqueIndex("sessions_group_start_uq").on(t.groupId, t.startsAt),
    index("sessions_center_start_idx").on(t.centerId, t.startsAt),
    check("sessions_ends_after_start", sql`${t.endsAt} > ${t.startsAt}`),
  ],
);

export const attendance = pgTable(
  "attendance",
  {
    id: id(),
    centerId: centerId(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id),
    participantId: uuid("participant_id")
      .notNull()
      .references(() => participants.id),
    status: text("status").notNull(),
    minutesAttended: integer("minutes_attended"),
    note: text("note"),
    recordedByStaffId: uuid("recorded_by_staff_id").references(() => staff.id),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull().defaultNow().$defaultFn(now),
    version: integer("version").notNull().default(1),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("attendance_session_participant_uq").on(t.sessionId, t.participantId), index("attendance_participant_idx").on(t.participantId)],
);

// Every change to an attendance record, with the value before it. Append-only.
export const attendanceHistory = pgTable(
  "attendance_history",
  {
    id: id(),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    centerId: centerId(),
    attendanceId: uuid("attendance_id")
      .notNull()
      .references(() => attendance.id),
    version: integer("version").notNull(),
    status: text("status").notNull(),
    minutesAttended: integer("minutes_attended"),
    note: text("note"),
    previousStatus: text("previous_status"),
    previousMinutesAttended: integer("previous_minutes_attended"),
    previousNote: text("previous_note"),
    changedByStaffId: uuid("changed_by_staff_id").references(() => staff.id),
    changedAt: timestamp("changed_at", { withTimezone: true }).notNull().defaultNow().$defaultFn(now),
  },
  (t) => [index("attendance_history_attendance_idx").on(t.attendanceId, t.seq)],
);

// Follow-ups: the safety net. One opens when a participant's absences in a row in a group reach
// the program's threshold; staff claim, reassign and complete it. Never two OPEN for the same
// participant and group.
export const followUps = pgTable(
  "follow_ups",
  {
    id: id(),
    centerId: centerId(),
    participantId: uuid("participant_id")
      .notNull()
      .references(() => participants.id),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id),
    /** The absence that took the run to the threshold. */
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id),
    reason: text("reason").notNull(),
    absences: integer("absences").notNull(),
    status: text("status").notNull().default("OPEN"),
    outcome: text("outcome"),
    note: text("note"),
    openedAt: timestamp("opened_at", { withTimezone: true }).notNull(),
    dueOn: date("due_on", { mode: "string" }).notNull(),
    assigneeStaffId: uuid("assignee_staff_id").references(() => staff.id),
    returnedAt: timestamp("returned_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    completedByStaffId: uuid("completed_by_staff_id").references(() => staff.id),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
    resolution: text("resolution"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("follow_ups_open_uq")
      .on(t.participantId, t.groupId)
      .where(sql`${t.status} = 'OPEN'`),
    index("follow_ups_center_idx").on(t.centerId, t.status, t.dueOn),
    index("follow_ups_group_idx").on(t.groupId, t.status),
    index("follow_ups_assignee_idx").on(t.assigneeStaffId, t.status),
    index("follow_ups_participant_idx").on(t.participantId),
  ],
);

// Every change to a follow-up. Append-only.
export const followUpEvents = pgTable(
  "follow_up_events",
  {
    id: id(),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    centerId: centerId(),
    followUpId: uuid("follow_up_id")
      .notNull()
      .references(() => followUps.id),
    kind: text("kind").notNull(),
    actorStaffId: uuid("actor_staff_id").references(() => staff.id),
    fromAssigneeStaffId: uuid("from_assignee_staff_id").references(() => staff.id),
    toAssigneeStaffId: uuid("to_assignee_staff_id").references(() => staff.id),
    outcome: text("outcome"),
    note: text("note"),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("follow_up_events_follow_up_idx").on(t.followUpId, t.seq)],
);

// A milestone celebrated (at a session, usually). Milestones themselves are computed from the
// participant's recovery start, attendance and enrolments; only the celebration is stored, keyed
// by what the milestone is and the day it falls on (a changed recovery start makes new ones).
export const milestoneCelebrations = pgTable(
  "milestone_celebrations",
  {
    id: id(),
    centerId: centerId(),
    participantId: uuid("participant_id")
      .notNull()
      .references(() => participants.id),
    kind: text("kind").notNull(),
    label: text("label").notNull(),
    dueOn: date("due_on", { mode: "string" }).notNull(),
    celebratedAt: timestamp("celebrated_at", { withTimezone: true }).notNull(),
    celebratedByStaffId: uuid("celebrated_by_staff_id").references(() => staff.id),
  },
  (t) => [uniqueIndex("milestone_celebrations_uq").on(t.participantId, t.kind, t.label, t.dueOn)],
);

// Peer mentoring: a participant further along in recovery supports a newer one.
export const mentorships = pgTable(
  "mentorships",
  {
    id: id(),
    centerId: centerId(),
    mentorId: uuid("mentor_id")
      .notNull()
      .references(() => participants.id),
    menteeId: uuid("mentee_id")
      .notNull()
      .references(() => participants.id),
    startedOn: date("started_on", { mode: "string" }).notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    startedByStaffId: uuid("started_by_staff_id").references(() => staff.id),
    endedOn: date("ended_on", { mode: "string" }),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    endReason: text("end_reason"),
    endedByStaffId: uuid("ended_by_staff_id").references(() => staff.id),
  },
  (t) => [
    // One current pairing of the same mentor and mentee.
    uniqueIndex("mentorships_current_uq")
      .on(t.mentorId, t.menteeId)
      .where(sql`${t.endedAt} is null`),
    index("mentorships_mentor_idx").on(t.mentorId),
    index("mentorships_mentee_idx").on(t.menteeId),
    check("mentorships_two_people", sql`${t.mentorId} <> ${t.menteeId}`),
  ],
);

// Recovery capital assessments (BARC-10: ten items scored 1-6, total 10-60).
export const recoveryCapitalAssessments = pgTable(
  "recovery_capital_assessments",
  {
    id: id(),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    centerId: centerId(),
    participantId: uuid("participant_id")
      .notNull()
      .references(() => participants.id),
    instrument: text("instrument").notNull(),
    assessedOn: date("assessed_on", { mode: "string" }).notNull(),
    items: jsonb("items").$type<number[]>().notNull(),
    total: integer("total").notNull(),
    recordedByStaffId: uuid("recorded_by_staff_id").references(() => staff.id),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("recovery_capital_participant_idx").on(t.participantId, t.assessedOn),
    check("recovery_capital_total_range", sql`${t.total} between 10 and 60`),
  ],
);

// Group session notes (src/notes/): one note per session, a shared part and one part per member;
// DRAFT while written, locked once signed; changed afterwards only by addenda.
export const sessionNotes = pgTable(
  "session_notes",
  {
    id: id(),
    centerId: centerId(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id),
    /** DRAFT, PENDING_COSIGN, SIGNED. */
    status: text("status").notNull().default("DRAFT"),
    /** +1 on every save and signature: a save sends back the version it read. */
    version: integer("version").notNull().default(1),
    serviceCode: text("service_code"),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }).notNull(),
    topic: text("topic"),
    interventions: text("interventions"),
    groupSummary: text("group_summary"),
    authorStaffId: uuid("author_staff_id").references(() => staff.id),
    signedAt: timestamp("signed_at", { withTimezone: true }),
    signedByStaffId: uuid("signed_by_staff_id").references(() => staff.id),
    cosignedAt: timestamp("cosigned_at", { withTimezone: true }),
    cosignedByStaffId: uuid("cosigned_by_staff_id").references(() => staff.id),
    lateEntry: boolean("late_entry").notNull().default(false),
    lateEntryReason: text("late_entry_reason"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("session_notes_session_uq").on(t.sessionId), index("session_notes_center_idx").on(t.centerId, t.status)],
);

// A member's part of a note. Attendance is read from the attendance records while the note is a
// draft, and kept here as it was when the note was signed.
export const sessionNoteMembers = pgTable(
  "session_note_members",
  {
    id: id(),
    centerId: centerId(),
    noteId: uuid("note_id")
      .notNull()
      .references(() => sessionNotes.id),
    participantId: uuid("participant_id")
      .notNull()
      .references(() => participants.id),
    participation: text("participation"),
    progress: text("progress"),
    plan: text("plan"),
    risk: text("risk"),
    /** As recorded when the note was signed (null while a draft). */
    attendanceStatus: text("attendance_status"),
    minutesAttended: integer("minutes_attended"),
  },
  (t) => [uniqueIndex("session_note_members_uq").on(t.noteId, t.participantId), index("session_note_members_participant_idx").on(t.participantId)],
);

// Entries added to a signed note: to the shared part (no participant) or to one member's part.
// Append-only.
export const noteAddenda = pgTable(
  "note_addenda",
  {
    id: id(),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    centerId: centerId(),
    noteId: uuid("note_id")
      .notNull()
      .references(() => sessionNotes.id),
    participantId: uuid("participant_id").references(() => participants.id),
    /** ADDENDUM, CORRECTION, LATE_ENTRY. */
    kind: text("kind").notNull(),
    text: text("text").notNull(),
    reason: text("reason").notNull(),
    authorStaffId: uuid("author_staff_id").references(() => staff.id),
    createdAt: createdAt(),
  },
  (t) => [index("note_addenda_note_idx").on(t.noteId, t.seq), index("note_addenda_participant_idx").on(t.participantId)],
);

// Billable services from signed notes: one per member who attended. A correction voids the record
// and issues a new one; both stay.
export const serviceRecords = pgTable(
  "service_records",
  {
    id: id(),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    centerId: centerId(),
    noteId: uuid("note_id")
      .notNull()
      .references(() => sessionNotes.id),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id),
    participantId: uuid("participant_id")
      .notNull()
      .references(() => participants.id),
    attendanceId: uuid("attendance_id")
      .notNull()
      .references(() => attendance.id),
    /** The day of the session in the center's zone. */
    dateOfService: date("date_of_service", { mode: "string" }).notNull(),
    serviceCode: text("service_code"),
    modifiers: text("modifiers").array().notNull(),
    units: integer("units").notNull(),
    minutes: integer("minutes"),
    renderingStaffId: uuid("rendering_staff_id").references(() => staff.id),
    supervisingStaffId: uuid("supervising_staff_id").references(() => staff.id),
    /** CMS place-of-service code: 11 (office), 02 (telehealth). */
    placeOfService: text("place_of_service").notNull(),
    /** ACTIVE, VOIDED. */
    status: text("status").notNull().default("ACTIVE"),
    voidedAt: timestamp("voided_at", { withTimezone: true }),
    /** The record this one replaces (void-and-reissue). */
    replacesId: uuid("replaces_id"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("service_records_active_uq")
      .on(t.noteId, t.participantId)
      .where(sql`${t.status} = 'ACTIVE'`),
    index("service_records_center_date_idx").on(t.centerId, t.dateOfService),
    index("service_records_participant_idx").on(t.participantId),
    check("service_records_units_positive", sql`${t.units} > 0`),
  ],
);

// Integrators (src/apiclients, src/consents, src/feed, src/disclosures).

/** PostgreSQL's 64-bit transaction id (xid8), read as a decimal string. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => "xid8" });

// A system that reads a center's data with an API key (an EHR, billing, state reporting).
export const apiClients = pgTable("api_clients", {
  id: id(),
  name: text("name").notNull(),
  /** ATTENDANCE_READ, PARTICIPANT_READ. */
  scopes: text("scopes").array().notNull(),
  createdByStaffId: uuid("created_by_staff_id").references(() => staff.id),
  createdAt: createdAt(),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
  revokedByStaffId: uuid("revoked_by_staff_id").references(() => staff.id),
});

// The centers a client reads (one for a center admin's client; several for an org admin's).
export const apiClientCenters = pgTable(
  "api_client_centers",
  {
    centerId: centerId(),
    apiClientId: uuid("api_client_id")
      .notNull()
      .references(() => apiClients.id),
  },
  (t) => [primaryKey({ columns: [t.centerId, t.apiClientId] }), index("api_client_centers_client_idx").on(t.apiClientId)],
);

// A client's keys: only the SHA-256 of a key is kept, with its visible prefix to tell keys apart.
// Rotation gives the old key an end (`expires_at`) so that old and new overlap for a while.
export const apiKeys = pgTable(
  "api_keys",
  {
    id: id(),
    apiClientId: uuid("api_client_id")
      .notNull()
      .references(() => apiClients.id),
    /** `rg_live_` and the first characters of the secret: shown in lists, never enough to use. */
    prefix: text("prefix").notNull(),
    /** Hex SHA-256 of the whole key. */
    keyHash: text("key_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("api_keys_hash_uq").on(t.keyHash), index("api_keys_client_idx").on(t.apiClientId)],
);

// 42 CFR 2.31 consent: a participant allows the disclosure of their records to one recipient.
// Kept forever (history); its status is judged at read time (revoked, expired in the center's zone).
export const consents = pgTable(
  "consents",
  {
    id: id(),
    centerId: centerId(),
    participantId: uuid("participant_id")
      .notNull()
      .references(() => participants.id),
    apiClientId: uuid("api_client_id")
      .notNull()
      .references(() => apiClients.id),
    purpose: text("purpose").notNull(),
    /** The kinds of information disclosed: ATTENDANCE. */
    information: text("information").array().notNull(),
    signedOn: date("signed_on", { mode: "string" }).notNull(),
    /** Active through the end of this day in the center's time zone; null: until revoked. */
    expiresOn: date("expires_on", { mode: "string" }),
    recordedByStaffId: uuid("recorded_by_staff_id").references(() => staff.id),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull().defaultNow().$defaultFn(now),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedByStaffId: uuid("revoked_by_staff_id").references(() => staff.id),
    revokeReason: text("revoke_reason"),
    /** When the feed was told (DELETE changes) that this consent ended; set once, by revocation or the first read after expiry. */
    closedAt: timestamp("closed_at", { withTimezone: true }),
  },
  (t) => [index("consents_participant_idx").on(t.participantId, t.apiClientId), index("consents_client_idx").on(t.apiClientId, t.closedAt)],
);

// The attendance change feed: one row per change, written in the change's own transaction.
// `tx` is that transaction's id; the feed hands out only rows of transactions older than every
// transaction still running (pg_snapshot_xmin), in (tx, seq) order, so no later commit can land
// behind a position already handed out. A row with a recipient is for that client only (the
// records disclosed when consent is given, the DELETEs when it ends).
export const attendanceChanges = pgTable(
  "attendance_changes",
  {
    seq: bigserial("seq", { mode: "number" }).primaryKey(),
    tx: xid8("tx")
      .notNull()
      .default(sql`pg_current_xact_id()`),
    centerId: centerId(),
    attendanceId: uuid("attendance_id")
      .notNull()
      .references(() => attendance.id),
    participantId: uuid("participant_id")
      .notNull()
      .references(() => participants.id),
    /** UPSERT or DELETE. */
    changeType: text("change_type").notNull(),
    recipientApiClientId: uuid("recipient_api_client_id").references(() => apiClients.id),
    changedAt: timestamp("changed_at", { withTimezone: true }).notNull().defaultNow().$defaultFn(now),
  },
  (t) => [index("attendance_changes_position_idx").on(t.tx, t.seq), index("attendance_changes_center_idx").on(t.centerId, t.tx, t.seq)],
);

// Accounting of disclosures (42 CFR 2.24, 2.25): what went to whom, when, by which operation. One
// row per handing-out (a feed page, an export's part or page) and center, naming every participant
// whose records it held; each record list has a parallel list of its records' participants, so a
// participant's accounting shows their own records only (src/disclosures/disclosure.loaders.ts).
export const disclosures = pgTable(
  "disclosures",
  {
    id: id(),
    centerId: centerId(),
    /** The participants whose records were handed out (distinct). */
    participantIds: uuid("participant_ids")
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    apiClientId: uuid("api_client_id")
      .notNull()
      .references(() => apiClients.id),
    disclosedAt: timestamp("disclosed_at", { withTimezone: true }).notNull().defaultNow().$defaultFn(now),
    /** The GraphQL operation (or root field) that handed the records out. */
    operation: text("operation").notNull(),
    /** The attendance records handed out. */
    attendanceIds: uuid("attendance_ids").array().notNull(),
    /** The participant of each of attendance_ids, in the same order. */
    attendanceParticipantIds: uuid("attendance_participant_ids")
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    /** The session notes handed out (FHIR DocumentReference: the member's chart entry). */
    noteIds: uuid("note_ids")
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    /** The participant of each of note_ids, in the same order. */
    noteParticipantIds: uuid("note_participant_ids")
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    /** The service records handed out (the services CSV). */
    serviceRecordIds: uuid("service_record_ids")
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    /** The participant of each of service_record_ids, in the same order. */
    serviceRecordParticipantIds: uuid("service_record_participant_ids")
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    /** Every record of the row (all its participants'). */
    recordCount: integer("record_count").notNull(),
  },
  (t) => [index("disclosures_participants_idx").using("gin", t.participantIds), index("disclosures_center_idx").on(t.centerId, t.disclosedAt)],
);

// The audit log: one append-only row per (request, action, resource type, center) that touched
// participant data, chained by hash (src/audit/). Identifiers only: never names, notes or other
// text (the client address of a refusal is not protected data). No foreign keys: the log outlives
// what it names. Requests insert their entries unchained (audit_append(), no lock), stamped with
// their transaction (`tx`); the one elected sealer (src/audit/audit.sealer.ts) later chains the
// committed entries below the transaction horizon in (tx, seq) order, filling `chain_seq`,
// `prev_hash` and `hash` once. A trigger (drizzle/*_auditseal_*.sql) refuses every DELETE and every
// UPDATE but that one sealing of an unsealed row's seal columns.
export const auditEvents = pgTable(
  "audit_events",
  {
    /** Insertion order (the listing's order and cursor); not the chain order, which is chain_seq. */
    seq: bigint("seq", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    id: uuid("id").notNull().unique(),
    /** The inserting transaction: the sealer chains only entries of transactions older than every running one. */
    tx: xid8("tx")
      .notNull()
      .default(sql`pg_current_xact_id()`),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
    /** STAFF | API_CLIENT | SYSTEM | PARTICIPANT (a member through their check-in token) | ANONYMOUS (a caller with no valid credentials). */
    actorType: text("actor_type"),
    actorId: uuid("actor_id"),
    /** The caller's network address, kept for refusals of anonymous callers (log-in monitoring). */
    clientAddress: text("client_address"),
    /** Null when the entry belongs to no one center: only org admins see those. */
    centerId: uuid("center_id"),
    /** READ | CREATE | UPDATE | DELETE | EXPORT | DENIED */
    action: text("action").notNull(),
    resourceType: text("resource_type").notNull(),
    /** The resource, when the entry is about exactly one. */
    resourceId: uuid("resource_id"),
    participantIds: uuid("participant_ids")
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    operationName: text("operation_name"),
    requestId: text("request_id"),
    /** ALLOWED | DENIED | ERROR */
    outcome: text("outcome").notNull(),
    /** sha256 (hex) of the entry's canonical content, computed by the writer (null for entries chained before sealing existed). */
    digest: text("digest"),
    /** The entry's position in the chain (1, 2, …), set by the sealer; null until sealed. */
    chainSeq: bigint("chain_seq", { mode: "number" }).unique(),
    prevHash: text("prev_hash"),
    hash: text("hash"),
  },
  (t) => [
    index("audit_events_center_idx").on(t.centerId, t.seq),
    index("audit_events_actor_idx").on(t.actorId, t.seq),
    index("audit_events_participants_idx").using("gin", t.participantIds),
    index("audit_events_unsealed_idx")
      .on(t.tx, t.seq)
      .where(sql`${t.chainSeq} is null`),
    check("audit_events_actor_type", sql`${t.actorType} in ('STAFF', 'API_CLIENT', 'SYSTEM', 'PARTICIPANT', 'ANONYMOUS')`),
    check("audit_events_action", sql`${t.action} in ('READ', 'CREATE', 'UPDATE', 'DELETE', 'EXPORT', 'DENIED')`),
    check("audit_events_outcome", sql`${t.outcome} in ('ALLOWED', 'DENIED', 'ERROR')`),
  ],
);

// Checkpoints of the audit chain, written by the sealer every N entries or S seconds: the chain's
// position and hash at that point, signed (Ed25519) with AUDIT_SIGNING_KEY, which is kept outside
// the database; unsigned (signature null) when no key is configured. Append-only (trigger).
export const auditCheckpoints = pgTable("audit_checkpoints", {
  chainSeq: bigint("chain_seq", { mode: "number" }).primaryKey(),
  hash: text("hash").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  /** sha256 (hex, first 16) of the signing public key (SPKI DER), to pick the key when keys rotate; null when unsigned. */
  keyId: text("key_id"),
  /** Ed25519 signature (base64) of the checkpoint's message (src/audit/audit.checkpoint.ts); null when unsigned. */
  signature: text("signature"),
});

// Session reminders (src/reminders). A center's settings: one row per center that configured them
// (none: reminders off, the defaults below).
export const reminderSettings = pgTable("reminder_settings", {
  centerId: uuid("center_id")
    .primaryKey()
    .references(() => centers.id),
  enabled: boolean("enabled").notNull().default(false),
  /** Minutes before a session's start, one reminder each (per channel). */
  leadTimesMinutes: integer("lead_times_minutes")
    .array()
    .notNull()
    .default(sql`'{1440,120}'::integer[]`),
  senderName: text("sender_name").notNull().default("Appointment reminder"),
  callbackPhone: text("callback_phone"),
  /** Wall-clock times (HH:mm) in the center's zone; the period crosses midnight when start > end. */
  quietHoursStart: text("quiet_hours_start").notNull().default("21:00"),
  quietHoursEnd: text("quiet_hours_end").notNull().default("08:00"),
  updatedAt: updatedAt(),
  updatedByStaffId: uuid("updated_by_staff_id").references(() => staff.id),
});

// How a participant wants to be reminded. Opt-outs are kept per channel, with when and how
// (SMS_REPLY, UNSUBSCRIBE_LINK, STAFF); an opt-out wins over the channels chosen.
export const contactPreferences = pgTable(
  "contact_preferences",
  {
    participantId: uuid("participant_id")
      .primaryKey()
      .references(() => participants.id),
    centerId: centerId(),
    email: text("email"),
    /** E.164. */
    phone: text("phone"),
    /** EMAIL, SMS. */
    channels: text("channels")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    smsConsentSource: text("sms_consent_source"),
    smsConsentGivenOn: date("sms_consent_given_on", { mode: "string" }),
    /** MINIMAL or WITH_GROUP_NAME. */
    detail: text("detail").notNull().default("MINIMAL"),
    emailOptedOutAt: timestamp("email_opted_out_at", { withTimezone: true }),
    emailOptedOutVia: text("email_opted_out_via"),
    smsOptedOutAt: timestamp("sms_opted_out_at", { withTimezone: true }),
    smsOptedOutVia: text("sms_opted_out_via"),
    /** The secret of the one-click unsubscribe link in this participant's emails. */
    unsubscribeToken: text("unsubscribe_token").notNull(),
    updatedAt: updatedAt(),
    updatedByStaffId: uuid("updated_by_staff_id").references(() => staff.id),
  },
  (t) => [uniqueIndex("contact_preferences_unsubscribe_uq").on(t.unsubscribeToken), index("contact_preferences_phone_idx").on(t.phone)],
);

// One reminder: a (session, participant, lead time, channel), planned once (the unique key), and
// the outbox row its delivery goes through. Its id is the idempotency key of every send.
export const reminders = pgTable(
  "reminders",
  {
    id: id(),
    centerId: centerId(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    participantId: uuid("participant_id")
      .notNull()
      .references(() => participants.id),
    leadMinutes: integer("lead_minutes").notNull(),
    /** EMAIL or SMS. */
    channel: text("channel").notNull(),
    /** PENDING, SENDING, SENT, DELIVERED, FAILED, SKIPPED, CANCELLED. */
    status: text("status").notNull().default("PENDING"),
    skipReason: text("skip_reason"),
    /** The session's start minus the lead time. */
    dueAt: timestamp("due_at", { withTimezone: true }).notNull(),
    /** When the worker takes it next (after quiet hours, or a retry's back-off). */
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull(),
    /** A SENDING row whose lease passed was left by a crashed worker: taken again, same id. */
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    attempts: integer("attempts").notNull().default(0),
    claimedAt: timestamp("claimed_at", { withTimezone: true }),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    failureReason: text("failure_reason"),
    providerMessageId: text("provider_message_id"),
    providerStatus: text("provider_status"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("reminders_key_uq").on(t.sessionId, t.participantId, t.leadMinutes, t.channel),
    index("reminders_outbox_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.status} in ('PENDING', 'SENDING')`),
    index("reminders_participant_idx").on(t.participantId, t.dueAt),
    index("reminders_provider_idx").on(t.providerMessageId),
  ],
);

/**
 * Each participant's engagement figures over all time and all their groups, kept by the engagement
 * worker (src/engagement/engagement.worker.ts) instead of recomputed from every record on each
 * read: the figures of engagement.sql.ts's reference statement as of `computedThrough`. A write
 * that can change them (attendance, an enrolment, a session cancelled or moved or added, a
 * program's threshold) sets `nextRecheckAt` to -infinity in its own transaction (the dirty mark);
 * time passing is covered by `nextRecheckAt`, the first instant the figures can change without a
 * write (a session starting, one leaving the 21/28/56-day windows). A row is used only while
 * computedThrough <= now < nextRecheckAt; otherwise the read computes the figures itself.
 */
export const engagementStates = pgTable(
  "engagement_states",
  {
    participantId: uuid("participant_id")
      .primaryKey()
      .references(() => participants.id, { onDelete: "cascade" }),
    centerId: centerId(),
    expected: integer("expected").notNull().default(0),
    attended: integer("attended").notNull().default(0),
    missed: integer("missed").notNull().default(0),
    excused: integer("excused").notNull().default(0),
    unrecorded: integer("unrecorded").notNull().default(0),
    consecutiveMisses: integer("consecutive_misses").notNull().default(0),
    currentStreak: integer("current_streak").notNull().default(0),
    /** The start of the latest attended session, in epoch milliseconds (as the reference statement answers it). */
    lastAttendedAt: doublePrecision("last_attended_at"),
    /** Trend inputs: attended and missed in the last 28 days, and in the 28 before. */
    a28: integer("a28").notNull().default(0),
    m28: integer("m28").notNull().default(0),
    ap: integer("ap").notNull().default(0),
    mp: integer("mp").notNull().default(0),
    /** IMPROVING, STEADY, DECLINING, UNKNOWN. */
    trend: text("trend").notNull().default("UNKNOWN"),
    /** LOW, MEDIUM, HIGH. */
    riskLevel: text("risk_level").notNull().default("LOW"),
    /** The instant the figures are as of; null: never computed. */
    computedThrough: timestamp("computed_through", { withTimezone: true }),
    /** -infinity: dirty (a write changed the history); else the first instant time alone can change them. */
    nextRecheckAt: timestamp("next_recheck_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("engagement_states_risk_idx").on(t.centerId, t.riskLevel), index("engagement_states_recheck_idx").on(t.nextRecheckAt)],
);

/**
 * Each session's expected pairs counted by status, kept for the group, program and center rollups
 * and trends (src/engagement): they change only by writes (attendance at the session, an enrolment
 * of its group given or losing a seat, the session moved), which set `dirty` in their transaction.
 * A read takes the counts of clean rows and computes the dirty or missing ones itself; which
 * sessions count (started, not cancelled, in the period) it reads from `sessions` as they are now.
 */
export const engagementSessions = pgTable(
  "engagement_sessions",
  {
    sessionId: uuid("session_id")
      .primaryKey()
      .references(() => sessions.id, { onDelete: "cascade" }),
    centerId: centerId(),
    expected: integer("expected").notNull().default(0),
    attended: integer("attended").notNull().default(0),
    missed: integer("missed").notNull().default(0),
    excused: integer("excused").notNull().default(0),
    unrecorded: integer("unrecorded").notNull().default(0),
    dirty: boolean("dirty").notNull().default(true),
  },
  (t) => [
    index("engagement_sessions_dirty_idx")
      .on(t.sessionId)
      .where(sql`${t.dirty}`),
  ],
);

// Self check-in (src/checkin). A session's check-in window, once staff opened it (one per session).
export const checkInWindows = pgTable("check_in_windows", {
  sessionId: uuid("session_id")
    .primaryKey()
    .references(() => sessions.id, { onDelete: "cascade" }),
  centerId: centerId(),
  /** Both ends inclusive: a claim at exactly opensAt or closesAt is in the window. */
  opensAt: timestamp("opens_at", { withTimezone: true }).notNull(),
  closesAt: timestamp("closes_at", { withTimezone: true }).notNull(),
  openedByStaffId: uuid("opened_by_staff_id").references(() => staff.id),
  openedAt: timestamp("opened_at", { withTimezone: true }).notNull().defaultNow().$defaultFn(now),
});

// A member's claim of presence (self check-in): never attendance by itself; staff accept or reject it.
export const checkIns = pgTable(
  "check_ins",
  {
    id: id(),
    centerId: centerId(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    participantId: uuid("participant_id")
      .notNull()
      .references(() => participants.id),
    checkedInAt: timestamp("checked_in_at", { withTimezone: true }).notNull(),
    /** Claimed after the session's start. */
    late: boolean("late").notNull(),
    /** PENDING, ACCEPTED, REJECTED. */
    status: text("status").notNull().default("PENDING"),
    decidedByStaffId: uuid("decided_by_staff_id").references(() => staff.id),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("check_ins_session_participant_uq").on(t.sessionId, t.participantId),
    index("check_ins_participant_idx").on(t.participantId),
    check("check_ins_status", sql`${t.status} in ('PENDING', 'ACCEPTED', 'REJECTED')`),
  ],
);

/**
 * Failed self check-in tries (src/checkin), one row per key (`t:<token hash>`, `ip:<address>`) and
 * fixed window, shared by every instance. Not tenant data: no center_id.
 */
export const checkInFailures = pgTable("check_in_failures", {
  key: text("key").primaryKey(),
  windowStart: timestamp("window_start", { withTimezone: true, mode: "date" }).notNull(),
  failures: integer("failures").notNull(),
});

export type CheckInWindowRow = typeof checkInWindows.$inferSelect;
export type CheckInRow = typeof checkIns.$inferSelect;

export type CenterRow = typeof centers.$inferSelect;
export type StaffRow = typeof staff.$inferSelect;
/**
 * Request counters for rate limiting (src/http/ratelimit.ts), one row per key (`ip:…`, `staff:…`)
 * and fixed window, shared by every instance on the database. Not tenant data: no center_id.
 */
export const rateLimits = pgTable("rate_limits", {
  key: text("key").primaryKey(),
  windowStart: timestamp("window_start", { withTimezone: true, mode: "date" }).notNull(),
  hits: integer("hits").notNull(),
});

export type MembershipRow = typeof staffMemberships.$inferSelect;
export type ProgramRow = typeof programs.$inferSelect;
export type GroupRow = typeof groups.$inferSelect;
export type FacilitatorRow = typeof groupFacilitators.$inferSelect;
export type ParticipantRow = typeof participants.$inferSelect;
export type EnrollmentRow = typeof enrollments.$inferSelect;
export type EnrollmentEventRow = typeof enrollmentEvents.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type AttendanceRow = typeof attendance.$inferSelect;
export type AttendanceHistoryRow = typeof attendanceHistory.$inferSelect;
export type MilestoneCelebrationRow = typeof milestoneCelebrations.$inferSelect;
export type MentorshipRow = typeof mentorships.$inferSelect;
export type RecoveryCapitalRow = typeof recoveryCapitalAssessments.$inferSelect;
export type FollowUpRow = typeof followUps.$inferSelect;
export type FollowUpEventRow = typeof followUpEvents.$inferSelect;
export type ApiClientRow = typeof apiClients.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ConsentRow = typeof consents.$inferSelect;
export type AttendanceChangeRow = typeof attendanceChanges.$inferSelect;
export type DisclosureRow = typeof disclosures.$inferSelect;
export type AuditEventRow = typeof auditEvents.$inferSelect;
export type AuditCheckpointRow = typeof auditCheckpoints.$inferSelect;
export type SessionNoteRow = typeof sessionNotes.$inferSelect;
export type SessionNoteMemberRow = typeof sessionNoteMembers.$inferSelect;
export type NoteAddendumRow = typeof noteAddenda.$inferSelect;
export type ServiceRecordRow = typeof serviceRecords.$inferSelect;
export type ReminderSettingsRow = typeof reminderSettings.$inferSelect;
export type ContactPreferencesRow = typeof contactPreferences.$inferSelect;
export type ReminderRow = typeof reminders.$inferSelect;
export type EngagementStateRow = typeof engagementStates.$inferSelect;
export type EngagementSessionRow = typeof engagementSessions.$inferSelect;
