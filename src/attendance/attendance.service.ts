import { randomUUID } from "node:crypto";
import { and, eq, inArray, isNotNull, sql, type SQL } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { forbidden, Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { decodeId } from "../common/ids.js";
import { WriteSteps, type WriteStep } from "../common/steps.js";
import { idOf, LIMITS, notFound, text } from "../common/validate.js";
import type { Tx } from "../db/client.js";
import { attendance, attendanceHistory, enrollments, groups, sessions, type AttendanceRow, type GroupRow, type SessionRow } from "../db/schema.js";
import type { RecordAttendanceInput } from "./attendance.inputs.js";
import { AttendanceStatus, type RosterEntry } from "./attendance.type.js";
import { quiet } from "../common/quiet.js";

const MAX_RECORDS = 200;

/** One attendance record written by a batch: its value before (null when new) and after. */
export interface AttendanceWrite {
  before: AttendanceRow | null;
  after: AttendanceRow;
}

export interface AttendanceWriteContext {
  session: SessionRow;
  group: GroupRow;
  actorStaffId: string | null;
  /** The caller's reason for the change (trimmed; null when none was given). */
  reason: string | null;
}

/**
 * A step that runs inside the attendance transaction after the records are written, so that a
 * batch and everything derived from it commit together or not at all. The history is the first;
 * later features (the change feed, follow-ups) add theirs in src/steps.ts.
 */
export type AttendanceWriteStep = WriteStep<[context: AttendanceWriteContext, writes: AttendanceWrite[]]>;

/** Keeps the previous value of every changed record. */
export const writeHistory: AttendanceWriteStep = async (tx, { actorStaffId }, writes) => {
  if (!writes.length) return;
  await tx.insert(attendanceHistory).values(
    writes.map(({ before, after }) => ({
      centerId: after.centerId,
      attendanceId: after.id,
      version: after.version,
      status: after.status,
      minutesAttended: after.minutesAttended,
      note: after.note,
      previousStatus: before?.status ?? null,
      previousMinutesAttended: before?.minutesAttended ?? null,
      previousNote: before?.note ?? null,
      changedByStaffId: actorStaffId,
      changedAt: after.recordedAt,
    })),
  );
};

/** The steps run on every attendance batch; src/steps.ts adds them. */
export const attendanceWriteSteps = new WriteSteps<[context: AttendanceWriteContext, writes: AttendanceWrite[]]>("attendanceWriteSteps");

function defaultMinutes(status: string, session: SessionRow): number | null {
  if (status === "PRESENT") return Math.round((session.endsAt.getTime() - session.startsAt.getTime()) / 60_000);
  if (status === "ABSENT" || status === "EXCUSED") return 0;
  return null;
}

const NOT_ENROLLED = "No enrolment in this session's group for that participant";

/**
 * Upserts a batch of attendance records for one session, atomically: every record is written or
 * none is. Each change keeps its previous value in the history; nothing is deleted.
 */
export async function recordAttendance(ctx: Context, input: RecordAttendanceInput): Promise<AttendanceRow[]> {
  const sessionId = idOf("Session", input.sessionId, "sessionId");
  const p = new Problems();
  if (input.records.length === 0) p.add("records", UserErrorCode.REQUIRED, "Send at least one record");
  if (input.records.length > MAX_RECORDS) p.add("records", UserErrorCode.INVALID, `Send at most ${MAX_RECORDS} records at a time`);
  const ids: Array<string | null> = [];
  const seen = new Set<string>();
  input.records.forEach((r, i) => {
    const id = decodeId(r.participantId, "Participant");
    if (!id) p.add(`records.${i}.participantId`, UserErrorCode.NOT_ENROLLED, NOT_ENROLLED);
    else if (seen.has(id)) p.add(`records.${i}.participantId`, UserErrorCode.DUPLICATE, "The participant appears twice in this batch");
    if (id) seen.add(id);
    ids.push(id);
    if (r.minutesAttended != null) {
      if (!Number.isInteger(r.minutesAttended) || r.minutesAttended < 0 || r.minutesAttended > 1440) {
        p.add(`records.${i}.minutesAttended`, UserErrorCode.INVALID, "minutesAttended must be between 0 and 1440");
      } else if ((r.status === AttendanceStatus.ABSENT || r.status === AttendanceStatus.EXCUSED) && r.minutesAttended > 0) {
        p.add(`records.${i}.minutesAttended`, UserErrorCode.INVALID, `An ${r.status} record cannot have minutes attended`);
      }
    }
    if (r.note != null && r.note.trim().length > LIMITS.note) {
      p.add(`records.${i}.note`, UserErrorCode.INVALID, `note must be at most ${LIMITS.note} characters`);
    }
  });
  const reason = text(p, "reason", input.reason, { max: LIMITS.text });
  const participantIds = ids as string[];

  // The session and its group are read inside the transaction, by the statement that takes the
  // session's lock (BEGIN, the scope and it in one round trip), then checked as findVisibleSession
  // does, in the same order of refusals: NOT_FOUND, the role's refusal, then the input's problems.
  // A refusal rolls the transaction back (it wrote nothing; the lock lasted that round trip).
  // The write's audit entries are committed with it (ctx.scope.holdNextTransaction, src/db/scope.ts).
  ctx.scope?.holdNextTransaction();
  return ctx.db.transaction(async (tx) => {
    const lockRead = tx
      .select({ session: sessions, group: groups })
      .from(sessions)
      .innerJoin(groups, eq(groups.id, sessions.groupId))
      .where(eq(sessions.id, sessionId))
      .for("no key update", { of: sessions });
    // The lock's statement, then the batch's reads, sent in that order in one round trip: the
    // reads run once the lock is granted (PostgreSQL runs a connection's statements one after the
    // other, each with a snapshot taken as it starts), so they see what its previous holder wrote.
    // The order sent is the order in which the statements' `then` is called: the lock's at once,
    // the reads' after it (drizzle's select builders reach the driver after the same promise turns).
    const locked = new Promise<Array<{ session: SessionRow; group: GroupRow }>>((resolve, reject) => void lockRead.then(resolve, reject));
    const reads = p.any
      ? undefined
      : quiet(batchReads(tx, sessionId, sql`(select ${sessions.groupId} from ${sessions} where ${sessions.id} = ${sessionId})`, participantIds));
    const [found] = await locked;
    if (!found || !ctx.access.canSeeCenter(found.group.centerId) || !ctx.access.canSeeGroup(found.group)) throw notFound("Session", "sessionId");
    const { session, group } = found;
    ctx.access.require("attendance.write", { centerId: group.centerId, groupIds: [group.id] }, "Your role does not allow recording attendance for this group");
    if (session.status === "CANCELLED") p.add("sessionId", UserErrorCode.SESSION_CANCELLED, "The session was cancelled");
    p.throwIfAny();
    return writeAttendance(tx, ctx, {
      session,
      group,
      locked: { reads: reads! },
      records: input.records,
      participantIds,
      reason,
      fieldOf: (i) => `records.${i}.participantId`,
    });
  });
}

type BatchReads = [enrolled: Array<{ participantId: string }>, existing: AttendanceRow[]];

/** The enrolments (in the session's group) and the records (locked) of a batch's participants, sent together. */
function batchReads(tx: Tx, sessionId: string, groupId: string | SQL, participantIds: readonly string[]): Promise<BatchReads> {
  return Promise.all([
    tx
      .selectDistinct({ participantId: enrollments.participantId })
      .from(enrollments)
      .where(and(eq(enrollments.groupId, groupId), inArray(enrollments.participantId, participantIds), isNotNull(enrollments.activatedAt))),
    tx
      .select()
      .from(attendance)
      .where(and(eq(attendance.sessionId, sessionId), inArray(attendance.participantId, participantIds)))
      .for("no key update"),
  ]);
}

/** One batch for the attendance writer: the records, their participants' database ids (same order) and where a refusal points. */
export interface AttendanceBatch {
  session: SessionRow;
  group: GroupRow;
  records: ReadonlyArray<Pick<RecordAttendanceInput["records"][number], "status" | "minutesAttended" | "note">>;
  participantIds: readonly string[];
  reason: string | null;
  /**
   * The caller read `session` in this transaction with the lock writeAttendance takes (FOR NO KEY
   * UPDATE), and sent the batch's reads (batchReads) right behind it: neither is sent again.
   */
  locked?: { reads: Promise<BatchReads> };
  /** The input path of record i's participant, for NOT_ENROLLED. */
  fieldOf: (i: number) => string;
}

/**
 * The attendance writer, inside the caller's transaction: recordAttendance's and every other
 * writer's of attendance (self check-in's reconciliation), so that all of them keep the same rules,
 * history, follow-ups, feed and note corrections (attendanceWriteSteps). Locks the session.
 */
export async function writeAttendance(tx: Tx, ctx: Context, batch: AttendanceBatch): Promise<AttendanceRow[]> {
  const { session, group, reason, participantIds } = batch;
  const input = { records: batch.records };
  // Serializes batches on one session (two staff recording at once): waited for, so that the
  // reads after it see what a batch that held it before wrote. (BEGIN and the scope go with it.)
  // FOR NO KEY UPDATE, not FOR UPDATE: it conflicts with itself and with any change of the session,
  // but not with the FOR KEY SHARE a foreign key check takes. A batch of another session of the
  // group opening a follow-up references this session (its run's latest absence) while holding the
  // group's follow-ups lock, which this batch waits for: FOR UPDATE made that a deadlock.
  const [current] = batch.locked ? [session] : await tx.select().from(sessions).where(eq(sessions.id, session.id)).for("no key update");
  const [enrolled, existingRows] = await (batch.locked?.reads ?? batchReads(tx, session.id, group.id, participantIds));
  if (!current) throw notFound("Session", "sessionId"); // removed meanwhile by a schedule change
  if (current.status === "CANCELLED") {
    throw UserInputError.of("sessionId", UserErrorCode.SESSION_CANCELLED, "The session was cancelled");
  }
  const enrolledIds = new Set(enrolled.map((e) => e.participantId));
  const missing = new Problems();
  participantIds.forEach((id, i) => {
    if (!enrolledIds.has(id)) missing.add(batch.fieldOf(i), UserErrorCode.NOT_ENROLLED, NOT_ENROLLED);
  });
  missing.throwIfAny();

  const existing = new Map(existingRows.map((r) => [r.participantId, r]));
  const now = clock.now();
  const writes: AttendanceWrite[] = [];
  const result: AttendanceRow[] = [];
  const inserts: Array<{ i: number; row: AttendanceRow }> = [];
  const updates: Array<{ i: number; before: AttendanceRow; after: AttendanceRow }> = [];
  for (const [i, r] of input.records.entries()) {
    const participantId = participantIds[i];
    const before = existing.get(participantId) ?? null;
    const note = r.note === undefined || r.note === null ? (before?.note ?? null) : r.note.trim() || null;
    const minutes =
      r.minutesAttended != null
        ? r.minutesAttended
        : before && before.status === (r.status as string)
          ? before.minutesAttended
          : defaultMinutes(r.status, current);
    if (!before) {
      const row: AttendanceRow = {
        id: randomUUID(),
        centerId: group.centerId,
        sessionId: session.id,
        participantId,
        status: r.status,
        minutesAttended: minutes,
        note,
        recordedByStaffId: ctx.access.staffId,
        recordedAt: now,
        version: 1,
        createdAt: now,
      };
      inserts.push({ i, row });
      continue;
    }
    if (before.status === (r.status as string) && before.minutesAttended === minutes && before.note === note) {
      result[i] = before; // unchanged: a retry writes nothing
      continue;
    }
    updates.push({
      i,
      before,
      after: {
        ...before,
        status: r.status,
        minutesAttended: minutes,
        note,
        recordedByStaffId: ctx.access.staffId,
        recordedAt: now,
        version: before.version + 1,
      },
    });
  }
  // The rows after the write are known here (the records are locked, new ones get their id now),
  // so the update, the insert and the write steps' first statements go out together, in that
  // order, in one round trip: `then` is called on the update and the insert at once, and the steps
  // reach the driver later (src/common/steps.ts); the steps' statements run after them.
  for (const u of updates) {
    writes.push({ before: u.before, after: u.after });
    result[u.i] = u.after;
  }
  for (const { i, row } of inserts) {
    writes.push({ before: null, after: row });
    result[i] = row;
  }
  const sent: Array<Promise<unknown>> = [];
  if (updates.length) {
    // One statement for every changed record (ids are unique: one record per participant).
    const values = sql.join(
      updates.map((u) => sql`(${u.before.id}::uuid, ${u.after.status}::text, ${u.after.minutesAttended}::int, ${u.after.note}::text, ${u.after.version}::int)`),
      sql`, `,
    );
    const update = tx
      .update(attendance)
      .set({
        status: sql`"v"."status"`,
        minutesAttended: sql`"v"."minutes"`,
        note: sql`"v"."note"`,
        recordedByStaffId: ctx.access.staffId,
        recordedAt: now,
        version: sql`"v"."version"`,
      })
      .from(sql`(values ${values}) as "v"("id", "status", "minutes", "note", "version")`)
      .where(sql`${attendance.id} = "v"."id"`)
      .returning({ id: attendance.id });
    sent.push(
      new Promise<void>((resolve, reject) => {
        void update.then((rows) => (rows.length === updates.length ? resolve() : reject(new Error("attendance: a locked record was not updated"))), reject);
      }),
    );
  }
  if (inserts.length) {
    const insert = tx.insert(attendance).values(inserts.map((x) => x.row));
    sent.push(new Promise<void>((resolve, reject) => void insert.then(() => resolve(), reject)));
  }
  const context: AttendanceWriteContext = { session: current, group, actorStaffId: ctx.access.staffId, reason };
  // The steps are independent of one another: their statements are sent together (src/common/steps.ts).
  const ended = await Promise.allSettled([...sent, attendanceWriteSteps.runTogether(tx, context, writes)]);
  // Every statement has settled (none is sent after the transaction ends); the first failure, in the order sent, is the answer.
  const failed = ended.find((e): e is PromiseRejectedResult => e.status === "rejected");
  if (failed) throw failed.reason;
  return result;
}

/**
 * Attendance records name participants: clinical staff and the group's facilitators may read a
 * session's records; other roles that see the session (VIEWERs) are refused.
 */
export function requireRecordsOf(ctx: Context, group: Pick<GroupRow, "id" | "centerId">): void {
  if (!ctx.access.can("participant.read", { centerId: group.centerId, groupIds: [group.id] })) {
    throw forbidden("Your role does not allow reading attendance records");
  }
}

/**
 * A session's roster: the members expected (ACTIVE enrolments at its start), then anyone else
 * recorded, each with their record. The one builder of `Session.roster` and of the live roster's
 * events (src/live), so every field of RosterEntry reads the same in both.
 */
export async function sessionRoster(ctx: Context, session: Pick<SessionRow, "id" | "centerId">): Promise<RosterEntry[]> {
  const [expected, recorded] = await Promise.all([
    ctx.loaders.attendance.expectedBySessionId.load(session.id),
    ctx.loaders.attendance.bySessionId.load(session.id),
  ]);
  const byParticipant = new Map(recorded.map((a) => [a.participantId, a]));
  const entries: RosterEntry[] = expected.map((e) => ({
    participantId: e.participantId,
    sessionId: session.id,
    centerId: session.centerId,
    enrollmentId: e.enrollmentId,
    attendanceId: byParticipant.get(e.participantId)?.id ?? null,
    expected: true,
  }));
  const listed = new Set(expected.map((e) => e.participantId));
  for (const a of recorded) {
    if (!listed.has(a.participantId))
      entries.push({
        participantId: a.participantId,
        sessionId: session.id,
        centerId: session.centerId,
        enrollmentId: null,
        attendanceId: a.id,
        expected: false,
      });
  }
  return entries;
}
