// 42 CFR 2.31 consents: recorded and revoked by the clinicians and admins of the participant's
// center. A consent's status is judged at read time. The feed learns of a consent's start and end
// through rows addressed to its recipient (attendance_changes with a recipient): when consent is
// given, the participant's existing records (UPSERT); when it ends, one DELETE per record. An
// expiry has no transaction of its own: the recipient's next read closes it (closeEndedConsents).
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { forbidden, Problems, UserErrorCode } from "../common/errors.js";
import { decodeId } from "../common/ids.js";
import { idOf, notFound, text, LIMITS } from "../common/validate.js";
import type { Db, DbOrTx, Tx } from "../db/client.js";
import { attendanceChanges, attendance, consents, participants, type ConsentRow, type ParticipantRow } from "../db/schema.js";
import { canReadParticipant, findReadableParticipant } from "../participants/participant.service.js";
import { dayInZone } from "../sessions/timezone.js";
import { todayIn } from "./consent.sql.js";
import type { RecordConsentInput, RevokeConsentInput } from "./consent.inputs.js";
import { ConsentInformation, ConsentStatus } from "./consent.type.js";

/** A consent's status at `now` in its center's zone. */
export function consentStatus(c: Pick<ConsentRow, "revokedAt" | "expiresOn">, timezone: string, now: Date): ConsentStatus {
  if (c.revokedAt) return ConsentStatus.REVOKED;
  if (c.expiresOn && c.expiresOn < dayInZone(now, timezone)) return ConsentStatus.EXPIRED;
  return ConsentStatus.ACTIVE;
}

/** Writes one feed row per attendance record of the participant, for that recipient only. */
async function addressRecords(tx: Tx, participantId: string, apiClientId: string, changeType: "UPSERT" | "DELETE", now: Date): Promise<void> {
  await tx.execute(sql`insert into ${attendanceChanges} (center_id, attendance_id, participant_id, change_type, recipient_api_client_id, changed_at)
    select a.center_id, a.id, a.participant_id, ${changeType}, ${apiClientId}, ${now.toISOString()}::timestamptz
    from ${attendance} a where a.participant_id = ${participantId} order by a.id`);
}

/** Whether another consent (not `exceptId`) of the participant names the client and is active at `now`. */
async function otherActiveConsent(tx: DbOrTx, participantId: string, apiClientId: string, exceptId: string, now: Date): Promise<boolean> {
  const rows = await tx
    .select({ id: consents.id })
    .from(consents)
    .innerJoin(sql`centers ctr`, sql`ctr.id = ${consents.centerId}`)
    .where(
      sql`${consents.participantId} = ${participantId} and ${consents.apiClientId} = ${apiClientId} and ${consents.id} <> ${exceptId}
        and ${consents.revokedAt} is null and 'ATTENDANCE' = any(${consents.information})
        and (${consents.expiresOn} is null or ${consents.expiresOn} >= ${todayIn(sql`ctr.timezone`, now)})`,
    )
    .limit(1);
  return rows.length > 0;
}

/** Serializes consent changes of one participant (record, revoke, expiry closing). */
async function lockParticipant(tx: Tx, participantId: string): Promise<void> {
  await tx.select({ id: participants.id }).from(participants).where(eq(participants.id, participantId)).for("update");
}

export async function recordConsent(ctx: Context, input: RecordConsentInput): Promise<ConsentRow> {
  const participant = await findReadableParticipant(ctx, input.participantId, "participantId");
  ctx.access.require("consent.write", { centerId: participant.centerId }, "Only clinicians and admins may record consents");
  const center = (await ctx.loaders.centers.byId.load(participant.centerId))!;
  const now = clock.now();
  const today = dayInZone(now, center.timezone);
  const p = new Problems();
  const purpose = text(p, "purpose", input.purpose, { required: true, max: LIMITS.text });
  const recipientId = decodeId(input.recipientId, "ApiClient");
  const recipient = recipientId ? await ctx.loaders.apiClients.byId.load(recipientId) : null;
  const reads = recipient ? (await ctx.loaders.apiClients.centerIdsByClientId.load(recipient.id)).some((c) => c.centerId === participant.centerId) : false;
  if (!recipient || recipient.revokedAt || !reads) {
    p.add("recipientId", UserErrorCode.NOT_FOUND, "No API client with that id reads this participant's center");
  }
  const signedOn = input.signedOn ?? today;
  if (signedOn > today) p.add("signedOn", UserErrorCode.INVALID, "signedOn cannot be in the future");
  if (input.expiresOn != null && input.expiresOn < today) p.add("expiresOn", UserErrorCode.INVALID, "expiresOn cannot be before today");
  else if (input.expiresOn != null && input.expiresOn < signedOn) p.add("expiresOn", UserErrorCode.INVALID, "expiresOn cannot be before signedOn");
  const information = [...new Set(input.information ?? [ConsentInformation.ATTENDANCE])];
  if (information.length === 0) p.add("information", UserErrorCode.REQUIRED, "Name at least one kind of information");
  p.throwIfAny();
  return ctx.db.transaction(async (tx) => {
    await lockParticipant(tx, participant.id);
    const [row] = await tx
      .insert(consents)
      .values({
        centerId: participant.centerId,
        participantId: participant.id,
        apiClientId: recipient!.id,
        purpose: purpose!,
        information,
        signedOn,
        expiresOn: input.expiresOn ?? null,
        recordedByStaffId: ctx.access.staffId,
        recordedAt: now,
      })
      .returning();
    // The recipient gets the participant's existing records from its current position on, unless
    // another consent already gives them.
    if (information.includes(ConsentInformation.ATTENDANCE) && !(await otherActiveConsent(tx, participant.id, recipient!.id, row.id, now))) {
      await addressRecords(tx, participant.id, recipient!.id, "UPSERT", now);
    }
    return row;
  });
}

/** A consent the viewer may change: its participant readable and the viewer clinical staff there; else NOT_FOUND / FORBIDDEN. */
async function findWritableConsent(ctx: Context, globalId: string, field: string): Promise<ConsentRow> {
  const id = idOf("Consent", globalId, field);
  const [row] = await ctx.db.select().from(consents).where(eq(consents.id, id));
  const participant = row ? await ctx.loaders.participants.byId.load(row.participantId) : null;
  if (!row || !participant || !(await canReadParticipant(ctx, participant))) throw notFound("Consent", field);
  ctx.access.require("consent.write", { centerId: row.centerId }, "Only clinicians and admins may revoke consents");
  return row;
}

/** Revokes at once: the recipient's next read gets one DELETE per record and nothing more. Revoking again changes nothing. */
export async function revokeConsent(ctx: Context, input: RevokeConsentInput): Promise<ConsentRow> {
  const current = await findWritableConsent(ctx, input.consentId, "consentId");
  const p = new Problems();
  const reason = text(p, "reason", input.reason, { max: LIMITS.text });
  p.throwIfAny();
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    await lockParticipant(tx, current.participantId);
    const [row] = await tx
      .update(consents)
      .set({ revokedAt: now, revokedByStaffId: ctx.access.staffId, revokeReason: reason })
      .where(and(eq(consents.id, current.id), isNull(consents.revokedAt)))
      .returning();
    if (!row) {
      const [again] = await tx.select().from(consents).where(eq(consents.id, current.id));
      return again;
    }
    return (await closeConsent(tx, row, now)) ?? row;
  });
}

/** Marks the consent closed once; when no other consent keeps the records flowing, addresses a DELETE per record to its recipient. */
async function closeConsent(tx: Tx, row: ConsentRow, now: Date): Promise<ConsentRow | null> {
  const [closed] = await tx
    .update(consents)
    .set({ closedAt: now })
    .where(and(eq(consents.id, row.id), isNull(consents.closedAt)))
    .returning();
  if (!closed) return null;
  if (row.information.includes(ConsentInformation.ATTENDANCE) && !(await otherActiveConsent(tx, row.participantId, row.apiClientId, row.id, now))) {
    await addressRecords(tx, row.participantId, row.apiClientId, "DELETE", now);
  }
  return closed;
}

/**
 * Closes the client's consents that expired since its last read (idempotent; safe under
 * concurrent readers): their DELETEs are written in this transaction, committed before the feed
 * is read. Returns how many consents it closed.
 */
async function closeEndedConsents(tx: Tx, apiClientId: string, now: Date): Promise<number> {
  const ended = await tx
    .select({ id: consents.id, participantId: consents.participantId })
    .from(consents)
    .innerJoin(sql`centers ctr`, sql`ctr.id = ${consents.centerId}`)
    .where(
      sql`${consents.apiClientId} = ${apiClientId} and ${consents.closedAt} is null and ${consents.revokedAt} is null
        and ${consents.expiresOn} < ${todayIn(sql`ctr.timezone`, now)}`,
    );
  let count = 0;
  for (const { id, participantId } of ended) {
    await lockParticipant(tx, participantId);
    const [row] = await tx
      .select()
      .from(consents)
      .where(and(eq(consents.id, id), isNull(consents.closedAt)));
    if (row && (await closeConsent(tx, row, now))) count++;
  }
  return count;
}

/**
 * Closes the client's consents that ended since its last read, as closeEndedConsents does, in a
 * transaction of its own; when none ended (nearly every read), one plain read and no transaction.
 * The read that follows sees their DELETEs committed. Returns how many consents it closed.
 */
export async function closeEndedConsentsOf(db: Db, apiClientId: string, now: Date): Promise<number> {
  const [ended] = await db
    .select({ id: consents.id })
    .from(consents)
    .innerJoin(sql`centers ctr`, sql`ctr.id = ${consents.centerId}`)
    .where(
      sql`${consents.apiClientId} = ${apiClientId} and ${consents.closedAt} is null and ${consents.revokedAt} is null
        and ${consents.expiresOn} < ${todayIn(sql`ctr.timezone`, now)}`,
    )
    .limit(1);
  if (!ended) return 0;
  return db.transaction((tx) => closeEndedConsents(tx, apiClientId, now));
}

/** Consents of the participants, newest first (the history). */
export async function consentsOf(ctx: Context, participant: ParticipantRow): Promise<ConsentRow[]> {
  if (!ctx.access.can("consent.write", { centerId: participant.centerId })) throw forbidden("Only clinicians and admins may read consents");
  return ctx.db.select().from(consents).where(eq(consents.participantId, participant.id)).orderBy(desc(consents.recordedAt), desc(consents.id));
}

/** A consent for node(id:): the clinicians and admins of its participant's center read it; anyone else reads null. */
export async function visibleConsent(ctx: Context, id: string): Promise<ConsentRow | null> {
  const [row] = await ctx.db.select().from(consents).where(eq(consents.id, id));
  const participant = row ? await ctx.loaders.participants.byId.load(row.participantId) : null;
  if (!row || !participant || !(await canReadParticipant(ctx, participant))) return null;
  return ctx.access.can("consent.write", { centerId: row.centerId }) ? row : null;
}
