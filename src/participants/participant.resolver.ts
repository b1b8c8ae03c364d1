import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { mutate } from "../common/payload.js";
import { connectionType, ConnectionArgs, pageWindow } from "../common/relay.js";
import { Center } from "../centers/center.type.js";
import type { CenterRow, ParticipantRow } from "../db/schema.js";
import { CreateParticipantInput, CreateParticipantPayload, UpdateParticipantInput, UpdateParticipantPayload } from "./participant.inputs.js";
import { createParticipant, updateParticipant } from "./participant.service.js";
import { Participant, ParticipantStatus, RiskLevel } from "./participant.type.js";
import { Policy } from "../common/policy.js";

const ParticipantConnection = connectionType(Participant, "Participant");

@ArgsType()
class ParticipantsArgs extends ConnectionArgs {
  @Field(() => String, { nullable: true, description: "Matches names, preferred name or external id." })
  search?: string | null;

  @Field(() => ParticipantStatus, { nullable: true })
  status?: ParticipantStatus | null;

  @Field(() => RiskLevel, { nullable: true, description: "Only participants at this risk level now (judged on the groups the viewer sees)." })
  riskLevel?: RiskLevel | null;
}

@Resolver(() => Participant)
export class ParticipantResolver {
  @FieldResolver(() => Center)
  center(@Root() participant: ParticipantRow, @Ctx() ctx: Context) {
    return ctx.loaders.centers.byId.load(participant.centerId);
  }

  @Authorized()
  @Policy({ audit: "CREATE" })
  @Mutation(() => CreateParticipantPayload, { description: "Clinicians and center admins." })
  createParticipant(@Arg("input", () => CreateParticipantInput) input: CreateParticipantInput, @Ctx() ctx: Context) {
    return mutate("participant", () => createParticipant(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => UpdateParticipantPayload, { description: "Clinicians and center admins." })
  updateParticipant(@Arg("input", () => UpdateParticipantInput) input: UpdateParticipantInput, @Ctx() ctx: Context) {
    return mutate("participant", () => updateParticipant(ctx, input));
  }
}

@Resolver(() => Center)
export class CenterParticipantsResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => ParticipantConnection, {
    description: "Clinical staff see all; facilitators see the members of their groups; viewers are refused.",
  })
  participants(@Root() center: CenterRow, @Args(() => ParticipantsArgs) args: ParticipantsArgs, @Ctx() ctx: Context) {
    const win = pageWindow(args);
    // Who reads it is declared (CLINICAL); which members a facilitator sees is the data's rule.
    const groupScope = ctx.access.groupScope(center.id);
    const search = args.search?.trim().slice(0, 100) || null;
    return ctx.loaders.participants.byCenter.load(center.id, { search, status: args.status ?? null, groupScope, riskLevel: args.riskLevel ?? null }, win);
  }
}
