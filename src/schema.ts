// Builds the GraphQL schema from the modules' resolvers (src/modules.ts). Deny by default: every root field carries
// @Authorized, and the auth checker refuses anonymous callers before any resolver runs.
import type { GraphQLSchema } from "graphql";
import { buildSchema, type AuthChecker, type ClassType, type NonEmptyArray } from "type-graphql";
import type { Context } from "./common/context.js";
import { wrapFields } from "./common/field-wrapper.js";
import { forbidden, unauthenticated } from "./common/errors.js";
import { NodeIdResolver } from "./common/node.js";
import { DateTime } from "./common/scalars.js";
import { composeWriteSteps } from "./steps.js";
import { auditRecorder } from "./audit/audit.wrap.js";
import { modules } from "./modules.js";
import { NodeResolver } from "./node/node.resolver.js";

// The Node interface's id, `node`/`nodes`, then every module's resolvers (src/modules.ts).
const resolvers: NonEmptyArray<ClassType> = [NodeIdResolver, NodeResolver, ...modules.flatMap((m) => m.resolvers)];

/**
 * Roles on @Authorized: none = any signed-in staff member; "ORG_ADMIN" = organisation admins;
 * "API_CLIENT" = API clients too (no other root field answers them: every mutation is FORBIDDEN).
 */
const authChecker: AuthChecker<Context> = ({ context }, roles) => {
  // @Authorized("PUBLIC"): a root field that needs no credentials, because its input carries its
  // own proof (selfCheckIn: the member's signed token and the room code). Declared, never implied.
  if (roles.includes("PUBLIC")) return true;
  if (!context.viewer) throw unauthenticated();
  if (context.viewer.kind === "apiClient") {
    if (!roles.includes("API_CLIENT")) throw forbidden("API clients may not do this");
    return true;
  }
  if (roles.includes("ORG_ADMIN") && !context.viewer.isOrgAdmin) throw forbidden("Only organisation admins may do this");
  return true;
};

const noPubSub = {
  publish(): void {
    throw new Error("no PubSub: subscriptions bring their own source (src/live)");
  },
  subscribe(): AsyncIterable<never> {
    throw new Error("no PubSub: subscriptions bring their own source (src/live)");
  },
};

let cached: Promise<GraphQLSchema> | undefined;

export function createSchema(): Promise<GraphQLSchema> {
  composeWriteSteps();
  cached ??= buildSchema({
    resolvers,
    authChecker,
    authMode: "error",
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTime }],
    // type-graphql wants a PubSub once there is a subscription; ours bring their own source
    // (`subscribe:`, src/live: PostgreSQL LISTEN/NOTIFY across instances), so none is ever used.
    pubSub: noPubSub,
    // One wrapper per field, from its declaration (src/common/field-wrapper.ts): cancellation,
    // arguments, the API-client gate, the audience, and the audit log's record (src/audit/).
  }).then((schema) => wrapFields(schema, { record: auditRecorder(schema) }));
  return cached;
}
