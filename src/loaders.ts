// Per-request DataLoaders, one set per module. Built fresh for every request.
import { apiClientLoaders } from "./apiclients/apiclient.loaders.js";
import { disclosureLoaders } from "./disclosures/disclosure.loaders.js";
import { attendanceLoaders } from "./attendance/attendance.loaders.js";
import { centerLoaders } from "./centers/center.loaders.js";
import type { Db } from "./db/client.js";
import { engagementLoaders } from "./engagement/engagement.loaders.js";
import { followUpLoaders } from "./followups/followup.loaders.js";
import { enrollmentLoaders } from "./enrollments/enrollment.loaders.js";
import { groupLoaders } from "./groups/group.loaders.js";
import { mentorshipLoaders } from "./mentorships/mentorship.loaders.js";
import { milestoneLoaders } from "./milestones/milestone.loaders.js";
import { participantLoaders } from "./participants/participant.loaders.js";
import { programLoaders } from "./programs/program.loaders.js";
import { recoveryCapitalLoaders } from "./recoverycapital/recoverycapital.loaders.js";
import { reminderLoaders } from "./reminders/reminder.loaders.js";
import { sessionLoaders } from "./sessions/session.loaders.js";
import { staffLoaders } from "./staff/staff.loaders.js";

export function createLoaders(db: Db) {
  const staff = staffLoaders(db);
  return {
    centers: centerLoaders(db),
    staff,
    programs: programLoaders(db),
    groups: groupLoaders(db, staff.byId),
    participants: participantLoaders(db),
    enrollments: enrollmentLoaders(db),
    sessions: sessionLoaders(db),
    attendance: attendanceLoaders(db),
    engagement: engagementLoaders(db),
    followUps: followUpLoaders(db),
    milestones: milestoneLoaders(db),
    mentorships: mentorshipLoaders(db),
    recoveryCapital: recoveryCapitalLoaders(db),
    apiClients: apiClientLoaders(db),
    disclosures: disclosureLoaders(db),
    reminders: reminderLoaders(db),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
