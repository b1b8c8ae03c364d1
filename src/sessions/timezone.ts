// Wall-clock times in an IANA zone to instants, with nothing but Intl. Daylight-saving changes:
// a time that does not exist (the spring-forward gap) moves forward by the gap; a time that occurs
// twice (fall back) takes its first occurrence.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The zone's offset from UTC at an instant, in minutes (New York in winter: -300). */
export function offsetMinutes(utcMs: number, tz: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(utcMs))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

/** The instant at which the wall clock in `tz` reads `day` (YYYY-MM-DD) `hour`:`minute`. */
export function zonedTimeToUtc(day: string, hour: number, minute: number, tz: string): Date {
  const [y, m, d] = day.split("-").map(Number);
  const wall = Date.UTC(y, m - 1, d, hour, minute);
  // Offsets on both sides of the wall time; try each and keep one that reads back correctly.
  // A day either side: the instant is within wall-14h..wall+12h, so half a day is not enough
  // for zones at UTC+12 or more (Auckland, Chatham).
  const before = offsetMinutes(wall - 86_400_000, tz);
  const after = offsetMinutes(wall + 86_400_000, tz);
  const candidates = [wall - before * 60_000, wall - after * 60_000].sort((a, b) => a - b);
  for (const t of candidates) {
    if (t + offsetMinutes(t, tz) * 60_000 === wall) return new Date(t);
  }
  // In the gap: the wall time does not exist; use the pre-change offset (moves it forward).
  return new Date(wall - before * 60_000);
}

/** Calendar day (YYYY-MM-DD) of an instant in a zone. */
export function dayInZone(at: Date, tz: string): string {
  const t = at.getTime() + offsetMinutes(at.getTime(), tz) * 60_000;
  return new Date(t).toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  const a = Date.parse(`${from}T00:00:00Z`);
  const b = Date.parse(`${to}T00:00:00Z`);
  return Math.round((b - a) / 86_400_000);
}

const WEEKDAYS = ["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"] as const;
export function weekdayOf(day: string): (typeof WEEKDAYS)[number] {
  return WEEKDAYS[new Date(`${day}T00:00:00Z`).getUTCDay()];
}
