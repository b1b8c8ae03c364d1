// What a reminder says. MINIMAL (the default) names the member, the day and local time, the
// sender name and the callback number, and nothing else: no group, program or center name, no word
// that reveals treatment (test/reminders-wording.test.ts scans every output). WITH_GROUP_NAME adds
// the group's name and its location or virtual link, because the member asked for it.
// An SMS is at most 160 GSM-7 characters (one segment), or two concatenated segments when it carries
// the member's check-in link (src/checkin: opaque, it names nothing); an email carries an unsubscribe
// link, and the check-in link when self check-in is on.

export interface Wording {
  /** Preferred or first name. */
  name: string;
  startsAt: Date;
  timezone: string;
  senderName: string;
  callbackPhone: string | null;
  detail: "MINIMAL" | "WITH_GROUP_NAME";
  groupName: string;
  /** Location, else virtual link, else null. */
  where: string | null;
  /** The member's personal self check-in link (opaque), when self check-in is on (src/checkin). */
  checkInUrl?: string | null;
}

export const SMS_MAX = 160;
/** Two concatenated segments (153 septets each): the most an SMS carrying the check-in link may be. */
export const SMS_MAX_WITH_LINK = 306;

// The GSM 03.38 default alphabet, and its extension table (each of those counts twice).
const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "^{}\\[~]|€";
const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

/** Length in GSM-7 septets, or null when the text holds a character GSM-7 cannot carry. */
export function gsm7Length(text: string): number | null {
  let n = 0;
  for (const ch of text) {
    if (BASIC.has(ch)) n += 1;
    else if (EXTENDED.has(ch)) n += 2;
    else return null;
  }
  return n;
}

/** Letters that do not decompose into a GSM-7 letter and an accent. */
const PLAIN: Record<string, string> = { Ł: "L", ł: "l", Đ: "D", đ: "d", ı: "i", Œ: "OE", œ: "oe", Þ: "Th", þ: "th", ð: "d" };

/** Text made of GSM-7 basic characters only: accents dropped where the alphabet lacks them, spaces normalised, the rest removed. */
function toGsm7(text: string): string {
  let out = "";
  for (const ch of text.replace(/[\u00a0\u2000-\u200b\u202f\u205f\u3000]/g, " ")) {
    if (BASIC.has(ch)) out += ch;
    else {
      const plain = ch.normalize("NFD").replace(/\p{M}/gu, "");
      if (PLAIN[ch]) out += PLAIN[ch];
      else if ([...plain].every((c) => BASIC.has(c))) out += plain;
      else if (ch === "\u2019" || ch === "\u2018") out += "'";
      else if (ch === "\u2013" || ch === "\u2014") out += "-";
    }
  }
  return out.replace(/\s+/g, " ").trim();
}

function dayAndTime(at: Date, timezone: string, long: boolean): { day: string; time: string } {
  const day = new Intl.DateTimeFormat("en-US", {
    timeZone: timezone,
    weekday: long ? "long" : "short",
    month: long ? "long" : "short",
    day: "numeric",
  }).format(at);
  const time = new Intl.DateTimeFormat("en-US", { timeZone: timezone, hour: "numeric", minute: "2-digit", hour12: true }).format(at);
  // Newer ICU puts a narrow no-break space before AM/PM: not GSM-7, and not needed.
  const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");
  return { day: plain(day), time: plain(time) };
}

const cut = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, Math.max(0, max - 3)).trimEnd()}...`);

/**
 * The SMS body: one GSM-7 segment. Trims the extra detail first, then the name, then the sender
 * name. With a check-in link: the same text with the link after the day and time (two segments).
 */
export function smsBody(w: Wording): string {
  const { day, time } = dayAndTime(w.startsAt, w.timezone, false);
  let name = toGsm7(w.name) || "there";
  let sender = toGsm7(w.senderName) || "Appointment reminder";
  const phone = w.callbackPhone ? toGsm7(w.callbackPhone) : "";
  let extra = w.detail === "WITH_GROUP_NAME" ? toGsm7([w.groupName, w.where].filter(Boolean).join(", ")) : "";
  const compose = () =>
    `Hi ${name}, reminder: ${day} at ${time}.${extra ? ` ${extra}.` : ""}${phone ? ` Questions? ${phone}.` : ""} ${sender}. Reply STOP to opt out`;
  let body = compose();
  const over = () => body.length - SMS_MAX; // GSM basic characters only: one septet each
  if (over() > 0 && extra) {
    extra = extra.length - over() >= 8 ? cut(extra, extra.length - over()) : "";
    body = compose();
  }
  if (over() > 0) {
    name = cut(name, Math.max(8, name.length - over()));
    body = compose();
  }
  if (over() > 0) {
    sender = cut(sender, Math.max(8, sender.length - over()));
    body = compose();
  }
  body = body.length > SMS_MAX ? body.slice(0, SMS_MAX) : body;
  // The member's check-in link, whole or not at all: it makes the message two segments (a
  // concatenated SMS), which it must then fit.
  const link = w.checkInUrl && gsm7Length(w.checkInUrl) === w.checkInUrl.length ? w.checkInUrl : "";
  if (link) {
    const sentence = `${day} at ${time}.`;
    const at = body.indexOf(sentence) + sentence.length;
    const withLink = `${body.slice(0, at)} Check in: ${link}${body.slice(at)}`;
    if (at >= sentence.length && withLink.length <= SMS_MAX_WITH_LINK) return withLink;
  }
  return body;
}

/** The email: subject and plain text, with the unsubscribe link at the end. */
export function emailMessage(w: Wording, unsubscribeUrl: string): { subject: string; text: string } {
  const { day, time } = dayAndTime(w.startsAt, w.timezone, true);
  const lines = [`Hello ${w.name},`, "", `This is a reminder of your appointment on ${day} at ${time}.`];
  if (w.detail === "WITH_GROUP_NAME") {
    lines.push("", w.groupName);
    if (w.where) lines.push(w.where);
  }
  if (w.checkInUrl) lines.push("", `When you arrive, check in here: ${w.checkInUrl}`);
  if (w.callbackPhone) lines.push("", `Questions, or cannot make it? Call ${w.callbackPhone}.`);
  lines.push("", w.senderName, "", `To stop these emails: ${unsubscribeUrl}`);
  return { subject: `Reminder: ${day} at ${time}`, text: `${lines.join("\n")}\n` };
}
