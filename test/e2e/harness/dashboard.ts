/**
 * What a person does on every dashboard page, by the names the UI contract
 * gives (labels, roles, test ids), so a test reads as the steps it takes.
 *
 * May import: playwright-core, ../../harness/eventually, ./central.
 */
import type { Locator, Page } from "playwright-core";
import { eventually } from "../../harness/eventually";
import type { SignInUser } from "./central";

/** The left navigation every dashboard page has. */
export function mainNav(page: Page): Locator {
  return page.getByRole("navigation", { name: "Main" });
}

/** The Sign in button once React has hydrated the form (it is disabled until then, so nothing typed is lost). */
export async function signInButton(page: Page): Promise<Locator> {
  const button = page.getByRole("button", { name: "Sign in", exact: true });
  await button.waitFor();
  await eventually("the sign-in form to hydrate", () => button.isEnabled(), Boolean, {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  return button;
}

/**
 * Signs in through the form (going to /sign-in unless already there) and
 * waits until the browser is on `landsOn` (one path or any of several).
 */
export async function signIn(page: Page, user: SignInUser, landsOn: string | string[] = "/"): Promise<void> {
  const targets = Array.isArray(landsOn) ? landsOn : [landsOn];
  if (new URL(page.url()).pathname !== "/sign-in") await page.goto("/sign-in");
  const button = await signInButton(page);
  await page.getByLabel("Email", { exact: true }).fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await button.click();
  await page.waitForURL((url) => targets.includes(url.pathname));
}

/** Inline errors (role="alert") inside the page's content; Next's route announcer is an alert too, outside <main>. */
export function inlineAlerts(page: Page): Locator {
  return page.locator("main").getByRole("alert");
}

/** The page's one h1 (its text once rendered). */
export async function pageHeading(page: Page): Promise<string> {
  const heading = page.getByRole("heading", { level: 1 });
  await heading.first().waitFor();
  const count = await heading.count();
  if (count !== 1) throw new Error(`expected exactly one <h1> on ${page.url()}, found ${count}`);
  return ((await heading.textContent()) ?? "").trim();
}

/** Waits until the page's h1 reads `name` (client pages render after their data loads). */
export async function waitForHeading(page: Page, name: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    `the <h1> "${name}" on ${page.url()}`,
    () => textOf(page.getByRole("heading", { level: 1 })),
    (text) => text === name,
    { timeoutMs, intervalMs: 200 },
  );
  await pageHeading(page);
}

/** Text of the first match with runs of whitespace made one space and trimmed, or null when there is none (never waits long). */
export async function textOf(locator: Locator): Promise<string | null> {
  const first = locator.first();
  if ((await first.count()) === 0) return null;
  const text = await first.textContent({ timeout: 2000 }).catch(() => null);
  return text === null ? null : text.replace(/\s+/g, " ").trim();
}

/**
 * Waits for `read` to satisfy `accept`, reloading the page every `reloadEveryMs`
 * in case the view does not update by itself. For facts that change on the
 * server (a host joining, a row disappearing) where the contract does not
 * promise a live view.
 */
export async function eventuallyOnPage<T>(
  page: Page,
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  { timeoutMs = 60_000, reloadEveryMs = 5000 }: { timeoutMs?: number; reloadEveryMs?: number } = {},
): Promise<T> {
  let lastReload = Date.now();
  return eventually(
    what,
    async () => {
      const value = await read();
      if (!accept(value) && Date.now() - lastReload > reloadEveryMs) {
        lastReload = Date.now();
        await page.reload();
      }
      return value;
    },
    accept,
    { timeoutMs, intervalMs: 250 },
  );
}
