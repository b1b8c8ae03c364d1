import { and, asc, eq, ne } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { Problems, UserErrorCode } from "../common/errors.js";
import { canonicalTimeZone, idOf, intInRange, LIMITS, notFound, optionalText, text } from "../common/validate.js";
import { centers, groups, type CenterRow } from "../db/schema.js";
import { realignFutureSessions } from "../sessions/session.service.js";
import type { CreateCenterInput, UpdateCenterInput } from "./center.inputs.js";

/** A center the viewer can see, or NOT_FOUND (outside their reach reads like missing). */
export async function findVisibleCenter(ctx: Context, globalId: string, field: string): Promise<CenterRow> {
  const id = idOf("Center", globalId, field);
  const center = await ctx.loaders.centers.byId.load(id);
  if (!center || !ctx.access.canSeeCenter(center.id)) throw notFound("Center", field);
  return center;
}

/** The canonical IANA name of the given zone, or null with an INVALID_TIMEZONE problem. */
function timeZoneOf(p: Problems, value: string): string | null {
  const timezone = canonicalTimeZone(value);
  if (!timezone) p.add("timezone", UserErrorCode.INVALID_TIMEZONE, `"${String(value).slice(0, 64)}" is not an IANA time zone`);
  return timezone;
}

export async function createCenter(ctx: Context, input: CreateCenterInput): Promise<CenterRow> {
  ctx.access.requireOrgAdmin();
  const p = new Problems();
  const name = text(p, "name", input.name, { required: true });
  const timezone = timeZoneOf(p, input.timezone);
  const address = text(p, "address", input.address, { max: LIMITS.text });
  const phone = text(p, "phone", input.phone, { max: LIMITS.short });
  p.throwIfAny();
  const [row] = await ctx.db
    .insert(centers)
    .values({ name: name!, timezone: timezone!, address, phone })
    .returning();
  return row;
}

export async function updateCenter(ctx: Context, input: UpdateCenterInput): Promise<CenterRow> {
  const center = await findVisibleCenter(ctx, input.centerId, "centerId");
  ctx.access.require("center.configure", { centerId: center.id });
  const p = new Problems();
  const name = optionalText(p, "name", input.name, { required: true });
  const timezone = input.timezone == null ? null : timeZoneOf(p, input.timezone);
  const address = optionalText(p, "address", input.address, { max: LIMITS.text });
  const phone = optionalText(p, "phone", input.phone, { max: LIMITS.short });
  if (input.status != null && input.status !== center.status && !ctx.access.isOrgAdmin) {
    p.add("status", UserErrorCode.NOT_ALLOWED, "Only organisation admins may change a center's status");
  }
  intInRange(p, "peerMentorMinimumDays", input.peerMentorMinimumDays, 0, 3650);
  intInRange(p, "maxMenteesPerMentor", input.maxMenteesPerMentor, 1, 20);
  p.throwIfAny();
  const row = await ctx.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(centers)
      .set({
        ...(name ? { name } : {}),
        ...(timezone ? { timezone } : {}),
        ...(address !== undefined ? { address } : {}),
        ...(phone !== undefined ? { phone } : {}),
        ...(input.status ? { status: input.status } : {}),
        ...(input.peerMentorMinimumDays != null ? { peerMentorMinimumDays: input.peerMentorMinimumDays } : {}),
        ...(input.maxMenteesPerMentor != null ? { maxMenteesPerMentor: input.maxMenteesPerMentor } : {}),
        updatedAt: clock.now(),
      })
      .where(eq(centers.id, center.id))
      .returning();
    if (timezone && timezone !== center.timezone) {
      // Sessions are generated in the center's wall-clock time: refit the untouched future ones of
      // every open group, each under its group lock, in id order (as other writers take them).
      const open = await tx
        .select()
        .from(groups)
        .where(and(eq(groups.centerId, center.id), ne(groups.status, "CLOSED")))
        .orderBy(asc(groups.id))
        .for("update");
      for (const group of open) await realignFutureSessions(tx, group, updated.timezone);
    }
    return updated;
  });
  ctx.loaders.centers.byId.clear(row.id).prime(row.id, row);
  return row;
}
