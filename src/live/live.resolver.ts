import { Arg, Authorized, Ctx, ID, Resolver, Root, Subscription } from "type-graphql";
import { sessionRoster } from "../attendance/attendance.service.js";
import { RosterEntry } from "../attendance/attendance.type.js";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { rosterEvents, type RosterEvent } from "./live.service.js";

@Resolver()
export class LiveRosterResolver {
  @Authorized()
  // As Session.roster: clinical staff and the group's facilitators (the service refuses others).
  @Policy({ readableBy: "CLINICAL" })
  @Subscription(() => [RosterEntry], {
    description:
      "Over WebSocket (graphql-ws) at /graphql: the session's roster now, then again after every attendance record or check-in of it, from any instance. Facilitators of the group and clinical staff; ends when the viewer may no longer read it (docs/live.md).",
    subscribe: ({ args, context }) => rosterEvents(context as Context, (args as { sessionId: string }).sessionId),
  })
  rosterChanged(@Arg("sessionId", () => ID) _sessionId: string, @Root() event: RosterEvent, @Ctx() ctx: Context): Promise<RosterEntry[]> {
    return sessionRoster(ctx, event.session);
  }
}
