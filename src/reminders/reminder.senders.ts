// The two ways a reminder leaves: email over SMTP (nodemailer) and SMS through a provider speaking
// the common Messages REST API. Each send carries the reminder's id as its idempotency key (the
// email's Message-ID and X-Idempotency-Key; the SMS request's Idempotency-Key header), so a send
// repeated after a crash is recognisable as the same message. Errors say whether a retry may help;
// their `reason` is the provider's own, for staff (failureReason), never for logs (it may quote the
// address); `code` is safe to log.
import nodemailer from "nodemailer";
import type { RemindersConfig } from "../config.js";

export interface EmailMessage {
  id: string;
  to: string;
  fromName: string;
  subject: string;
  text: string;
  unsubscribeUrl: string;
}

export interface SmsMessage {
  id: string;
  to: string;
  body: string;
  statusCallback: string;
}

export interface Senders {
  email?: (m: EmailMessage) => Promise<{ providerId: string }>;
  sms?: (m: SmsMessage) => Promise<{ providerId: string }>;
}

export class SendError extends Error {
  constructor(
    /** The provider's reason (may quote the recipient: staff only, never logs). */
    readonly reason: string,
    /** A short code safe for logs and metrics: an HTTP status, an SMTP code, or a network error name. */
    readonly code: string,
    readonly retryable: boolean,
  ) {
    super(`send failed (${code})`);
    this.name = "SendError";
  }
}

function emailSender(config: RemindersConfig): Senders["email"] {
  if (!config.smtpUrl) return undefined;
  const transport = nodemailer.createTransport(config.smtpUrl, {
    connectionTimeout: config.sendTimeoutMs,
    greetingTimeout: config.sendTimeoutMs,
    socketTimeout: config.sendTimeoutMs,
  } as object);
  const domain = config.emailFrom.split("@")[1] ?? "localhost";
  return async (m) => {
    try {
      const info = (await transport.sendMail({
        from: { name: m.fromName, address: config.emailFrom },
        to: m.to,
        subject: m.subject,
        text: m.text,
        messageId: `<${m.id}@${domain}>`,
        headers: {
          "X-Idempotency-Key": m.id,
          // RFC 8058: one-click unsubscribe (a POST to the URL, no page to visit).
          "List-Unsubscribe": `<${m.unsubscribeUrl}>`,
          "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
      })) as { messageId?: string };
      return { providerId: info.messageId ?? m.id };
    } catch (err) {
      const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
      if (e.responseCode) {
        // 5xx: the server refused for good; 4xx: try again later.
        return Promise.reject(new SendError(e.response ?? `SMTP ${e.responseCode}`, `smtp_${e.responseCode}`, e.responseCode < 500));
      }
      return Promise.reject(new SendError(`SMTP: ${e.code ?? "connection failed"}`, `smtp_${(e.code ?? "error").toLowerCase()}`, true));
    }
  };
}

function smsSender(config: RemindersConfig): Senders["sms"] {
  const sms = config.sms;
  if (!sms) return undefined;
  const url = `${sms.providerUrl}/2010-04-01/Accounts/${encodeURIComponent(sms.accountSid)}/Messages.json`;
  const auth = `Basic ${Buffer.from(`${sms.accountSid}:${sms.authToken}`).toString("base64")}`;
  return async (m) => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded", "idempotency-key": m.id },
        body: new URLSearchParams({ To: m.to, From: sms.from, Body: m.body, StatusCallback: m.statusCallback }).toString(),
        signal: AbortSignal.timeout(config.sendTimeoutMs),
      });
    } catch (err) {
      const name = (err as Error)?.name === "TimeoutError" ? "timeout" : "network";
      throw new SendError(`SMS provider unreachable (${name})`, `sms_${name}`, true);
    }
    const body = (await res.json().catch(() => null)) as { sid?: string; code?: number; message?: string } | null;
    if (res.ok && body?.sid) return { providerId: body.sid };
    const reason = body?.message ? `${res.status} ${body.code ?? ""}: ${body.message}`.replace(/ :/, ":") : `HTTP ${res.status}`;
    // Throttled, down, or an answer without a message id: later; any other refusal (a bad number,
    // an unsubscribed one): for good.
    throw new SendError(reason, `sms_${res.status}`, res.ok || res.status === 429 || res.status >= 500);
  };
}

/** The senders this server is configured for (none by default: reminders are then SKIPPED NO_CHANNEL). */
export function createSenders(config: RemindersConfig): Senders {
  return { email: emailSender(config), sms: smsSender(config) };
}
