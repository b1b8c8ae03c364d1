import { nodeType, type ModuleDefinition } from "../common/module.js";
import { participantsForbidden, participantVisibility } from "../participants/participant.service.js";
import { recoveryCapitalLoaders } from "./recoverycapital.loaders.js";
import { ParticipantRecoveryCapitalResolver, RecoveryCapitalResolver } from "./recoverycapital.resolver.js";

export const recoveryCapitalModule: ModuleDefinition<{ recoveryCapital: ReturnType<typeof recoveryCapitalLoaders> }> = {
  name: "recoverycapital",
  resolvers: [RecoveryCapitalResolver, ParticipantRecoveryCapitalResolver],
  loaders: { recoveryCapital: (db) => recoveryCapitalLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "RecoveryCapitalAssessment",
      load: (ctx, id) => ctx.loaders.recoveryCapital.byId.load(id),
      // Seen exactly as its participant is.
      visible: async (ctx, row) => {
        const participant = await ctx.loaders.participants.byId.load(row.participantId);
        const visibility = participant ? await participantVisibility(ctx, participant) : "missing";
        if (visibility === "forbidden") throw participantsForbidden();
        return visibility === "readable";
      },
    }),
  ],
};
