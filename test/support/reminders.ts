// Real counterparts of the reminders' providers, in the test process: an SMTP server (smtp-server)
// receiving over TCP and parsing each message (mailparser), and an HTTP server speaking the
// Messages REST API that checks every request's shape and basic auth. And the provider's side of
// the webhooks: signing requests as it does (X-Twilio-Signature), written here independently of
// the server's check.
import { createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import { asOrgAdmin, type Api } from "./fixtures.js";
import type { TestServer } from "./server.js";

export interface MailServer {
  url: string;
  messages: ParsedMail[];
  close(): Promise<void>;
}

/** An SMTP server on a free port; every message it accepts is parsed into `messages`. */
export async function startMailServer(): Promise<MailServer> {
  const messages: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export const SMS_ACCOUNT = "AC0123456789abcdef0123456789abcdef";
export const SMS_TOKEN = "sms-auth-token-0123456789";
export const SMS_FROM = "+16175550100";

interface SmsRequest {
  idempotencyKey: string | undefined;
  to: string;
  from: string;
  body: string;
  statusCallback: string;
}

export interface SmsProvider {
  url: string;
  /** Every well-formed request, in order of arrival (answered or not). */
  requests: SmsRequest[];
  /** Requests refused for their shape or auth (the server under test sent something wrong). */
  malformed: string[];
  /** How the next requests are answered: ok (201 queued), an error status, or never (held open). */
  mode: { kind: "ok" } | { kind: "error"; status: number; code: number; message: string } | { kind: "hang" };
  /** Resolves on the next request's arrival. */
  nextRequest(): Promise<SmsRequest>;
  /** Answers the requests held open by "hang" as accepted (201 queued). */
  releaseHeld(): void;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (data += c));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });

/** A local HTTP server standing for the SMS provider. */
export async function startSmsProvider(): Promise<SmsProvider> {
  const requests: SmsRequest[] = [];
  const malformed: string[] = [];
  const waiting: Array<(r: SmsRequest) => void> = [];
  const held = new Set<ServerResponse>();
  const provider: SmsProvider = {
    url: "",
    requests,
    malformed,
    mode: { kind: "ok" },
    nextRequest: () => new Promise((resolve) => waiting.push(resolve)),
    releaseHeld: () => {
      for (const res of held)
        res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ sid: `SM${randomUUID().replace(/-/g, "")}`, status: "queued" }));
      held.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const expectedAuth = `Basic ${Buffer.from(`${SMS_ACCOUNT}:${SMS_TOKEN}`).toString("base64")}`;
      const problems: string[] = [];
      if (req.method !== "POST") problems.push(`method ${req.method}`);
      if (req.url !== `/2010-04-01/Accounts/${SMS_ACCOUNT}/Messages.json`) problems.push(`path ${req.url}`);
      if (req.headers.authorization !== expectedAuth) problems.push("basic auth");
      if (!String(req.headers["content-type"]).startsWith("application/x-www-form-urlencoded")) problems.push("content type");
      const form = new URLSearchParams(raw);
      for (const name of ["To", "From", "Body", "StatusCallback"]) if (!form.get(name)) problems.push(`no ${name}`);
      if (problems.length) {
        malformed.push(problems.join(", "));
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ code: 20001, message: problems.join(", ") }));
        return;
      }
      const request: SmsRequest = {
        idempotencyKey: req.headers["idempotency-key"] as string | undefined,
        to: form.get("To")!,
        from: form.get("From")!,
        body: form.get("Body")!,
        statusCallback: form.get("StatusCallback")!,
      };
      requests.push(request);
      waiting.splice(0).forEach((w) => w(request));
      const mode = provider.mode;
      if (mode.kind === "hang") {
        held.add(res);
        return;
      }
      if (mode.kind === "error") {
        res.writeHead(mode.status, { "content-type": "application/json" }).end(JSON.stringify({ code: mode.code, message: mode.message, status: mode.status }));
        return;
      }
      res
        .writeHead(201, { "content-type": "application/json" })
        .end(JSON.stringify({ sid: `SM${String(requests.length).padStart(32, "0")}`, status: "queued" }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  provider.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return provider;
}

/** The provider's signature: base64 HMAC-SHA1 of the URL, then each parameter's name and value sorted by name. */
export function sign(url: string, params: Record<string, string>, token = SMS_TOKEN): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac("sha1", token).update(Buffer.from(data, "utf-8")).digest("base64");
}

/** POSTs a form to a webhook of the server, signed (or with the signature given). */
export async function postWebhook(baseUrl: string, path: string, params: Record<string, string>, signature?: string) {
  const url = `${baseUrl}${path}`;
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature ?? sign(url, params) },
    body: new URLSearchParams(params).toString(),
  });
}

export interface ReminderWorld {
  org: Api;
  centerId: string;
  groupId: string;
  participants: string[];
  enrollments: string[];
  /** Session ids by day (YYYY-MM-DD in the center's zone). */
  sessions: Map<string, string>;
}

/**
 * A center in `timezone` with reminders on, a group meeting on `days` at `time`, `people` members
 * (Alex0, Alex1, ...) enrolled, and its sessions of [from, to] scheduled.
 */
export async function reminderWorld(
  server: TestServer,
  opts: {
    timezone?: string;
    days?: string[];
    time?: string;
    from: string;
    to: string;
    people?: number;
    groupName?: string;
    centerName?: string;
    settings?: Record<string, unknown>;
  },
): Promise<ReminderWorld> {
  const org = await asOrgAdmin(server);
  const centerId = await org.createCenter(opts.centerName ?? "Harbor Addiction Treatment Center", opts.timezone ?? "America/New_York");
  const { program } = await org.mutate("createProgram", { centerId, name: "Opioid Recovery Program" }, "program { id }");
  const { group } = await org.mutate(
    "createGroup",
    {
      programId: program.id,
      name: opts.groupName ?? "Tuesday Recovery Group",
      capacity: 20,
      startsOn: opts.from,
      status: "ACTIVE",
      location: "Room 4, 12 Elm St",
      schedule: { daysOfWeek: opts.days ?? ["TUESDAY"], startTime: opts.time ?? "18:00", durationMinutes: 60 },
    },
    "group { id }",
  );
  const participants: string[] = [];
  const enrollments: string[] = [];
  for (let i = 0; i < (opts.people ?? 1); i++) {
    const { participant } = await org.mutate("createParticipant", { centerId, firstName: `Alex${i}`, lastName: "Member" }, "participant { id }");
    participants.push(participant.id);
    const { enrollment } = await org.mutate("enrollParticipant", { groupId: group.id, participantId: participant.id }, "enrollment { id }");
    enrollments.push(enrollment.id);
  }
  const { sessions } = await org.mutate("scheduleSessions", { groupId: group.id, from: opts.from, to: opts.to }, "sessions { id startsAt }");
  const byDay = new Map<string, string>();
  const tz = opts.timezone ?? "America/New_York";
  for (const s of sessions as Array<{ id: string; startsAt: string }>) {
    const day = new Intl.DateTimeFormat("en-CA", { timeZone: tz }).format(new Date(s.startsAt));
    byDay.set(day, s.id);
  }
  await org.mutate("updateReminderSettings", { centerId, enabled: true, ...opts.settings }, "center { id }");
  return { org, centerId, groupId: group.id, participants, enrollments, sessions: byDay };
}
