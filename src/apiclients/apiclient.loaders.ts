import { asc, inArray } from "drizzle-orm";
import { byIdLoader, listLoader } from "../common/loaders.js";
import type { Db } from "../db/client.js";
import { apiClientCenters, apiClients, apiKeys, type ApiClientRow, type ApiKeyRow } from "../db/schema.js";

export function apiClientLoaders(db: Db) {
  return {
    byId: byIdLoader<ApiClientRow>((ids) =>
      db
        .select()
        .from(apiClients)
        .where(inArray(apiClients.id, [...ids])),
    ),
    centerIdsByClientId: listLoader<{ apiClientId: string; centerId: string }>(
      (ids) =>
        db
          .select({ apiClientId: apiClientCenters.apiClientId, centerId: apiClientCenters.centerId })
          .from(apiClientCenters)
          .where(inArray(apiClientCenters.apiClientId, [...ids])),
      (r) => r.apiClientId,
    ),
    keysByClientId: listLoader<ApiKeyRow>(
      (ids) =>
        db
          .select()
          .from(apiKeys)
          .where(inArray(apiKeys.apiClientId, [...ids]))
          .orderBy(asc(apiKeys.createdAt)),
      (k) => k.apiClientId,
    ),
  };
}
