import { inArray, sql } from "drizzle-orm";
import { connectionLoader, listLoader, tableByIdLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import type { Db } from "../db/client.js";
import { staff, staffMemberships, type MembershipRow, type StaffRow } from "../db/schema.js";

export function staffLoaders(db: Db) {
  return {
    byId: tableByIdLoader(db, staff),
    membershipsByStaffId: listLoader<MembershipRow>(
      (ids) =>
        db
          .select()
          .from(staffMemberships)
          .where(inArray(staffMemberships.staffId, [...ids])),
      (m) => m.staffId,
    ),
    /** Members of each center, by name. */
    byCenter: connectionLoader<null, StaffRow>((centerIds, _f, win) =>
      loadPages<StaffRow>(
        db,
        {
          select: staff,
          from: staff,
          joins: (q) => q.innerJoin(staffMemberships, sql`${staffMemberships.staffId} = ${staff.id}`),
          parent: staffMemberships.centerId,
          parentIds: centerIds,
          orderBy: sql`${staff.name}, ${staff.id}`,
        },
        win,
      ),
    ),
  };
}
