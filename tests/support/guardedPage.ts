/// <reference lib="dom" />
// A Chromium page that proves the dashboard stays on its own origin: it records every request that
// got past the page's CSP to the network (and aborts any not for the dashboard, so nothing leaves
// 127.0.0.1 even if the CSP failed), and every CSP violation (the listener is installed by the
// browser before any page script, so the page's own CSP cannot block it).
import type { Browser, Page } from "playwright-core";

export interface GuardedPage {
  page: Page;
  /** Every URL the page asked the network for, in order. */
  requests: string[];
  /** Those not on the dashboard's origin (aborted). */
  foreign: () => string[];
  /** "<directive> <blocked URI>" per CSP violation the page reported. */
  violations: () => Promise<string[]>;
}

export async function guardedPage(browser: Browser, origin: string): Promise<GuardedPage> {
  const page = await browser.newPage();
  const requests: string[] = [];
  await page.route("**/*", (route) => {
    requests.push(route.request().url());
    return new URL(route.request().url()).origin === origin ? route.continue() : route.abort();
  });
  await page.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return {
    page,
    requests,
    foreign: () => requests.filter((u) => new URL(u).origin !== origin),
    violations: () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
  };
}
