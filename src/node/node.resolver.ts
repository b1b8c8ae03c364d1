// Query.node / Query.nodes: fetch any object by global id. Whatever is outside the viewer's reach
// answers null, exactly as an id that does not exist.
import { Arg, Authorized, Ctx, ID, Query, Resolver } from "type-graphql";
import { badInput } from "../common/errors.js";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { fromGlobalId } from "../common/ids.js";
import { asNode, Node } from "../common/node.js";
import { canSeeApiClient } from "../apiclients/apiclient.service.js";
import { requireRecordsOf } from "../attendance/attendance.service.js";
import { visibleConsent } from "../consents/consent.service.js";
import { followUpsForbidden, followUpVisibility } from "../followups/followup.service.js";
import { mentorshipVisibility } from "../mentorships/mentorship.service.js";
import { participantsForbidden, participantVisibility } from "../participants/participant.service.js";
import { canSeeStaff } from "../staff/staff.service.js";

async function groupVisible(ctx: Context, groupId: string): Promise<boolean> {
  const group = await ctx.loaders.groups.byId.load(groupId);
  return Boolean(group && ctx.access.canSeeCenter(group.centerId) && ctx.access.canSeeGroup(group));
}

async function loadNode(ctx: Context, globalId: string): Promise<object | null> {
  const parsed = fromGlobalId(globalId);
  if (!parsed) return null;
  const { type, id } = parsed;
  const l = ctx.loaders;
  switch (type) {
    case "Center": {
      const row = await l.centers.byId.load(id);
      return row && ctx.access.canSeeCenter(row.id) ? asNode(type, row) : null;
    }
    case "Staff": {
      const row = await l.staff.byId.load(id);
      return row && (await canSeeStaff(ctx, id)) ? asNode(type, row) : null;
    }
    case "Program": {
      const row = await l.programs.byId.load(id);
      return row && ctx.access.canSeeCenter(row.centerId) ? asNode(type, row) : null;
    }
    case "Group": {
      const row = await l.groups.byId.load(id);
      return row && (await groupVisible(ctx, row.id)) ? asNode(type, row) : null;
    }
    case "Participant": {
      const row = await l.participants.byId.load(id);
      const visibility = row ? await participantVisibility(ctx, row) : "missing";
      if (visibility === "forbidden") throw participantsForbidden();
      return visibility === "readable" ? asNode(type, row!) : null;
    }
    case "Enrollment": {
      const row = await l.enrollments.byId.load(id);
      return row && (await groupVisible(ctx, row.groupId)) ? asNode(type, row) : null;
    }
    case "Session": {
      const row = await l.sessions.byId.load(id);
      return row && (await groupVisible(ctx, row.groupId)) ? asNode(type, row) : null;
    }
    case "Attendance": {
      const row = await l.attendance.byId.load(id);
      const session = row ? await l.sessions.byId.load(row.sessionId) : null;
      if (!row || !session || !(await groupVisible(ctx, session.groupId))) return null;
      requireRecordsOf(ctx, { id: session.groupId, centerId: row.centerId });
      return asNode(type, row);
    }
    case "FollowUp": {
      const row = await l.followUps.byId.load(id);
      const visibility = row ? followUpVisibility(ctx, row) : "missing";
      if (visibility === "forbidden") throw followUpsForbidden();
      return visibility === "readable" ? asNode(type, row!) : null;
    }
    case "Mentorship": {
      const row = await l.mentorships.byId.load(id);
      const visibility = row ? await mentorshipVisibility(ctx, row) : "missing";
      if (visibility === "forbidden") throw participantsForbidden();
      return visibility === "readable" ? asNode(type, row!) : null;
    }
    case "RecoveryCapitalAssessment": {
      const row = await l.recoveryCapital.byId.load(id);
      const participant = row ? await l.participants.byId.load(row.participantId) : null;
      const visibility = participant ? await participantVisibility(ctx, participant) : "missing";
      if (visibility === "forbidden") throw participantsForbidden();
      return visibility === "readable" ? asNode(type, row!) : null;
    }
    case "ApiClient": {
      const row = await l.apiClients.byId.load(id);
      return row && ctx.access.apiClient === null && (await canSeeApiClient(ctx, row)) ? asNode(type, row) : null;
    }
    case "Consent": {
      const row = await visibleConsent(ctx, id);
      return row ? asNode(type, row) : null;
    }
    default:
      return null;
  }
}

const MAX_NODES = 100;

@Resolver()
export class NodeResolver {
  @Authorized()
  // Whatever it finds answers as its own type declares.
  @Policy({ readableBy: "CALLER" })
  @Query(() => Node, { nullable: true, description: "Any object by its global id; null when missing or out of reach." })
  node(@Arg("id", () => ID) id: string, @Ctx() ctx: Context) {
    return loadNode(ctx, id);
  }

  @Authorized()
  @Policy({ readableBy: "CALLER" })
  @Query(() => [Node], { nullable: "items", description: "Up to 100 objects by global id, in order." })
  async nodes(@Arg("ids", () => [ID]) ids: string[], @Ctx() ctx: Context) {
    if (ids.length > MAX_NODES) throw badInput(`Ask for at most ${MAX_NODES} ids at a time`, "ids");
    return Promise.all(ids.map((id) => loadNode(ctx, id)));
  }
}
