import { nodeType, type ModuleDefinition } from "../common/module.js";
import { apiClientLoaders } from "./apiclient.loaders.js";
import { ApiClientResolver } from "./apiclient.resolver.js";
import { canSeeApiClient } from "./apiclient.service.js";

export const apiClientsModule: ModuleDefinition<{ apiClients: ReturnType<typeof apiClientLoaders> }> = {
  name: "apiclients",
  resolvers: [ApiClientResolver],
  loaders: { apiClients: (db) => apiClientLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "ApiClient",
      load: (ctx, id) => ctx.loaders.apiClients.byId.load(id),
      // Staff of one of its centers; never another API client.
      visible: async (ctx, row) => ctx.access.apiClient === null && (await canSeeApiClient(ctx, row)),
    }),
  ],
};
