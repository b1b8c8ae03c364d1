import type { ModuleDefinition } from "../common/module.js";
import { FeedResolver } from "./feed.resolver.js";

export const feedModule: ModuleDefinition = { name: "feed", resolvers: [FeedResolver] };
