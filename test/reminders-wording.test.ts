// What reminders say (src/reminders/reminder.wording.ts): nothing that reveals treatment in any
// template's output (the scan), one GSM-7 segment per SMS whatever the names, and the email's
// unsubscribe link.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emailMessage, gsm7Length, smsBody, SMS_MAX, type Wording } from "../src/reminders/reminder.wording.js";

/** Words that tell whoever reads a member's phone or mailbox what the appointment is. */
const REVEALING = [
  "recovery",
  "treatment",
  "group",
  "counseling",
  "counselling",
  "therapy",
  "rehab",
  "addiction",
  "substance",
  "sober",
  "sobriety",
  "relapse",
  "opioid",
  "alcohol",
  "drug",
  "detox",
  "clinic",
  "program",
  "session",
  "meeting",
  "aa",
  "na",
  "12-step",
  "mental",
  "behavioral",
  "health",
];

// The center's and group's names are chosen to be as revealing as can be: MINIMAL must not show them.
const base: Wording = {
  name: "Jordan",
  startsAt: new Date("2027-03-09T23:00:00Z"),
  timezone: "America/New_York",
  senderName: "Appointment reminder",
  callbackPhone: "+16175550199",
  detail: "MINIMAL",
  groupName: "Opioid Recovery Group (Harbor Addiction Treatment Center)",
  where: "Room 4, Harbor Rehab Clinic, 12 Elm St",
};

function revealingWords(text: string): string[] {
  const words = text.toLowerCase().split(/[^a-z0-9-]+/);
  return REVEALING.filter((w) => words.includes(w) || (w.length > 3 && text.toLowerCase().includes(w)));
}

const outputs = (w: Wording) => {
  const email = emailMessage(w, "https://reminders.example/reminders/unsubscribe/tok");
  return { sms: smsBody(w), subject: email.subject, text: email.text };
};

describe("the wording scan", () => {
  it("finds no word that reveals treatment in any MINIMAL output (SMS, email subject and body), at any day and time, with or without a callback number", () => {
    const instants = ["2027-03-09T23:00:00Z", "2027-03-14T13:00:00Z", "2027-11-07T14:00:00Z", "2028-02-29T17:30:00Z", "2027-12-31T04:59:00Z"];
    for (const at of instants) {
      for (const callbackPhone of ["+16175550199", null]) {
        const out = outputs({ ...base, startsAt: new Date(at), callbackPhone });
        for (const [part, text] of Object.entries(out)) expect(revealingWords(text), `${part} at ${at}: ${text}`).toEqual([]);
        expect(out.sms).not.toContain("Opioid");
        expect(out.text).not.toContain("Harbor");
      }
    }
  });

  it("adds only the member-chosen group name and place with WITH_GROUP_NAME: the template's own words stay clean", () => {
    const w = { ...base, detail: "WITH_GROUP_NAME" as const, groupName: "Tuesday Circle", where: "Room 4, 12 Elm St" };
    const out = outputs(w);
    expect(out.sms).toContain("Tuesday Circle");
    expect(out.text).toContain("Tuesday Circle\nRoom 4, 12 Elm St");
    for (const [part, text] of Object.entries(out)) {
      const template = text.replaceAll("Tuesday Circle", "").replaceAll("Room 4, 12 Elm St", "");
      expect(revealingWords(template), part).toEqual([]);
    }
  });

  it("gives the day and local time of the session's start in the center's zone", () => {
    // 2027-03-14T13:00Z is 09:00 EDT on the day DST starts; 2027-11-07T14:00Z is 09:00 EST the day it ends.
    expect(smsBody({ ...base, startsAt: new Date("2027-03-14T13:00:00Z") })).toContain("Sun, Mar 14 at 9:00 AM");
    expect(smsBody({ ...base, startsAt: new Date("2027-11-07T14:00:00Z") })).toContain("Sun, Nov 7 at 9:00 AM");
    expect(emailMessage({ ...base, startsAt: new Date("2027-11-07T14:00:00Z") }, "u").subject).toBe("Reminder: Sunday, November 7 at 9:00 AM");
    // Just before midnight local is still that day.
    expect(smsBody({ ...base, startsAt: new Date("2027-12-31T04:59:00Z") })).toContain("Thu, Dec 30 at 11:59 PM");
  });
});

describe("SMS length", () => {
  it("fits one 160-character GSM-7 segment for any name, sender name, group and place", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.string({ maxLength: 30 }),
        fc.string({ maxLength: 200 }),
        fc.option(fc.string({ maxLength: 300 })),
        fc.constantFrom<"MINIMAL" | "WITH_GROUP_NAME">("MINIMAL", "WITH_GROUP_NAME"),
        (name, senderName, groupName, where, detail) => {
          const body = smsBody({ ...base, name, senderName, groupName, where, detail });
          const septets = gsm7Length(body);
          expect(septets, body).not.toBeNull();
          expect(septets!).toBeLessThanOrEqual(SMS_MAX);
          expect(body).toContain("Reply STOP");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps names with accents readable in GSM-7 and drops what it cannot carry", () => {
    expect(smsBody({ ...base, name: "René" })).toMatch(/^Hi René, /); // é is in the GSM-7 alphabet
    expect(smsBody({ ...base, name: "Zoë" })).toMatch(/^Hi Zoe, /); // ë is not: its letter stays
    const body = smsBody({ ...base, name: "Łukasz 🙂" });
    expect(body.startsWith("Hi Lukasz, ")).toBe(true);
    expect(gsm7Length(body)).not.toBeNull();
  });

  it("counts the extension characters twice", () => {
    expect(gsm7Length("a{b}")).toBe(6);
    expect(gsm7Length("€")).toBe(2);
    expect(gsm7Length("ë")).toBeNull();
  });
});
