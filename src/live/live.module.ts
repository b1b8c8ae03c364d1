import type { ModuleDefinition } from "../common/module.js";
import { LiveRosterResolver } from "./live.resolver.js";

/** The live roster (docs/live.md): the `rosterChanged` subscription; its WebSocket endpoint is src/live/live.socket.ts. */
export const liveModule: ModuleDefinition = {
  name: "live",
  resolvers: [LiveRosterResolver],
};
