import { nodeType, type ModuleDefinition } from "../common/module.js";
import { programLoaders } from "./program.loaders.js";
import { CenterProgramsResolver, ProgramResolver } from "./program.resolver.js";

export const programsModule: ModuleDefinition<{ programs: ReturnType<typeof programLoaders> }> = {
  name: "programs",
  resolvers: [ProgramResolver, CenterProgramsResolver],
  loaders: { programs: (db) => programLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "Program",
      load: (ctx, id) => ctx.loaders.programs.byId.load(id),
      visible: (ctx, row) => ctx.access.canSeeCenter(row.centerId),
    }),
  ],
};
