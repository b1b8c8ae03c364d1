// Time rules of reminders, in the center's zone: quiet hours (across midnight and daylight-saving
// changes) and the days and weeks of the frequency caps. Pure functions of instants and zones.
import { parseLocalTime } from "../common/scalars.js";
import { addDays, dayInZone, offsetMinutes, zonedTimeToUtc } from "../sessions/timezone.js";

export interface QuietHours {
  /** HH:mm */
  start: string;
  end: string;
}

const minutesOf = (hhmm: string) => {
  const t = parseLocalTime(hhmm)!;
  return t.hour * 60 + t.minute;
};

/** Minutes since local midnight of an instant's wall-clock time in the zone. */
function wallMinutes(at: Date, tz: string): number {
  const local = at.getTime() + offsetMinutes(at.getTime(), tz) * 60_000;
  const d = new Date(local);
  return d.getUTCHours() * 60 + d.getUTCMinutes();
}

/**
 * When the quiet period containing `at` ends, or null when `at` is outside quiet hours. The period
 * runs from `start` to `end` wall-clock time in `tz`, crossing midnight when start > end; start =
 * end means none. The end is the instant the zone's clock reads `end` (on a day when that time
 * does not exist, the spring-forward gap, it moves forward by the gap).
 */
export function quietHoursEnd(at: Date, quiet: QuietHours, tz: string): Date | null {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return null;
  const m = wallMinutes(at, tz);
  const day = dayInZone(at, tz);
  const endOn = (d: string) => zonedTimeToUtc(d, Math.floor(end / 60), end % 60, tz);
  if (start < end) return m >= start && m < end ? endOn(day) : null;
  if (m >= start) return endOn(addDays(day, 1)); // late evening: ends tomorrow morning
  if (m < end) return endOn(day); // small hours: ends this morning
  return null;
}

export type Delivery = { at: Date } | { skip: "QUIET_HOURS" | "SESSION_STARTED" };

/**
 * When a reminder due at `due` may go out for a session starting at `startsAt`: at `due`, or when
 * quiet hours end if it falls inside them, provided that is still before the session; otherwise
 * it is skipped.
 */
export function deliveryTime(due: Date, startsAt: Date, quiet: QuietHours, tz: string): Delivery {
  const end = quietHoursEnd(due, quiet, tz);
  if (!end) return due < startsAt ? { at: due } : { skip: "SESSION_STARTED" };
  return end < startsAt ? { at: end } : { skip: "QUIET_HOURS" };
}

/** The instants bounding the frequency caps at `at`: its day, and the 7 days ending with it, in the zone. */
export function capWindows(at: Date, tz: string): { dayStart: Date; dayEnd: Date; weekStart: Date } {
  const day = dayInZone(at, tz);
  return {
    dayStart: zonedTimeToUtc(day, 0, 0, tz),
    dayEnd: zonedTimeToUtc(addDays(day, 1), 0, 0, tz),
    weekStart: zonedTimeToUtc(addDays(day, -6), 0, 0, tz),
  };
}
