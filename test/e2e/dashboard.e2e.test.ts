// The dashboard as a person uses it, with nothing faked: the production build
// served by the real central on a real Postgres, a host joined by running the
// real agent with the command Settings shows, a container run from the form on
// a real dockerd, its live CPU chart and logs, stop and remove, and what a
// viewer may not do. Steps share one browser session and run in order; a step
// whose input an earlier step failed to produce is skipped, not failed.
// Screenshots of every main page land in test-results/screenshots/.
import { randomBytes } from "node:crypto";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../harness/eventually";
import { TEST_IMAGE_TAG } from "../harness/test-image";
import type { E2eAgent } from "./harness/agent";
import { screenshot } from "./harness/browser";
import {
  eventuallyOnPage,
  inlineAlerts,
  mainNav,
  pageHeading,
  signIn,
  signInButton,
  textOf,
  waitForHeading,
} from "./harness/dashboard";
import { useDashboardFleet } from "./harness/dashboard-fleet";

const MIB = 1024 * 1024;
const HOST_NAME = `e2e-${randomBytes(3).toString("hex")}`;
// A line every ~0.2 s plus a little CPU work per line, so both the log view
// and the CPU chart have something to show.
const LOG_COMMAND =
  "sh -c 'i=0; while true; do i=$((i+1)); echo \"line $i\"; j=0; while [ $j -lt 20000 ]; do j=$((j+1)); done; sleep 0.2; done'";

const fleet = useDashboardFleet();

let adminContext: BrowserContext | undefined;
let admin: Page | undefined;
let signedIn = false;
let host: { id: string; name: string } | undefined;
let hostAgent: E2eAgent | undefined;
let containerId: string | undefined;
let containerName: string | undefined;
let volumeName: string | undefined;

afterAll(async () => {
  await adminContext?.close().catch(() => {});
});

/** Thrown by need(): the step is skipped, not failed. */
class MissingInput extends Error {}

/** The value an earlier step produced, or skips this step saying which one is missing. */
function need<T>(value: T | undefined | false, what: string): T {
  if (value === undefined || value === false) throw new MissingInput(`needs ${what} from an earlier step`);
  return value as T;
}

/**
 * A step of the walk-through. On failure: a screenshot of every open page
 * (failed-<step>-<n>.png) and the processes' recent output. Steps close their
 * extra browser contexts only on success, so a failure can still be seen.
 */
function step(name: string, body: () => Promise<void>): void {
  it(name, async (ctx) => {
    try {
      await body();
    } catch (error) {
      if (error instanceof MissingInput) ctx.skip(error.message);
      const slug = name
        .replace(/[^a-z0-9]+/gi, "-")
        .toLowerCase()
        .slice(0, 60);
      const pages = fleet()
        .browser.contexts()
        .flatMap((context) => context.pages());
      for (const [index, page] of pages.entries()) await screenshot(page, `failed-${slug}-${index + 1}`);
      const where = pages.map((page) => page.url()).join(", ") || "(no page)";
      process.stderr.write(`\n[${name}] failed; pages: ${where}\n${fleet().diagnostics()}\n`);
      throw error;
    }
  });
}

/** The log panel's lines as shown (empty when it is not there). */
async function logLines(page: Page): Promise<string[]> {
  const text = await page
    .getByTestId("log-lines")
    // biome-ignore lint/performance/useDomNodeTextContent: lines may be block elements; only the rendered text has the line breaks.
    .innerText({ timeout: 2000 })
    .catch(() => "");
  return text.split("\n").filter((line) => line.trim() !== "");
}

/** The highest N among the "line N" rows the logs panel shows now. */
async function lastLogLine(page: Page): Promise<number> {
  const text = (await logLines(page)).join("\n");
  let last = 0;
  for (const match of text.matchAll(/\bline (\d+)\b/g)) last = Math.max(last, Number(match[1]));
  return last;
}

async function chartPoints(page: Page, testId: string): Promise<number> {
  const value = await page
    .locator(`figure[data-testid="${testId}"]`)
    .getAttribute("data-points", { timeout: 2000 })
    .catch(() => null);
  return value === null ? -1 : Number(value);
}

describe.sequential("dashboard", () => {
  step(
    "1. an unauthenticated visit goes to /sign-in; a wrong password is refused; signing in from there gets in",
    async () => {
      const { central } = fleet();
      const context = await fleet().newContext();
      const page = await context.newPage();
      const blocked: string[] = [];
      page.on("console", (message) => {
        if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
      });
      const response = await page.goto("/hosts");
      // Scripts run only with the response's nonce; the page working at all shows Next.js put it on every one.
      expect(response?.headers()["content-security-policy"]).toMatch(
        /script-src 'self' 'nonce-[A-Za-z0-9+/=]{20,}' 'strict-dynamic'.*frame-ancestors 'none'/,
      );
      expect(response?.headers()["x-content-type-options"]).toBe("nosniff");
      await page.waitForURL((url) => url.pathname === "/sign-in");
      const button = await signInButton(page);
      await screenshot(page, "sign-in");

      await page.getByLabel("Email", { exact: true }).fill(central.admin.email);
      await page.getByLabel("Password", { exact: true }).fill(`${central.admin.password}-wrong`);
      await button.click();
      await inlineAlerts(page).first().waitFor();
      expect(new URL(page.url()).pathname).toBe("/sign-in");

      // The contract says `/`; returning to the page asked for is as good. Either way it stays there.
      await signIn(page, central.admin, ["/hosts", "/"]);
      const landed = new URL(page.url()).pathname;
      await waitForHeading(page, landed === "/" ? "Overview" : "Hosts");
      await page.waitForTimeout(1500);
      expect(new URL(page.url()).pathname, "still signed in a moment later").toBe(landed);
      expect(blocked, "nothing the page needs is blocked by its CSP").toEqual([]);
      await context.close();
    },
  );

  step("2. the admin signs in through the form and lands on the overview", async () => {
    const { central } = fleet();
    adminContext = await fleet().newContext();
    admin = await adminContext.newPage();
    const page = admin;
    await signIn(page, central.admin);
    await waitForHeading(page, "Overview");
    const nav = mainNav(page);
    for (const link of [
      "Overview",
      "Hosts",
      "Containers",
      "Run",
      "Images",
      "Volumes",
      "Networks",
      "Events",
      "Settings",
    ]) {
      expect(await nav.getByRole("link", { name: link, exact: true }).count(), `nav link ${link}`).toBe(1);
    }
    expect(await page.getByRole("button", { name: "Sign out", exact: true }).count(), "Sign out").toBe(1);
    signedIn = true;
  });

  step(
    "3. Settings → Add host shows the join command; the real agent joins with it and the host goes online",
    async () => {
      need(signedIn, "a signed-in admin");
      const page = need(admin, "the admin's page");
      await mainNav(page).getByRole("link", { name: "Settings", exact: true }).click();
      await page.waitForURL((url) => url.pathname === "/settings");
      await waitForHeading(page, "Settings");
      await page.getByRole("heading", { level: 2, name: "Hosts", exact: true }).waitFor();
      await page.getByRole("button", { name: "Add host", exact: true }).click();
      const commandBlock = page.getByTestId("join-command");
      await commandBlock.waitFor();
      const command = await eventually(
        "the join command",
        async () => (await textOf(commandBlock)) ?? "",
        (text) => text.includes("--join-token"),
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(await page.getByRole("button", { name: "Copy", exact: true }).count()).toBeGreaterThan(0);
      await screenshot(page, "settings");

      const agent = await fleet().startAgent(command, HOST_NAME);
      hostAgent = agent;
      await mainNav(page).getByRole("link", { name: "Hosts", exact: true }).click();
      await page.waitForURL((url) => url.pathname === "/hosts");
      await waitForHeading(page, "Hosts");
      const row = page.locator("tr[data-host-id]").filter({ hasText: HOST_NAME });
      await eventuallyOnPage(
        page,
        `host ${HOST_NAME} online on /hosts`,
        () => textOf(row.getByTestId("host-status")),
        (status) => status === "online",
        { timeoutMs: 60_000 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\nagent output:\n${agent.output().slice(-3000)}`);
      });
      const id = await row.first().getAttribute("data-host-id");
      expect(id).toBeTruthy();
      const link = row.getByRole("link", { name: HOST_NAME, exact: true });
      expect(await link.getAttribute("href")).toBe(`/hosts/${id}`);
      host = { id: id as string, name: HOST_NAME };
      await screenshot(page, "hosts");

      await link.click();
      await page.waitForURL((url) => url.pathname === `/hosts/${id}`);
      await waitForHeading(page, HOST_NAME);
      await screenshot(page, "host-detail");
    },
  );

  step("4. Run: the preview names the host; the container runs there with 64 MiB", async () => {
    const page = need(admin, "the admin's page");
    const { name: hostName } = need(host, "an online host");
    await mainNav(page).getByRole("link", { name: "Run", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/run");
    await waitForHeading(page, "Run a container");

    await page.getByLabel("Image", { exact: true }).fill(TEST_IMAGE_TAG);
    await page.getByLabel("Command", { exact: true }).fill(LOG_COMMAND);
    await page.getByLabel("Memory", { exact: true }).fill("64m");
    await page.getByLabel("CPUs", { exact: true }).fill("0.5");
    const preview = page.getByTestId("placement-preview");
    await eventually(
      "the placement preview to name the host",
      async () => (await textOf(preview)) ?? "",
      (text) => text.includes(`Will run on ${hostName}`),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await screenshot(page, "run");

    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.waitForURL((url) => /^\/containers\/[^/]+$/.test(url.pathname));
    const id = decodeURIComponent(new URL(page.url()).pathname.split("/").pop() as string);
    containerId = id;
    const state = page.getByTestId("container-state");
    await eventually(
      "the container to run",
      () => textOf(state),
      (text) => text === "running",
      {
        timeoutMs: 90_000,
        intervalMs: 250,
      },
    );
    containerName = await pageHeading(page);
    expect(containerName.length).toBeGreaterThan(0);
    // The detail page says where it runs.
    expect(await page.locator("main").getByText(hostName).count()).toBeGreaterThan(0);

    // What the engine was told: the limits from the form.
    const { engine } = fleet();
    const [engineContainer] = await engine.docker.listContainers({
      filters: { label: [`fleet.container-id=${id}`] },
    });
    expect(engineContainer, "a running engine container labelled with the container's id").toBeDefined();
    const inspected = await engine.docker.getContainer(engineContainer!.Id).inspect();
    expect(inspected.State.Running).toBe(true);
    expect(inspected.HostConfig.Memory).toBe(64 * MIB);
    const cpuNanos = inspected.HostConfig.NanoCpus
      ? inspected.HostConfig.NanoCpus
      : ((inspected.HostConfig.CpuQuota ?? 0) / (inspected.HostConfig.CpuPeriod || 100_000)) * 1e9;
    expect(cpuNanos).toBe(0.5e9);
    expect(inspected.Config.Labels?.["fleet.host-id"]).toBe(host?.id);
    await screenshot(page, "container-detail");
  });

  step("5. the CPU chart grows while the container runs", async () => {
    const page = need(admin, "the admin's page");
    need(containerId, "a running container");
    const figure = page.locator('figure[data-testid="chart-cpu"]');
    await figure.waitFor();
    expect(await figure.locator("canvas").count()).toBeGreaterThan(0);
    const first = await chartPoints(page, "chart-cpu");
    const second = await eventually(
      "the CPU chart to gain a point",
      () => chartPoints(page, "chart-cpu"),
      (n) => n > first,
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    // And again: it keeps moving, not one late load.
    await eventually(
      "the CPU chart to gain another point",
      () => chartPoints(page, "chart-cpu"),
      (n) => n > second,
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    for (const chart of ["chart-memory", "chart-pids", "chart-network"]) {
      expect(await page.locator(`figure[data-testid="${chart}"]`).count(), chart).toBe(1);
    }
  });

  step("6. logs follow, pause, resume and filter", async () => {
    const page = need(admin, "the admin's page");
    need(containerId, "a running container");
    const logs = page.getByTestId("logs");
    await logs.waitFor();
    const seen = await eventually(
      "log lines",
      () => lastLogLine(page),
      (n) => n > 0,
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    const followed = await eventually(
      "the logs to grow while following",
      () => lastLogLine(page),
      (n) => n >= seen + 3,
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    expect(followed).toBeGreaterThan(seen);

    await logs.getByRole("button", { name: "Pause", exact: true }).click();
    // A line already on its way may still land; after that nothing may.
    await page.waitForTimeout(1000);
    const paused = await lastLogLine(page);
    await page.waitForTimeout(3000);
    expect(await lastLogLine(page), "no new lines while paused").toBe(paused);

    await logs.getByRole("button", { name: "Resume", exact: true }).click();
    await eventually(
      "the logs to grow again after Resume",
      () => lastLogLine(page),
      (n) => n > paused,
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    await screenshot(page, "container-logs");

    // A query that matches some lines but not all: "line 1", "line 10"…"line 19", …
    const search = logs.getByLabel("Search logs", { exact: true });
    await search.fill("line 1");
    const shown = await eventually(
      "the search to filter the lines",
      () => logLines(page),
      (lines) => lines.length > 0 && lines.every((line) => /\bline 1/.test(line)),
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(shown.length).toBeGreaterThan(0);
    await search.fill("");
    await eventually(
      "other lines back after clearing the search",
      () => logLines(page),
      (lines) => lines.some((line) => /\bline [2-9]/.test(line)),
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(await logs.getByRole("link", { name: "Download", exact: true }).count()).toBe(1);

    // The host's link drops: its agent, frozen past the link's dead-peer time
    // (3 heartbeats), redials when it thaws, and the follow in flight fails.
    // The panel opens it again by itself, after the last line it had.
    const agent = need(hostAgent, "the host's agent");
    const beforeDrop = await lastLogLine(page);
    agent.process.kill("SIGSTOP");
    try {
      await page.waitForTimeout(5000);
    } finally {
      agent.process.kill("SIGCONT");
    }
    await eventually(
      "the logs to go on after the host's link came back",
      () => lastLogLine(page),
      (n) => n >= beforeDrop + 3,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const numbers = (await logLines(page)).flatMap((line) => /\bline (\d+)\b/.exec(line)?.[1] ?? []);
    expect(numbers.length - new Set(numbers).size, "lines shown twice after the reconnect").toBe(0);
  });

  step(
    "7. Volumes: one created for the host is mounted from the run form, shown as used, and not removable while used",
    async () => {
      const page = need(admin, "the admin's page");
      const { id: hostId, name: hostName } = need(host, "an online host");
      const { engine } = fleet();
      const name = `${HOST_NAME}-data`;
      await mainNav(page).getByRole("link", { name: "Volumes", exact: true }).click();
      await page.waitForURL((url) => url.pathname === "/volumes");
      await waitForHeading(page, "Volumes");
      const create = page.getByRole("form", { name: "Create a volume", exact: true });
      // The select's name includes the chosen host ("Host e2e-…"), so it is found by its role: the form has one.
      await create.getByRole("combobox").selectOption(hostId);
      await create.getByLabel("Volume name", { exact: true }).fill(name);
      await create.getByRole("button", { name: "Create volume", exact: true }).click();
      const row = page.locator(`tr[data-host-id="${hostId}"]`).filter({ hasText: name });
      await row.waitFor({ timeout: 30_000 });
      expect(await row.getByRole("link", { name: hostName, exact: true }).count(), "host link").toBe(1);
      expect((await engine.docker.getVolume(name).inspect()).Name, "the volume in the engine").toBe(name);
      volumeName = name;

      await mainNav(page).getByRole("link", { name: "Run", exact: true }).click();
      await waitForHeading(page, "Run a container");
      await page.getByLabel("Image", { exact: true }).fill(TEST_IMAGE_TAG);
      await page.getByLabel("Command", { exact: true }).fill("sleep 3600");
      await page.getByLabel("Volumes", { exact: true }).fill(`${name}:/data`);
      await eventually(
        "the preview to place it with its volume",
        async () => (await textOf(page.getByTestId("placement-preview"))) ?? "",
        (text) =>
          text.includes(`Will run on ${hostName}`) && text.includes(`volume "${name}" is on this host`),
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      await page.getByRole("button", { name: "Run", exact: true }).click();
      await page.waitForURL((url) => /^\/containers\/[^/]+$/.test(url.pathname));
      const id = decodeURIComponent(new URL(page.url()).pathname.split("/").pop() as string);
      await eventually(
        "the container with the volume to run",
        () => textOf(page.getByTestId("container-state")),
        (text) => text === "running",
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      const user = await pageHeading(page);
      const cells = page.getByRole("table", { name: "Mounts" }).locator("tbody tr").first().locator("td");
      expect((await cells.allTextContents()).map((text) => text.trim())).toEqual([
        "volume",
        name,
        "/data",
        "no",
        "—",
      ]);
      // A locally built image has no registry digest; a pulled one shows its short form.
      expect(await textOf(page.getByTestId("image-digest"))).toMatch(/^(sha256:[0-9a-f]{12}|—)$/);
      const [engineContainer] = await engine.docker.listContainers({
        filters: { label: [`fleet.container-id=${id}`] },
      });
      const mounts = (await engine.docker.getContainer(engineContainer!.Id).inspect()).Mounts;
      expect(mounts).toContainEqual(
        expect.objectContaining({ Type: "volume", Name: name, Destination: "/data" }),
      );

      await page.goto(`/volumes?name=${encodeURIComponent(name)}`);
      await waitForHeading(page, "Volumes");
      const usedBy = row.getByTestId("used-by");
      await eventuallyOnPage(
        page,
        `volume ${name} used by ${user}`,
        () => textOf(usedBy),
        (text) => text === user,
        { timeoutMs: 30_000 },
      );
      page.once("dialog", (dialog) => void dialog.accept());
      await row.getByRole("button", { name: "Remove", exact: true }).click();
      const refusal = await eventually(
        "the refusal",
        () => textOf(inlineAlerts(page).filter({ hasText: "Could not remove" })),
        (text) => text !== null,
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(refusal).toContain(`used by ${user}`);
      expect(await row.count(), "the row stays").toBe(1);
      expect((await engine.docker.getVolume(name).inspect()).Name, "the volume stays in the engine").toBe(
        name,
      );
    },
  );

  step("8. every main page renders with the fleet running (screenshots, light and dark)", async () => {
    const page = need(admin, "the admin's page");
    const { name: hostName } = need(host, "an online host");
    const id = need(containerId, "a running container");

    await mainNav(page).getByRole("link", { name: "Containers", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/containers");
    await waitForHeading(page, "Containers");
    const row = page.locator(`tr[data-container-id="${id}"]`);
    await row.waitFor();
    expect(await textOf(row.getByTestId("container-state"))).toBe("running");
    expect(await row.getByText(hostName).count()).toBeGreaterThan(0);
    await screenshot(page, "containers");

    for (const [link, heading, shot] of [
      ["Images", "Images", "images"],
      ["Volumes", "Volumes", "volumes"],
      ["Networks", "Networks", "networks"],
      ["Events", "Events", "events"],
      ["Overview", "Overview", "overview"],
    ] as const) {
      await mainNav(page).getByRole("link", { name: link, exact: true }).click();
      await waitForHeading(page, heading);
      if (shot === "images") {
        // The central listed the host's images when it connected (or when its agent pulled): the image the container runs is listed.
        await page
          .locator(`tr[data-host-id="${need(host, "an online host").id}"]`)
          .getByText(TEST_IMAGE_TAG)
          .first()
          .waitFor();
      }
      if (shot === "volumes" && volumeName) {
        await page.locator("tr[data-volume-id]").filter({ hasText: volumeName }).waitFor();
      }
      if (shot === "overview") {
        for (const chart of ["chart-hosts-cpu", "chart-hosts-memory", "chart-fleet"]) {
          await page.locator(`figure[data-testid="${chart}"]`).waitFor();
        }
      }
      await screenshot(page, shot);
    }

    const { central } = fleet();
    const dark = await fleet().newContext("dark");
    const darkPage = await dark.newPage();
    await signIn(darkPage, central.admin);
    await waitForHeading(darkPage, "Overview");
    await darkPage.locator('figure[data-testid="chart-fleet"]').waitFor();
    await screenshot(darkPage, "overview-dark");
    await dark.close();
  });

  step("9. Stop, then Remove (confirmed) takes the container off the list and the engine", async () => {
    const page = need(admin, "the admin's page");
    const id = need(containerId, "a running container");
    await page.goto(`/containers/${id}`);
    const state = page.getByTestId("container-state");
    await eventually(
      "the detail page",
      () => textOf(state),
      (text) => text === "running",
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );

    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await eventually(
      "the container to stop",
      () => textOf(state),
      (text) => text === "exited" || text === "stopped",
      {
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    );
    const { engine } = fleet();
    const byLabel = { filters: { label: [`fleet.container-id=${id}`] } };
    expect(await engine.docker.listContainers(byLabel), "nothing of it running in the engine").toEqual([]);
    await screenshot(page, "container-stopped");

    let confirmed = "";
    page.once("dialog", (dialog) => {
      confirmed = dialog.type();
      void dialog.accept();
    });
    await page.getByRole("button", { name: "Remove", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/containers");
    expect(confirmed, "Remove asks with confirm()").toBe("confirm");
    await eventuallyOnPage(
      page,
      "the row to leave /containers",
      () => page.locator(`tr[data-container-id="${id}"]`).count(),
      (count) => count === 0,
      { timeoutMs: 30_000 },
    );
    await eventually(
      "the engine to forget the container",
      () => engine.docker.listContainers({ all: true, ...byLabel }),
      (list) => list.length === 0,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    containerId = undefined;
  });

  step("10. a viewer sees no Run link or button, and /run says the role is needed", async () => {
    const { central } = fleet();
    const context = await fleet().newContext();
    const page = await context.newPage();
    await signIn(page, central.viewer);
    await waitForHeading(page, "Overview");
    const nav = mainNav(page);
    expect(await nav.getByRole("link", { name: "Containers", exact: true }).count()).toBe(1);
    expect(await nav.getByRole("link", { name: "Run", exact: true }).count(), "Run in the viewer's nav").toBe(
      0,
    );

    await nav.getByRole("link", { name: "Containers", exact: true }).click();
    await waitForHeading(page, "Containers");
    expect(await page.getByRole("button", { name: "Run", exact: true }).count()).toBe(0);
    expect(await page.getByRole("link", { name: "Run", exact: true }).count()).toBe(0);

    await page.goto("/run");
    await waitForHeading(page, "Run a container");
    expect(await page.getByRole("button", { name: "Run", exact: true }).count()).toBe(0);
    const main = ((await page.locator("main").textContent()) ?? "").toLowerCase();
    expect(main, "/run tells a viewer which role is needed").toMatch(/operator|admin/);
    await screenshot(page, "run-viewer");
    await context.close();
  });
});
