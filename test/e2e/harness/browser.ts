/**
 * Headless Chromium (the machine's /usr/bin/chromium) through playwright-core,
 * and full-page screenshots under test-results/screenshots/ for a person to
 * look at after a run.
 *
 * May import: node built-ins, playwright-core.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { REPO_ROOT } from "../../../scripts/build/paths";

export const SCREENSHOT_DIR = join(REPO_ROOT, "test-results/screenshots");

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A fresh profile (no cookies) on the central, light scheme unless asked otherwise. */
export async function newDashboardContext(
  browser: Browser,
  baseURL: string,
  colorScheme: "light" | "dark" = "light",
): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL,
    colorScheme,
    viewport: { width: 1440, height: 900 },
    acceptDownloads: true,
  });
  // Pages wait on a loaded machine (2 cores shared with builds and other tests).
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(60_000);
  return context;
}

/** Saves a full-page PNG as test-results/screenshots/<name>.png; never fails the test. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  try {
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true, timeout: 20_000 });
  } catch (error) {
    process.stderr.write(`e2e: screenshot ${name} failed: ${(error as Error).message}\n`);
  }
}
