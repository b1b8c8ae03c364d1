// A session's reminder carries the member's personal check-in link when self check-in is on
// (src/reminders/reminder.wording.ts): whole or not at all, in an SMS of at most two segments and
// in the email, with no word that reveals treatment around it. The link's token is opaque.
import { describe, expect, it } from "vitest";
import { checkInLinkOf, readCheckInToken } from "../src/checkin/checkin.token.js";
import { emailMessage, gsm7Length, SMS_MAX, SMS_MAX_WITH_LINK, smsBody, type Wording } from "../src/reminders/reminder.wording.js";

const SECRET = "a-test-check-in-secret-of-32-characters-at-least";
const SESSION = "0b6f8c1e-3d2a-4c5b-9e7f-1a2b3c4d5e6f";
const MEMBER = "9f8e7d6c-5b4a-4321-8765-0fedcba98765";

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

const REVEALING = /recovery|treatment|group|counsel|therapy|rehab|addiction|substance|sober|relapse|opioid|alcohol|drug|detox|clinic|program|session|meeting/i;

describe("the check-in link in reminders", () => {
  it("puts the link after the day and time of an SMS, in at most two GSM-7 segments, and says nothing more", () => {
    const link = checkInLinkOf("https://care.example.org", SECRET, SESSION, MEMBER);
    const body = smsBody({ ...base, checkInUrl: link });
    expect(body).toBe(`Hi Jordan, reminder: Tue, Mar 9 at 6:00 PM. Check in: ${link} Questions? +16175550199. Appointment reminder. Reply STOP to opt out`);
    expect(body.length).toBeLessThanOrEqual(SMS_MAX_WITH_LINK);
    expect(gsm7Length(body)).toBe(body.length);
    expect(body.replace(link, "")).not.toMatch(REVEALING);
    // the token names the member and the session, for the server only
    const token = link.split("/").pop()!;
    expect(readCheckInToken(SECRET, token)).toEqual({ sessionId: SESSION, participantId: MEMBER });
    expect(token).not.toContain(SESSION.replace(/-/g, ""));
    // without a link, the one-segment SMS as before
    expect(smsBody(base).length).toBeLessThanOrEqual(SMS_MAX);
    expect(smsBody(base)).not.toContain("Check in");
  });

  it("leaves out a link that would not fit two segments, or that GSM-7 cannot carry, rather than cutting it", () => {
    const long = `https://${"x".repeat(200)}.example.org/c/token`;
    expect(smsBody({ ...base, checkInUrl: long })).toBe(smsBody(base));
    expect(smsBody({ ...base, checkInUrl: "https://exämple.org/c/{token}" })).toBe(smsBody(base));
  });

  it("gives the link its own line in the email, before the callback number and the unsubscribe link", () => {
    const link = checkInLinkOf("https://care.example.org/", SECRET, SESSION, MEMBER);
    expect(link.startsWith("https://care.example.org/c/")).toBe(true);
    const { subject, text } = emailMessage({ ...base, checkInUrl: link }, "https://care.example.org/reminders/unsubscribe/u");
    expect(text).toContain(`\n\nWhen you arrive, check in here: ${link}\n\nQuestions, or cannot make it? Call +16175550199.`);
    expect(`${subject}\n${text.replace(link, "")}`).not.toMatch(REVEALING);
    expect(emailMessage(base, "https://x/u").text).not.toContain("check in");
  });
});
