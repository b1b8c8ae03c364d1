import { Args, ArgsType, Ctx, Field, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { ApiClient } from "../apiclients/apiclient.type.js";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { badInput, forbidden } from "../common/errors.js";
import { toGlobalId } from "../common/ids.js";
import { connectionType, ConnectionArgs, pageWindow } from "../common/relay.js";
import { DateTime } from "../common/scalars.js";
import type { ParticipantRow } from "../db/schema.js";
import type { ParticipantDisclosure } from "./disclosure.loaders.js";
import { Participant } from "../participants/participant.type.js";
import { threeYearsBefore } from "./disclosure.service.js";
import { Disclosure } from "./disclosure.type.js";

const DisclosureConnection = connectionType(Disclosure, "Disclosure");

@ArgsType()
class DisclosuresArgs extends ConnectionArgs {
  @Field(() => DateTime, {
    nullable: true,
    description: "Disclosures at or after this instant; default: three years before now (the accounting of 42 CFR 2.24).",
  })
  from?: Date | null;

  @Field(() => DateTime, { nullable: true, description: "Disclosures at or before this instant; default: now." })
  to?: Date | null;
}

@Resolver(() => Disclosure)
export class DisclosureResolver {
  @FieldResolver(() => ApiClient, { description: "Who received the records." })
  recipient(@Root() d: ParticipantDisclosure, @Ctx() ctx: Context) {
    return ctx.loaders.apiClients.byId.load(d.apiClientId);
  }

  @FieldResolver(() => [ID], { description: "The participant's attendance records handed out (global ids)." })
  attendanceIds(@Root() d: ParticipantDisclosure): string[] {
    return d.attendanceIds.map((id) => toGlobalId("Attendance", id));
  }
}

@Resolver(() => Participant)
export class ParticipantDisclosuresResolver {
  @FieldResolver(() => DisclosureConnection, {
    description:
      "The accounting of disclosures (42 CFR 2.24): what went to whom and when, newest first; the last three years unless `from`/`to` say otherwise. Clinicians and admins.",
  })
  disclosures(@Root() participant: ParticipantRow, @Args(() => DisclosuresArgs) args: DisclosuresArgs, @Ctx() ctx: Context) {
    if (!ctx.access.can("disclosure.read", { centerId: participant.centerId }))
      throw forbidden("Only clinicians and admins may read the accounting of disclosures");
    const now = clock.now();
    const to = args.to ?? now;
    const from = args.from ?? threeYearsBefore(to);
    if (from.getTime() > to.getTime()) throw badInput("`from` must be before `to`", "from");
    return ctx.loaders.disclosures.byParticipant.load(participant.id, { from: from.toISOString(), to: to.toISOString() }, pageWindow(args));
  }
}
