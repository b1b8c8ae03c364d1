import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import { Center } from "../centers/center.type.js";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { UserInputError } from "../common/errors.js";
import { DateTime } from "../common/scalars.js";
import type { ApiClientRow, ApiKeyRow } from "../db/schema.js";
import {
  CreateApiClientInput,
  CreateApiClientPayload,
  RevokeApiClientInput,
  RevokeApiClientPayload,
  RotateApiClientKeyInput,
  RotateApiClientKeyPayload,
} from "./apiclient.inputs.js";
import { createApiClient, revokeApiClient, rotateApiClientKey } from "./apiclient.service.js";
import { ApiClient, ApiKeyInfo } from "./apiclient.type.js";

async function withKey(run: () => Promise<{ apiClient: ApiClientRow; apiKey: string }>) {
  try {
    return { ...(await run()), userErrors: [] };
  } catch (err) {
    if (err instanceof UserInputError) return { apiClient: null, apiKey: null, userErrors: err.errors };
    throw err;
  }
}

/** Whether staff may see the client's keys and centers: admins of one of its centers. */
async function canManage(ctx: Context, client: ApiClientRow): Promise<boolean> {
  const centers = await ctx.loaders.apiClients.centerIdsByClientId.load(client.id);
  return centers.some((c) => ctx.access.can("apiclient.manage", { centerId: c.centerId }));
}

@Resolver(() => ApiClient)
export class ApiClientResolver {
  @FieldResolver(() => [Center], { description: "The centers it reads that the viewer sees." })
  async centers(@Root() client: ApiClientRow, @Ctx() ctx: Context) {
    const rows = await ctx.loaders.apiClients.centerIdsByClientId.load(client.id);
    const centers = await Promise.all(rows.filter((r) => ctx.access.canSeeCenter(r.centerId)).map((r) => ctx.loaders.centers.byId.load(r.centerId)));
    return centers.filter((c) => c !== null);
  }

  @FieldResolver(() => [ApiKeyInfo], { description: "Its keys (prefixes, ends, last use), oldest first; center admins only, else empty." })
  async keys(@Root() client: ApiClientRow, @Ctx() ctx: Context): Promise<ApiKeyRow[]> {
    if (!(await canManage(ctx, client))) return [];
    return ctx.loaders.apiClients.keysByClientId.load(client.id);
  }

  @FieldResolver(() => DateTime, { nullable: true, description: "The last request made with any of its keys (to the minute); center admins only." })
  async lastUsedAt(@Root() client: ApiClientRow, @Ctx() ctx: Context): Promise<Date | null> {
    if (!(await canManage(ctx, client))) return null;
    const keys = await ctx.loaders.apiClients.keysByClientId.load(client.id);
    const used = keys.map((k) => k.lastUsedAt?.getTime() ?? 0).filter((t) => t > 0);
    return used.length ? new Date(Math.max(...used)) : null;
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => CreateApiClientPayload, {
    description: "Center admins, for their center; organisation admins for several centers. The key is returned here only.",
  })
  createApiClient(@Arg("input", () => CreateApiClientInput) input: CreateApiClientInput, @Ctx() ctx: Context) {
    return withKey(() => createApiClient(ctx, input));
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => RotateApiClientKeyPayload, { description: "A new key; the old ones keep working for `overlapMinutes`." })
  rotateApiClientKey(@Arg("input", () => RotateApiClientKeyInput) input: RotateApiClientKeyInput, @Ctx() ctx: Context) {
    return withKey(() => rotateApiClientKey(ctx, input));
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => RevokeApiClientPayload, { description: "Its keys are refused from the next request on." })
  async revokeApiClient(@Arg("input", () => RevokeApiClientInput) input: RevokeApiClientInput, @Ctx() ctx: Context) {
    try {
      return { apiClient: await revokeApiClient(ctx, input), userErrors: [] };
    } catch (err) {
      if (err instanceof UserInputError) return { apiClient: null, userErrors: err.errors };
      throw err;
    }
  }
}
