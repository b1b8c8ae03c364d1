import { nodeType, type ModuleDefinition } from "../common/module.js";
import { staffLoaders } from "./staff.loaders.js";
import { CenterStaffResolver, StaffMembershipResolver, StaffResolver } from "./staff.resolver.js";
import { canSeeStaff } from "./staff.service.js";

export const staffModule: ModuleDefinition<{ staff: ReturnType<typeof staffLoaders> }> = {
  name: "staff",
  resolvers: [StaffResolver, StaffMembershipResolver, CenterStaffResolver],
  loaders: { staff: (db) => staffLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "Staff",
      load: (ctx, id) => ctx.loaders.staff.byId.load(id),
      visible: (ctx, row) => canSeeStaff(ctx, row.id),
    }),
  ],
};
