import { asc, inArray } from "drizzle-orm";
import { listLoader, tableByIdLoader } from "../common/loaders.js";
import type { Db } from "../db/client.js";
import { apiClientCenters, apiClients, apiKeys, type ApiKeyRow } from "../db/schema.js";

export function apiClientLoaders(db: Db) {
  return {
    byId: tableByIdLoader(db, apiClients),
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
