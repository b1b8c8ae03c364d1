// Group session notes: the rules. One note per session, written as a DRAFT (optimistic versions),
// signed and locked by its author or a facilitator of the session (PENDING_COSIGN first when the
// signer's credential needs a supervisor), changed afterwards only by addenda. Attendance changed
// after signing writes a CORRECTION addendum in the attendance transaction (a write step, added in
// src/steps.ts) and voids and reissues the member's service record.
//
// Every write on a session's note first locks the session row, as recordAttendance does: saves,
// signatures, co-signatures and attendance batches on one session run one after another, so a
// correction either lands before the signature (the signature reads it) or after it (an addendum).
import { and, eq, inArray, sql } from "drizzle-orm";
import type { AttendanceWriteStep } from "../attendance/attendance.service.js";
import { seatHeldAtStart } from "../attendance/attendance.sql.js";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { forbidden, Problems, UserErrorCode, UserInputError } from "../common/errors.js";
import { decodeId } from "../common/ids.js";
import { rowsOf } from "../common/sql.js";
import { idOf, LIMITS, notFound, text } from "../common/validate.js";
import type { DbOrTx, Tx } from "../db/client.js";
import {
  attendance,
  centers,
  groups,
  noteAddenda,
  programs,
  serviceRecords,
  sessionNoteMembers,
  sessionNotes,
  sessions,
  staff,
  type AttendanceRow,
  type GroupRow,
  type NoteAddendumRow,
  type SessionNoteRow,
  type SessionRow,
} from "../db/schema.js";
import { findVisibleSession } from "../sessions/session.service.js";
import { dayInZone } from "../sessions/timezone.js";
import type { AddNoteAddendumInput, CosignSessionNoteInput, SaveSessionNoteInput, SignSessionNoteInput } from "./notes.inputs.js";
import { isAttended, sessionMemberNames, type MemberName } from "./notes.sql.js";
import type { NoteView } from "./notes.type.js";

// ---- the name rule ---------------------------------------------------------------------------

const WORD = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*/gu;

/** A word compared: accents dropped, lower case, one apostrophe. */
function foldWord(word: string): string {
  return word.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/’/g, "'");
}

const withoutPossessive = (folded: string) => (folded.endsWith("'s") ? folded.slice(0, -2) : folded);

interface Token {
  folded: string;
  start: number;
  end: number;
}

function tokens(value: string): Token[] {
  return [...value.matchAll(WORD)].map((m) => ({ folded: foldWord(m[0]), start: m.index, end: m.index + m[0].length }));
}

/** A member's names as word sequences; names of one letter are not matched. */
function nameSequences(m: MemberName): string[][] {
  const out: string[][] = [];
  for (const name of [m.firstName, m.lastName, m.preferredName]) {
    if (!name) continue;
    const words = tokens(name).map((t) => t.folded);
    if (words.join("").length <= 1) continue;
    out.push(words);
  }
  return out;
}

/**
 * The first word (as written) of `value` that is one of `names` — a whole word, ignoring case and
 * accents, with or without a trailing possessive — unless listed in `reviewed`; null when none.
 */
export function firstNameMatch(value: string, names: readonly string[][], reviewed: ReadonlySet<string>): string | null {
  if (!names.length) return null;
  const words = tokens(value);
  for (let i = 0; i < words.length; i++) {
    for (const name of names) {
      if (i + name.length > words.length) continue;
      let ok = true;
      for (let k = 0; k < name.length && ok; k++) {
        const w = words[i + k].folded;
        ok = w === name[k] || (k === name.length - 1 && withoutPossessive(w) === name[k]);
      }
      if (!ok) continue;
      const written = value.slice(words[i].start, words[i + name.length - 1].end);
      if (reviewed.has(withoutPossessive(foldWord(written)))) continue;
      return written;
    }
  }
  return null;
}

/** The texts of one write to check, each with its path and the member whose part it is (null: shared). */
interface CheckedText {
  path: string;
  value: string | null | undefined;
  owner: string | null;
}

function reviewedSet(words: readonly string[] | null | undefined): Set<string> {
  return new Set((words ?? []).map((w) => withoutPossessive(foldWord(w.trim()))).filter(Boolean));
}

/** NAMES_OTHER_MEMBER on every text naming a member of the session other than its owner. */
function checkNames(p: Problems, members: MemberName[], texts: CheckedText[], reviewed: ReadonlySet<string>): void {
  const byMember = members.map((m) => ({ id: m.id, names: nameSequences(m) }));
  for (const t of texts) {
    if (!t.value) continue;
    const names = byMember.filter((m) => m.id !== t.owner).flatMap((m) => m.names);
    const word = firstNameMatch(t.value, names, reviewed);
    if (word !== null) {
      p.add(
        t.path,
        UserErrorCode.NAMES_OTHER_MEMBER,
        `"${word}" is the name of ${t.owner ? "another" : "a"} member of this session; leave it out, or list it in reviewedNameMatches if it does not refer to a person`,
      );
    }
  }
}

// ---- reading ---------------------------------------------------------------------------------

/** The participants a note is about: every member with a part or an attendance record. */
async function memberIdsOf(db: DbOrTx, note: Pick<SessionNoteRow, "id" | "sessionId">): Promise<string[]> {
  const rows = await rowsOf<{ id: string }>(
    db,
    sql`select participant_id::text as id from ${attendance} where session_id = ${note.sessionId}::uuid
        union select participant_id::text from ${sessionNoteMembers} where note_id = ${note.id}::uuid`,
  );
  return rows.map((r) => r.id).sort();
}

const groupTarget = (group: Pick<GroupRow, "id" | "centerId">) => ({ centerId: group.centerId, groupIds: [group.id] });

/** The refusal of a role that may see a session but never its note (VIEWER). */
const notesForbidden = () => forbidden("Your role does not allow reading session notes");

/** Whether the viewer may read the notes of this group's sessions (VIEWERs: FORBIDDEN). */
export function requireNotesOf(ctx: Context, group: Pick<GroupRow, "id" | "centerId">): void {
  if (!ctx.access.can("note.read", groupTarget(group))) throw notesForbidden();
}

/** A note whose session the viewer can see, or NOT_FOUND; FORBIDDEN to roles that read no notes. */
async function findVisibleNote(ctx: Context, globalId: string, field: string): Promise<{ note: SessionNoteRow; session: SessionRow; group: GroupRow }> {
  const id = idOf("SessionNote", globalId, field);
  const note = await ctx.loaders.notes.byId.load(id);
  const session = note ? await ctx.loaders.sessions.byId.load(note.sessionId) : null;
  const group = session ? await ctx.loaders.groups.byId.load(session.groupId) : null;
  if (!note || !session || !group || !ctx.access.canSeeCenter(group.centerId) || !ctx.access.canSeeGroup(group)) throw notFound("SessionNote", field);
  requireNotesOf(ctx, group);
  return { note, session, group };
}

/** How node(id:) sees a note: readable, missing (out of reach) or forbidden (a VIEWER). */
export async function noteVisibility(ctx: Context, note: SessionNoteRow): Promise<"readable" | "missing" | "forbidden"> {
  const session = await ctx.loaders.sessions.byId.load(note.sessionId);
  const group = session ? await ctx.loaders.groups.byId.load(session.groupId) : null;
  if (!group || !ctx.access.canSeeCenter(group.centerId) || !ctx.access.canSeeGroup(group)) return "missing";
  return ctx.access.can("note.read", groupTarget(group)) ? "readable" : "forbidden";
}

export { notesForbidden };

// ---- writing ---------------------------------------------------------------------------------

const SERVICE_CODE = /^(\d{4}[0-9FTU]|[A-Z]\d{4})$/;

/** "" clears, null/undefined keeps; otherwise trimmed and bounded. */
function textChange(p: Problems, field: string, value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  return text(p, field, value, { max: LIMITS.note });
}

async function lockSession(tx: Tx, sessionId: string): Promise<SessionRow> {
  const [row] = await tx.select().from(sessions).where(eq(sessions.id, sessionId)).for("update");
  if (!row) throw notFound("Session", "sessionId");
  return row;
}

async function lockNoteOf(tx: Tx, sessionId: string): Promise<SessionNoteRow | null> {
  const [row] = await tx.select().from(sessionNotes).where(eq(sessionNotes.sessionId, sessionId)).for("update");
  return row ?? null;
}

const locked = (field: string) => UserInputError.of(field, UserErrorCode.NOTE_LOCKED, "The note is signed and locked: add an addendum instead");
const conflict = () =>
  UserInputError.of("version", UserErrorCode.CONFLICT, "Someone else saved this note since you read it: read it again and redo your change");

async function viewOf(tx: Tx, note: SessionNoteRow): Promise<NoteView> {
  return { ...note, memberIds: await memberIdsOf(tx, note) };
}

/** Creates or updates the DRAFT note of a session (one per session). */
export async function saveSessionNote(ctx: Context, input: SaveSessionNoteInput): Promise<NoteView> {
  const { session, group } = await findVisibleSession(ctx, input.sessionId, "sessionId");
  if (!ctx.access.can("note.write", groupTarget(group))) throw forbidden("Your role does not allow writing session notes");
  const p = new Problems();
  const serviceCode = input.serviceCode == null ? undefined : input.serviceCode.trim().toUpperCase() || null;
  if (serviceCode && !SERVICE_CODE.test(serviceCode))
    p.add("serviceCode", UserErrorCode.INVALID, "serviceCode must be a CPT (e.g. 90853) or HCPCS (e.g. H0038) code");
  const topic = textChange(p, "topic", input.topic);
  const interventions = textChange(p, "interventions", input.interventions);
  const groupSummary = textChange(p, "groupSummary", input.groupSummary);
  if (input.version != null && (!Number.isInteger(input.version) || input.version < 1))
    p.add("version", UserErrorCode.INVALID, "version is the note's version as read");
  const memberIds: string[] = [];
  const seen = new Set<string>();
  const parts = (input.members ?? []).map((m, i) => {
    const id = decodeId(m.participantId, "Participant");
    if (!id) p.add(`members.${i}.participantId`, UserErrorCode.NOT_ENROLLED, "No attendance record of this session for that participant");
    else if (seen.has(id)) p.add(`members.${i}.participantId`, UserErrorCode.DUPLICATE, "The participant appears twice");
    if (id) seen.add(id);
    memberIds.push(id ?? "");
    return {
      participantId: id,
      participation: m.participation ?? undefined,
      progress: textChange(p, `members.${i}.progress`, m.progress),
      plan: textChange(p, `members.${i}.plan`, m.plan),
      risk: textChange(p, `members.${i}.risk`, m.risk),
    };
  });
  if (session.status === "CANCELLED") p.add("sessionId", UserErrorCode.SESSION_CANCELLED, "The session was cancelled");
  p.throwIfAny();

  return ctx.db.transaction(async (tx) => {
    const current = await lockSession(tx, session.id);
    const note = await lockNoteOf(tx, session.id);
    if (note && note.status !== "DRAFT") throw locked("sessionId");
    if (note ? input.version !== note.version : input.version != null) throw conflict();
    const startedAt = input.startedAt ?? note?.startedAt ?? current.startsAt;
    const endedAt = input.endedAt ?? note?.endedAt ?? current.endsAt;
    const checks = new Problems();
    if (endedAt.getTime() <= startedAt.getTime())
      checks.add(input.endedAt ? "endedAt" : "startedAt", UserErrorCode.INVALID, "The group must end after it starts");
    const recorded = new Set(
      (await tx.select({ participantId: attendance.participantId }).from(attendance).where(eq(attendance.sessionId, session.id))).map((r) => r.participantId),
    );
    parts.forEach((part, i) => {
      if (part.participantId && !recorded.has(part.participantId)) {
        checks.add(`members.${i}.participantId`, UserErrorCode.NOT_ENROLLED, "No attendance record of this session for that participant");
      }
    });
    const members = await sessionMemberNames(tx, session.id);
    checkNames(
      checks,
      members,
      [
        { path: "topic", value: topic, owner: null },
        { path: "interventions", value: interventions, owner: null },
        { path: "groupSummary", value: groupSummary, owner: null },
        ...parts.flatMap((part, i) =>
          (["progress", "plan", "risk"] as const).map((f) => ({ path: `members.${i}.${f}`, value: part[f], owner: part.participantId })),
        ),
      ],
      reviewedSet(input.reviewedNameMatches),
    );
    checks.throwIfAny();

    const now = clock.now();
    let saved: SessionNoteRow;
    if (!note) {
      const [program] = await tx.select({ billingCode: programs.billingCode }).from(programs).where(eq(programs.id, group.programId));
      [saved] = await tx
        .insert(sessionNotes)
        .values({
          centerId: group.centerId,
          sessionId: session.id,
          serviceCode: serviceCode === undefined ? (program?.billingCode ?? null) : serviceCode,
          startedAt,
          endedAt,
          topic: topic === undefined ? current.topic : topic,
          interventions: interventions ?? null,
          groupSummary: groupSummary ?? null,
          authorStaffId: ctx.access.staffId,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
    } else {
      [saved] = await tx
        .update(sessionNotes)
        .set({
          ...(serviceCode !== undefined ? { serviceCode } : {}),
          startedAt,
          endedAt,
          ...(topic !== undefined ? { topic } : {}),
          ...(interventions !== undefined ? { interventions } : {}),
          ...(groupSummary !== undefined ? { groupSummary } : {}),
          version: sql`${sessionNotes.version} + 1`,
          updatedAt: now,
        })
        .where(eq(sessionNotes.id, note.id))
        .returning();
    }
    for (const part of parts) {
      const set = {
        ...(part.participation !== undefined ? { participation: part.participation } : {}),
        ...(part.progress !== undefined ? { progress: part.progress } : {}),
        ...(part.plan !== undefined ? { plan: part.plan } : {}),
        ...(part.risk !== undefined ? { risk: part.risk } : {}),
      };
      const insert = tx.insert(sessionNoteMembers).values({ centerId: group.centerId, noteId: saved.id, participantId: part.participantId!, ...set });
      await (Object.keys(set).length
        ? insert.onConflictDoUpdate({ target: [sessionNoteMembers.noteId, sessionNoteMembers.participantId], set })
        : insert.onConflictDoNothing());
    }
    ctx.loaders.notes.byId.clear(saved.id);
    return viewOf(tx, saved);
  });
}

/** The author or a facilitator of the session signs; the note is locked. */
export async function signSessionNote(ctx: Context, input: SignSessionNoteInput): Promise<NoteView> {
  const { note, session, group } = await findVisibleNote(ctx, input.noteId, "noteId");
  if (!ctx.access.can("note.sign", { ...groupTarget(group), staffIds: [note.authorStaffId] })) {
    throw UserInputError.of("noteId", UserErrorCode.NOT_ALLOWED, "Only the note's author or a facilitator of the session may sign it");
  }
  const p = new Problems();
  const lateEntryReason = text(p, "lateEntryReason", input.lateEntryReason, { max: LIMITS.text });
  p.throwIfAny();
  return ctx.db.transaction(async (tx) => {
    const current = await lockSession(tx, session.id);
    const row = await lockNoteOf(tx, session.id);
    if (!row) throw notFound("SessionNote", "noteId");
    if (row.status !== "DRAFT") throw locked("noteId");
    if (input.version !== row.version) throw conflict();

    const records = await tx.select().from(attendance).where(eq(attendance.sessionId, session.id));
    const parts = await tx.select().from(sessionNoteMembers).where(eq(sessionNoteMembers.noteId, row.id));
    const written = new Set(parts.filter((m) => m.participation !== null).map((m) => m.participantId));
    const checks = new Problems();
    const [{ n }] = await rowsOf<{ n: number }>(
      tx,
      sql`select count(*)::int as n from enrollments e join sessions s on s.id = ${session.id}::uuid
          where e.group_id = s.group_id and ${sql.raw(seatHeldAtStart("e", "s"))}
            and not exists (select 1 from attendance a where a.session_id = s.id and a.participant_id = e.participant_id)`,
    );
    if (n > 0) checks.add("noteId", UserErrorCode.MISSING_MEMBER_NOTE, `Attendance is not recorded for ${n} member${n === 1 ? "" : "s"} of the session`);
    const missing = records.filter((a) => isAttended(a.status) && !written.has(a.participantId)).length;
    if (missing > 0) {
      checks.add(
        "noteId",
        UserErrorCode.MISSING_MEMBER_NOTE,
        `${missing} member${missing === 1 ? "" : "s"} who attended ha${missing === 1 ? "s" : "ve"} no part in the note yet`,
      );
    }
    const now = clock.now();
    const [center] = await tx.select({ window: centers.lateEntryWindowDays }).from(centers).where(eq(centers.id, group.centerId));
    const lateEntry = now.getTime() - current.endsAt.getTime() > center.window * 86_400_000;
    if (lateEntry && !lateEntryReason) {
      checks.add(
        "lateEntryReason",
        UserErrorCode.REQUIRED,
        `The note is signed more than ${center.window} days after the session: give the reason for the late entry`,
      );
    }
    if (lateEntryReason) {
      checkNames(checks, await sessionMemberNames(tx, session.id), [{ path: "lateEntryReason", value: lateEntryReason, owner: null }], new Set());
    }
    checks.throwIfAny();

    const [signer] = ctx.access.staffId ? await tx.select({ requiresCosign: staff.requiresCosign }).from(staff).where(eq(staff.id, ctx.access.staffId)) : [];
    const status = signer?.requiresCosign ? "PENDING_COSIGN" : "SIGNED";
    // Each member's attendance as it is when signed: the part is locked with it.
    for (const a of records) {
      await tx
        .insert(sessionNoteMembers)
        .values({ centerId: row.centerId, noteId: row.id, participantId: a.participantId, attendanceStatus: a.status, minutesAttended: a.minutesAttended })
        .onConflictDoUpdate({
          target: [sessionNoteMembers.noteId, sessionNoteMembers.participantId],
          set: { attendanceStatus: a.status, minutesAttended: a.minutesAttended },
        });
    }
    const [signed] = await tx
      .update(sessionNotes)
      .set({
        status,
        signedAt: now,
        signedByStaffId: ctx.access.staffId,
        lateEntry,
        lateEntryReason: lateEntry ? lateEntryReason : null,
        version: sql`${sessionNotes.version} + 1`,
        updatedAt: now,
      })
      .where(eq(sessionNotes.id, row.id))
      .returning();
    if (status === "SIGNED") await issueServiceRecords(tx, signed, current, group, records);
    ctx.loaders.notes.byId.clear(signed.id);
    return viewOf(tx, signed);
  });
}

/** A clinician or admin other than the signer co-signs a PENDING_COSIGN note. */
export async function cosignSessionNote(ctx: Context, input: CosignSessionNoteInput): Promise<NoteView> {
  const { note, session, group } = await findVisibleNote(ctx, input.noteId, "noteId");
  if (!ctx.access.can("note.cosign", groupTarget(group))) {
    throw UserInputError.of("noteId", UserErrorCode.NOT_ALLOWED, "Only a clinician or admin of the center may co-sign");
  }
  return ctx.db.transaction(async (tx) => {
    const current = await lockSession(tx, session.id);
    const row = await lockNoteOf(tx, session.id);
    if (!row || row.id !== note.id) throw notFound("SessionNote", "noteId");
    if (row.status !== "PENDING_COSIGN") {
      throw UserInputError.of(
        "noteId",
        UserErrorCode.INVALID_TRANSITION,
        row.status === "DRAFT" ? "The note is not signed yet" : "The note needs no co-signature (or already has it)",
      );
    }
    if (row.signedByStaffId === ctx.access.staffId) throw UserInputError.of("noteId", UserErrorCode.NOT_ALLOWED, "The signer cannot co-sign their own note");
    const now = clock.now();
    const [cosigned] = await tx
      .update(sessionNotes)
      .set({ status: "SIGNED", cosignedAt: now, cosignedByStaffId: ctx.access.staffId, version: sql`${sessionNotes.version} + 1`, updatedAt: now })
      .where(eq(sessionNotes.id, row.id))
      .returning();
    const records = await tx.select().from(attendance).where(eq(attendance.sessionId, session.id));
    await issueServiceRecords(tx, cosigned, current, group, records);
    ctx.loaders.notes.byId.clear(cosigned.id);
    return viewOf(tx, cosigned);
  });
}

/** A new signed entry on a signed note, to its shared part or to one member's part. */
export async function addNoteAddendum(ctx: Context, input: AddNoteAddendumInput): Promise<NoteAddendumRow> {
  const { note, session, group } = await findVisibleNote(ctx, input.noteId, "noteId");
  if (!ctx.access.can("note.write", groupTarget(group))) throw forbidden("Your role does not allow adding to session notes");
  const p = new Problems();
  const participantId = input.participantId == null ? null : decodeId(input.participantId, "Participant");
  if (input.participantId != null && !participantId) p.add("participantId", UserErrorCode.NOT_ENROLLED, "That participant has no part in this note");
  const body = text(p, "text", input.text, { required: true, max: LIMITS.note });
  const reason = text(p, "reason", input.reason, { required: true, max: LIMITS.text });
  p.throwIfAny();
  return ctx.db.transaction(async (tx) => {
    await lockSession(tx, session.id);
    const row = await lockNoteOf(tx, session.id);
    if (!row || row.id !== note.id) throw notFound("SessionNote", "noteId");
    if (row.status === "DRAFT") throw UserInputError.of("noteId", UserErrorCode.INVALID_TRANSITION, "The note is a draft: change it with saveSessionNote");
    const checks = new Problems();
    if (participantId) {
      const [part] = await tx
        .select({ id: sessionNoteMembers.id })
        .from(sessionNoteMembers)
        .where(and(eq(sessionNoteMembers.noteId, row.id), eq(sessionNoteMembers.participantId, participantId)));
      if (!part) checks.add("participantId", UserErrorCode.NOT_ENROLLED, "That participant has no part in this note");
    }
    checkNames(
      checks,
      await sessionMemberNames(tx, session.id),
      [
        { path: "text", value: body, owner: participantId },
        { path: "reason", value: reason, owner: participantId },
      ],
      reviewedSet(input.reviewedNameMatches),
    );
    checks.throwIfAny();
    const [addendum] = await tx
      .insert(noteAddenda)
      .values({ centerId: row.centerId, noteId: row.id, participantId, kind: input.kind, text: body!, reason: reason!, authorStaffId: ctx.access.staffId })
      .returning();
    return addendum;
  });
}

// ---- service records -------------------------------------------------------------------------

/** Units of a service (contract README): SESSION 1; MINUTES_15 the 8-minute rule (0 below 8 minutes). */
export function unitsFor(rule: string, minutes: number | null): number {
  if (rule === "MINUTES_15") return minutes === null ? 0 : Math.floor((minutes + 7) / 15);
  return 1;
}

/** Minutes that count for a record: as recorded, or the session's length for PRESENT without minutes. */
function countedMinutes(a: Pick<AttendanceRow, "status" | "minutesAttended">, session: SessionRow): number | null {
  if (a.minutesAttended !== null) return a.minutesAttended;
  return a.status === "PRESENT" ? Math.round((session.endsAt.getTime() - session.startsAt.getTime()) / 60_000) : null;
}

/**
 * Issues the service records of a signed (and co-signed where needed) note for `records` (the
 * session's attendance, or the corrected ones), voiding each member's active record first.
 */
async function issueServiceRecords(tx: Tx, note: SessionNoteRow, session: SessionRow, group: GroupRow, records: AttendanceRow[]): Promise<void> {
  if (!records.length) return;
  const [info] = await tx
    .select({ unitRule: programs.unitRule, timezone: centers.timezone, location: groups.location, virtualLink: groups.virtualLink })
    .from(groups)
    .innerJoin(programs, eq(programs.id, groups.programId))
    .innerJoin(centers, eq(centers.id, groups.centerId))
    .where(eq(groups.id, group.id));
  const now = clock.now();
  const voided = await tx
    .update(serviceRecords)
    .set({ status: "VOIDED", voidedAt: now })
    .where(
      and(
        eq(serviceRecords.noteId, note.id),
        eq(serviceRecords.status, "ACTIVE"),
        inArray(
          serviceRecords.participantId,
          records.map((r) => r.participantId),
        ),
      ),
    )
    .returning({ id: serviceRecords.id, participantId: serviceRecords.participantId });
  const replaced = new Map(voided.map((v) => [v.participantId, v.id]));
  const rows = records.flatMap((a) => {
    if (!isAttended(a.status)) return [];
    const minutes = countedMinutes(a, session);
    const units = unitsFor(info.unitRule, minutes);
    if (units < 1) return [];
    return [
      {
        centerId: note.centerId,
        noteId: note.id,
        sessionId: session.id,
        participantId: a.participantId,
        attendanceId: a.id,
        dateOfService: dayInZone(session.startsAt, info.timezone),
        serviceCode: note.serviceCode,
        modifiers: ["HQ"],
        units,
        minutes,
        renderingStaffId: note.signedByStaffId,
        supervisingStaffId: note.cosignedByStaffId,
        placeOfService: info.virtualLink && !info.location ? "02" : "11",
        replacesId: replaced.get(a.participantId) ?? null,
        createdAt: now,
      },
    ];
  });
  if (rows.length) await tx.insert(serviceRecords).values(rows);
}

// ---- attendance after signing ----------------------------------------------------------------

const describe = (a: Pick<AttendanceRow, "status" | "minutesAttended"> | null) =>
  a ? `${a.status}${a.minutesAttended !== null ? `, ${a.minutesAttended} min` : ""}` : "not recorded";

/**
 * A write step of recordAttendance (src/steps.ts): a change to the attendance of a session whose
 * note is signed needs a reason, and writes a CORRECTION addendum to each changed member's part in
 * the same transaction; a fully signed note's service records are voided and reissued.
 */
export const noteCorrectionStep: AttendanceWriteStep = async (tx, context, writes) => {
  if (!writes.length) return;
  const note = await lockNoteOf(tx, context.session.id);
  if (!note || note.status === "DRAFT") return;
  if (!context.reason) {
    throw UserInputError.of(
      "reason",
      UserErrorCode.NOTE_LOCKED,
      "The session's note is signed: give a reason for the change, kept as a correction in the note",
    );
  }
  const members = await sessionMemberNames(tx, context.session.id);
  const checks = new Problems();
  checkNames(
    checks,
    members,
    writes.map((w) => ({ path: "reason", value: context.reason, owner: w.after.participantId })),
    new Set(),
  );
  checks.throwIfAny();
  const now = clock.now();
  await tx
    .insert(sessionNoteMembers)
    .values(writes.map((w) => ({ centerId: note.centerId, noteId: note.id, participantId: w.after.participantId })))
    .onConflictDoNothing();
  await tx.insert(noteAddenda).values(
    writes.map((w) => ({
      centerId: note.centerId,
      noteId: note.id,
      participantId: w.after.participantId,
      kind: "CORRECTION",
      text: `Attendance corrected from ${describe(w.before)} to ${describe(w.after)}.`,
      reason: context.reason!,
      authorStaffId: context.actorStaffId,
      createdAt: now,
    })),
  );
  if (note.status === "SIGNED") {
    await issueServiceRecords(
      tx,
      note,
      context.session,
      context.group,
      writes.map((w) => w.after),
    );
  }
};
