import type { ModuleDefinition } from "../common/module.js";
import { disclosureLoaders } from "./disclosure.loaders.js";
import { DisclosureResolver, ParticipantDisclosuresResolver } from "./disclosure.resolver.js";

export const disclosuresModule: ModuleDefinition<{ disclosures: ReturnType<typeof disclosureLoaders> }> = {
  name: "disclosures",
  resolvers: [DisclosureResolver, ParticipantDisclosuresResolver],
  loaders: { disclosures: (db) => disclosureLoaders(db) },
};
