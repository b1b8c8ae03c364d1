// Per-request DataLoaders, one set per module. Built fresh for every request.
import type { Db } from "./db/client.js";
import { centerLoaders } from "./centers/center.loaders.js";
import { staffLoaders } from "./staff/staff.loaders.js";

export function createLoaders(db: Db) {
  return {
    centers: centerLoaders(db),
    staff: staffLoaders(db),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
