// One typed context per request: who is asking (viewer), the access policy deciding for them,
// the database, and the per-request DataLoaders.
import type { Access } from "../auth/access.js";
import type { CheckInConfig } from "../config.js";
import type { RequestLifetime } from "./abort.js";
import type { Viewer } from "../auth/viewer.js";
import type { Db } from "../db/client.js";
import type { DbScope } from "../db/scope.js";
import type { Loaders } from "../loaders.js";

export interface Context {
  requestId: string;
  viewer: Viewer | null;
  access: Access;
  db: Db;
  /** The caller's network address (recorded with an anonymous caller's refusals); absent outside HTTP requests. */
  clientAddress?: string;
  loaders: Loaders;
  /**
   * The request's transaction on its reserved connection (src/db/scope.ts): the audit plugin
   * commits it right after the request's audit entries, and makes a mutation's statements commit
   * one by one; a compiled read (src/compiled) sends its COMMIT right behind its one statement.
   * Absent outside HTTP requests.
   */
  scope?: Pick<DbScope, "commit" | "commitAfter" | "commitEachStatement" | "holdNextTransaction" | "heldWrite">;
  /** Cancellation: client gone or time up (src/common/abort.ts); absent outside HTTP requests. */
  lifetime?: RequestLifetime;
  /**
   * What self check-in needs of the request (src/checkin): the instance's settings, the address
   * links are built on (PUBLIC_URL or the server's own) and the caller's address (its rate limit).
   * Absent outside HTTP requests: self check-in is then off.
   */
  checkIn?: { config: CheckInConfig; publicUrl: string; clientAddress: string };
}
