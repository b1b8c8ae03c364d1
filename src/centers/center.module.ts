import { nodeType, type ModuleDefinition } from "../common/module.js";
import { centerLoaders } from "./center.loaders.js";
import { CenterResolver } from "./center.resolver.js";

export const centersModule: ModuleDefinition<{ centers: ReturnType<typeof centerLoaders> }> = {
  name: "centers",
  resolvers: [CenterResolver],
  loaders: { centers: (db) => centerLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "Center",
      load: (ctx, id) => ctx.loaders.centers.byId.load(id),
      visible: (ctx, row) => ctx.access.canSeeCenter(row.id),
    }),
  ],
};
