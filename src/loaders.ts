// Per-request DataLoaders: each module's (src/modules.ts), under the key its definition gives them;
// their type is read from the list. Built fresh for every request, in the order of the list.
import type { LoadersOf } from "./common/module.js";
import type { Db } from "./db/client.js";
import { modules } from "./modules.js";

export type Loaders = LoadersOf<typeof modules>;

type Factory = (db: Db, loaders: Loaders) => object;

export function createLoaders(db: Db): Loaders {
  const loaders: Record<string, object> = {};
  for (const module of modules) {
    for (const [key, create] of Object.entries<Factory>(module.loaders ?? {})) loaders[key] = create(db, loaders as Loaders);
  }
  return loaders as Loaders;
}
