// The modules of the app, in layer order (.dependency-cruiser.cjs): the schema, the per-request
// loaders and `node(id:)` are built from this list. Adding a module = its
// src/<module>/<module>.module.ts (src/common/module.ts) and one line here (CONTRIBUTING.md).
import { apiClientsModule } from "./apiclients/apiclient.module.js";
import { attendanceModule } from "./attendance/attendance.module.js";
import { auditModule } from "./audit/audit.module.js";
import { centersModule } from "./centers/center.module.js";
import { checkInModule } from "./checkin/checkin.module.js";
import { consentsModule } from "./consents/consent.module.js";
import { disclosuresModule } from "./disclosures/disclosure.module.js";
import { engagementModule } from "./engagement/engagement.module.js";
import { enrollmentsModule } from "./enrollments/enrollment.module.js";
import { feedModule } from "./feed/feed.module.js";
import { followUpsModule } from "./followups/followup.module.js";
import { groupsModule } from "./groups/group.module.js";
import { liveModule } from "./live/live.module.js";
import { mentorshipsModule } from "./mentorships/mentorship.module.js";
import { milestonesModule } from "./milestones/milestone.module.js";
import { notesModule } from "./notes/notes.module.js";
import { participantsModule } from "./participants/participant.module.js";
import { programsModule } from "./programs/program.module.js";
import { remindersModule } from "./reminders/reminder.module.js";
import { recoveryCapitalModule } from "./recoverycapital/recoverycapital.module.js";
import { schedulingModule } from "./scheduling/scheduling.module.js";
import { sessionsModule } from "./sessions/session.module.js";
import { staffModule } from "./staff/staff.module.js";

// Loaders are built in this order: a module's loaders may use those of the modules before it.
export const modules = [
  centersModule,
  staffModule,
  programsModule,
  groupsModule,
  participantsModule,
  enrollmentsModule,
  sessionsModule,
  attendanceModule,
  schedulingModule,
  engagementModule,
  followUpsModule,
  milestonesModule,
  mentorshipsModule,
  recoveryCapitalModule,
  apiClientsModule,
  consentsModule,
  disclosuresModule,
  notesModule,
  remindersModule,
  checkInModule,
  feedModule,
  auditModule,
  liveModule,
] as const;
