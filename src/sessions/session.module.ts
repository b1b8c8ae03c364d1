import { nodeType, type ModuleDefinition } from "../common/module.js";
import { groupIdVisible } from "../groups/group.service.js";
import { sessionLoaders } from "./session.loaders.js";
import { CenterSessionsResolver, GroupSessionsResolver, SessionResolver } from "./session.resolver.js";

export const sessionsModule: ModuleDefinition<{ sessions: ReturnType<typeof sessionLoaders> }> = {
  name: "sessions",
  resolvers: [SessionResolver, GroupSessionsResolver, CenterSessionsResolver],
  loaders: { sessions: (db) => sessionLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "Session",
      load: (ctx, id) => ctx.loaders.sessions.byId.load(id),
      visible: (ctx, row) => groupIdVisible(ctx, row.groupId),
    }),
  ],
};
