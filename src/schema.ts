// Builds the GraphQL schema from the modules' resolvers. Deny by default: every root field carries
// @Authorized, and the auth checker refuses anonymous callers before any resolver runs.
import type { GraphQLSchema } from "graphql";
import { buildSchema, type AuthChecker, type NonEmptyArray } from "type-graphql";
import type { Context } from "./common/context.js";
import { forbidden, unauthenticated } from "./common/errors.js";
import { NodeIdResolver } from "./common/node.js";
import { DateScalar, DateTime, LocalTime } from "./common/scalars.js";
import { CenterResolver } from "./centers/center.resolver.js";
import { CenterStaffResolver, StaffMembershipResolver, StaffResolver } from "./staff/staff.resolver.js";

export const resolvers = [
  NodeIdResolver,
  CenterResolver,
  StaffResolver,
  StaffMembershipResolver,
  CenterStaffResolver,
] as unknown as NonEmptyArray<Function>;

/** Roles on @Authorized: none = any signed-in staff member; "ORG_ADMIN" = organisation admins. */
export const authChecker: AuthChecker<Context> = ({ context }, roles) => {
  if (!context.viewer) throw unauthenticated();
  if (roles.includes("ORG_ADMIN") && !context.viewer.isOrgAdmin) throw forbidden("Only organisation admins may do this");
  return true;
};

let cached: Promise<GraphQLSchema> | undefined;

export function createSchema(): Promise<GraphQLSchema> {
  cached ??= buildSchema({
    resolvers,
    authChecker,
    authMode: "error",
    validate: false,
    scalarsMap: [
      { type: Date, scalar: DateTime },
    ],
    orphanedTypes: [],
  });
  void DateScalar;
  void LocalTime;
  return cached;
}
