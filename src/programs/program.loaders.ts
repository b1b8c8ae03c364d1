import { and, eq, sql } from "drizzle-orm";
import { connectionLoader, tableByIdLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import type { Db } from "../db/client.js";
import { programs, type ProgramRow } from "../db/schema.js";

export function programLoaders(db: Db) {
  return {
    byId: tableByIdLoader(db, programs),
    byCenter: connectionLoader<{ status: string | null }, ProgramRow>((centerIds, filter, win) =>
      loadPages<ProgramRow>(
        db,
        {
          select: programs,
          from: programs,
          parent: programs.centerId,
          parentIds: centerIds,
          where: filter.status ? and(eq(programs.status, filter.status)) : undefined,
          orderBy: sql`${programs.name}, ${programs.id}`,
        },
        win,
      ),
    ),
  };
}
