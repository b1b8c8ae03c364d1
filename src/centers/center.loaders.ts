import { sql } from "drizzle-orm";
import { connectionLoader, tableByIdLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import { inScope } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { centers, type CenterRow } from "../db/schema.js";

export function centerLoaders(db: Db) {
  return {
    byId: tableByIdLoader(db, centers),
    /** The centers a viewer can see: all (org admin) or those listed. */
    visible: connectionLoader<{ ids: "ALL" | string[] }, CenterRow>((parents, filter, win) =>
      loadPages<CenterRow>(
        db,
        {
          select: centers,
          from: centers,
          parent: sql`'root'`,
          parentIds: parents,
          where: inScope(centers.id, filter.ids),
          orderBy: sql`${centers.name}, ${centers.id}`,
        },
        win,
      ),
    ),
  };
}
