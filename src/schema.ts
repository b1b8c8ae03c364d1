// Builds the GraphQL schema from the modules' resolvers. Deny by default: every root field carries
// @Authorized, and the auth checker refuses anonymous callers before any resolver runs.
import type { GraphQLSchema } from "graphql";
import { buildSchema, type AuthChecker, type ClassType, type NonEmptyArray } from "type-graphql";
import type { Context } from "./common/context.js";
import { wrapFields } from "./common/field-wrapper.js";
import { forbidden, unauthenticated } from "./common/errors.js";
import { NodeIdResolver } from "./common/node.js";
import { DateTime } from "./common/scalars.js";
import { composeWriteSteps } from "./steps.js";
import {
  AttendanceChangeResolver,
  AttendanceResolver,
  ParticipantAttendanceResolver,
  RosterEntryResolver,
  SessionAttendanceResolver,
} from "./attendance/attendance.resolver.js";
import { AuditResolver } from "./audit/audit.resolver.js";
import { auditRecorder } from "./audit/audit.wrap.js";
import { CenterResolver } from "./centers/center.resolver.js";
import { EnrollmentEventResolver, EnrollmentResolver, GroupEnrollmentsResolver, ParticipantEnrollmentsResolver } from "./enrollments/enrollment.resolver.js";
import { CenterGroupsResolver, GroupResolver, ProgramGroupsResolver } from "./groups/group.resolver.js";
import {
  CenterEngagementResolver,
  EngagementSummaryResolver,
  GroupEngagementResolver,
  ParticipantEngagementResolver,
  ProgramEngagementResolver,
} from "./engagement/engagement.resolver.js";
import { CenterFollowUpsResolver, FollowUpEventResolver, FollowUpResolver, StaffFollowUpsResolver } from "./followups/followup.resolver.js";
import { NodeResolver } from "./node/node.resolver.js";
import { ApiClientResolver } from "./apiclients/apiclient.resolver.js";
import { ConsentResolver, ParticipantConsentsResolver } from "./consents/consent.resolver.js";
import { DisclosureResolver, ParticipantDisclosuresResolver } from "./disclosures/disclosure.resolver.js";
import { FeedResolver } from "./feed/feed.resolver.js";
import { SchedulingResolver } from "./scheduling/scheduling.resolver.js";
import { GroupPeerMentorsResolver, MentorshipResolver, ParticipantMentorshipsResolver } from "./mentorships/mentorship.resolver.js";
import { GroupMilestonesResolver, MilestoneResolver, ParticipantMilestonesResolver } from "./milestones/milestone.resolver.js";
import { ParticipantRecoveryCapitalResolver, RecoveryCapitalResolver } from "./recoverycapital/recoverycapital.resolver.js";
import { CenterParticipantsResolver, ParticipantResolver } from "./participants/participant.resolver.js";
import { CenterProgramsResolver, ProgramResolver } from "./programs/program.resolver.js";
import { CenterSessionsResolver, GroupSessionsResolver, SessionResolver } from "./sessions/session.resolver.js";
import { CenterStaffResolver, StaffMembershipResolver, StaffResolver } from "./staff/staff.resolver.js";

const resolvers: NonEmptyArray<ClassType> = [
  NodeIdResolver,
  NodeResolver,
  CenterResolver,
  StaffResolver,
  StaffMembershipResolver,
  CenterStaffResolver,
  ProgramResolver,
  CenterProgramsResolver,
  GroupResolver,
  CenterGroupsResolver,
  ProgramGroupsResolver,
  ParticipantResolver,
  CenterParticipantsResolver,
  EnrollmentResolver,
  EnrollmentEventResolver,
  GroupEnrollmentsResolver,
  ParticipantEnrollmentsResolver,
  SessionResolver,
  GroupSessionsResolver,
  CenterSessionsResolver,
  AttendanceResolver,
  AttendanceChangeResolver,
  RosterEntryResolver,
  SessionAttendanceResolver,
  ParticipantAttendanceResolver,
  SchedulingResolver,
  ParticipantEngagementResolver,
  EngagementSummaryResolver,
  GroupEngagementResolver,
  ProgramEngagementResolver,
  CenterEngagementResolver,
  FollowUpResolver,
  FollowUpEventResolver,
  CenterFollowUpsResolver,
  StaffFollowUpsResolver,
  MilestoneResolver,
  ParticipantMilestonesResolver,
  GroupMilestonesResolver,
  MentorshipResolver,
  ParticipantMentorshipsResolver,
  GroupPeerMentorsResolver,
  RecoveryCapitalResolver,
  ParticipantRecoveryCapitalResolver,
  ApiClientResolver,
  ConsentResolver,
  ParticipantConsentsResolver,
  DisclosureResolver,
  ParticipantDisclosuresResolver,
  FeedResolver,
  AuditResolver,
];

/**
 * Roles on @Authorized: none = any signed-in staff member; "ORG_ADMIN" = organisation admins;
 * "API_CLIENT" = API clients too (no other root field answers them: every mutation is FORBIDDEN).
 */
const authChecker: AuthChecker<Context> = ({ context }, roles) => {
  if (!context.viewer) throw unauthenticated();
  if (context.viewer.kind === "apiClient") {
    if (!roles.includes("API_CLIENT")) throw forbidden("API clients may not do this");
    return true;
  }
  if (roles.includes("ORG_ADMIN") && !context.viewer.isOrgAdmin) throw forbidden("Only organisation admins may do this");
  return true;
};

let cached: Promise<GraphQLSchema> | undefined;

export function createSchema(): Promise<GraphQLSchema> {
  composeWriteSteps();
  cached ??= buildSchema({
    resolvers,
    authChecker,
    authMode: "error",
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTime }],
    // One wrapper per field, from its declaration (src/common/field-wrapper.ts): cancellation,
    // arguments, the API-client gate, the audience, and the audit log's record (src/audit/).
  }).then((schema) => wrapFields(schema, { record: auditRecorder(schema) }));
  return cached;
}
