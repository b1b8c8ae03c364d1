import { nodeType, type ModuleDefinition } from "../common/module.js";
import { groupIdVisible } from "../groups/group.service.js";
import { enrollmentLoaders } from "./enrollment.loaders.js";
import { EnrollmentEventResolver, EnrollmentResolver, GroupEnrollmentsResolver, ParticipantEnrollmentsResolver } from "./enrollment.resolver.js";

export const enrollmentsModule: ModuleDefinition<{ enrollments: ReturnType<typeof enrollmentLoaders> }> = {
  name: "enrollments",
  resolvers: [EnrollmentResolver, EnrollmentEventResolver, GroupEnrollmentsResolver, ParticipantEnrollmentsResolver],
  loaders: { enrollments: (db) => enrollmentLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "Enrollment",
      load: (ctx, id) => ctx.loaders.enrollments.byId.load(id),
      visible: (ctx, row) => groupIdVisible(ctx, row.groupId),
    }),
  ],
};
