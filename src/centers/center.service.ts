import { eq } from "drizzle-orm";
import type { Context } from "../common/context.js";
import { Problems, UserErrorCode } from "../common/errors.js";
import { canonicalTimeZone, idOf, LIMITS, notFound, text } from "../common/validate.js";
import type { Tx } from "../db/client.js";
import { centers, type CenterRow } from "../db/schema.js";
import type { CreateCenterInput } from "./center.inputs.js";

/** A center the viewer can see, or NOT_FOUND (outside their reach reads like missing). */
export async function findVisibleCenter(ctx: Context, globalId: string, field: string): Promise<CenterRow> {
  const id = idOf("Center", globalId, field);
  const center = await ctx.loaders.centers.byId.load(id);
  if (!center || !ctx.access.canSeeCenter(center.id)) throw notFound("Center", field);
  return center;
}

/** The canonical IANA name of the given zone, or null with an INVALID_TIMEZONE problem. */
export function timeZoneOf(p: Problems, value: string): string | null {
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
  const [row] = await ctx.db.insert(centers).values({ name: name!, timezone: timezone!, address, phone }).returning();
  return row;
}

/**
 * The center's time zone, read inside the transaction. Read it after locking the group: a
 * concurrent time zone change then either shows here or refits this group's sessions after us.
 */
export async function centerTimeZone(tx: Tx, centerId: string): Promise<string> {
  const [center] = await tx.select({ timezone: centers.timezone }).from(centers).where(eq(centers.id, centerId));
  return center.timezone;
}
