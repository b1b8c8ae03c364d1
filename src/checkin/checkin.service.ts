// Self check-in: staff open a session's window (openCheckIn) and show the room code; members claim
// their presence with their personal token and that code (selfCheckIn); staff accept or reject the
// claims (reconcileCheckIns), accepted ones becoming attendance through the attendance writer.
// Tokens and room codes: src/checkin/checkin.token.ts. Design and security model: docs/checkin.md.
import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, lt, sql } from "drizzle-orm";
import { writeAttendance } from "../attendance/attendance.service.js";
import { seatHeldAtStart } from "../attendance/attendance.sql.js";
import { AttendanceStatus } from "../attendance/attendance.type.js";
import { appendAuditEntries } from "../audit/audit.service.js";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { Problems, UserError, UserErrorCode, UserInputError } from "../common/errors.js";
import { decodeId } from "../common/ids.js";
import { aliased, rowsOf, tableAs } from "../common/sql.js";
import { WriteSteps } from "../common/steps.js";
import { LIMITS, notFound, text } from "../common/validate.js";
import type { CheckInConfig } from "../config.js";
import type { Db, Tx } from "../db/client.js";
import { attendance, centers, checkInFailures, checkIns, checkInWindows, enrollments, sessions, type AttendanceRow, type CheckInRow } from "../db/schema.js";
import { findVisibleSession } from "../sessions/session.service.js";
import type { OpenCheckInInput, ReconcileCheckInsInput, SelfCheckInInput } from "./checkin.inputs.js";
import { checkInLinkOf, currentRoomCode, readCheckInToken, roomCodeValid, tokenKey } from "./checkin.token.js";
import type { CheckInWindowView } from "./checkin.type.js";

/**
 * The steps run at the end of every transaction that writes claims (a claim recorded, claims
 * accepted or rejected), with the session and the members whose claim changed; src/steps.ts adds them.
 */
export const checkInWriteSteps = new WriteSteps<[{ sessionId: string; participantIds: string[] }]>("self check-in");

/** The secret, when self check-in is on for this request's server. */
function checkInSecret(ctx: Pick<Context, "checkIn">): string | null {
  return ctx.checkIn?.config.secret ?? null;
}

/** The link for a roster entry, or null when self check-in is off. */
export function checkInLink(ctx: Context, sessionId: string, participantId: string): string | null {
  const secret = checkInSecret(ctx);
  return secret && ctx.checkIn ? checkInLinkOf(ctx.checkIn.publicUrl, secret, sessionId, participantId) : null;
}

const target = (group: { id: string; centerId: string }) => ({ centerId: group.centerId, groupIds: [group.id] });

/** The window a center's settings give a session: [start - before, start + after], both ends inclusive. */
function windowOf(startsAt: Date, center: { checkInOpensMinutesBefore: number; checkInClosesMinutesAfter: number }) {
  return {
    opensAt: new Date(startsAt.getTime() - center.checkInOpensMinutesBefore * 60_000),
    closesAt: new Date(startsAt.getTime() + center.checkInClosesMinutesAfter * 60_000),
  };
}

/**
 * Opens the session's check-in window (or returns it, already open) with the current room code.
 * Clinical staff and the group's facilitators; off without CHECKIN_SECRET (CHECK_IN_DISABLED).
 */
export async function openCheckIn(ctx: Context, input: OpenCheckInInput): Promise<CheckInWindowView> {
  const { session, group } = await findVisibleSession(ctx, input.sessionId, "sessionId");
  ctx.access.require("checkin.manage", target(group), "Your role does not allow running check-in for this group");
  const secret = checkInSecret(ctx);
  if (!secret || !ctx.checkIn) {
    throw UserInputError.of(null, UserErrorCode.CHECK_IN_DISABLED, "Self check-in is off on this server: it needs CHECKIN_SECRET (docs/checkin.md)");
  }
  const period = ctx.checkIn.config.codePeriodSeconds;
  const now = clock.now();
  const row = await ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(sessions).where(eq(sessions.id, session.id)).for("share");
    if (!current) throw notFound("Session", "sessionId");
    if (current.status === "CANCELLED") throw UserInputError.of("sessionId", UserErrorCode.SESSION_CANCELLED, "The session was cancelled");
    const [center] = await tx.select().from(centers).where(eq(centers.id, current.centerId));
    const window = windowOf(current.startsAt, center);
    // Two staff opening at once: one row, and both get it.
    await tx
      .insert(checkInWindows)
      .values({ sessionId: current.id, centerId: current.centerId, ...window, openedByStaffId: ctx.access.staffId, openedAt: now })
      .onConflictDoNothing();
    const [open] = await tx.select().from(checkInWindows).where(eq(checkInWindows.sessionId, current.id));
    if (now > open.closesAt) {
      throw UserInputError.of("sessionId", UserErrorCode.INVALID, "This session's check-in window has closed: record attendance instead");
    }
    return open;
  });
  const code = currentRoomCode(secret, session.id, now, period);
  return {
    sessionId: session.id,
    centerId: session.centerId,
    roomCode: code.code,
    roomCodeExpiresAt: code.expiresAt,
    opensAt: row.opensAt,
    closesAt: row.closesAt,
  };
}

/** Every refusal of selfCheckIn, whatever was wrong: the same code, field and words. */
function refusal(): UserInputError {
  const error = Object.assign(new UserError(), {
    field: ["input"],
    code: UserErrorCode.INVALID_CHECK_IN,
    message: "Check-in not accepted. Check the code shown in the room and try again, or ask a staff member.",
  });
  return new UserInputError([error]);
}

/** Thrown inside the claim's transaction (rolling it back) when the claim is refused. */
class Refused extends Error {}

function failureWindow(config: CheckInConfig, now: Date): Date {
  const ms = config.failureWindowSeconds * 1000;
  return new Date(Math.floor(now.getTime() / ms) * ms);
}

/** Whether a key has used up its failed tries in this window (counted in the database: every instance shares them). */
async function overLimit(db: Db, config: CheckInConfig, keys: { token: string; address: string }, windowStart: Date): Promise<boolean> {
  const rows = await db
    .select({ key: checkInFailures.key, failures: checkInFailures.failures })
    .from(checkInFailures)
    .where(and(inArray(checkInFailures.key, [keys.token, keys.address]), eq(checkInFailures.windowStart, windowStart)));
  return rows.some((r) => r.failures >= (r.key === keys.token ? config.maxFailuresPerToken : config.maxFailuresPerAddress));
}

/** Counts one failed try against the token and the address (a new window starts the count again). */
async function countFailure(db: Db, keys: { token: string; address: string }, windowStart: Date): Promise<void> {
  await db
    .insert(checkInFailures)
    .values([keys.token, keys.address].map((key) => ({ key, windowStart, failures: 1 })))
    .onConflictDoUpdate({
      target: checkInFailures.key,
      set: {
        failures: sql`case when ${checkInFailures.windowStart} = excluded.window_start then ${checkInFailures.failures} + 1 else 1 end`,
        windowStart: sql`excluded.window_start`,
      },
    });
}

/** Drops the failure counters of windows that ended before `before` (any instance may, now and then). */
export async function pruneCheckInFailures(db: Db, before: Date): Promise<number> {
  const gone = await db.delete(checkInFailures).where(lt(checkInFailures.windowStart, before)).returning({ key: checkInFailures.key });
  return gone.length;
}

/**
 * A member's claim of presence, from their token and the room code, without a staff token. Records
 * the claim (late after the start) once; a repeat answers the same and changes nothing. Every
 * refusal is INVALID_CHECK_IN; failed tries are counted per token and per address, and past the
 * limit every try is refused until the window ends.
 */
export async function selfCheckIn(ctx: Context, input: SelfCheckInInput): Promise<{ checkedInAt: Date; sessionStartsAt: Date }> {
  const settings = ctx.checkIn;
  const secret = checkInSecret(ctx);
  if (!settings || !secret) throw refused(ctx, null);
  const { config } = settings;
  const now = clock.now();
  const token = String(input.token ?? "").slice(0, 200);
  const keys = { token: `t:${tokenKey(token)}`, address: `ip:${settings.clientAddress}`.slice(0, 100) };
  const windowStart = failureWindow(config, now);
  const named = readCheckInToken(secret, token);
  if (await overLimit(ctx.db, config, keys, windowStart)) throw refused(ctx, named);
  try {
    if (!named) throw new Refused();
    return await ctx.db.transaction((tx) => claim(tx, ctx, { ...named, roomCode: String(input.roomCode ?? ""), secret, config, now }));
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    await countFailure(ctx.db, keys, windowStart);
    throw refused(ctx, named);
  }
}

/**
 * The refusal, recorded as a failed attempt for the audit log's review of failed access (the audit
 * plugin writes it at the request's end, as any refusal: ANONYMOUS, with the caller's address).
 * Identifiers only: the session and member a genuine token names (a forged or unreadable one names
 * nothing); never the token or the code tried.
 */
function refused(ctx: Context, named: { sessionId: string; participantId: string } | null): UserInputError {
  ctx.access.touch({
    action: "DENIED",
    outcome: "DENIED",
    resourceType: "CheckIn",
    resourceId: null,
    centerId: null,
    participantIds: named ? [named.participantId] : [],
  });
  return refusal();
}

interface ClaimInput {
  sessionId: string;
  participantId: string;
  roomCode: string;
  secret: string;
  config: CheckInConfig;
  now: Date;
}

async function claim(tx: Tx, ctx: Context, c: ClaimInput): Promise<{ checkedInAt: Date; sessionStartsAt: Date }> {
  // The caller has no staff token, so the request reaches no center (row-level security); the
  // verified token names the session, whose center this transaction may then reach, and no other.
  await tx.execute(sql`select set_config('app.center_ids', 'all', true)`);
  const [found] = await tx
    .select({ session: sessions, window: checkInWindows })
    .from(sessions)
    .leftJoin(checkInWindows, eq(checkInWindows.sessionId, sessions.id))
    .where(eq(sessions.id, c.sessionId));
  if (!found) throw new Refused();
  await tx.execute(sql`select set_config('app.center_ids', ${found.session.centerId}, true)`);
  const { session, window } = found;
  if (!window || session.status === "CANCELLED") throw new Refused();
  if (c.now < window.opensAt || c.now > window.closesAt) throw new Refused();
  if (!roomCodeValid(c.secret, session.id, c.roomCode, c.now, c.config.codePeriodSeconds)) throw new Refused();
  // The member holds a seat in the session's roster (an enrolment active at its start).
  const [e, s] = [aliased(enrollments, "e"), aliased(sessions, "s")];
  const seat = await rowsOf<{ ok: number }>(
    tx,
    sql`select 1 as ok from ${sql.raw(tableAs(enrollments, "e"))} join ${sql.raw(tableAs(sessions, "s"))} on ${sql.raw(s.id)} = ${session.id}
        where ${sql.raw(e.groupId)} = ${sql.raw(s.groupId)} and ${sql.raw(e.participantId)} = ${c.participantId}
          and ${sql.raw(seatHeldAtStart("e", "s"))} limit 1`,
  );
  if (!seat.length) throw new Refused();

  const [created] = await tx
    .insert(checkIns)
    .values({ centerId: session.centerId, sessionId: session.id, participantId: c.participantId, checkedInAt: c.now, late: c.now > session.startsAt })
    .onConflictDoNothing()
    .returning();
  if (!created) {
    // A repeat: the first claim stands, nothing changes.
    const [first] = await tx
      .select()
      .from(checkIns)
      .where(and(eq(checkIns.sessionId, session.id), eq(checkIns.participantId, c.participantId)));
    return { checkedInAt: first.checkedInAt, sessionStartsAt: session.startsAt };
  }
  await checkInWriteSteps.run(tx, { sessionId: session.id, participantIds: [c.participantId] });
  // The check-in is the member's own action, through their token: recorded as theirs, in its commit.
  await appendAuditEntries(tx, [
    {
      id: randomUUID(),
      occurredAt: c.now,
      actorType: "PARTICIPANT",
      actorId: c.participantId,
      centerId: session.centerId,
      action: "CREATE",
      resourceType: "CheckIn",
      resourceId: created.id,
      participantIds: [c.participantId],
      operationName: "selfCheckIn",
      requestId: ctx.requestId ?? null,
      outcome: "ALLOWED",
    },
  ]);
  return { checkedInAt: created.checkedInAt, sessionStartsAt: session.startsAt };
}

const NO_CLAIM = "No check-in by that participant for this session";

/**
 * Turns accepted claims into attendance (PRESENT, or LATE when claimed after the start) through the
 * attendance writer, and keeps rejected ones as REJECTED, in one transaction. Every id must name a
 * claim of the session (else NOT_FOUND, nothing written). Two staff at once: the session's lock
 * serializes them, and the second finds the decisions made (a decision repeated writes nothing).
 */
export async function reconcileCheckIns(ctx: Context, input: ReconcileCheckInsInput): Promise<AttendanceRow[]> {
  const { session, group } = await findVisibleSession(ctx, input.sessionId, "sessionId");
  ctx.access.require("checkin.manage", target(group), "Your role does not allow reconciling check-ins for this group");
  const p = new Problems();
  const seen = new Set<string>();
  const decode = (list: readonly string[] | null | undefined, field: string) =>
    (list ?? []).map((globalId, i) => {
      const id = decodeId(globalId, "Participant");
      if (!id) p.add(`${field}.${i}`, UserErrorCode.NOT_FOUND, NO_CLAIM);
      else if (seen.has(id)) p.add(`${field}.${i}`, UserErrorCode.DUPLICATE, "The participant appears twice in this input");
      if (id) seen.add(id);
      return { id: id ?? "", field: `${field}.${i}` };
    });
  const accept = decode(input.accept, "accept");
  const reject = decode(input.reject, "reject");
  if (!accept.length && !reject.length) p.add("accept", UserErrorCode.REQUIRED, "Accept or reject at least one check-in");
  const reason = text(p, "reason", input.reason, { max: LIMITS.text });
  if (session.status === "CANCELLED") p.add("sessionId", UserErrorCode.SESSION_CANCELLED, "The session was cancelled");
  p.throwIfAny();
  const now = clock.now();

  return ctx.db.transaction(async (tx) => {
    // Serializes reconciliations (and attendance batches) of one session; NO KEY UPDATE, as
    // recordAttendance locks it, so a follow-up of another session pointing at this one (a foreign
    // key check, FOR KEY SHARE) is not blocked behind it (the deadlock of test/followups.test.ts).
    const [current] = await tx.select().from(sessions).where(eq(sessions.id, session.id)).for("no key update");
    if (!current) throw notFound("Session", "sessionId");
    const ids = [...accept, ...reject].map((x) => x.id);
    const claims = await tx
      .select()
      .from(checkIns)
      .where(and(eq(checkIns.sessionId, session.id), inArray(checkIns.participantId, ids)))
      .for("update");
    const byParticipant = new Map(claims.map((c) => [c.participantId, c]));
    const problems = new Problems();
    for (const x of [...accept, ...reject]) if (!byParticipant.has(x.id)) problems.add(x.field, UserErrorCode.NOT_FOUND, NO_CLAIM);
    for (const x of reject) {
      if (byParticipant.get(x.id)?.status === "ACCEPTED") {
        problems.add(x.field, UserErrorCode.INVALID_TRANSITION, "That check-in was accepted and is attendance now: change the attendance instead");
      }
    }
    problems.throwIfAny();

    const toAccept = accept.map((x) => ({ ...x, claim: byParticipant.get(x.id)! })).filter((x) => x.claim.status !== "ACCEPTED");
    const toReject = reject.map((x) => byParticipant.get(x.id)!).filter((c) => c.status !== "REJECTED");
    if (toAccept.length) {
      await writeAttendance(tx, ctx, {
        session: current,
        group,
        records: toAccept.map((x) => ({ status: x.claim.late ? AttendanceStatus.LATE : AttendanceStatus.PRESENT })),
        participantIds: toAccept.map((x) => x.id),
        reason,
        fieldOf: (i) => toAccept[i].field,
      });
    }
    const decide = async (rows: CheckInRow[], status: "ACCEPTED" | "REJECTED") => {
      if (!rows.length) return;
      await tx
        .update(checkIns)
        .set({ status, decidedByStaffId: ctx.access.staffId, decidedAt: now })
        .where(
          inArray(
            checkIns.id,
            rows.map((r) => r.id),
          ),
        );
    };
    await decide(
      toAccept.map((x) => x.claim),
      "ACCEPTED",
    );
    await decide(toReject, "REJECTED");
    const changed = [...toAccept.map((x) => x.id), ...toReject.map((c) => c.participantId)];
    if (changed.length) await checkInWriteSteps.run(tx, { sessionId: session.id, participantIds: changed });
    if (!accept.length) return [];
    const rows = await tx
      .select()
      .from(attendance)
      .where(
        and(
          eq(attendance.sessionId, session.id),
          inArray(
            attendance.participantId,
            accept.map((x) => x.id),
          ),
        ),
      )
      .orderBy(asc(attendance.participantId));
    const order = new Map(accept.map((x, i) => [x.id, i]));
    return rows.sort((a, b) => order.get(a.participantId)! - order.get(b.participantId)!);
  });
}
