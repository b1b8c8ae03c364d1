// The secrets of self check-in, all derived from CHECKIN_SECRET with HMAC-SHA256, so that every
// instance computes the same answers without sharing any state:
//   - a member's token: the session's and the member's ids, then an HMAC of them (truncated to
//     128 bits), base64url: opaque, and altered by anyone but the server it fails the
//     constant-time comparison;
//   - the room code: 6 digits from an HMAC of the session and the period's index (now / period),
//     so the code of a period is the same on every instance, and the previous period's is known too.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

const TOKEN_TAG = "rg.checkin.token.v1";
const CODE_TAG = "rg.checkin.room.v1";
const MAC_BYTES = 16;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** 16 + 16 + 16 bytes, base64url without padding. */
const TOKEN = /^[A-Za-z0-9_-]{64}$/;

const uuidBytes = (id: string) => Buffer.from(id.replace(/-/g, ""), "hex");
const uuidOf = (b: Buffer) => {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

function tokenMac(secret: string, body: Buffer): Buffer {
  return createHmac("sha256", secret).update(TOKEN_TAG).update(body).digest().subarray(0, MAC_BYTES);
}

/** The member's personal token for the session. */
export function signCheckInToken(secret: string, sessionId: string, participantId: string): string {
  if (!UUID.test(sessionId) || !UUID.test(participantId)) throw new Error("check-in tokens name database ids");
  const body = Buffer.concat([uuidBytes(sessionId), uuidBytes(participantId)]);
  return Buffer.concat([body, tokenMac(secret, body)]).toString("base64url");
}

/** The session and member a token names, or null when it is malformed or its signature does not match. */
export function readCheckInToken(secret: string, token: string): { sessionId: string; participantId: string } | null {
  if (typeof token !== "string" || !TOKEN.test(token)) return null;
  const raw = Buffer.from(token, "base64url");
  if (raw.length !== 32 + MAC_BYTES) return null;
  const body = raw.subarray(0, 32);
  if (!timingSafeEqual(raw.subarray(32), tokenMac(secret, body))) return null;
  return { sessionId: uuidOf(body.subarray(0, 16)), participantId: uuidOf(body.subarray(16, 32)) };
}

/** A short, stable name of a token for the failure counters (never the token itself). */
export function tokenKey(token: string): string {
  return createHash("sha256").update(String(token)).digest("base64url").slice(0, 22);
}

/** The room code of the session in period `index` (6 digits). */
function roomCodeAt(secret: string, sessionId: string, index: number): string {
  const mac = createHmac("sha256", secret).update(`${CODE_TAG}|${sessionId}|${index}`).digest();
  return String(mac.readUInt32BE(0) % 1_000_000).padStart(6, "0");
}

/** The code shown now, and until when (the end of its period). */
export function currentRoomCode(secret: string, sessionId: string, now: Date, periodSeconds: number): { code: string; expiresAt: Date } {
  const periodMs = periodSeconds * 1000;
  const index = Math.floor(now.getTime() / periodMs);
  return { code: roomCodeAt(secret, sessionId, index), expiresAt: new Date((index + 1) * periodMs) };
}

/** Whether `code` is the current period's or the previous one's (compared in constant time). */
export function roomCodeValid(secret: string, sessionId: string, code: string, now: Date, periodSeconds: number): boolean {
  if (typeof code !== "string" || !/^\d{6}$/.test(code.trim())) return false;
  const given = Buffer.from(code.trim());
  const index = Math.floor(now.getTime() / (periodSeconds * 1000));
  let ok = false;
  for (const i of [index, index - 1]) ok = timingSafeEqual(given, Buffer.from(roomCodeAt(secret, sessionId, i))) || ok;
  return ok;
}

/** A member's personal link to check in to a session: `<PUBLIC_URL or the server's own address>/c/<token>`. */
export function checkInLinkOf(publicUrl: string, secret: string, sessionId: string, participantId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/c/${signCheckInToken(secret, sessionId, participantId)}`;
}
