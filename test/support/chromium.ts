// A real headless Chromium for the browser tests (test/graphiql.test.ts, test/checkin-page.test.ts):
// Debian's /usr/bin/chromium (or CHROMIUM_PATH) driven by playwright-core. Without it the tests
// are skipped locally, with a warning, and fail in CI.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { BrowserContext, Page } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Whether to run the browser tests of `what` (describe.runIf): with a Chromium, or in CI (where a missing one fails). */
export function browserTestsRun(what: string): boolean {
  const present = existsSync(CHROMIUM);
  if (!present && process.env.CI !== "true")
    console.warn(`${what} browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  return present || process.env.CI === "true";
}

export interface Browser {
  page: Page;
  /** Requests the page sent anywhere but `origin` (data: URLs aside). */
  foreign: string[];
  /** Uncaught page errors, and console errors when asked for. */
  failures: string[];
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Chromium in a fresh profile, offline from everything but the test server: its page, with the
 * requests that left `origin` and the page's failures collected for the test to check.
 */
export async function launchChromium(origin: string, opts: { viewport?: { width: number; height: number }; consoleErrors?: boolean } = {}): Promise<Browser> {
  expect(existsSync(CHROMIUM), `Chromium is required in CI: apt-get install -y chromium (looked at ${CHROMIUM})`).toBe(true);
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "rg-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      ...(opts.viewport ? { viewport: opts.viewport } : {}),
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const foreign: string[] = [];
  const failures: string[] = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  page.on("pageerror", (e) => failures.push(e.message));
  if (opts.consoleErrors)
    page.on("console", (m) => {
      if (m.type() === "error") failures.push(m.text());
    });
  return {
    page,
    foreign,
    failures,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
