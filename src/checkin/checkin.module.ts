import type { ModuleDefinition } from "../common/module.js";
import { checkInLoaders } from "./checkin.loaders.js";
import { CheckInWindowResolver, RosterEntryCheckInResolver } from "./checkin.resolver.js";

export const checkInModule: ModuleDefinition<{ checkIns: ReturnType<typeof checkInLoaders> }> = {
  name: "checkin",
  resolvers: [CheckInWindowResolver, RosterEntryCheckInResolver],
  loaders: { checkIns: (db) => checkInLoaders(db) },
};
