// Query.auditEvents: the audit log, newest first (the reverse of chain order), for org admins
// (every entry) and center admins (their centers' entries); anyone else is FORBIDDEN. Reading it
// is itself audited (its Policy({ audit: "READ" })).
import { Args, ArgsType, Authorized, Ctx, Field, ID, Query, Resolver } from "type-graphql";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { badInput } from "../common/errors.js";
import { decodeId, toGlobalId, type NodeTypeName } from "../common/ids.js";
import { connectionType, ConnectionArgs, DEFAULT_PAGE_SIZE, pageWindow, type Connection } from "../common/relay.js";
import { DateTime } from "../common/scalars.js";
import type { AuditEventRow } from "../db/schema.js";
import { listAuditEvents } from "./audit.service.js";
import { AuditActionEnum, AuditActorType, AuditEvent, type AuditOutcomeEnum } from "./audit.type.js";

const AuditEventConnection = connectionType(AuditEvent, "AuditEvent");

@ArgsType()
class AuditEventsArgs extends ConnectionArgs {
  @Field(() => AuditActorType, { nullable: true, description: "Entries of this kind of actor, e.g. ANONYMOUS for failed access attempts." })
  actorType?: AuditActorType | null;

  @Field(() => ID, { nullable: true, description: "Entries of this staff member (or API client)." })
  actorId?: string | null;

  @Field(() => ID, { nullable: true, description: "Entries that touched this participant." })
  participantId?: string | null;

  @Field(() => DateTime, { nullable: true, description: "From this instant (inclusive)." })
  from?: Date | null;

  @Field(() => DateTime, { nullable: true, description: "Up to this instant (inclusive)." })
  to?: Date | null;

  @Field(() => AuditActionEnum, { nullable: true })
  action?: AuditActionEnum | null;
}

const NODE_TYPES = new Set(["Participant", "Attendance", "Enrollment", "FollowUp", "Mentorship", "RecoveryCapitalAssessment", "Session", "Group", "Center"]);

const encodeCursor = (seq: number) => Buffer.from(`audit:${seq}`, "utf8").toString("base64url");
function decodeCursor(cursor: string, arg: string): number {
  const m = /^audit:(\d{1,18})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw badInput(`\`${arg}\` is not a valid cursor`, arg);
  return Number(m[1]);
}

function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    occurredAt: row.occurredAt,
    actorType: row.actorType as AuditActorType | null,
    clientAddress: row.clientAddress,
    actorId: row.actorId
      ? toGlobalId(row.actorType === "API_CLIENT" ? "ApiClient" : row.actorType === "PARTICIPANT" ? "Participant" : "Staff", row.actorId)
      : null,
    centerId: row.centerId ? toGlobalId("Center", row.centerId) : null,
    action: row.action as AuditActionEnum,
    resourceType: row.resourceType,
    resourceId: row.resourceId ? (NODE_TYPES.has(row.resourceType) ? toGlobalId(row.resourceType as NodeTypeName, row.resourceId) : row.resourceId) : null,
    participantIds: row.participantIds.map((id) => toGlobalId("Participant", id)),
    operationName: row.operationName,
    requestId: row.requestId,
    outcome: row.outcome as AuditOutcomeEnum,
    hash: row.hash,
  };
}

@Resolver()
export class AuditResolver {
  @Authorized()
  @Policy({ readableBy: "ADMIN", audit: "READ" })
  @Query(() => AuditEventConnection, {
    description: "The audit log, newest first. Org admins see every entry; center admins their centers' entries; anyone else is refused.",
  })
  async auditEvents(@Args(() => AuditEventsArgs) args: AuditEventsArgs, @Ctx() ctx: Context): Promise<Connection<AuditEvent>> {
    const scope = ctx.access.auditScope();
    const win = pageWindow({ first: args.first, last: args.last }, DEFAULT_PAGE_SIZE);
    const decode = (value: string | null | undefined, type: NodeTypeName, arg: string) => {
      if (!value) return null;
      const id = decodeId(value, type) ?? (type === "Staff" ? decodeId(value, "ApiClient") : null);
      if (!id) throw badInput(`\`${arg}\` is not a ${type} id`, arg);
      return id;
    };
    const page = await listAuditEvents(
      ctx.db,
      {
        scope,
        actorType: args.actorType ?? null,
        actorId: decode(args.actorId, "Staff", "actorId"),
        participantId: decode(args.participantId, "Participant", "participantId"),
        from: args.from ?? null,
        to: args.to ?? null,
        action: args.action ?? null,
      },
      {
        first: win.first ?? win.last ?? DEFAULT_PAGE_SIZE,
        newestFirst: win.last === null,
        afterSeq: args.after ? decodeCursor(args.after, "after") : null,
        beforeSeq: args.before ? decodeCursor(args.before, "before") : null,
      },
    );
    const edges = page.rows.map((row) => ({ cursor: encodeCursor(row.seq), node: toAuditEvent(row) }));
    return {
      edges,
      nodes: edges.map((e) => e.node),
      totalCount: page.totalCount,
      pageInfo: {
        hasNextPage: win.last === null ? page.hasMore : args.before != null,
        hasPreviousPage: win.last === null ? args.after != null : page.hasMore,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
    };
  }
}
