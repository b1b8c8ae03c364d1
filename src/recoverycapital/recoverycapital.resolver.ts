import { Arg, Args, Authorized, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { mutate } from "../common/payload.js";
import { ConnectionArgs, connectionType, pageWindow } from "../common/relay.js";
import type { ParticipantRow } from "../db/schema.js";
import { canReadParticipant, participantsForbidden } from "../participants/participant.service.js";
import { Participant } from "../participants/participant.type.js";
import { RecordRecoveryCapitalInput, RecordRecoveryCapitalPayload } from "./recoverycapital.inputs.js";
import { recordRecoveryCapital } from "./recoverycapital.service.js";
import { RecoveryCapitalAssessment } from "./recoverycapital.type.js";

const RecoveryCapitalConnection = connectionType(RecoveryCapitalAssessment, "RecoveryCapitalAssessment");

async function requireReadable(ctx: Context, participant: ParticipantRow): Promise<void> {
  if (!(await canReadParticipant(ctx, participant))) throw participantsForbidden();
}

@Resolver(() => RecoveryCapitalAssessment)
export class RecoveryCapitalResolver {
  @Authorized()
  @Policy({ audit: "CREATE" })
  @Mutation(() => RecordRecoveryCapitalPayload, { description: "Records a recovery capital assessment. Clinicians and center admins." })
  recordRecoveryCapital(@Arg("input", () => RecordRecoveryCapitalInput) input: RecordRecoveryCapitalInput, @Ctx() ctx: Context) {
    return mutate("assessment", () => recordRecoveryCapital(ctx, input));
  }
}

@Resolver(() => Participant)
export class ParticipantRecoveryCapitalResolver {
  @FieldResolver(() => RecoveryCapitalConnection, { description: "Recovery capital assessments, newest first." })
  async recoveryCapital(@Root() participant: ParticipantRow, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    const win = pageWindow(args);
    await requireReadable(ctx, participant);
    return ctx.loaders.recoveryCapital.byParticipant.load(participant.id, null, win);
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description: "The latest assessment's total minus the first one's (positive: more recovery capital); null with fewer than two.",
  })
  async recoveryCapitalChange(@Root() participant: ParticipantRow, @Ctx() ctx: Context) {
    await requireReadable(ctx, participant);
    return ctx.loaders.recoveryCapital.changeByParticipantId.load(participant.id);
  }
}
