import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import { RosterEntry } from "../attendance/attendance.type.js";
import type { Context } from "../common/context.js";
import { mutate } from "../common/payload.js";
import { Policy } from "../common/policy.js";
import { Session } from "../sessions/session.type.js";
import {
  OpenCheckInInput,
  OpenCheckInPayload,
  ReconcileCheckInsInput,
  ReconcileCheckInsPayload,
  SelfCheckInInput,
  SelfCheckInPayload,
} from "./checkin.inputs.js";
import { checkInLink, openCheckIn, reconcileCheckIns, selfCheckIn } from "./checkin.service.js";
import { CheckIn, CheckInWindow, type CheckInWindowView } from "./checkin.type.js";

@Resolver(() => CheckInWindow)
export class CheckInWindowResolver {
  @FieldResolver(() => Session)
  session(@Root() w: CheckInWindowView, @Ctx() ctx: Context) {
    return ctx.loaders.sessions.byId.load(w.sessionId);
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => OpenCheckInPayload, {
    description: "Opens the session's self check-in window (or returns it, already open) with the room code to show in the room.",
  })
  openCheckIn(@Arg("input", () => OpenCheckInInput) input: OpenCheckInInput, @Ctx() ctx: Context) {
    return mutate("checkIn", () => openCheckIn(ctx, input));
  }

  // PUBLIC: members have no staff token; the check-in token and the room code are the proof.
  // The claim is audited by the service, as the member's own action (actor PARTICIPANT).
  @Authorized("PUBLIC")
  @Policy({ audit: null })
  @Mutation(() => SelfCheckInPayload, {
    description: "A member checks in with their personal token and the room code. Every refusal is INVALID_CHECK_IN; a repeat changes nothing.",
  })
  selfCheckIn(@Arg("input", () => SelfCheckInInput) input: SelfCheckInInput, @Ctx() ctx: Context) {
    return mutate("result", () => selfCheckIn(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => ReconcileCheckInsPayload, {
    description: "Accepted claims become attendance (PRESENT, or LATE after the start) through recordAttendance's rules; rejected ones are kept.",
  })
  reconcileCheckIns(@Arg("input", () => ReconcileCheckInsInput) input: ReconcileCheckInsInput, @Ctx() ctx: Context) {
    return mutate("attendance", () => reconcileCheckIns(ctx, input));
  }
}

@Resolver(() => RosterEntry)
export class RosterEntryCheckInResolver {
  @FieldResolver(() => CheckIn, { nullable: true, description: "The member's self check-in for this session, null when none." })
  async checkIn(@Root() r: RosterEntry, @Ctx() ctx: Context) {
    const claims = await ctx.loaders.checkIns.bySessionId.load(r.sessionId);
    return claims.find((c) => c.participantId === r.participantId) ?? null;
  }

  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => String, {
    nullable: true,
    description: "The member's personal check-in link for this session (e.g. as a QR code); null when self check-in is off on this server.",
  })
  checkInLink(@Root() r: RosterEntry, @Ctx() ctx: Context) {
    return checkInLink(ctx, r.sessionId, r.participantId);
  }
}
