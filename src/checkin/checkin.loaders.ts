import { inArray } from "drizzle-orm";
import { listLoader } from "../common/loaders.js";
import type { Db } from "../db/client.js";
import { checkIns } from "../db/schema.js";

export function checkInLoaders(db: Db) {
  return {
    /** Every claim of each session: one statement for a whole page of rosters. */
    bySessionId: listLoader(
      (ids) =>
        db
          .select()
          .from(checkIns)
          .where(inArray(checkIns.sessionId, [...ids])),
      (r) => r.sessionId,
    ),
  };
}
