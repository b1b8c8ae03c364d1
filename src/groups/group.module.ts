import { nodeType, type ModuleDefinition } from "../common/module.js";
import { groupLoaders } from "./group.loaders.js";
import { CenterGroupsResolver, GroupResolver, ProgramGroupsResolver } from "./group.resolver.js";
import { groupIdVisible } from "./group.service.js";

export const groupsModule: ModuleDefinition<{ groups: ReturnType<typeof groupLoaders> }> = {
  name: "groups",
  resolvers: [GroupResolver, CenterGroupsResolver, ProgramGroupsResolver],
  // Facilitators' staff rows come with their links: primed in the request's staff.byId.
  loaders: { groups: (db, loaders) => groupLoaders(db, loaders.staff.byId) },
  nodeTypes: [
    nodeType({
      typeName: "Group",
      load: (ctx, id) => ctx.loaders.groups.byId.load(id),
      visible: (ctx, row) => groupIdVisible(ctx, row.id),
    }),
  ],
};
