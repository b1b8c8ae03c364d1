import { sql } from "drizzle-orm";
import { connectionLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import type { Db } from "../db/client.js";
import { disclosures, type DisclosureRow } from "../db/schema.js";
import { disclosedBetween } from "./disclosure.service.js";

export interface DisclosureFilter {
  from: string;
  to: string;
}

export function disclosureLoaders(db: Db) {
  return {
    /** A participant's disclosures in [from, to), newest first. */
    byParticipant: connectionLoader<DisclosureFilter, DisclosureRow>((participantIds, filter, win) =>
      loadPages<DisclosureRow>(
        db,
        {
          select: disclosures,
          from: disclosures,
          parent: disclosures.participantId,
          parentIds: participantIds,
          where: disclosedBetween(new Date(filter.from), new Date(filter.to)),
          orderBy: sql`${disclosures.disclosedAt} desc, ${disclosures.id}`,
        },
        win,
      ),
    ),
  };
}
