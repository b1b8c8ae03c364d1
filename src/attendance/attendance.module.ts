import { nodeType, type ModuleDefinition } from "../common/module.js";
import { groupIdVisible } from "../groups/group.service.js";
import { attendanceLoaders } from "./attendance.loaders.js";
import {
  AttendanceChangeResolver,
  AttendanceResolver,
  ParticipantAttendanceResolver,
  RosterEntryResolver,
  SessionAttendanceResolver,
} from "./attendance.resolver.js";
import { requireRecordsOf } from "./attendance.service.js";

export const attendanceModule: ModuleDefinition<{ attendance: ReturnType<typeof attendanceLoaders> }> = {
  name: "attendance",
  resolvers: [AttendanceResolver, AttendanceChangeResolver, RosterEntryResolver, SessionAttendanceResolver, ParticipantAttendanceResolver],
  loaders: { attendance: (db) => attendanceLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "Attendance",
      load: (ctx, id) => ctx.loaders.attendance.byId.load(id),
      // Hidden with its session's group; a record of a visible group the role may not read: FORBIDDEN.
      visible: async (ctx, row) => {
        const session = await ctx.loaders.sessions.byId.load(row.sessionId);
        if (!session || !(await groupIdVisible(ctx, session.groupId))) return false;
        requireRecordsOf(ctx, { id: session.groupId, centerId: row.centerId });
        return true;
      },
    }),
  ],
};
