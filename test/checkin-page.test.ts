// The self check-in page (GET /c/<token>, src/checkin/checkin.page.ts) over HTTP, then end to end
// in a real headless Chromium (Debian's /usr/bin/chromium through playwright-core, as
// test/graphiql.test.ts): open the member's link → enter the room code → the claim appears on a
// live subscriber (graphql-ws over a real WebSocket, the contract's LiveRoster) → staff reconcile →
// attendance is PRESENT, and the member's open follow-up shows them back.
import { describe, expect, it, onTestFinished } from "vitest";
import { setClock } from "../src/common/clock.js";
import { browserTestsRun, launchChromium } from "./support/chromium.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { connect, subscribe, type Stream } from "./support/live.js";
import { notesWorld, recordAttendance, type NotesWorld } from "./support/notes.js";
import { operation } from "./support/operations.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();
// The page's DOM, inside page.evaluate (this project's TypeScript has no DOM library).
declare const document: { querySelector(selector: string): any };

function send(name: string, variables: Record<string, unknown>, token: string | null) {
  return t.server.gql(operation("checkin.graphql", name), variables, { token, operationName: name });
}

/** Sam's link to the 2026-01-20 session (18:00 New York), with its window open at 22:45Z; and the room code. */
async function linkAndCode(w: NotesWorld, sessionId = w.sessions[2]) {
  setClock("2026-01-20T22:45:00Z");
  const opened = await send("OpenCheckIn", { input: { sessionId } }, w.tokens.FACILITATOR);
  expect(opened.data.openCheckIn.userErrors).toEqual([]);
  const links = await send("CheckInLinks", { sessionId }, w.tokens.FACILITATOR);
  const sam = links.data.node.roster.find((r: any) => r.participant.id === w.members.sam);
  return { link: sam.checkInLink as string, code: opened.data.openCheckIn.checkIn.roomCode as string };
}

const NAMES = ["Tuesday group", "Group therapy", "Harbor House", "Sam", "Rivera"];

describe("GET /c/<token>", () => {
  it("answers a small page with the session's day and time only, its own script and style, and a strict CSP", async () => {
    const w = await notesWorld(await asOrgAdmin(t.server));
    const { link } = await linkAndCode(w);
    const res = await fetch(link);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toContain("Tuesday, January 20");
    expect(html).toContain("6:00 PM");
    for (const name of NAMES) expect(html).not.toContain(name);
    const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(srcs).toEqual(["/c/assets/icon.svg", "/c/assets/checkin.css", "/c/assets/checkin.js"]);
    for (const src of srcs) expect((await fetch(`${t.server.url}${src}`)).status).toBe(200);
    expect(html).not.toMatch(/<script>/);
  });

  it("answers a tampered or unknown token with the same 'not valid' page, naming nothing", async () => {
    const w = await notesWorld(await asOrgAdmin(t.server));
    const { link } = await linkAndCode(w);
    const tampered = link.slice(0, -2) + (link.endsWith("A") ? "BB" : "AA");
    for (const url of [tampered, `${t.server.url}/c/nope`]) {
      const res = await fetch(url);
      expect(res.status).toBe(404);
      const html = await res.text();
      expect(html).toContain("not valid");
      expect(html).not.toContain("January");
    }
  });
});

describe.runIf(browserTestsRun("check-in page"))("the check-in page in a headless Chromium", () => {
  it("open link → a wrong code is refused → the room code checks in, live on a subscriber → reconcile → PRESENT, live, and the open follow-up shows the member back", async () => {
    const w = await notesWorld(await asOrgAdmin(t.server));
    // Given Sam absent twice (the program's threshold): an open follow-up
    setClock("2026-01-14T12:00:00Z");
    for (const sessionId of [w.sessions[0], w.sessions[1]]) {
      const p = await recordAttendance(t.server, w.tokens.FACILITATOR, sessionId, [{ participantId: w.members.sam, status: "ABSENT" }]);
      expect(p.userErrors).toEqual([]);
    }
    const followUps = async () => {
      const res = await t.server.gql(
        `query($id: ID!) { center(id: $id) { followUps { nodes { participant { id } status returnedAt } } } }`,
        { id: w.centerId },
        { token: w.tokens.CLINICIAN },
      );
      return res.data.center.followUps.nodes as Array<{ participant: { id: string }; status: string; returnedAt: string | null }>;
    };
    expect(await followUps()).toEqual([{ participant: { id: w.members.sam }, status: "OPEN", returnedAt: null }]);
    const { link, code } = await linkAndCode(w);
    // And the facilitator watching the session's roster live (the contract's LiveRoster)
    const live = await connect(t.server.url, `Bearer ${w.tokens.FACILITATOR}`);
    onTestFinished(() => live.dispose());
    type LiveEntry = {
      participant: { id: string; firstName: string };
      checkIn: { checkedInAt: string; status: string } | null;
      attendance: { status: string } | null;
    };
    const samIn = (stream: Stream, i: number) => {
      const event = stream.events[i];
      expect(event.errors).toBeUndefined();
      return (event.data!.rosterChanged as unknown as LiveEntry[]).find((e) => e.participant.id === w.members.sam);
    };
    const stream = subscribe(live, w.sessions[2], operation("checkin.graphql", "LiveRoster"));
    await stream.waitFor(1);
    // who first gets the roster as it is: Sam expected, no claim, no attendance
    expect(samIn(stream, 0)).toEqual({ participant: { id: w.members.sam, firstName: "Sam" }, checkIn: null, attendance: null });

    const browser = await launchChromium(t.server.url, { viewport: { width: 390, height: 844 }, consoleErrors: true });
    try {
      const { page, foreign, failures } = browser;

      // When the member opens their link
      await page.goto(link, { waitUntil: "load" });
      expect(await page.textContent(".when")).toBe("Tuesday, January 20 at 6:00 PM");
      // a wrong code is refused, and nothing is recorded
      const wrong = code === "000000" ? "000001" : "000000";
      await page.fill("#code", wrong);
      await page.click("#submit");
      await page.waitForFunction(() => document.querySelector("#status").className === "error", undefined, { timeout: 30_000 });
      expect(await page.textContent("#status")).toContain("not accepted");
      // then the room code checks them in
      await page.fill("#code", code);
      await page.click("#submit");
      await page.waitForFunction(() => document.querySelector("#status").className === "ok", undefined, { timeout: 30_000 });
      expect(await page.textContent("#status")).toContain("checked in");
      expect(foreign, "requests that left the server").toEqual([]);
      expect(failures).toEqual([]);
      // Then the claim reaches the live subscriber, PENDING (the wrong code sent nothing)
      await stream.waitFor(2);
      expect(samIn(stream, 1)).toEqual({
        participant: { id: w.members.sam, firstName: "Sam" },
        checkIn: { checkedInAt: "2026-01-20T22:45:00.000Z", status: "PENDING" },
        attendance: null,
      });
    } finally {
      await browser.close();
    }

    // Then the claim is on the roster, PENDING
    const roster = async () => {
      const res = await send("SessionCheckIns", { sessionId: w.sessions[2] }, w.tokens.FACILITATOR);
      return res.data.node.roster.find((r: any) => r.participant.id === w.members.sam);
    };
    expect(await roster()).toMatchObject({ checkIn: { checkedInAt: "2026-01-20T22:45:00.000Z", late: false, status: "PENDING" }, attendance: null });
    // And reconciling makes it attendance, PRESENT, and the follow-up shows Sam back
    setClock("2026-01-20T23:30:00Z");
    const reconciled = await send("ReconcileCheckIns", { input: { sessionId: w.sessions[2], accept: [w.members.sam] } }, w.tokens.FACILITATOR);
    expect(reconciled.data.reconcileCheckIns).toEqual({ attendance: [{ participant: { id: w.members.sam }, status: "PRESENT" }], userErrors: [] });
    // and the subscriber gets one event of it: the claim ACCEPTED, attendance PRESENT
    await stream.waitFor(3);
    expect(samIn(stream, 2)).toEqual({
      participant: { id: w.members.sam, firstName: "Sam" },
      checkIn: { checkedInAt: "2026-01-20T22:45:00.000Z", status: "ACCEPTED" },
      attendance: { status: "PRESENT" },
    });
    expect(stream.error).toBeUndefined();
    expect(await roster()).toMatchObject({ checkIn: { status: "ACCEPTED" }, attendance: { status: "PRESENT" } });
    expect(await followUps()).toEqual([{ participant: { id: w.members.sam }, status: "OPEN", returnedAt: "2026-01-20T23:00:00.000Z" }]);
  }, 120_000);
});
