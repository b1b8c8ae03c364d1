// Engagement rules that are not SQL: periods asked for, rates, the list of trend points, and the
// dirty marks the writers' transactions set on the kept figures (write steps, src/steps.ts).
import type { SQL } from "drizzle-orm";
import type { AttendanceWriteStep } from "../attendance/attendance.service.js";
import { badInput } from "../common/errors.js";
import type { Tx } from "../db/client.js";
import type { EnrollmentRow, ProgramRow } from "../db/schema.js";
import type { SessionChange } from "../sessions/session.service.js";
import { addDays, daysBetween } from "../sessions/timezone.js";
import type { RiskLevel } from "../participants/participant.type.js";
import {
  markDirtySql,
  markSessionsDirtySql,
  participantsOf,
  participantsOfPrograms,
  participantsOfSessions,
  sessionsOf,
  sessionsOfGroupFrom,
  type DayWindow,
  type ParticipantMetricsRow,
  type TrendInterval,
  type TrendRow,
} from "./engagement.sql.js";
import type { AttendanceTrendPoint, EngagementTrend, ParticipantEngagement } from "./engagement.type.js";

/** At most this many points in one attendanceTrend (about five years of weeks). */
const MAX_TREND_POINTS = 270;

/** attended / (attended + missed), or null when both are 0. */
export function rate(attended: number, missed: number): number | null {
  return attended + missed === 0 ? null : attended / (attended + missed);
}

/** A period from optional dates; `from` after `to` is refused. */
export function dayWindow(from: string | null | undefined, to: string | null | undefined): DayWindow {
  if (from && to && from > to) throw badInput("`from` must not be after `to`", "from");
  return { from: from ?? null, to: to ?? null };
}

export function toParticipantEngagement(row: ParticipantMetricsRow | null, window: DayWindow): ParticipantEngagement {
  const r =
    row ??
    ({
      expected: 0,
      attended: 0,
      missed: 0,
      excused: 0,
      unrecorded: 0,
      consecutive_misses: 0,
      current_streak: 0,
      last_attended_at: null,
      a28: 0,
      m28: 0,
      ap: 0,
      mp: 0,
      trend: "UNKNOWN",
      risk_level: "LOW",
    } as const);
  const recent = rate(Number(r.a28), Number(r.m28));
  const previous = rate(Number(r.ap), Number(r.mp));
  return {
    from: window.from,
    to: window.to,
    sessionsExpected: Number(r.expected),
    sessionsAttended: Number(r.attended),
    sessionsMissed: Number(r.missed),
    sessionsExcused: Number(r.excused),
    sessionsUnrecorded: Number(r.unrecorded),
    attendanceRate: rate(Number(r.attended), Number(r.missed)),
    consecutiveMisses: Number(r.consecutive_misses),
    currentStreak: Number(r.current_streak),
    lastAttendedAt: r.last_attended_at === null ? null : new Date(Number(r.last_attended_at)),
    recentAttendanceRate: recent,
    previousAttendanceRate: previous,
    // Trend and risk are decided in SQL with exact integer arithmetic; the delta is for display.
    trend: r.trend as EngagementTrend,
    trendDelta: recent === null || previous === null ? null : Math.round((recent - previous) * 10_000) / 10_000,
    riskLevel: r.risk_level as RiskLevel,
  };
}

/** The first day of the period holding `day`: its Monday, or the 1st of its month. */
function periodStartOf(day: string, interval: TrendInterval): string {
  if (interval === "MONTH") return `${day.slice(0, 8)}01`;
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(day, -((weekday + 6) % 7));
}

function nextPeriod(start: string, interval: TrendInterval): string {
  if (interval === "WEEK") return addDays(start, 7);
  const [y, m] = start.split("-").map(Number);
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
}

/** Every period start from the one holding `from` to the one holding `to`. */
function periodStarts(from: string, to: string, interval: TrendInterval): string[] {
  const starts: string[] = [];
  for (let p = periodStartOf(from, interval); p <= to; p = nextPeriod(p, interval)) starts.push(p);
  return starts;
}

/** Validates a trend range: both ends required, in order, and not too many points. */
export function trendWindow(from: string, to: string, interval: TrendInterval): DayWindow {
  const window = dayWindow(from, to);
  const approx = interval === "WEEK" ? daysBetween(from, to) / 7 : daysBetween(from, to) / 28;
  if (approx > MAX_TREND_POINTS + 1 || periodStarts(from, to, interval).length > MAX_TREND_POINTS) {
    throw badInput(`Ask for at most ${MAX_TREND_POINTS} periods`, "to");
  }
  return window;
}

/** One point per period, empty periods included. */
export function trendPoints(rows: TrendRow[], from: string, to: string, interval: TrendInterval): AttendanceTrendPoint[] {
  const byPeriod = new Map(rows.map((r) => [r.period, r]));
  return periodStarts(from, to, interval).map((periodStart) => {
    const r = byPeriod.get(periodStart);
    const [expected, attended, missed, excused] = r ? [r.expected, r.attended, r.missed, r.excused].map(Number) : [0, 0, 0, 0];
    return { periodStart, expected, attended, missed, excused, unrecorded: expected - attended - missed - excused, rate: rate(attended, missed) };
  });
}

// ---------------------------------------------------------------------------------------------
// Dirty marks: each runs in the writer's transaction, so the change and the mark commit together
// (a read sees both or neither). A mark writes only the participants' own kept rows and the kept
// counts of the sessions concerned, always participants first, each in id order (no deadlock
// between two writers marking overlapping rows).
// ---------------------------------------------------------------------------------------------

async function markDirty(tx: Tx, participants: SQL, sessions?: SQL): Promise<void> {
  // Sent together, in this order (each tx.execute is sent as it is called): one round trip.
  await Promise.all([tx.execute(markDirtySql(participants)), sessions ? tx.execute(markSessionsDirtySql(sessions)) : undefined]);
}

/** Attendance recorded or corrected (back-dated too): the participants written, and the session's counts. */
export const engagementAttendanceStep: AttendanceWriteStep = async (tx, { session }, writes) => {
  if (!writes.length) return;
  await markDirty(tx, participantsOf([...new Set(writes.map((w) => w.after.participantId))]), sessionsOf([session.id]));
};

/** Sessions cancelled or moved: everyone enrolled in their groups or recorded at them; a moved one's counts (its roster is the one at its new start). */
export async function engagementSessionStep(tx: Tx, change: SessionChange): Promise<void> {
  if (!change.sessionIds.length) return;
  await markDirty(tx, participantsOfSessions(change.sessionIds), change.kind === "MOVED" ? sessionsOf(change.sessionIds) : undefined);
}

/** Sessions added (their start is a new instant to recheck at; an added past session counts at once), and their counts. */
export async function engagementSessionsAddedStep(tx: Tx, sessionIds: string[]): Promise<void> {
  if (sessionIds.length) await markDirty(tx, participantsOfSessions(sessionIds), sessionsOf(sessionIds));
}

/** Enrolments made, given a seat or ended: their participants, and the counts of their groups' sessions from then on. */
export async function engagementEnrollmentStep(tx: Tx, rows: EnrollmentRow | EnrollmentRow[]): Promise<void> {
  const list = Array.isArray(rows) ? rows : [rows];
  if (!list.length) return;
  await tx.execute(markDirtySql(participantsOf([...new Set(list.map((r) => r.participantId))])));
  // A seat given at activatedAt or taken at endedAt changes the expected roster of the sessions starting from then.
  for (const r of list) {
    const changes = [r.activatedAt, r.endedAt].filter((d): d is Date => d instanceof Date);
    if (!changes.length) continue;
    const from = new Date(Math.min(...changes.map((d) => d.getTime())));
    await tx.execute(markSessionsDirtySql(sessionsOfGroupFrom(r.groupId, from)));
  }
}

/** A program's absences-before-follow-up changed: everyone enrolled in its groups (their risk depends on it). */
export async function engagementProgramStep(tx: Tx, program: ProgramRow): Promise<void> {
  await markDirty(tx, participantsOfPrograms([program.id]));
}
