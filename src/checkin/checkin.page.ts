// The self check-in page: GET /c/<token> answers a small mobile page from this server (no CDN, a
// strict CSP, no inline script), showing the session's day and time only (no group, program or
// center name), a field for the room code, and its own script calling selfCheckIn. The page adds
// nothing to what selfCheckIn decides: a token that does not verify gets the same "not valid" page
// as self check-in being off.
import { eq } from "drizzle-orm";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { CheckInConfig } from "../config.js";
import type { Db } from "../db/client.js";
import { centers, sessions } from "../db/schema.js";
import { readCheckInToken } from "./checkin.token.js";

const ASSETS = "/c/assets/";

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** The contract's SelfCheckIn operation (../shared/contract/checkin.graphql), as the page sends it. */
const SELF_CHECK_IN = `mutation SelfCheckIn($input: SelfCheckInInput!) {
  selfCheckIn(input: $input) {
    result {
      checkedInAt
      sessionStartsAt
    }
    userErrors {
      field
      message
      code
    }
  }
}`;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Check in</title>
<link rel="icon" href="${ASSETS}icon.svg">
<link rel="stylesheet" href="${ASSETS}checkin.css">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** The day and the time of a session's start in its center's zone, e.g. "Tuesday, January 6" and "6:00 PM". */
function dayAndTime(at: Date, timeZone: string): { day: string; time: string } {
  const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");
  return {
    day: plain(new Intl.DateTimeFormat("en-US", { timeZone, weekday: "long", month: "long", day: "numeric" }).format(at)),
    time: plain(new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", minute: "2-digit", hour12: true }).format(at)),
  };
}

const formPage = (day: string, time: string) =>
  page(`<h1>Check in</h1>
<p class="when"><span id="day">${escape(day)}</span> at <span id="time">${escape(time)}</span></p>
<form id="form" autocomplete="off">
  <label for="code">Code shown in the room</label>
  <input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required autofocus>
  <button id="submit" type="submit">Check in</button>
</form>
<p id="status" role="status" aria-live="polite"></p>
<script src="${ASSETS}checkin.js"></script>`);

const INVALID_PAGE = page(`<h1>Check in</h1>
<p id="status" class="error">This check-in link is not valid. Please ask a staff member.</p>`);

const CSS = `body { margin: 0; font-family: system-ui, sans-serif; background: #f6f7f9; color: #1d2430; }
main { max-width: 26rem; margin: 0 auto; padding: 1.5rem 1.25rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
.when { font-size: 1.15rem; margin: 0 0 1.5rem; }
label { display: block; font-weight: 600; margin-bottom: .5rem; }
input { box-sizing: border-box; width: 100%; font-size: 2rem; letter-spacing: .3em; text-align: center; padding: .5rem; border: 2px solid #9aa5b4; border-radius: .5rem; }
button { margin-top: 1rem; width: 100%; font-size: 1.15rem; padding: .8rem; border: 0; border-radius: .5rem; background: #1f5fbf; color: #fff; }
button:disabled { background: #8da6cc; }
#status { margin-top: 1.25rem; font-size: 1.1rem; }
.ok { color: #1c6b2f; font-weight: 600; }
.error { color: #a32020; }
`;

// The page's script (a file: the CSP allows no inline script). The token is the page's last path segment.
const JS = `(function () {
  var form = document.getElementById("form");
  var code = document.getElementById("code");
  var button = document.getElementById("submit");
  var status = document.getElementById("status");
  var token = location.pathname.split("/").pop();
  var QUERY = ${JSON.stringify(SELF_CHECK_IN)};
  function show(text, kind) { status.textContent = text; status.className = kind; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    show("Checking in...", "");
    fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: QUERY, operationName: "SelfCheckIn", variables: { input: { token: token, roomCode: code.value.trim() } } }),
      credentials: "omit",
      referrerPolicy: "no-referrer"
    })
      .then(function (res) { return res.json(); })
      .then(function (body) {
        var answer = body && body.data && body.data.selfCheckIn;
        if (answer && answer.result) {
          form.hidden = true;
          show("You are checked in. Welcome!", "ok");
        } else {
          button.disabled = false;
          var refusal = answer && answer.userErrors && answer.userErrors[0];
          show(refusal ? refusal.message : "Check-in did not go through. Please try again.", "error");
        }
      })
      .catch(function () {
        button.disabled = false;
        show("Check-in did not go through. Please try again.", "error");
      });
  });
})();
`;

// The browser asks for an icon anyway: a plain check mark of our own (no request to anywhere else).
const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M3 8.5l3 3 7-7" fill="none" stroke="#1f5fbf" stroke-width="2"/></svg>`;

function headers(reply: FastifyReply, type: string, cache: string): FastifyReply {
  return reply
    .header("content-type", type)
    .header("cache-control", cache)
    .header("x-content-type-options", "nosniff")
    .header("content-security-policy", CSP)
    .header("referrer-policy", "no-referrer")
    .header("x-robots-tag", "noindex");
}

/** GET /c/<token> and the page's two assets. */
export function checkInPage(app: FastifyInstance, deps: { db: Db; config: CheckInConfig }): void {
  app.get(`${ASSETS}checkin.js`, (_req, reply) => headers(reply, "text/javascript; charset=utf-8", "public, max-age=3600").send(JS));
  app.get(`${ASSETS}icon.svg`, (_req, reply) => headers(reply, "image/svg+xml", "public, max-age=86400").send(ICON));
  app.get(`${ASSETS}checkin.css`, (_req, reply) => headers(reply, "text/css; charset=utf-8", "public, max-age=3600").send(CSS));
  app.get<{ Params: { token: string } }>("/c/:token", async (request, reply) => {
    const secret = deps.config.secret;
    const named = secret ? readCheckInToken(secret, request.params.token) : null;
    const [found] = named
      ? await deps.db
          .select({ startsAt: sessions.startsAt, status: sessions.status, timezone: centers.timezone })
          .from(sessions)
          .innerJoin(centers, eq(centers.id, sessions.centerId))
          .where(eq(sessions.id, named.sessionId))
      : [];
    if (!found || found.status === "CANCELLED") return headers(reply.code(404), "text/html; charset=utf-8", "no-store").send(INVALID_PAGE);
    const { day, time } = dayAndTime(found.startsAt, found.timezone);
    return headers(reply, "text/html; charset=utf-8", "no-store").send(formPage(day, time));
  });
}
