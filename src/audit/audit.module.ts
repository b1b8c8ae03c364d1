import type { ModuleDefinition } from "../common/module.js";
import { AuditResolver } from "./audit.resolver.js";

export const auditModule: ModuleDefinition = { name: "audit", resolvers: [AuditResolver] };
