import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { mutate } from "../common/payload.js";
import { connectionType, ConnectionArgs, emptyConnection, pageWindow } from "../common/relay.js";
import { Center } from "../centers/center.type.js";
import type { CenterRow, MembershipRow, StaffRow } from "../db/schema.js";
import {
  CreateStaffInput,
  CreateStaffPayload,
  RemoveStaffMembershipInput,
  RemoveStaffMembershipPayload,
  SetStaffMembershipInput,
  SetStaffMembershipPayload,
  UpdateStaffInput,
  UpdateStaffPayload,
} from "./staff.inputs.js";
import { createStaff, removeStaffMembership, setStaffMembership, updateStaff } from "./staff.service.js";
import { Staff, StaffMembership } from "./staff.type.js";
import { Policy } from "../common/policy.js";

const StaffConnection = connectionType(Staff, "Staff");

@Resolver(() => Staff)
export class StaffResolver {
  @Authorized()
  @Policy({ readableBy: "STAFF" })
  @Query(() => Staff, { description: "The signed-in staff member." })
  async viewer(@Ctx() ctx: Context) {
    const viewer = ctx.access.requireViewer();
    return ctx.loaders.staff.byId.load(viewer.staffId);
  }

  @FieldResolver(() => [StaffMembership], { description: "Roles at centers the viewer can see." })
  async memberships(@Root() row: StaffRow, @Ctx() ctx: Context) {
    const all = await ctx.loaders.staff.membershipsByStaffId.load(row.id);
    return all.filter((m) => ctx.access.canSeeCenter(m.centerId));
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => CreateStaffPayload, {
    description:
      "Org admins, or center admins for their own centers. Emails and sign-in identities are unique across the organisation: " +
      "for a center admin, one already in use is refused with the same EMAIL_TAKEN on `email` whoever and wherever that person is " +
      "(nothing tells another center's staff from one's own); an org admin adds an existing person to more centers.",
  })
  createStaff(@Arg("input", () => CreateStaffInput) input: CreateStaffInput, @Ctx() ctx: Context) {
    return mutate("staff", () => createStaff(ctx, input));
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => UpdateStaffPayload, {
    description:
      "Org admins, or center admins for staff whose every center they administer (others are NOT_FOUND): name, email, credential, " +
      "co-signature and status. Only org admins change `isOrgAdmin`.",
  })
  updateStaff(@Arg("input", () => UpdateStaffInput) input: UpdateStaffInput, @Ctx() ctx: Context) {
    return mutate("staff", () => updateStaff(ctx, input));
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => SetStaffMembershipPayload, {
    description: "Grants or changes a role at a center (center admins, for staff whose every center they administer; others are NOT_FOUND).",
  })
  setStaffMembership(@Arg("input", () => SetStaffMembershipInput) input: SetStaffMembershipInput, @Ctx() ctx: Context) {
    return mutate("staff", () => setStaffMembership(ctx, input));
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => RemoveStaffMembershipPayload, {
    description: "Removes a role at a center (center admins, for staff whose every center they administer; others are NOT_FOUND).",
  })
  removeStaffMembership(@Arg("input", () => RemoveStaffMembershipInput) input: RemoveStaffMembershipInput, @Ctx() ctx: Context) {
    return mutate("staff", () => removeStaffMembership(ctx, input));
  }
}

@Resolver(() => StaffMembership)
export class StaffMembershipResolver {
  @FieldResolver(() => Center)
  center(@Root() m: MembershipRow, @Ctx() ctx: Context) {
    return ctx.loaders.centers.byId.load(m.centerId);
  }

  @FieldResolver(() => Staff)
  staff(@Root() m: MembershipRow, @Ctx() ctx: Context) {
    return ctx.loaders.staff.byId.load(m.staffId);
  }
}

@Resolver(() => Center)
export class CenterStaffResolver {
  @Policy({ readableBy: "STAFF" })
  @FieldResolver(() => StaffConnection, { description: "Staff with a role at this center." })
  async staff(@Root() center: CenterRow, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    const win = pageWindow(args);
    if (!ctx.access.can("center.read", { centerId: center.id })) return emptyConnection();
    return ctx.loaders.staff.byCenter.load(center.id, null, win);
  }
}
