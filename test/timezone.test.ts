// Wall-clock times in IANA zones to instants and back (src/sessions/timezone.ts), the ground under
// scheduleSessions: daylight-saving gaps move forward, overlaps take their first occurrence.
import { describe, expect, it } from "vitest";
import { addDays, dayInZone, daysBetween, offsetMinutes, weekdayOf, zonedTimeToUtc } from "../src/sessions/timezone.js";

const at = (day: string, hour: number, minute: number, tz: string) => zonedTimeToUtc(day, hour, minute, tz).toISOString();
const offsetAt = (iso: string, tz: string) => offsetMinutes(Date.parse(iso), tz);

/** The wall clock in `tz` at an instant, as "YYYY-MM-DD HH:mm". */
function wallClock(instant: Date, tz: string): string {
  const local = new Date(instant.getTime() + offsetMinutes(instant.getTime(), tz) * 60_000);
  return local.toISOString().slice(0, 16).replace("T", " ");
}

describe("America/New_York", () => {
  it("reads standard time before and daylight time after the spring-forward of 2026-03-08", () => {
    expect(offsetAt("2026-03-08T06:59:59.999Z", "America/New_York")).toBe(-300);
    expect(offsetAt("2026-03-08T07:00:00.000Z", "America/New_York")).toBe(-240);
    expect(at("2026-03-07", 18, 30, "America/New_York")).toBe("2026-03-07T23:30:00.000Z");
    expect(at("2026-03-08", 1, 30, "America/New_York")).toBe("2026-03-08T06:30:00.000Z");
    expect(at("2026-03-08", 3, 30, "America/New_York")).toBe("2026-03-08T07:30:00.000Z");
    expect(at("2026-03-09", 18, 30, "America/New_York")).toBe("2026-03-09T22:30:00.000Z");
  });

  it("moves the nonexistent 02:30 of 2026-03-08 forward to 03:30 EDT", () => {
    const instant = zonedTimeToUtc("2026-03-08", 2, 30, "America/New_York");
    expect(instant.toISOString()).toBe("2026-03-08T07:30:00.000Z");
    expect(wallClock(instant, "America/New_York")).toBe("2026-03-08 03:30");
    expect(at("2026-03-08", 2, 0, "America/New_York")).toBe("2026-03-08T07:00:00.000Z");
  });

  it("gives the ambiguous 01:30 of 2026-11-01 its first occurrence, in EDT", () => {
    expect(offsetAt("2026-11-01T05:59:59.999Z", "America/New_York")).toBe(-240);
    expect(offsetAt("2026-11-01T06:00:00.000Z", "America/New_York")).toBe(-300);
    expect(at("2026-11-01", 1, 30, "America/New_York")).toBe("2026-11-01T05:30:00.000Z");
    expect(at("2026-11-01", 0, 30, "America/New_York")).toBe("2026-11-01T04:30:00.000Z");
    expect(at("2026-11-01", 2, 30, "America/New_York")).toBe("2026-11-01T07:30:00.000Z");
    expect(at("2026-10-31", 18, 30, "America/New_York")).toBe("2026-10-31T22:30:00.000Z");
    expect(at("2026-11-02", 18, 30, "America/New_York")).toBe("2026-11-02T23:30:00.000Z");
  });

  it("tells the local calendar day of an instant near midnight", () => {
    expect(dayInZone(new Date("2026-11-01T03:59:00Z"), "America/New_York")).toBe("2026-10-31");
    expect(dayInZone(new Date("2026-11-01T04:00:00Z"), "America/New_York")).toBe("2026-11-01");
    expect(dayInZone(new Date("2026-03-09T04:00:00Z"), "America/New_York")).toBe("2026-03-09");
    expect(dayInZone(new Date("2026-03-09T03:59:59Z"), "America/New_York")).toBe("2026-03-08");
  });
});

describe("Europe/London", () => {
  it("moves the nonexistent 01:30 of 2026-03-29 forward to 02:30 BST", () => {
    expect(offsetAt("2026-03-29T00:59:59Z", "Europe/London")).toBe(0);
    expect(offsetAt("2026-03-29T01:00:00Z", "Europe/London")).toBe(60);
    expect(at("2026-03-29", 0, 30, "Europe/London")).toBe("2026-03-29T00:30:00.000Z");
    expect(at("2026-03-29", 1, 30, "Europe/London")).toBe("2026-03-29T01:30:00.000Z");
    expect(wallClock(zonedTimeToUtc("2026-03-29", 1, 30, "Europe/London"), "Europe/London")).toBe("2026-03-29 02:30");
    expect(at("2026-03-29", 2, 30, "Europe/London")).toBe("2026-03-29T01:30:00.000Z");
    expect(at("2026-03-30", 19, 0, "Europe/London")).toBe("2026-03-30T18:00:00.000Z");
  });

  it("gives the ambiguous 01:30 of 2026-10-25 its first occurrence, in BST", () => {
    expect(offsetAt("2026-10-25T00:59:59Z", "Europe/London")).toBe(60);
    expect(offsetAt("2026-10-25T01:00:00Z", "Europe/London")).toBe(0);
    expect(at("2026-10-25", 1, 30, "Europe/London")).toBe("2026-10-25T00:30:00.000Z");
    expect(at("2026-10-25", 2, 30, "Europe/London")).toBe("2026-10-25T02:30:00.000Z");
    expect(at("2026-10-24", 19, 0, "Europe/London")).toBe("2026-10-24T18:00:00.000Z");
    expect(at("2026-10-26", 19, 0, "Europe/London")).toBe("2026-10-26T19:00:00.000Z");
  });
});

describe("southern hemisphere", () => {
  it("gives Sydney's ambiguous 02:30 of 2026-04-05 (daylight time ends) its first occurrence, in AEDT", () => {
    expect(offsetAt("2026-04-04T15:59:59Z", "Australia/Sydney")).toBe(660);
    expect(offsetAt("2026-04-04T16:00:00Z", "Australia/Sydney")).toBe(600);
    expect(at("2026-04-05", 2, 30, "Australia/Sydney")).toBe("2026-04-04T15:30:00.000Z");
    expect(at("2026-04-05", 3, 30, "Australia/Sydney")).toBe("2026-04-04T17:30:00.000Z");
    expect(at("2026-04-04", 18, 30, "Australia/Sydney")).toBe("2026-04-04T07:30:00.000Z");
    expect(at("2026-04-06", 18, 30, "Australia/Sydney")).toBe("2026-04-06T08:30:00.000Z");
  });

  it("moves Sydney's nonexistent 02:30 of 2026-10-04 (daylight time starts) forward to 03:30 AEDT", () => {
    expect(offsetAt("2026-10-03T15:59:59Z", "Australia/Sydney")).toBe(600);
    expect(offsetAt("2026-10-03T16:00:00Z", "Australia/Sydney")).toBe(660);
    const instant = zonedTimeToUtc("2026-10-04", 2, 30, "Australia/Sydney");
    expect(instant.toISOString()).toBe("2026-10-03T16:30:00.000Z");
    expect(wallClock(instant, "Australia/Sydney")).toBe("2026-10-04 03:30");
    expect(at("2026-10-05", 18, 30, "Australia/Sydney")).toBe("2026-10-05T07:30:00.000Z");
  });

  it("handles zones at UTC+12 and beyond: Auckland's gap moves forward, its overlap takes the first occurrence", () => {
    // NZST +12 -> NZDT +13 at 02:00 on 2026-09-27; back at 03:00 on 2026-04-05.
    const gap = zonedTimeToUtc("2026-09-27", 2, 30, "Pacific/Auckland");
    expect(gap.toISOString()).toBe("2026-09-26T14:30:00.000Z");
    expect(wallClock(gap, "Pacific/Auckland")).toBe("2026-09-27 03:30");
    expect(at("2026-04-05", 2, 30, "Pacific/Auckland")).toBe("2026-04-04T13:30:00.000Z");
    // Chatham, +12:45 -> +13:45 at 02:45.
    expect(wallClock(zonedTimeToUtc("2026-09-27", 2, 50, "Pacific/Chatham"), "Pacific/Chatham")).toBe("2026-09-27 03:50");
  });
});

describe("zones without daylight saving", () => {
  it("keeps Asia/Kolkata at +05:30 all year", () => {
    expect(offsetAt("2026-01-15T12:00:00Z", "Asia/Kolkata")).toBe(330);
    expect(offsetAt("2026-07-15T12:00:00Z", "Asia/Kolkata")).toBe(330);
    expect(at("2026-03-08", 18, 30, "Asia/Kolkata")).toBe("2026-03-08T13:00:00.000Z");
    expect(at("2026-03-09", 0, 15, "Asia/Kolkata")).toBe("2026-03-08T18:45:00.000Z");
    expect(dayInZone(new Date("2026-03-08T18:29:00Z"), "Asia/Kolkata")).toBe("2026-03-08");
    expect(dayInZone(new Date("2026-03-08T18:30:00Z"), "Asia/Kolkata")).toBe("2026-03-09");
  });

  it("keeps Asia/Kathmandu at +05:45 all year", () => {
    expect(offsetAt("2026-01-15T12:00:00Z", "Asia/Kathmandu")).toBe(345);
    expect(offsetAt("2026-07-15T12:00:00Z", "Asia/Kathmandu")).toBe(345);
    expect(at("2026-03-08", 18, 30, "Asia/Kathmandu")).toBe("2026-03-08T12:45:00.000Z");
    expect(at("2026-03-08", 0, 0, "Asia/Kathmandu")).toBe("2026-03-07T18:15:00.000Z");
    expect(dayInZone(new Date("2026-03-07T18:14:00Z"), "Asia/Kathmandu")).toBe("2026-03-07");
    expect(dayInZone(new Date("2026-03-07T18:15:00Z"), "Asia/Kathmandu")).toBe("2026-03-08");
  });

  it("reads UTC as itself", () => {
    expect(offsetAt("2026-03-08T07:00:00Z", "UTC")).toBe(0);
    expect(offsetAt("2026-10-25T01:00:00Z", "UTC")).toBe(0);
    expect(at("2026-03-08", 2, 30, "UTC")).toBe("2026-03-08T02:30:00.000Z");
    expect(at("2026-12-31", 23, 59, "UTC")).toBe("2026-12-31T23:59:00.000Z");
    expect(dayInZone(new Date("2026-12-31T23:59:59Z"), "UTC")).toBe("2026-12-31");
  });
});

describe("every wall time of 2026", () => {
  it("reads back as itself, or as the first minute after a gap, in every zone tested", () => {
    const zones = ["America/New_York", "Europe/London", "Australia/Sydney", "Pacific/Auckland", "Asia/Kolkata", "Asia/Kathmandu", "UTC"];
    for (const tz of zones) {
      for (let day = "2026-01-01"; day <= "2026-12-31"; day = addDays(day, 1)) {
        for (const [hour, minute] of [
          [0, 0],
          [1, 30],
          [2, 30],
          [3, 0],
          [18, 30],
        ]) {
          const instant = zonedTimeToUtc(day, hour, minute, tz);
          const wanted = `${day} ${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
          const got = wallClock(instant, tz);
          if (got === wanted) {
            // The first occurrence: an hour earlier does not read the same wall time.
            expect(wallClock(new Date(instant.getTime() - 3_600_000), tz), `${tz} ${wanted}`).not.toBe(wanted);
          } else {
            // In a gap: moved forward by exactly the jump, never backward.
            const jump = offsetMinutes(instant.getTime(), tz) - offsetMinutes(instant.getTime() - 86_400_000, tz);
            expect(jump, `${tz} ${wanted} read back as ${got}`).toBeGreaterThan(0);
            expect(Date.parse(`${got.replace(" ", "T")}:00Z`) - Date.parse(`${wanted.replace(" ", "T")}:00Z`)).toBe(jump * 60_000);
          }
        }
      }
    }
  });
});

describe("calendar days", () => {
  it("adds days across month, year and leap-day boundaries", () => {
    expect(addDays("2026-03-07", 1)).toBe("2026-03-08");
    expect(addDays("2026-02-28", 1)).toBe("2026-03-01");
    expect(addDays("2028-02-28", 1)).toBe("2028-02-29");
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2026-01-01", -1)).toBe("2025-12-31");
    expect(addDays("2026-03-01", 366)).toBe("2027-03-02");
    expect(daysBetween("2026-03-01", "2027-03-02")).toBe(366);
  });

  it("names the weekday of a calendar day, whatever the host's zone", () => {
    expect(weekdayOf("2026-03-08")).toBe("SUNDAY");
    expect(weekdayOf("2026-03-09")).toBe("MONDAY");
    expect(weekdayOf("2026-03-12")).toBe("THURSDAY");
    expect(weekdayOf("2026-11-01")).toBe("SUNDAY");
    expect(weekdayOf("2028-02-29")).toBe("TUESDAY");
    expect(weekdayOf("2026-12-31")).toBe("THURSDAY");
  });
});
