import { nodeType, type ModuleDefinition } from "../common/module.js";
import { ConsentResolver, ParticipantConsentsResolver } from "./consent.resolver.js";
import { visibleConsent } from "./consent.service.js";

export const consentsModule: ModuleDefinition = {
  name: "consents",
  resolvers: [ConsentResolver, ParticipantConsentsResolver],
  nodeTypes: [
    nodeType({
      typeName: "Consent",
      // Loaded only when its participant is readable (src/consents/consent.service.ts).
      load: (ctx, id) => visibleConsent(ctx, id),
      visible: () => true,
    }),
  ],
};
