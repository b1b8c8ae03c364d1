import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import { ApiClient } from "../apiclients/apiclient.type.js";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { mutate } from "../common/payload.js";
import { Policy } from "../common/policy.js";
import type { ConsentRow, ParticipantRow } from "../db/schema.js";
import { readableParticipant } from "../participants/participant.service.js";
import { Participant } from "../participants/participant.type.js";
import { linkedStaff } from "../staff/staff.service.js";
import { Staff } from "../staff/staff.type.js";
import { RecordConsentInput, RecordConsentPayload, RevokeConsentInput, RevokeConsentPayload } from "./consent.inputs.js";
import { consentsOf, consentStatus, recordConsent, revokeConsent } from "./consent.service.js";
import { Consent, ConsentStatus } from "./consent.type.js";

@Resolver(() => Consent)
export class ConsentResolver {
  @FieldResolver(() => ConsentStatus)
  async status(@Root() c: ConsentRow, @Ctx() ctx: Context): Promise<ConsentStatus> {
    const center = await ctx.loaders.centers.byId.load(c.centerId);
    return consentStatus(c, center!.timezone, clock.now());
  }

  @FieldResolver(() => ApiClient, { description: "The recipient the records may go to." })
  recipient(@Root() c: ConsentRow, @Ctx() ctx: Context) {
    return ctx.loaders.apiClients.byId.load(c.apiClientId);
  }

  @FieldResolver(() => Participant)
  participant(@Root() c: ConsentRow, @Ctx() ctx: Context) {
    return readableParticipant(ctx, c.participantId);
  }

  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => Staff, { nullable: true })
  recordedBy(@Root() c: ConsentRow, @Ctx() ctx: Context) {
    return linkedStaff(ctx, c.recordedByStaffId);
  }

  @Authorized()
  @Policy({ audit: "CREATE" })
  @Mutation(() => RecordConsentPayload, {
    description: "42 CFR 2.31 consent to disclose a participant's records to one API client (clinicians and admins of the participant's center).",
  })
  recordConsent(@Arg("input", () => RecordConsentInput) input: RecordConsentInput, @Ctx() ctx: Context) {
    return mutate("consent", () => recordConsent(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => RevokeConsentPayload, { description: "Takes effect at once: the recipient's next read no longer has the participant's records." })
  revokeConsent(@Arg("input", () => RevokeConsentInput) input: RevokeConsentInput, @Ctx() ctx: Context) {
    return mutate("consent", () => revokeConsent(ctx, input));
  }
}

@Resolver(() => Participant)
export class ParticipantConsentsResolver {
  @FieldResolver(() => [Consent], { description: "Every consent to disclose, newest first, ended ones included (clinicians and admins)." })
  consents(@Root() participant: ParticipantRow, @Ctx() ctx: Context) {
    return consentsOf(ctx, participant);
  }
}
