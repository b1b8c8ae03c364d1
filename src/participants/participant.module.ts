import { nodeType, type ModuleDefinition } from "../common/module.js";
import { participantLoaders } from "./participant.loaders.js";
import { CenterParticipantsResolver, ParticipantResolver } from "./participant.resolver.js";
import { participantsForbidden, participantVisibility } from "./participant.service.js";

export const participantsModule: ModuleDefinition<{ participants: ReturnType<typeof participantLoaders> }> = {
  name: "participants",
  resolvers: [ParticipantResolver, CenterParticipantsResolver],
  loaders: { participants: (db) => participantLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "Participant",
      load: (ctx, id) => ctx.loaders.participants.byId.load(id),
      visible: async (ctx, row) => {
        const visibility = await participantVisibility(ctx, row);
        if (visibility === "forbidden") throw participantsForbidden();
        return visibility === "readable";
      },
    }),
  ],
};
