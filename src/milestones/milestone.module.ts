import type { ModuleDefinition } from "../common/module.js";
import { milestoneLoaders } from "./milestone.loaders.js";
import { GroupMilestonesResolver, MilestoneResolver, ParticipantMilestonesResolver } from "./milestone.resolver.js";

export const milestonesModule: ModuleDefinition<{ milestones: ReturnType<typeof milestoneLoaders> }> = {
  name: "milestones",
  resolvers: [MilestoneResolver, ParticipantMilestonesResolver, GroupMilestonesResolver],
  loaders: { milestones: (db) => milestoneLoaders(db) },
};
