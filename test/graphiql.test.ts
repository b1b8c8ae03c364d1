// GraphiQL at GET /graphql for browsers, from npm packages (no CDN): on in development, off in
// production unless GRAPHIQL=true; GraphQL over HTTP unchanged. Then in a real headless Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core): the page loads with no request leaving
// the server, and `{ viewer { name } }` with the token typed into its field shows the answer.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { createApp, type App } from "../src/server.js";
import { browserTestsRun, launchChromium } from "./support/chromium.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { TEST_DEFAULTS, TEST_SECRET, useTestServer } from "./support/server.js";

const t = useTestServer();
// The page's DOM, inside page.evaluate (this project's TypeScript has no DOM library).
declare const document: { querySelector(selector: string): any };
const HTML = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

/** The same database served with another configuration (e.g. production). */
async function appWith(env: Record<string, string>): Promise<{ app: App; url: string }> {
  const config = loadConfig({ AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "error", ...TEST_DEFAULTS, ...env });
  const app = await createApp({ config, database: t.server.database, logger: silentLogger });
  const port = await app.listen(0, "127.0.0.1");
  return { app, url: `http://127.0.0.1:${port}` };
}

describe("GraphiQL over HTTP", () => {
  it("answers a browser's GET /graphql with the GraphiQL page and its assets, from this server only", async () => {
    const page = await fetch(`${t.server.url}/graphql`, { headers: HTML });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('id="token"');
    const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(srcs.length).toBeGreaterThanOrEqual(5);
    for (const src of srcs) {
      expect(src, "no CDN").toMatch(/^\/graphiql\//);
      const asset = await fetch(`${t.server.url}${src}`);
      expect(asset.status, src).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, src).toBeGreaterThan(100);
    }
    expect((await fetch(`${t.server.url}/graphiql/nope.js`)).status).toBe(404);
  });

  it("keeps POST /graphql and GETs that do not ask for HTML as GraphQL over HTTP", async () => {
    const admin = await asOrgAdmin(t.server);
    const posted = await t.server.gql(`{ viewer { email } }`, {}, { token: admin.token });
    expect(posted.data).toEqual({ viewer: { email: "root@org.test" } });

    const url = `${t.server.url}/graphql?query=${encodeURIComponent("{ __typename }")}`;
    const get = await fetch(url, { headers: { accept: "application/graphql-response+json", "apollo-require-preflight": "true" } });
    expect(get.headers.get("content-type")).toMatch(/json/);
    expect(await get.json()).toEqual({ data: { __typename: "Query" } });
    const plain = await fetch(`${t.server.url}/graphql`);
    expect(plain.headers.get("content-type")).toMatch(/json/);
  });

  it("is off in production, where GET /graphql answers as before and /graphiql/* is not found, unless GRAPHIQL=true", async () => {
    const off = await appWith({ NODE_ENV: "production" });
    const on = await appWith({ NODE_ENV: "production", GRAPHIQL: "true" });
    try {
      const page = await fetch(`${off.url}/graphql`, { headers: HTML });
      expect(page.headers.get("content-type")).toMatch(/json/);
      expect((await fetch(`${off.url}/graphiql/graphiql.min.js`)).status).toBe(404);

      const enabled = await fetch(`${on.url}/graphql`, { headers: HTML });
      expect(enabled.headers.get("content-type")).toMatch(/^text\/html/);
      expect((await fetch(`${on.url}/graphiql/graphiql.min.js`)).status).toBe(200);
    } finally {
      await off.app.close();
      await on.app.close();
    }
    expect(loadConfig({ GRAPHIQL: "false" }).graphiql).toBe(false);
    expect(loadConfig({}).graphiql).toBe(true);
  });
});

// In CI a missing Chromium fails the test instead of skipping it.
describe.runIf(browserTestsRun("GraphiQL"))("GraphiQL in a headless Chromium", () => {
  it("loads offline, and runs { viewer { name } } with the token typed into its field, showing the answer", async () => {
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter("Browser Clinic", "UTC");
    const named = await admin.mutate(
      "createStaff",
      { email: "gia@browser.test", name: "Gia Browser", memberships: [{ centerId, role: "CLINICIAN" }] },
      "staff { id }",
    );
    expect(named.staff.id).toBeTruthy();
    const token = await t.server.token("gia@browser.test");

    const browser = await launchChromium(t.server.url);
    try {
      const { page, foreign, failures } = browser;

      // Given the page, loaded from this server alone
      await page.goto(`${t.server.url}/graphql`, { waitUntil: "load" });
      await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 60_000 });

      // When the query runs without a token, the answer says so; with the token, it names the viewer
      const run = async (query: string) => {
        await page.evaluate((q) => {
          const cm = document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror;
          cm.setValue(q);
        }, query);
        await page.evaluate(() => {
          document.querySelector(".graphiql-response .CodeMirror").CodeMirror.setValue("");
        });
        await page.click(".graphiql-execute-button");
        await page.waitForFunction(
          () => {
            const el = document.querySelector(".graphiql-response .CodeMirror");
            return Boolean(el && el.CodeMirror.getValue().trim().startsWith("{"));
          },
          undefined,
          { timeout: 30_000 },
        );
        const text = await page.evaluate(() => document.querySelector(".graphiql-response .CodeMirror").CodeMirror.getValue() as string);
        return JSON.parse(text);
      };
      const anonymous = await run("{ viewer { name } }");
      expect(anonymous.data?.viewer ?? null).toBeNull();

      await page.fill("#token", token);
      const answer = await run("{ viewer { name } }");
      expect(answer).toEqual({ data: { viewer: { name: "Gia Browser" } } });
      // And the visible response shows it
      expect(await page.textContent(".graphiql-response")).toContain("Gia Browser");

      expect(foreign, "requests that left the server").toEqual([]);
      expect(failures).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
