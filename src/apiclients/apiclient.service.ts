// API clients: center admins create, rotate and revoke the clients of their center; a client of
// several centers is for organisation admins. Keys: src/auth/apikeys.ts.
import { and, eq, gt, isNull, or } from "drizzle-orm";
import { issueApiKey } from "../auth/apikeys.js";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { forbidden, Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { decodeId } from "../common/ids.js";
import { idOf, notFound, text } from "../common/validate.js";
import { apiClientCenters, apiClients, apiKeys, type ApiClientRow } from "../db/schema.js";
import type { CreateApiClientInput, RevokeApiClientInput, RotateApiClientKeyInput } from "./apiclient.inputs.js";

const DEFAULT_OVERLAP_MINUTES = 24 * 60;
const MAX_OVERLAP_MINUTES = 7 * 24 * 60;

/** Whether staff see this client: it reads a center they see (its name then reads like the center's). */
export async function canSeeApiClient(ctx: Context, client: ApiClientRow): Promise<boolean> {
  const centers = await ctx.loaders.apiClients.centerIdsByClientId.load(client.id);
  return centers.some((c) => ctx.access.canSeeCenter(c.centerId));
}

/** A client the viewer may manage (admin of every center it reads), else NOT_FOUND or FORBIDDEN. */
async function findManageableClient(ctx: Context, globalId: string, field: string): Promise<ApiClientRow> {
  ctx.access.requireViewer();
  const id = idOf("ApiClient", globalId, field);
  const client = await ctx.loaders.apiClients.byId.load(id);
  if (!client || !(await canSeeApiClient(ctx, client))) throw notFound("ApiClient", field);
  const centers = await ctx.loaders.apiClients.centerIdsByClientId.load(client.id);
  for (const { centerId } of centers) ctx.access.require("apiclient.manage", { centerId }, "Only the admins of every center of this client may manage it");
  return client;
}

export async function createApiClient(ctx: Context, input: CreateApiClientInput): Promise<{ apiClient: ApiClientRow; apiKey: string }> {
  const viewer = ctx.access.requireViewer();
  const p = new Problems();
  const name = text(p, "name", input.name, { required: true });
  const scopes = [...new Set(input.scopes)];
  if (scopes.length === 0) p.add("scopes", UserErrorCode.REQUIRED, "Give the client at least one scope");
  if (input.centerIds.length === 0) p.add("centerIds", UserErrorCode.REQUIRED, "Give the client at least one center");
  if (input.centerIds.length > 100) p.add("centerIds", UserErrorCode.INVALID, "At most 100 centers");
  const centerIds: string[] = [];
  for (const [i, globalId] of input.centerIds.slice(0, 100).entries()) {
    const id = decodeId(globalId, "Center");
    const center = id ? await ctx.loaders.centers.byId.load(id) : null;
    if (!center || !ctx.access.canSeeCenter(center.id)) p.add(`centerIds.${i}`, UserErrorCode.NOT_FOUND, "No center with that id");
    else if (!centerIds.includes(center.id)) centerIds.push(center.id);
  }
  p.throwIfAny();
  if (centerIds.length > 1 && !viewer.isOrgAdmin) throw forbidden("A client of several centers is for organisation admins");
  for (const centerId of centerIds) ctx.access.require("apiclient.manage", { centerId }, "Only center admins may create API clients");
  return ctx.db.transaction(async (tx) => {
    const [apiClient] = await tx.insert(apiClients).values({ name: name!, scopes, createdByStaffId: viewer.staffId }).returning();
    await tx.insert(apiClientCenters).values(centerIds.map((centerId) => ({ centerId, apiClientId: apiClient.id })));
    const { key } = await issueApiKey(tx, apiClient.id);
    return { apiClient, apiKey: key };
  });
}

/** Revokes the client: every key of it is refused from the next request on. Revoking again changes nothing. */
export async function revokeApiClient(ctx: Context, input: RevokeApiClientInput): Promise<ApiClientRow> {
  const client = await findManageableClient(ctx, input.apiClientId, "apiClientId");
  if (client.revokedAt) return client;
  const [row] = await ctx.db
    .update(apiClients)
    .set({ revokedAt: clock.now(), revokedByStaffId: ctx.access.staffId })
    .where(and(eq(apiClients.id, client.id), isNull(apiClients.revokedAt)))
    .returning();
  return row ?? client;
}

/** A new key; the keys in use keep working for `overlapMinutes` (so the integrator can switch without downtime). */
export async function rotateApiClientKey(ctx: Context, input: RotateApiClientKeyInput): Promise<{ apiClient: ApiClientRow; apiKey: string }> {
  const client = await findManageableClient(ctx, input.apiClientId, "apiClientId");
  const overlap = input.overlapMinutes ?? DEFAULT_OVERLAP_MINUTES;
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_OVERLAP_MINUTES) {
    throw UserInputError.of("overlapMinutes", UserErrorCode.INVALID, `overlapMinutes must be between 0 and ${MAX_OVERLAP_MINUTES}`);
  }
  if (client.revokedAt) throw UserInputError.of("apiClientId", UserErrorCode.INVALID_TRANSITION, "The client is revoked");
  const now = clock.now();
  const ends = new Date(now.getTime() + overlap * 60_000);
  return ctx.db.transaction(async (tx) => {
    // Keys still working now end when the overlap does (a key already ending sooner keeps its end).
    await tx
      .update(apiKeys)
      .set({ expiresAt: ends })
      .where(and(eq(apiKeys.apiClientId, client.id), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, ends))));
    const { key } = await issueApiKey(tx, client.id);
    return { apiClient: client, apiKey: key };
  });
}
