// The consent rule as SQL, for every read that hands a participant's records to an API client
// (the feed here; CSV and FHIR exports too): a consent naming the client, not revoked, covering
// attendance, and not past the end of its `expiresOn` day in the participant's center's zone, at
// the moment of the read (`now`, from src/common/clock.ts).
import { sql, type SQL } from "drizzle-orm";
import { centers, consents } from "../db/schema.js";

/** "Today" at a center, in its time zone, as SQL (`tz` a column or expression holding the zone). */
export const todayIn = (tz: SQL, now: Date): SQL => sql`(${now.toISOString()}::timestamptz at time zone ${tz})::date`;

/** The kinds of information a consent may cover (ConsentInformation). */
export type ConsentKind = "ATTENDANCE" | "GROUP_NOTES" | "SERVICES";

/** The conditions of an active consent row `c` (joined to its center `ctr`) covering `kind` at `now`. */
const activeConsentRow = (now: Date, kind: ConsentKind = "ATTENDANCE"): SQL =>
  sql`c.revoked_at is null and ${kind}::text = any(c.information) and (c.expires_on is null or c.expires_on >= ${todayIn(sql`ctr.timezone`, now)})`;

/**
 * @public
 * A SQL condition (for exports too): the participant (`participantId`, a column or expression of the outer query)
 * has an active consent naming the API client at `now`.
 */
export function activeConsentCondition(participantId: SQL, apiClientId: string, now: Date, kind: ConsentKind = "ATTENDANCE"): SQL {
  return sql`exists (select 1 from ${consents} c join ${centers} ctr on ctr.id = c.center_id
    where c.participant_id = ${participantId} and c.api_client_id = ${apiClientId} and ${activeConsentRow(now, kind)})`;
}

/**
 * A SQL query (for a CTE) of the participants among `participantIds` (a subquery of the outer
 * statement) with an active consent naming the API client at `now`: one semi-join per statement.
 */
export function consentedAmong(participantIds: SQL, apiClientId: string, now: Date): SQL {
  return sql`select distinct c.participant_id from ${consents} c join ${centers} ctr on ctr.id = c.center_id
    where c.api_client_id = ${apiClientId} and c.participant_id in ${participantIds} and ${activeConsentRow(now)}`;
}
