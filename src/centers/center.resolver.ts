import { Arg, Args, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { decodeId } from "../common/ids.js";
import { mutate } from "../common/payload.js";
import { connectionType, ConnectionArgs, pageWindow } from "../common/relay.js";
import { Center } from "./center.type.js";
import { CreateCenterInput, CreateCenterPayload } from "./center.inputs.js";
import { createCenter } from "./center.service.js";

const CenterConnection = connectionType(Center, "Center");

@Resolver(() => Center)
export class CenterResolver {
  @Authorized()
  @Policy({ readableBy: "CENTER" })
  @Query(() => Center, { nullable: true, description: "A center the viewer belongs to; null otherwise." })
  async center(@Arg("id", () => ID) id: string, @Ctx() ctx: Context) {
    const centerId = decodeId(id, "Center");
    if (!centerId) return null;
    const row = await ctx.loaders.centers.byId.load(centerId);
    return row && ctx.access.canSeeCenter(row.id) ? row : null;
  }

  @Authorized()
  @Policy({ readableBy: "CENTER" })
  @Query(() => CenterConnection, { description: "The centers the viewer belongs to (all, for org admins)." })
  async centers(@Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    return ctx.loaders.centers.visible.load("root", { ids: ctx.access.visibleCenterIds() }, pageWindow(args));
  }

  @Authorized("ORG_ADMIN")
  @Policy({ audit: null })
  @Mutation(() => CreateCenterPayload, { description: "Org admins only." })
  createCenter(@Arg("input", () => CreateCenterInput) input: CreateCenterInput, @Ctx() ctx: Context) {
    return mutate("center", () => createCenter(ctx, input));
  }
}
