// The mutations whose effects span modules (see scheduling.service.ts): the resolvers of centers and
// groups cannot call a module above them, so these two root fields are declared here.
import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { mutate } from "../common/payload.js";
import { UpdateCenterInput, UpdateCenterPayload } from "../centers/center.inputs.js";
import { UpdateGroupInput, UpdateGroupPayload } from "../groups/group.inputs.js";
import { updateCenter, updateGroup } from "./scheduling.service.js";

@Resolver()
export class SchedulingResolver {
  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => UpdateCenterPayload, { description: "Center admins; only org admins change status." })
  updateCenter(@Arg("input", () => UpdateCenterInput) input: UpdateCenterInput, @Ctx() ctx: Context) {
    return mutate("center", () => updateCenter(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => UpdateGroupPayload, { description: "Center admins." })
  updateGroup(@Arg("input", () => UpdateGroupInput) input: UpdateGroupInput, @Ctx() ctx: Context) {
    return mutate("group", () => updateGroup(ctx, input));
  }
}
