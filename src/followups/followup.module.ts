import { nodeType, type ModuleDefinition } from "../common/module.js";
import { followUpLoaders } from "./followup.loaders.js";
import { CenterFollowUpsResolver, FollowUpEventResolver, FollowUpResolver, StaffFollowUpsResolver } from "./followup.resolver.js";
import { followUpsForbidden, followUpVisibility } from "./followup.service.js";

export const followUpsModule: ModuleDefinition<{ followUps: ReturnType<typeof followUpLoaders> }> = {
  name: "followups",
  resolvers: [FollowUpResolver, FollowUpEventResolver, CenterFollowUpsResolver, StaffFollowUpsResolver],
  loaders: { followUps: (db) => followUpLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "FollowUp",
      load: (ctx, id) => ctx.loaders.followUps.byId.load(id),
      visible: (ctx, row) => {
        const visibility = followUpVisibility(ctx, row);
        if (visibility === "forbidden") throw followUpsForbidden();
        return visibility === "readable";
      },
    }),
  ],
};
