// The policy module: the one place where a request's access is decided, and where every decision
// is recorded (the audit log builds on `decisions`). Services and resolvers ask it; none of them
// compare roles themselves. Who reads a field is the field's declared audience (src/common/policy.ts)
// looked up in READERS (audience x role), checked by the one field wrapper (src/common/field-wrapper.ts);
// the read capabilities below are the same rows.
//
// Roles at a center:
//   org admin    everything, everywhere
//   ADMIN        configures its center (programs, groups, staff memberships) + all clinical work
//   CLINICIAN    participants, enrolment, sessions and attendance at its centers
//   FACILITATOR  reads the groups it facilitates, their members and sessions; records their attendance
//   VIEWER       reads groups, sessions and counts; never participants' names or notes
//
// API clients (integrators, `Authorization: Bearer rg_live_…`) have no role: they read only their
// centers, only the fields their scopes open (the `api` of each field's declaration,
// src/common/policy.ts, enforced for every field by src/common/field-wrapper.ts), never notes or staff data, and call no mutation. A participant's records
// reach a client only while a consent naming it is active (src/consents: the feed and every
// other read selects through that condition).
import { forbidden, unauthenticated } from "../common/errors.js";
import type { Audience } from "../common/policy.js";
import type { ApiClientViewer, ApiScope, CenterRole, StaffViewer, Viewer } from "./viewer.js";

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
  | "milestone.celebrate"
  /** Create, rotate and revoke the center's API clients. */
  | "apiclient.manage"
  /** Record and revoke a participant's consents to disclose (42 CFR 2.31), and read them. */
  | "consent.write"
  /** The accounting of a participant's disclosures (42 CFR 2.24). */
  | "disclosure.read"
  /** Read a session's note (every member's part) and members' chart entries: clinical staff and the group's facilitators. */
  | "note.read"
  /** Write a session's draft note and add addenda: clinical staff and the group's facilitators. */
  | "note.write"
  /** Sign a session's note: its author or a facilitator of its group (Target.staffIds: the author). */
  | "note.sign"
  /** Co-sign a note signed by someone whose credential needs it: clinicians and admins. */
  | "note.cosign"
  /** Billable service records and their export: clinicians and admins. */
  | "service.read"
  /** Open a session's self check-in, reconcile its claims, see members' check-in links: clinical staff and the group's facilitators. */
  | "checkin.manage";

type Rule = (role: CenterRole, target: Target, viewer: StaffViewer) => boolean;

const facilitates = (target: Target, viewer: StaffViewer) => target.groupIds?.some((g) => viewer.facilitatedGroupIds.has(g)) ?? false;

/** A facilitator's reach: the objects of the groups they facilitate; what a whole center lists, cut to those groups (groupScope). */
const theirGroups = (target: Target, viewer: StaffViewer) => (target.wholeCenter === true ? true : facilitates(target, viewer));

type ReadRule = boolean | ((target: Target, viewer: StaffViewer) => boolean);

/**
 * Who reads what: each audience a field declares (src/common/policy.ts) × each role at the
 * object's center. Org admins read everything; staff without a role at the center nothing; API
 * clients read what their scopes open (the fields' `api`), whatever the audience. The rules about
 * the data itself (which groups are a facilitator's) are the functions.
 */
const READERS: Record<Audience, Record<CenterRole, ReadRule>> = {
  CENTER: { ADMIN: true, CLINICIAN: true, FACILITATOR: true, VIEWER: true },
  GROUP: { ADMIN: true, CLINICIAN: true, FACILITATOR: theirGroups, VIEWER: true },
  CLINICAL: { ADMIN: true, CLINICIAN: true, FACILITATOR: theirGroups, VIEWER: false },
  // Which staff member a link may show is the link's own rule (node(id:) visibility, linkedStaff).
  STAFF: { ADMIN: true, CLINICIAN: true, FACILITATOR: true, VIEWER: true },
  CALLER: { ADMIN: true, CLINICIAN: true, FACILITATOR: true, VIEWER: true },
  ADMIN: { ADMIN: true, CLINICIAN: false, FACILITATOR: false, VIEWER: false },
};

/** What a refusal says, per audience (never which object or whose). */
const REFUSALS: Record<Audience, string> = {
  CENTER: "Your role does not allow reading this center's data",
  GROUP: "Your role does not allow reading this group",
  CLINICAL: "Your role does not allow reading participants' clinical data",
  STAFF: "Your role does not allow reading staff",
  CALLER: "Not allowed",
  ADMIN: "Only admins may read this",
};

const allows = (rule: ReadRule, target: Target, viewer: StaffViewer) => (typeof rule === "boolean" ? rule : rule(target, viewer));
const reads =
  (audience: Audience): Rule =>
  (role, target, viewer) =>
    allows(READERS[audience][role], target, viewer);

/** What READERS says of a role: it reads the audience, it does not, or only for its groups' objects. */
export function readRule(audience: Audience, role: CenterRole): boolean | "their groups" {
  const rule = READERS[audience][role];
  return typeof rule === "boolean" ? rule : "their groups";
}

/** Whether every role reads the audience wherever it sees the object (no check is needed for it). */
export const openToEveryRole = (audience: Audience): boolean => Object.values(READERS[audience]).every((rule) => rule === true);

/**
 * How a staff member reads an audience at a center, whatever the object (READERS): "ALL" of the
 * center's objects, those of "THEIR_GROUPS" only (the rule's function: a facilitator's groups), or
 * "NONE". For statements that select what the viewer may read (src/compiled/) instead of asking
 * mayRead() of each object in turn.
 */
export function readReachAt(viewer: StaffViewer, audience: Audience, centerId: string): "ALL" | "THEIR_GROUPS" | "NONE" {
  if (viewer.isOrgAdmin) return "ALL";
  const role = viewer.roles.get(centerId);
  if (!role) return "NONE";
  const rule = READERS[audience][role];
  return rule === true ? "ALL" : rule === false ? "NONE" : "THEIR_GROUPS";
}

const RULES: Record<Capability, Rule> = {
  "center.read": reads("CENTER"),
  "center.configure": (role) => role === "ADMIN",
  "group.read": reads("GROUP"),
  "session.write": (role) => role === "ADMIN" || role === "CLINICIAN",
  "participant.read": reads("CLINICAL"),
  "participant.write": (role) => role === "ADMIN" || role === "CLINICIAN",
  "enrollment.write": (role) => role === "ADMIN" || role === "CLINICIAN",
  "attendance.write": (role, t, v) => role === "ADMIN" || role === "CLINICIAN" || (role === "FACILITATOR" && facilitates(t, v)),
  "followup.read": reads("CLINICAL"),
  "followup.write": (role, t, v) => role === "ADMIN" || role === "CLINICIAN" || (role === "FACILITATOR" && facilitates(t, v)),
  "milestone.celebrate": (role, t, v) => role === "ADMIN" || role === "CLINICIAN" || (role === "FACILITATOR" && facilitates(t, v)),
  "apiclient.manage": (role) => role === "ADMIN",
  "consent.write": (role) => role === "ADMIN" || role === "CLINICIAN",
  "disclosure.read": (role) => role === "ADMIN" || role === "CLINICIAN",
  "note.read": (role, t, v) => role === "ADMIN" || role === "CLINICIAN" || (role === "FACILITATOR" && facilitates(t, v)),
  "note.write": (role, t, v) => role === "ADMIN" || role === "CLINICIAN" || (role === "FACILITATOR" && facilitates(t, v)),
  "note.sign": (role, t, v) => role !== "VIEWER" && (facilitates(t, v) || (t.staffIds?.includes(v.staffId) ?? false)),
  "note.cosign": (role) => role === "ADMIN" || role === "CLINICIAN",
  "service.read": (role) => role === "ADMIN" || role === "CLINICIAN",
  "checkin.manage": (role, t, v) => role === "ADMIN" || role === "CLINICIAN" || (role === "FACILITATOR" && facilitates(t, v)),
};

/** What an API client may do at one of its centers: read, with ATTENDANCE_READ. Nothing else. */
const API_CLIENT_CAPABILITIES = new Set<Capability>(["center.read", "group.read", "participant.read"]);

/**
 * Whether an API client with these scopes may resolve a field that these scopes open (the field's
 * `api` declaration, src/common/policy.ts). Any other field answers as for an outsider
 * (src/common/field-wrapper.ts): null, an empty list, or FORBIDDEN when it cannot be null.
 */
export function apiClientMayRead(viewer: ApiClientViewer, opens: readonly ApiScope[]): boolean {
  return opens.some((scope) => viewer.scopes.has(scope));
}

export interface Target {
  centerId: string;
  /** The groups the resource belongs to (a participant: the groups they are enrolled in). */
  groupIds?: readonly string[];
  /** Staff the resource belongs to (a note: its author). */
  staffIds?: readonly (string | null)[];
  /** The center's own (a center's lists): a facilitator reads it, cut to their groups by the list. */
  wholeCenter?: boolean;
}

export interface Decision {
  capability: Capability | `read.${Audience}` | "center.visible" | "org.admin" | "staff.manage" | "apiclient.feed" | "audit.read";
  centerId: string | null;
  allowed: boolean;
}

export type AuditAction = "READ" | "CREATE" | "UPDATE" | "DELETE" | "EXPORT" | "DENIED";
export type AuditOutcome = "ALLOWED" | "DENIED" | "ERROR";

/**
 * Participant data the request touched (or was refused), as the audit log records it
 * (src/audit/): identifiers only. Recorded by the audit wrappers around the schema's resolvers and
 * by exports; written once per request, batched, at its end.
 */
export interface Touch {
  action: AuditAction;
  outcome: AuditOutcome;
  resourceType: string;
  resourceId: string | null;
  centerId: string | null;
  participantIds: readonly string[];
}

export class Access {
  readonly decisions: Decision[] = [];
  /** What the request touched of participant data, once each (see Touch). */
  readonly touches: Touch[] = [];
  private readonly touched = new Set<string>();

  constructor(readonly viewer: Viewer | null) {}

  private record(capability: Decision["capability"], centerId: string | null, allowed: boolean): boolean {
    this.decisions.push({ capability, centerId, allowed });
    return allowed;
  }

  /** Records that the request touched (or was refused) participant data; repeats are dropped. */
  touch(t: Touch): void {
    const key = `${t.action}/${t.outcome}/${t.resourceType}/${t.resourceId ?? ""}/${t.centerId ?? ""}/${t.resourceId ? "" : t.participantIds.join(",")}`;
    if (this.touched.has(key)) return;
    this.touched.add(key);
    this.touches.push(t);
  }

  /**
   * Whose audit entries the viewer may read: "ALL" for org admins (entries of no center too), the
   * centers where they are ADMIN for center admins; anyone else is FORBIDDEN.
   */
  auditScope(): "ALL" | string[] {
    const viewer = this.requireViewer();
    if (viewer.isOrgAdmin) {
      this.record("audit.read", null, true);
      return "ALL";
    }
    const centers = [...viewer.roles].filter(([, role]) => role === "ADMIN").map(([centerId]) => centerId);
    if (!this.record("audit.read", null, centers.length > 0)) throw forbidden("Only admins may read the audit log");
    return centers;
  }

  /** The authenticated staff member, or UNAUTHENTICATED (no one) or FORBIDDEN (an API client). */
  requireViewer(): StaffViewer {
    if (!this.viewer) throw unauthenticated();
    if (this.viewer.kind !== "staff") throw forbidden("API clients may not do this");
    return this.viewer;
  }

  /** The API client behind the request, or null for staff and anonymous callers. */
  get apiClient(): ApiClientViewer | null {
    return this.viewer?.kind === "apiClient" ? this.viewer : null;
  }

  /** The API client reading its feed: UNAUTHENTICATED without credentials, FORBIDDEN for staff or without ATTENDANCE_READ. */
  requireApiClientFeed(): ApiClientViewer {
    if (!this.viewer) throw unauthenticated();
    const client = this.apiClient;
    const allowed = client !== null && client.scopes.has("ATTENDANCE_READ");
    this.record("apiclient.feed", null, allowed);
    if (!client || !allowed) throw forbidden("The attendance feed is read with an API key that has ATTENDANCE_READ");
    return client;
  }

  get staffId(): string | null {
    return this.viewer?.kind === "staff" ? this.viewer.staffId : null;
  }

  get isOrgAdmin(): boolean {
    return this.viewer?.kind === "staff" && this.viewer.isOrgAdmin;
  }

  requireOrgAdmin(): void {
    const viewer = this.requireViewer();
    if (!this.record("org.admin", null, viewer.isOrgAdmin)) throw forbidden("Only organisation admins may do this");
  }

  /** The staff role at a center; null for anyone else (API clients have no role). */
  roleAt(centerId: string): CenterRole | "ORG_ADMIN" | null {
    if (this.viewer?.kind !== "staff") return null;
    if (this.viewer.isOrgAdmin) return "ORG_ADMIN";
    return this.viewer.roles.get(centerId) ?? null;
  }

  /** Centers the viewer can see at all: "ALL" for org admins. */
  visibleCenterIds(): "ALL" | string[] {
    const client = this.apiClient;
    if (client) return [...client.centerIds];
    const viewer = this.requireViewer();
    return viewer.isOrgAdmin ? "ALL" : [...viewer.roles.keys()];
  }

  /**
   * The centers this request's statements may see under row-level security (src/db/scope.ts):
   * every center for org admins, the viewer's centers otherwise, none without a viewer.
   */
  reach(): "ALL" | string[] {
    if (!this.viewer) return [];
    if (this.viewer.kind === "apiClient") return [...this.viewer.centerIds];
    return this.viewer.isOrgAdmin ? "ALL" : [...this.viewer.roles.keys()];
  }

  /** Whether the center exists for this viewer; outside it, objects read as missing. */
  canSeeCenter(centerId: string): boolean {
    const client = this.apiClient;
    if (client) return this.record("center.visible", centerId, client.centerIds.has(centerId));
    return this.record("center.visible", centerId, this.roleAt(centerId) !== null);
  }

  /**
   * Groups of a center the viewer may list: "ALL", or the facilitated ones for a facilitator.
   */
  groupScope(centerId: string): "ALL" | string[] {
    const client = this.apiClient;
    if (client) return client.centerIds.has(centerId) ? "ALL" : [];
    const role = this.roleAt(centerId);
    if (role === null) return [];
    if (role === "FACILITATOR") return [...(this.viewer as StaffViewer).facilitatedGroupIds];
    return "ALL";
  }

  can(capability: Capability, target: Target): boolean {
    const client = this.apiClient;
    if (client) {
      const allowed = client.centerIds.has(target.centerId) && client.scopes.has("ATTENDANCE_READ") && API_CLIENT_CAPABILITIES.has(capability);
      return this.record(capability, target.centerId, allowed);
    }
    const role = this.roleAt(target.centerId);
    const allowed = role === null ? false : role === "ORG_ADMIN" ? true : RULES[capability](role, target, this.viewer as StaffViewer);
    return this.record(capability, target.centerId, allowed);
  }

  /**
   * Whether the viewer may read a field of this audience on an object at the target (READERS).
   * API clients are not asked: what they read is what their scopes open.
   */
  mayRead(audience: Audience, target: Target): boolean {
    const viewer = this.viewer;
    if (viewer?.kind !== "staff") return false;
    const role = viewer.isOrgAdmin ? "ORG_ADMIN" : (viewer.roles.get(target.centerId) ?? null);
    const allowed = role === null ? false : role === "ORG_ADMIN" ? true : allows(READERS[audience][role], target, viewer);
    return this.record(`read.${audience}`, target.centerId, allowed);
  }

  /** Whether what the viewer may read of the audience at the center depends on the object's group (a facilitator's GROUP and CLINICAL). */
  readDependsOnGroup(audience: Audience, centerId: string): boolean {
    const viewer = this.viewer;
    if (viewer?.kind !== "staff" || viewer.isOrgAdmin) return false;
    const role = viewer.roles.get(centerId);
    return role !== undefined && typeof READERS[audience][role] === "function";
  }

  /**
   * How an object of the audience the viewer was refused reads to them: "missing" when their role
   * reads some of it at the center (a facilitator: another group's), "forbidden" when it reads none
   * (a VIEWER and participants).
   */
  refusalOf(audience: Audience, centerId: string): "missing" | "forbidden" {
    return this.readDependsOnGroup(audience, centerId) ? "missing" : "forbidden";
  }

  /** FORBIDDEN unless the viewer may read the audience at the target. */
  requireRead(audience: Audience, target: Target): void {
    if (!this.mayRead(audience, target)) throw forbidden(REFUSALS[audience]);
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
