import { and, eq, sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { forbidden, isUniqueViolation, Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { decodeId } from "../common/ids.js";
import { idOf, isEmail, LIMITS, notFound, optionalText, text } from "../common/validate.js";
import type { Db } from "../db/client.js";
import { staff, staffMemberships, type StaffRow } from "../db/schema.js";
import type { CreateStaffInput, RemoveStaffMembershipInput, SetStaffMembershipInput, UpdateStaffInput } from "./staff.inputs.js";
import { StaffStatus } from "./staff.type.js";

/** Staff the viewer may see: themselves, colleagues at a shared center, anyone for org admins. */
export async function canSeeStaff(ctx: Context, staffId: string): Promise<boolean> {
  const viewer = ctx.access.requireViewer();
  if (viewer.isOrgAdmin || viewer.staffId === staffId) return true;
  const memberships = await ctx.loaders.staff.membershipsByStaffId.load(staffId);
  return memberships.some((m) => viewer.roles.has(m.centerId));
}

/**
 * A staff member reached through a link (recordedBy, actor, facilitators, …): the same visibility
 * as `node(id:)`, so null when node would answer null.
 */
export async function linkedStaff(ctx: Context, staffId: string | null | undefined): Promise<StaffRow | null> {
  if (!staffId) return null;
  const [row, visible] = await Promise.all([ctx.loaders.staff.byId.load(staffId), canSeeStaff(ctx, staffId)]);
  return row && visible ? row : null;
}

async function findVisibleStaff(ctx: Context, globalId: string, field: string): Promise<StaffRow> {
  const id = idOf("Staff", globalId, field);
  const row = await ctx.loaders.staff.byId.load(id);
  if (!row || !(await canSeeStaff(ctx, id))) throw notFound("Staff", field);
  return row;
}

function uniqueProblem(err: unknown): UserInputError | null {
  if (isUniqueViolation(err, "staff_email_lower_uq")) {
    return UserInputError.of("email", UserErrorCode.EMAIL_TAKEN, "A staff member with that email already exists");
  }
  if (isUniqueViolation(err, "staff_auth_subject_uq")) {
    return UserInputError.of("authSubject", UserErrorCode.AUTH_SUBJECT_TAKEN, "That auth subject is already linked to a staff member");
  }
  return null;
}

/** A center id that the viewer may grant roles at, or the reason why not. */
function memberCenter(ctx: Context, p: Problems, field: string, globalId: string): string | null {
  const centerId = decodeId(globalId, "Center");
  if (!centerId || !ctx.access.canSeeCenter(centerId)) {
    p.add(field, UserErrorCode.NOT_FOUND, "No center with that id");
    return null;
  }
  ctx.access.require("center.configure", { centerId }, "Only center admins may manage staff memberships");
  return centerId;
}

export async function createStaff(ctx: Context, input: CreateStaffInput): Promise<StaffRow> {
  const viewer = ctx.access.requireViewer();
  if (input.isOrgAdmin && !viewer.isOrgAdmin) throw forbidden("Only organisation admins may create organisation admins");
  const p = new Problems();
  const email = text(p, "email", input.email, { required: true, max: 254 });
  if (email && !isEmail(email)) p.add("email", UserErrorCode.INVALID, "email is not a valid address");
  const name = text(p, "name", input.name, { required: true });
  const authSubject = text(p, "authSubject", input.authSubject, { max: 254 }) ?? email?.toLowerCase() ?? null;
  const credential = text(p, "credential", input.credential, { max: LIMITS.short });
  const memberships = input.memberships ?? [];
  if (!viewer.isOrgAdmin && memberships.length === 0) {
    throw forbidden("Center admins create staff with a membership at one of their centers");
  }
  const seen = new Set<string>();
  const rows: Array<{ centerId: string; role: string }> = [];
  memberships.forEach((m, i) => {
    const centerId = memberCenter(ctx, p, `memberships.${i}.centerId`, m.centerId);
    if (!centerId) return;
    if (seen.has(centerId)) p.add(`memberships.${i}.centerId`, UserErrorCode.DUPLICATE, "One membership per center");
    seen.add(centerId);
    rows.push({ centerId, role: m.role });
  });
  p.throwIfAny();
  try {
    return await ctx.db.transaction(async (tx) => {
      const [created] = await tx
        .insert(staff)
        .values({
          email: email!,
          name: name!,
          authSubject: authSubject!,
          isOrgAdmin: input.isOrgAdmin ?? false,
          credential,
          requiresCosign: input.requiresCosign ?? false,
        })
        .returning();
      if (rows.length) {
        await tx.insert(staffMemberships).values(rows.map((r) => ({ ...r, staffId: created.id })));
      }
      return created;
    });
  } catch (err) {
    // Center admins do not see staff of other centers: an address (or sign-in identity) in use
    // anywhere in the organisation gets one answer, whoever and wherever that person is.
    if (!ctx.access.isOrgAdmin && uniqueProblem(err)) {
      throw UserInputError.of(
        "email",
        UserErrorCode.EMAIL_TAKEN,
        "That address is already in use in the organisation; an organisation admin can add that person to your center",
      );
    }
    throw uniqueProblem(err) ?? err;
  }
}

/**
 * Org admins update anyone. Center admins update the staff they manage, as for memberships (not
 * an org admin, and every center of theirs one the viewer administers; a colleague who also
 * works at a center they do not administer reads as NOT_FOUND): name, email, credential,
 * co-signature and status, never the organisation-admin flag. Other staff: FORBIDDEN.
 */
export async function updateStaff(ctx: Context, input: UpdateStaffInput): Promise<StaffRow> {
  const viewer = ctx.access.requireViewer();
  const target = await findVisibleStaff(ctx, input.staffId, "staffId");
  if (!viewer.isOrgAdmin) {
    const centerIds = (await ctx.loaders.staff.membershipsByStaffId.load(target.id)).map((m) => m.centerId);
    if (!centerIds.some((centerId) => ctx.access.can("center.configure", { centerId }))) throw forbidden("Only admins may update staff");
    if (input.isOrgAdmin != null) throw forbidden("Only organisation admins may grant or withdraw organisation admin");
    if (!ctx.access.canManageStaff({ staffId: target.id, isOrgAdmin: target.isOrgAdmin, centerIds })) throw notFound("Staff", "staffId");
  }
  const p = new Problems();
  const name = optionalText(p, "name", input.name, { required: true });
  const email = optionalText(p, "email", input.email, { required: true, max: 254 });
  if (email && !isEmail(email)) p.add("email", UserErrorCode.INVALID, "email is not a valid address");
  const credential = optionalText(p, "credential", input.credential, { max: LIMITS.short });
  if (target.id === ctx.access.staffId && (input.isOrgAdmin === false || input.status === StaffStatus.INACTIVE)) {
    p.add(input.isOrgAdmin === false ? "isOrgAdmin" : "status", UserErrorCode.NOT_ALLOWED, "You cannot demote or deactivate yourself");
  }
  p.throwIfAny();
  try {
    const [row] = await ctx.db
      .update(staff)
      .set({
        ...(name ? { name } : {}),
        ...(email ? { email } : {}),
        ...(input.status ? { status: input.status } : {}),
        ...(input.isOrgAdmin != null ? { isOrgAdmin: input.isOrgAdmin } : {}),
        ...(credential !== undefined ? { credential } : {}),
        ...(input.requiresCosign != null ? { requiresCosign: input.requiresCosign } : {}),
        updatedAt: clock.now(),
      })
      .where(eq(staff.id, target.id))
      .returning();
    ctx.loaders.staff.byId.clear(row.id).prime(row.id, row);
    return row;
  } catch (err) {
    throw uniqueProblem(err) ?? err;
  }
}

export async function setStaffMembership(ctx: Context, input: SetStaffMembershipInput): Promise<StaffRow> {
  const p = new Problems();
  const centerId = memberCenter(ctx, p, "centerId", input.centerId);
  p.throwIfAny();
  // Center admins manage the staff they can see (members of their centers); bringing someone in
  // from another center is for org admins, who see everyone.
  const target = await findVisibleStaff(ctx, input.staffId, "staffId");
  const staffId = target.id;
  const centerIds = (await ctx.loaders.staff.membershipsByStaffId.load(staffId)).map((m) => m.centerId);
  if (staffId !== ctx.access.staffId && !ctx.access.canManageStaff({ staffId, isOrgAdmin: target.isOrgAdmin, centerIds })) {
    throw notFound("Staff", "staffId");
  }
  await ctx.db
    .insert(staffMemberships)
    .values({ centerId: centerId!, staffId, role: input.role })
    .onConflictDoUpdate({ target: [staffMemberships.centerId, staffMemberships.staffId], set: { role: input.role } });
  ctx.loaders.staff.membershipsByStaffId.clear(staffId);
  return target;
}

export async function removeStaffMembership(ctx: Context, input: RemoveStaffMembershipInput): Promise<StaffRow> {
  const p = new Problems();
  const centerId = memberCenter(ctx, p, "centerId", input.centerId);
  p.throwIfAny();
  const target = await findVisibleStaff(ctx, input.staffId, "staffId");
  if (target.id === ctx.access.staffId && !ctx.access.isOrgAdmin) {
    throw UserInputError.of("staffId", UserErrorCode.NOT_ALLOWED, "You cannot remove your own admin membership");
  }
  const centerIds = (await ctx.loaders.staff.membershipsByStaffId.load(target.id)).map((m) => m.centerId);
  if (target.id !== ctx.access.staffId && !ctx.access.canManageStaff({ staffId: target.id, isOrgAdmin: target.isOrgAdmin, centerIds })) {
    throw notFound("Staff", "staffId");
  }
  const removed = await ctx.db
    .delete(staffMemberships)
    .where(and(eq(staffMemberships.centerId, centerId!), eq(staffMemberships.staffId, target.id)))
    .returning();
  if (removed.length === 0) throw UserInputError.of("staffId", UserErrorCode.NOT_FOUND, "That staff member has no membership at this center");
  ctx.loaders.staff.membershipsByStaffId.clear(target.id);
  return target;
}

/**
 * At start-up: when no organisation admin exists, make one for BOOTSTRAP_ADMIN_EMAIL (email and
 * authSubject are that address). Safe when several instances start at once.
 */
export async function ensureBootstrapAdmin(db: Db, email: string): Promise<"created" | "promoted" | "exists"> {
  const address = email.trim();
  if (!isEmail(address)) throw new Error("BOOTSTRAP_ADMIN_EMAIL is not a valid email address");
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(4242001)`);
    const [admin] = await tx.select({ id: staff.id }).from(staff).where(eq(staff.isOrgAdmin, true)).limit(1);
    if (admin) return "exists";
    const [existing] = await tx
      .select()
      .from(staff)
      .where(sql`lower(${staff.email}) = lower(${address})`);
    if (existing) {
      await tx.update(staff).set({ isOrgAdmin: true, status: "ACTIVE" }).where(eq(staff.id, existing.id));
      return "promoted";
    }
    await tx.insert(staff).values({ email: address, name: address, authSubject: address, isOrgAdmin: true });
    return "created";
  });
}
