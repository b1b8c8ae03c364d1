// One typed context per request: who is asking (viewer), the access policy deciding for them,
// the database, and the per-request DataLoaders.
import type { Access } from "../auth/access.js";
import type { RequestLifetime } from "./abort.js";
import type { Viewer } from "../auth/viewer.js";
import type { Db } from "../db/client.js";
import type { Loaders } from "../loaders.js";

export interface Context {
  requestId: string;
  viewer: Viewer | null;
  access: Access;
  db: Db;
  /** The caller's network address (recorded with an anonymous caller's refusals); absent outside HTTP requests. */
  clientAddress?: string;
  loaders: Loaders;
  /** Cancellation: client gone or time up (src/common/abort.ts); absent outside HTTP requests. */
  lifetime?: RequestLifetime;
}
