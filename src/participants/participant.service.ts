import { eq } from "drizzle-orm";
import type { GraphQLResolveInfo } from "graphql";
import { clock } from "../common/clock.js";
import { selectsOnly } from "../common/selection.js";
import type { Context } from "../common/context.js";
import { forbidden, isUniqueViolation, Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { idOf, isEmail, LIMITS, notFound, optionalText, text } from "../common/validate.js";
import { findVisibleCenter } from "../centers/center.service.js";
import { participants, type ParticipantRow } from "../db/schema.js";
import type { CreateParticipantInput, UpdateParticipantInput } from "./participant.inputs.js";

/**
 * Whether the viewer may read this participant's identity and records: clinical staff of the
 * center, or a facilitator of a group the participant is enrolled in.
 * @public
 */
export async function canReadParticipant(ctx: Context, p: Pick<ParticipantRow, "id" | "centerId">): Promise<boolean> {
  if (!ctx.access.canSeeCenter(p.centerId)) return false;
  // Their groups are loaded only for a viewer whose reading depends on them (a facilitator).
  const groupIds = ctx.access.readDependsOnGroup("CLINICAL", p.centerId)
    ? (await ctx.loaders.participants.groupIdsByParticipantId.load(p.id)).map((r) => r.groupId)
    : [];
  return ctx.access.can("participant.read", { centerId: p.centerId, groupIds });
}

/** The refusal for a role that may never read participants (VIEWER). */
export const participantsForbidden = () => forbidden("Your role does not allow reading participants");

/**
 * How a participant reads for the viewer: readable; as missing (another center, or a facilitator
 * outside the participant's groups); or refused outright (a VIEWER).
 */
export async function participantVisibility(ctx: Context, row: ParticipantRow): Promise<"readable" | "missing" | "forbidden"> {
  if (!ctx.access.canSeeCenter(row.centerId)) return "missing";
  if (await canReadParticipant(ctx, row)) return "readable";
  return ctx.access.refusalOf("CLINICAL", row.centerId);
}

/** The fields of Participant that the `namesById` loader's columns answer. */
const NAME_FIELDS: ReadonlySet<string> = new Set(["__typename", "id", "firstName", "lastName", "preferredName", "status"]);

/**
 * Resolves a participant reached through another object (an enrolment, an attendance record).
 * The parent is visible, so the participant exists for the viewer; VIEWERs are refused.
 */
export async function readableParticipant(ctx: Context, participantId: string, info?: GraphQLResolveInfo): Promise<ParticipantRow> {
  // Names only (a roster, a list of members): no contact details or dates are read.
  const row =
    info && selectsOnly(info, NAME_FIELDS)
      ? await ctx.loaders.participants.namesById.load(participantId)
      : await ctx.loaders.participants.byId.load(participantId);
  if (!row || !(await canReadParticipant(ctx, row))) throw participantsForbidden();
  return row;
}

/**
 * A participant the viewer may read, or NOT_FOUND (the same answer whether missing or out of reach).
 * @public
 */
export async function findReadableParticipant(ctx: Context, globalId: string, field: string): Promise<ParticipantRow> {
  const id = idOf("Participant", globalId, field);
  const row = await ctx.loaders.participants.byId.load(id);
  const visibility = row ? await participantVisibility(ctx, row) : "missing";
  if (visibility === "missing") throw notFound("Participant", field);
  if (visibility === "forbidden") throw participantsForbidden();
  return row!;
}

function contact(p: Problems, input: { phone?: string | null; email?: string | null }) {
  const phone = optionalText(p, "phone", input.phone, { max: LIMITS.short });
  if (phone && !/^[+0-9 ().\-x]{5,32}$/.test(phone)) p.add("phone", UserErrorCode.INVALID, "phone is not a phone number");
  const email = optionalText(p, "email", input.email, { max: 254 });
  if (email && !isEmail(email)) p.add("email", UserErrorCode.INVALID, "email is not a valid address");
  return { phone, email };
}

function checkDates(p: Problems, dateOfBirth: string | null | undefined, recoveryStartDate: string | null | undefined) {
  const today = clock.now().toISOString().slice(0, 10);
  if (dateOfBirth && (dateOfBirth > today || dateOfBirth < "1900-01-01")) {
    p.add("dateOfBirth", UserErrorCode.INVALID, "dateOfBirth must be a past date");
  }
  if (recoveryStartDate && dateOfBirth && recoveryStartDate < dateOfBirth) {
    p.add("recoveryStartDate", UserErrorCode.INVALID, "recoveryStartDate cannot be before dateOfBirth");
  }
}

function uniqueProblem(err: unknown): UserInputError | null {
  return isUniqueViolation(err, "participants_external_id_uq")
    ? UserInputError.of("externalId", UserErrorCode.EXTERNAL_ID_TAKEN, "Another participant at this center has that external id")
    : null;
}

export async function createParticipant(ctx: Context, input: CreateParticipantInput): Promise<ParticipantRow> {
  const center = await findVisibleCenter(ctx, input.centerId, "centerId");
  ctx.access.require("participant.write", { centerId: center.id }, "Only clinical staff may register participants");
  const p = new Problems();
  const firstName = text(p, "firstName", input.firstName, { required: true });
  const lastName = text(p, "lastName", input.lastName, { required: true });
  const preferredName = text(p, "preferredName", input.preferredName);
  const externalId = text(p, "externalId", input.externalId, { max: LIMITS.short });
  const { phone, email } = contact(p, input);
  checkDates(p, input.dateOfBirth, input.recoveryStartDate);
  p.throwIfAny();
  try {
    const [row] = await ctx.db
      .insert(participants)
      .values({
        centerId: center.id,
        firstName: firstName!,
        lastName: lastName!,
        preferredName,
        externalId,
        dateOfBirth: input.dateOfBirth ?? null,
        recoveryStartDate: input.recoveryStartDate ?? null,
        phone: phone ?? null,
        email: email ?? null,
        celebrationOptOut: input.celebrationOptOut ?? false,
      })
      .returning();
    return row;
  } catch (err) {
    throw uniqueProblem(err) ?? err;
  }
}

export async function updateParticipant(ctx: Context, input: UpdateParticipantInput): Promise<ParticipantRow> {
  const current = await findReadableParticipant(ctx, input.participantId, "participantId");
  ctx.access.require("participant.write", { centerId: current.centerId }, "Only clinical staff may change participants");
  const p = new Problems();
  const set: Partial<typeof participants.$inferInsert> = {};
  for (const field of ["firstName", "lastName"] as const) {
    if (input[field] != null) {
      const v = text(p, field, input[field], { required: true });
      if (v) set[field] = v;
    }
  }
  if (input.preferredName != null) set.preferredName = text(p, "preferredName", input.preferredName);
  if (input.externalId != null) set.externalId = text(p, "externalId", input.externalId, { max: LIMITS.short });
  const { phone, email } = contact(p, input);
  if (input.phone != null) set.phone = phone ?? null;
  if (input.email != null) set.email = email ?? null;
  if (input.dateOfBirth != null) set.dateOfBirth = input.dateOfBirth;
  if (input.recoveryStartDate != null) set.recoveryStartDate = input.recoveryStartDate;
  if (input.status != null) set.status = input.status;
  if (input.celebrationOptOut != null) set.celebrationOptOut = input.celebrationOptOut;
  checkDates(p, set.dateOfBirth ?? current.dateOfBirth, set.recoveryStartDate ?? current.recoveryStartDate);
  p.throwIfAny();
  try {
    const [row] = await ctx.db
      .update(participants)
      .set({ ...set, updatedAt: clock.now() })
      .where(eq(participants.id, current.id))
      .returning();
    ctx.loaders.participants.byId.clear(row.id).prime(row.id, row);
    return row;
  } catch (err) {
    throw uniqueProblem(err) ?? err;
  }
}
