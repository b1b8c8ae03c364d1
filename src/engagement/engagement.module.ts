import type { ModuleDefinition } from "../common/module.js";
import { engagementLoaders } from "./engagement.loaders.js";
import {
  CenterEngagementResolver,
  EngagementSummaryResolver,
  GroupEngagementResolver,
  ParticipantEngagementResolver,
  ProgramEngagementResolver,
} from "./engagement.resolver.js";

export const engagementModule: ModuleDefinition<{ engagement: ReturnType<typeof engagementLoaders> }> = {
  name: "engagement",
  resolvers: [ParticipantEngagementResolver, EngagementSummaryResolver, GroupEngagementResolver, ProgramEngagementResolver, CenterEngagementResolver],
  loaders: { engagement: (db) => engagementLoaders(db) },
};
