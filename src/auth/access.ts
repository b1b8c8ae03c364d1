// The policy module: the one place where a request's access is decided, and where every decision
// is recorded (the audit log builds on `decisions`). Services and resolvers ask it; none of them
// compare roles themselves.
//
// Roles at a center:
//   org admin    everything, everywhere
//   ADMIN        configures its center (programs, groups, staff memberships) + all clinical work
//   CLINICIAN    participants, enrolment, sessions and attendance at its centers
//   FACILITATOR  reads the groups it facilitates, their members and sessions; records their attendance
//   VIEWER       reads groups, sessions and counts; never participants' names or notes
import { forbidden, unauthenticated } from "../common/errors.js";
import type { CenterRole, Viewer } from "./viewer.js";

export type Capability =
  /** See the center itself, its programs. */
  | "center.read"
  /** Programs, groups, staff memberships, the center's settings. */
  | "center.configure"
  /** See a group and its sessions (and attendance counts). */
  | "group.read"
  /** Schedule, cancel and edit sessions. */
  | "session.write"
  /** Participants' identities, enrolments, attendance records and notes. */
  | "participant.read"
  | "participant.write"
  | "enrollment.write"
  | "attendance.write"
  /** Follow-ups (they name participants): clinical staff, and facilitators for their groups. */
  | "followup.read"
  | "followup.write"
  /** Mark a participant's milestone as celebrated (at a session of their group). */
  | "milestone.celebrate";

type Rule = (role: CenterRole, target: Target, viewer: Viewer) => boolean;

const facilitates = (target: Target, viewer: Viewer) => target.groupIds?.some((g) => viewer.facilitatedGroupIds.has(g)) ?? false;

const RULES: Record<Capability, Rule> = {
  "center.read": () => true,
  "center.configure": (role) => role === "ADMIN",
  "group.read": (role, t, v) => role !== "FACILITATOR" || facilitates(t, v),
  "session.write": (role) => role === "ADMIN" || role === "CLINICIAN",
  "participant.read": (role, t, v) => role === "ADMIN" || role === "CLINICIAN" || (role === "FACILITATOR" && facilitates(t, v)),
  "participant.write": (role) => role === "ADMIN" || role === "CLINICIAN",
  "enrollment.write": (role) => role === "ADMIN" || role === "CLINICIAN",
  "attendance.write": (role, t, v) => role === "ADMIN" || role === "CLINICIAN" || (role === "FACILITATOR" && facilitates(t, v)),
  "followup.read": (role, t, v) => role === "ADMIN" || role === "CLINICIAN" || (role === "FACILITATOR" && facilitates(t, v)),
  "followup.write": (role, t, v) => role === "ADMIN" || role === "CLINICIAN" || (role === "FACILITATOR" && facilitates(t, v)),
  "milestone.celebrate": (role, t, v) => role === "ADMIN" || role === "CLINICIAN" || (role === "FACILITATOR" && facilitates(t, v)),
};

export interface Target {
  centerId: string;
  /** The groups the resource belongs to (a participant: the groups they are enrolled in). */
  groupIds?: readonly string[];
}

export interface Decision {
  capability: Capability | "center.visible" | "org.admin" | "staff.manage";
  centerId: string | null;
  allowed: boolean;
}

export class Access {
  readonly decisions: Decision[] = [];

  constructor(readonly viewer: Viewer | null) {}

  private record(capability: Decision["capability"], centerId: string | null, allowed: boolean): boolean {
    this.decisions.push({ capability, centerId, allowed });
    return allowed;
  }

  /** The authenticated viewer, or UNAUTHENTICATED. */
  requireViewer(): Viewer {
    if (!this.viewer) throw unauthenticated();
    return this.viewer;
  }

  get staffId(): string | null {
    return this.viewer?.staffId ?? null;
  }

  get isOrgAdmin(): boolean {
    return this.viewer?.isOrgAdmin ?? false;
  }

  requireOrgAdmin(): void {
    const viewer = this.requireViewer();
    if (!this.record("org.admin", null, viewer.isOrgAdmin)) throw forbidden("Only organisation admins may do this");
  }

  roleAt(centerId: string): CenterRole | "ORG_ADMIN" | null {
    if (!this.viewer) return null;
    if (this.viewer.isOrgAdmin) return "ORG_ADMIN";
    return this.viewer.roles.get(centerId) ?? null;
  }

  /** Centers the viewer can see at all: "ALL" for org admins. */
  visibleCenterIds(): "ALL" | string[] {
    const viewer = this.requireViewer();
    return viewer.isOrgAdmin ? "ALL" : [...viewer.roles.keys()];
  }

  /**
   * The centers this request's statements may see under row-level security (src/db/scope.ts):
   * every center for org admins, the viewer's centers otherwise, none without a viewer.
   */
  reach(): "ALL" | string[] {
    if (!this.viewer) return [];
    return this.viewer.isOrgAdmin ? "ALL" : [...this.viewer.roles.keys()];
  }

  /** Whether the center exists for this viewer; outside it, objects read as missing. */
  canSeeCenter(centerId: string): boolean {
    return this.record("center.visible", centerId, this.roleAt(centerId) !== null);
  }

  /**
   * Groups of a center the viewer may list: "ALL", or the facilitated ones for a facilitator.
   */
  groupScope(centerId: string): "ALL" | string[] {
    const role = this.roleAt(centerId);
    if (role === null) return [];
    if (role === "FACILITATOR") return [...this.viewer!.facilitatedGroupIds];
    return "ALL";
  }

  can(capability: Capability, target: Target): boolean {
    const role = this.roleAt(target.centerId);
    const allowed = role === null ? false : role === "ORG_ADMIN" ? true : RULES[capability](role, target, this.viewer!);
    return this.record(capability, target.centerId, allowed);
  }

  /** FORBIDDEN unless allowed. Callers first make sure the target is visible (else NOT_FOUND). */
  require(capability: Capability, target: Target, message?: string): void {
    if (!this.can(capability, target)) throw forbidden(message ?? `Your role does not allow ${capability}`);
  }

  /**
   * Whether the viewer may change a staff member's roles: org admins anyone; center admins only
   * staff whose every center they administer (an org admin's reach is every center, so out of a
   * center admin's). Anyone else reads as missing (NOT_FOUND), as staff out of sight do.
   */
  canManageStaff(target: { staffId: string; isOrgAdmin: boolean; centerIds: readonly string[] }): boolean {
    const viewer = this.requireViewer();
    const allowed = viewer.isOrgAdmin || (!target.isOrgAdmin && target.centerIds.length > 0 && target.centerIds.every((c) => viewer.roles.get(c) === "ADMIN"));
    return this.record("staff.manage", null, allowed);
  }

  /**
   * Follow-ups the viewer may list across centers (Staff.followUps): "ALL" for org admins, else
   * every follow-up of the centers where they are clinical staff plus those of the groups they
   * facilitate. VIEWERs reach none.
   */
  followUpScope(): "ALL" | { centerIds: string[]; facilitatorCenterIds: string[]; groupIds: string[] } {
    const viewer = this.requireViewer();
    if (viewer.isOrgAdmin) return "ALL";
    const centerIds: string[] = [];
    const facilitatorCenterIds: string[] = [];
    for (const [centerId, role] of viewer.roles) {
      const allowed = role === "ADMIN" || role === "CLINICIAN";
      this.record("followup.read", centerId, allowed);
      if (allowed) centerIds.push(centerId);
      else if (role === "FACILITATOR") facilitatorCenterIds.push(centerId);
    }
    return { centerIds, facilitatorCenterIds, groupIds: [...viewer.facilitatedGroupIds] };
  }

  /** Whether the viewer may see a group's sessions, roster counts and the group itself. */
  canSeeGroup(group: { id: string; centerId: string }): boolean {
    return this.can("group.read", { centerId: group.centerId, groupIds: [group.id] });
  }
}
