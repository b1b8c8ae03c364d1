// API keys: `rg_live_` + 32 random bytes (256 bits, base64url). A key is shown once, when made;
// only its SHA-256 is stored, with a visible prefix to tell keys apart. A presented key is looked
// up by its hash and the hashes compared again in constant time. No cache: revoking a client or a
// key takes effect on the very next request.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Db, DbOrTx } from "../db/client.js";
import { apiClientCenters, apiClients, apiKeys } from "../db/schema.js";
import { API_SCOPES, type ApiClientViewer, type ApiScope } from "./viewer.js";

const API_KEY_PREFIX = "rg_live_";
/** Characters of the secret kept in the visible prefix (≈ 48 bits: tells keys apart, opens nothing). */
const VISIBLE_CHARS = 8;
/** lastUsedAt is written at most this often per key, so that reading does not cost a write each time. */
const LAST_USED_RESOLUTION_MS = 60_000;
const KEY_SHAPE = /^rg_live_[A-Za-z0-9_-]{43}$/;

export function isApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

function hashKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** A new key for a client: the key itself (to show once) and the row written (hash and prefix). */
export async function issueApiKey(tx: DbOrTx, apiClientId: string): Promise<{ key: string; id: string; prefix: string }> {
  const key = API_KEY_PREFIX + randomBytes(32).toString("base64url");
  const prefix = key.slice(0, API_KEY_PREFIX.length + VISIBLE_CHARS);
  const [row] = await tx
    .insert(apiKeys)
    .values({ apiClientId, prefix, keyHash: hashKey(key) })
    .returning({ id: apiKeys.id });
  return { key, id: row.id, prefix };
}

/**
 * The API client behind a key, or null: unknown key, key past its end (rotated away), client
 * revoked. Updates the key's lastUsedAt when it is older than a minute.
 */
export async function loadApiClientViewer(db: Db, key: string): Promise<ApiClientViewer | null> {
  if (!KEY_SHAPE.test(key)) return null;
  const hash = hashKey(key);
  const now = clock.now();
  const rows = await db
    .select({
      keyId: apiKeys.id,
      keyHash: apiKeys.keyHash,
      expiresAt: apiKeys.expiresAt,
      lastUsedAt: apiKeys.lastUsedAt,
      apiClientId: apiClients.id,
      name: apiClients.name,
      scopes: apiClients.scopes,
      centerIds: sql<string[] | string | null>`(select json_agg(c.center_id) from ${apiClientCenters} c where c.api_client_id = ${apiClients.id})`,
    })
    .from(apiKeys)
    .innerJoin(apiClients, eq(apiClients.id, apiKeys.apiClientId))
    .where(and(eq(apiKeys.keyHash, hash), isNull(apiClients.revokedAt)))
    .limit(1);
  const row = rows[0];
  if (!row) return null;
  // The index found the row by hash; compare again in constant time, so that the answer does not
  // depend on how much of a guessed hash matched.
  if (!timingSafeEqual(Buffer.from(row.keyHash, "hex"), Buffer.from(hash, "hex"))) return null;
  if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.keyId));
  }
  const centerIds = typeof row.centerIds === "string" ? (JSON.parse(row.centerIds) as string[]) : (row.centerIds ?? []);
  return {
    kind: "apiClient",
    apiClientId: row.apiClientId,
    apiKeyId: row.keyId,
    name: row.name,
    centerIds: new Set(centerIds),
    scopes: new Set(row.scopes.filter((s): s is ApiScope => (API_SCOPES as readonly string[]).includes(s))),
  };
}
