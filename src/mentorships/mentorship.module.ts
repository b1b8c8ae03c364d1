import { nodeType, type ModuleDefinition } from "../common/module.js";
import { participantsForbidden } from "../participants/participant.service.js";
import { mentorshipLoaders } from "./mentorship.loaders.js";
import { GroupPeerMentorsResolver, MentorshipResolver, ParticipantMentorshipsResolver } from "./mentorship.resolver.js";
import { mentorshipVisibility } from "./mentorship.service.js";

export const mentorshipsModule: ModuleDefinition<{ mentorships: ReturnType<typeof mentorshipLoaders> }> = {
  name: "mentorships",
  resolvers: [MentorshipResolver, ParticipantMentorshipsResolver, GroupPeerMentorsResolver],
  loaders: { mentorships: (db) => mentorshipLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "Mentorship",
      load: (ctx, id) => ctx.loaders.mentorships.byId.load(id),
      visible: async (ctx, row) => {
        const visibility = await mentorshipVisibility(ctx, row);
        if (visibility === "forbidden") throw participantsForbidden();
        return visibility === "readable";
      },
    }),
  ],
};
