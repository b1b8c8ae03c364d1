// The reminders' time rules (src/reminders/reminder.time.ts) at the instants that break them:
// midnight, and the daylight-saving changes of America/New_York (2027-03-14 02:00 -> 03:00 and
// 2027-11-07 02:00 -> 01:00).
import { describe, expect, it } from "vitest";
import { capWindows, deliveryTime, quietHoursEnd } from "../src/reminders/reminder.time.js";

const NY = "America/New_York";
const QUIET = { start: "21:00", end: "08:00" };
const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d?.toISOString() ?? null;

describe("quiet hours", () => {
  it("cross midnight: 21:00 and 23:59 end tomorrow at 08:00, 00:00 and 07:59 end today, 08:00 and 20:59 are outside", () => {
    expect(iso(quietHoursEnd(at("2027-01-12T02:00:00Z"), QUIET, NY))).toBe("2027-01-12T13:00:00.000Z"); // Mon 21:00 EST
    expect(iso(quietHoursEnd(at("2027-01-12T04:59:00Z"), QUIET, NY))).toBe("2027-01-12T13:00:00.000Z"); // Mon 23:59
    expect(iso(quietHoursEnd(at("2027-01-12T05:00:00Z"), QUIET, NY))).toBe("2027-01-12T13:00:00.000Z"); // Tue 00:00
    expect(iso(quietHoursEnd(at("2027-01-12T12:59:00Z"), QUIET, NY))).toBe("2027-01-12T13:00:00.000Z"); // Tue 07:59
    expect(quietHoursEnd(at("2027-01-12T13:00:00Z"), QUIET, NY)).toBeNull(); // Tue 08:00
    expect(quietHoursEnd(at("2027-01-13T01:59:00Z"), QUIET, NY)).toBeNull(); // Tue 20:59
  });

  it("end at 08:00 local on the day DST starts (12:00Z, not 13:00Z) and on the day it ends (13:00Z, not 12:00Z)", () => {
    // Saturday 13th 22:00 EST, quiet through the night that loses an hour.
    expect(iso(quietHoursEnd(at("2027-03-14T03:00:00Z"), QUIET, NY))).toBe("2027-03-14T12:00:00.000Z");
    // 01:30 EST, after the clocks went back: still the same quiet night.
    expect(iso(quietHoursEnd(at("2027-11-07T06:30:00Z"), QUIET, NY))).toBe("2027-11-07T13:00:00.000Z");
    // 01:30 EDT, the first of the two 01:30s.
    expect(iso(quietHoursEnd(at("2027-11-07T05:30:00Z"), QUIET, NY))).toBe("2027-11-07T13:00:00.000Z");
  });

  it("within a day (start before end), and none when start equals end", () => {
    const lunch = { start: "12:00", end: "13:00" };
    expect(iso(quietHoursEnd(at("2027-06-01T16:30:00Z"), lunch, NY))).toBe("2027-06-01T17:00:00.000Z"); // 12:30 EDT
    expect(quietHoursEnd(at("2027-06-01T17:00:00Z"), lunch, NY)).toBeNull();
    expect(quietHoursEnd(at("2027-06-01T03:00:00Z"), { start: "08:00", end: "08:00" }, NY)).toBeNull();
  });

  it("a quiet end that does not exist (02:30 on the spring-forward day) moves forward by the gap", () => {
    expect(iso(quietHoursEnd(at("2027-03-14T06:00:00Z"), { start: "00:00", end: "02:30" }, NY))).toBe("2027-03-14T07:30:00.000Z"); // 03:30 EDT
  });
});

describe("delivery time", () => {
  it("goes at its due time outside quiet hours, at their end when that is before the session, else SKIPPED (QUIET_HOURS)", () => {
    const session = at("2027-03-14T13:00:00Z"); // Sunday 09:00 EDT
    expect(deliveryTime(at("2027-03-13T14:00:00Z"), session, QUIET, NY)).toEqual({ at: at("2027-03-13T14:00:00Z") });
    expect(deliveryTime(at("2027-03-14T11:00:00Z"), session, QUIET, NY)).toEqual({ at: at("2027-03-14T12:00:00Z") });
    expect(deliveryTime(at("2027-03-14T11:00:00Z"), at("2027-03-14T11:30:00Z"), QUIET, NY)).toEqual({ skip: "QUIET_HOURS" });
    expect(deliveryTime(at("2027-03-14T11:00:00Z"), at("2027-03-14T12:00:00Z"), QUIET, NY)).toEqual({ skip: "QUIET_HOURS" });
    expect(deliveryTime(at("2027-03-13T14:00:00Z"), at("2027-03-13T14:00:00Z"), QUIET, NY)).toEqual({ skip: "SESSION_STARTED" });
  });

  it("a 24 h reminder of a 23:30 session, due at 23:30 the evening before, goes at 08:00 on the session's day", () => {
    expect(deliveryTime(at("2027-01-12T04:30:00Z"), at("2027-01-13T04:30:00Z"), QUIET, NY)).toEqual({ at: at("2027-01-12T13:00:00Z") });
  });
});

describe("frequency cap windows", () => {
  it("are the local day and the seven local days ending with it, across DST (23- and 25-hour days)", () => {
    expect(capWindows(at("2027-03-14T15:00:00Z"), NY)).toEqual({
      dayStart: at("2027-03-14T05:00:00Z"),
      dayEnd: at("2027-03-15T04:00:00Z"),
      weekStart: at("2027-03-08T05:00:00Z"),
    });
    expect(capWindows(at("2027-11-07T15:00:00Z"), NY)).toEqual({
      dayStart: at("2027-11-07T04:00:00Z"),
      dayEnd: at("2027-11-08T05:00:00Z"),
      weekStart: at("2027-11-01T04:00:00Z"),
    });
    // 23:59 local is still that day; 00:00 is the next.
    expect(capWindows(at("2027-01-13T04:59:00Z"), NY).dayStart).toEqual(at("2027-01-12T05:00:00Z"));
    expect(capWindows(at("2027-01-13T05:00:00Z"), NY).dayStart).toEqual(at("2027-01-13T05:00:00Z"));
  });
});
