import type { ModuleDefinition } from "../common/module.js";
import { SchedulingResolver } from "./scheduling.resolver.js";

export const schedulingModule: ModuleDefinition = { name: "scheduling", resolvers: [SchedulingResolver] };
