// Recovery capital (BARC-10): ten answers, each 1-6, total 10-60, on a day not in the future.
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { Problems, UserErrorCode } from "../common/errors.js";
import { isCalendarDay } from "../common/scalars.js";
import { recoveryCapitalAssessments, type RecoveryCapitalRow } from "../db/schema.js";
import { findReadableParticipant } from "../participants/participant.service.js";
import { dayInZone } from "../sessions/timezone.js";
import type { RecordRecoveryCapitalInput } from "./recoverycapital.inputs.js";

const INSTRUMENTS = { BARC_10: { items: 10, min: 1, max: 6 } } as const;

export async function recordRecoveryCapital(ctx: Context, input: RecordRecoveryCapitalInput): Promise<RecoveryCapitalRow> {
  const participant = await findReadableParticipant(ctx, input.participantId, "participantId");
  ctx.access.require("participant.write", { centerId: participant.centerId }, "Only clinical staff may record recovery capital");
  const center = await ctx.loaders.centers.byId.load(participant.centerId);
  const today = dayInZone(clock.now(), center!.timezone);
  const spec = INSTRUMENTS[input.instrument];
  const p = new Problems();
  if (!isCalendarDay(input.assessedOn) || input.assessedOn < "1900-01-01") {
    p.add("assessedOn", UserErrorCode.INVALID, "assessedOn must be a calendar day");
  } else if (input.assessedOn > today) {
    p.add("assessedOn", UserErrorCode.INVALID, `assessedOn cannot be in the future (today is ${today} at the center)`);
  }
  if (input.items.length !== spec.items) {
    p.add("items", UserErrorCode.INVALID, `${input.instrument} needs exactly ${spec.items} answers; got ${input.items.length}`);
  } else {
    input.items.forEach((value, i) => {
      if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
        p.add(["items", String(i)], UserErrorCode.INVALID, `Answer ${i + 1} must be between ${spec.min} and ${spec.max}; got ${value}`);
      }
    });
  }
  p.throwIfAny();
  const [row] = await ctx.db
    .insert(recoveryCapitalAssessments)
    .values({
      centerId: participant.centerId,
      participantId: participant.id,
      instrument: input.instrument,
      assessedOn: input.assessedOn,
      items: input.items,
      total: input.items.reduce((a, b) => a + b, 0),
      recordedByStaffId: ctx.access.staffId,
      recordedAt: clock.now(),
    })
    .returning();
  return row;
}
