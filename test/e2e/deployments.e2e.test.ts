// Deployments through the browser, on the same fleet as the dashboard suite
// (production build, real central and Postgres, the real agent on a private
// dockerd): a deployment of two replicas made from the run form, listed on
// /deployments; an edit (a variable set, a shorter min healthy time) reviewed
// as a diff and applied; its rollout followed live to `succeeded` in the
// timeline; a rollback to revision 1 from the history, confirmed, which makes
// revision 3 with the diff back; a scale to 3 (no new revision); and a viewer
// who sees the page without a button that changes anything. Screenshots:
// deployments.png, deployment-edit.png, deployment-detail.png and
// deployment-viewer.png in test-results/screenshots/.
import { randomBytes } from "node:crypto";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../harness/eventually";
import { TEST_IMAGE_TAG } from "../harness/test-image";
import { screenshot } from "./harness/browser";
import { mainNav, signIn, textOf, waitForHeading } from "./harness/dashboard";
import { useDashboardFleet } from "./harness/dashboard-fleet";

const HOST_NAME = `e2e-deploy-${randomBytes(3).toString("hex")}`;
const DEPLOYMENT = `web-${randomBytes(2).toString("hex")}`;
// Exits on SIGTERM within a second, so a stop-first replacement does not wait out the stop timeout.
const COMMAND = `sh -c 'trap "exit 0" TERM; while true; do sleep 0.2; done'`;

const fleet = useDashboardFleet();

let context: BrowserContext | undefined;
let page: Page | undefined;
let deploymentId: string | undefined;

afterAll(async () => {
  await context?.close().catch(() => {});
});

/** Runs a step, leaving a screenshot and the processes' output when it fails. */
async function failureShown<T>(name: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (page) await screenshot(page, `failed-deployments-${name}`);
    process.stderr.write(`\n[deployments: ${name}] failed on ${page?.url()}\n${fleet().diagnostics()}\n`);
    throw error;
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`needs ${what} from an earlier step`);
  return value;
}

/** The rollout timeline's state badge and the revision it rolls to. */
async function rolloutReads(p: Page): Promise<string> {
  const timeline = p.getByTestId("rollout-timeline");
  const state = await textOf(timeline.getByTestId("rollout-state"));
  const revisions = await textOf(timeline.getByTestId("rollout-revisions"));
  return `${revisions ?? "?"} ${state ?? "?"}`;
}

describe.sequential("deployments", () => {
  it("a host joins and a deployment of 2 replicas is made from the run form", async () => {
    await failureShown("create", async () => {
      const { central } = fleet();
      context = await fleet().newContext();
      page = await context.newPage();
      const p = page;
      await signIn(p, central.admin);
      await waitForHeading(p, "Overview");

      await p.goto("/settings");
      await waitForHeading(p, "Settings");
      await p.getByRole("button", { name: "Add host", exact: true }).click();
      const command = await eventually(
        "the join command",
        async () => (await textOf(p.getByTestId("join-command"))) ?? "",
        (text) => text.includes("--join-token"),
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      await fleet().startAgent(command, HOST_NAME);
      await eventually(
        `host ${HOST_NAME} online`,
        () => central.db.host.findFirst({ where: { name: HOST_NAME }, select: { status: true } }),
        (host) => host?.status === "online",
        { timeoutMs: 60_000, intervalMs: 250 },
      );

      await mainNav(p).getByRole("link", { name: "Run", exact: true }).click();
      await waitForHeading(p, "Run a container");
      await p.getByLabel("Image", { exact: true }).fill(TEST_IMAGE_TAG);
      await p.getByLabel("Command", { exact: true }).fill(COMMAND);
      await p.getByLabel("Name", { exact: true }).fill(DEPLOYMENT);
      await p.getByLabel("Replicas", { exact: true }).fill("2");
      await p.getByRole("button", { name: "Run", exact: true }).click();
      // A new deployment opens its own page.
      await p.waitForURL((url) => url.pathname.startsWith("/deployments/"));
      deploymentId = decodeURIComponent(new URL(p.url()).pathname.split("/").pop() ?? "") || undefined;
      expect(deploymentId).toBeTruthy();

      await mainNav(p).getByRole("link", { name: "Deployments", exact: true }).click();
      await waitForHeading(p, "Deployments");
      const row = p.locator(`tr[data-deployment-id="${deploymentId}"]`);
      await row.getByRole("link", { name: DEPLOYMENT, exact: true }).waitFor();
      expect(await textOf(row.getByTestId("deployment-revision"))).toBe("1");
      await eventually(
        "2 of 2 replicas serving on the list",
        () => textOf(row.getByTestId("deployment-replicas")),
        (text) => text === "2/2/2",
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await screenshot(p, "deployments");
    });
  });

  it("an edit shows its diff before Apply, and its rollout reaches succeeded in the timeline", async () => {
    await failureShown("update", async () => {
      const p = need(page, "the admin's page");
      const id = need(deploymentId, "a deployment");
      await p.locator(`tr[data-deployment-id="${id}"]`).getByRole("link", { name: DEPLOYMENT }).click();
      await p.waitForURL((url) => url.pathname === `/deployments/${id}`);
      await waitForHeading(p, DEPLOYMENT);
      const replicas = p.getByTestId("deployment-replicas");
      await eventually(
        "both replicas running on the host",
        () => replicas.getByTestId("container-state").allTextContents(),
        (states) => states.length === 2 && states.every((state) => state.trim() === "running"),
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      expect(await replicas.getByRole("link", { name: HOST_NAME, exact: true }).count()).toBe(1);
      expect(await textOf(p.getByTestId("rollout-timeline"))).toContain("None yet");

      await p.getByRole("button", { name: "Edit", exact: true }).click();
      const form = p.getByRole("form", { name: "Edit deployment" });
      await form.getByLabel("Set variables", { exact: true }).fill("MODE=blue");
      await form.getByLabel("Min healthy time", { exact: true }).fill("1s");
      await expect(form.getByRole("button", { name: "Apply", exact: true }).isDisabled()).resolves.toBe(true);
      await form.getByRole("button", { name: "Review changes", exact: true }).click();
      const preview = form.getByTestId("edit-preview");
      const diff = await eventually(
        "the dry run's diff",
        async () => (await textOf(preview)) ?? "",
        (text) => text.includes("What will change"),
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(diff).toContain("Revision 2: env +MODE");
      expect(diff).toContain("min healthy time 10s → 1s");
      await screenshot(p, "deployment-edit");
      // Reviewing changed nothing yet.
      expect(await textOf(p.getByTestId("deployment-revision"))).toBe("1");

      await form.getByRole("button", { name: "Apply", exact: true }).click();
      await p.getByTestId("applied-change").waitFor();
      expect(await textOf(p.getByTestId("applied-change"))).toContain("Revision 2 made (env +MODE)");
      const seen = new Set<string>();
      await eventually(
        "the rollout to revision 2 to succeed in the timeline",
        async () => {
          const reads = await rolloutReads(p);
          seen.add(reads);
          return reads;
        },
        (reads) => reads === "revision 1 → revision 2 succeeded",
        { timeoutMs: 90_000, intervalMs: 100 },
      );
      const steps = p.getByTestId("rollout-timeline").getByTestId("rollout-step");
      expect(await steps.count(), "one replacement per replica").toBe(2);
      expect(await steps.getByTestId("rollout-step-state").allTextContents()).toEqual(["done", "done"]);
      expect(await textOf(p.getByTestId("deployment-revision"))).toBe("2");
      // The page followed the rollout while it ran, not only its end.
      expect(
        [...seen].some((reads) => reads.endsWith("running")),
        `states seen: ${[...seen].join(", ")}`,
      ).toBe(true);
    });
  });

  it("a rollback to revision 1 from the history makes revision 3 with the diff back", async () => {
    await failureShown("rollback", async () => {
      const p = need(page, "the admin's page");
      need(deploymentId, "a deployment");
      const history = p.getByTestId("revision-history");
      await history.locator('tr[data-revision="2"]').waitFor();
      expect(await textOf(history.locator('tr[data-revision="2"]').getByTestId("revision-diff"))).toBe(
        "env +MODE",
      );
      let question = "";
      p.once("dialog", (dialog) => {
        question = dialog.message();
        void dialog.accept();
      });
      await history
        .locator('tr[data-revision="1"]')
        .getByRole("button", { name: "Roll back to 1", exact: true })
        .click();
      const revision3 = history.locator('tr[data-revision="3"]');
      await revision3.waitFor({ timeout: 30_000 });
      expect(question).toContain("back to revision 1");
      expect(await textOf(revision3.getByTestId("revision-diff"))).toBe("rollback to revision 1: env -MODE");
      await eventually(
        "the rollback's rollout to succeed",
        () => rolloutReads(p),
        (reads) => reads === "revision 2 → revision 3 succeeded",
        { timeoutMs: 90_000, intervalMs: 200 },
      );
      await eventually(
        "revision 3 current with its rollout succeeded in the history",
        async () => (await textOf(revision3)) ?? "",
        (text) => text.includes("current") && text.includes("succeeded"),
        { timeoutMs: 15_000, intervalMs: 250 },
      );
      expect(await textOf(p.getByTestId("deployment-revision"))).toBe("3");
    });
  });

  it("Scale to 3 places a third replica and makes no revision", async () => {
    await failureShown("scale", async () => {
      const p = need(page, "the admin's page");
      need(deploymentId, "a deployment");
      const scale = p.getByRole("form", { name: "Scale" });
      await scale.getByLabel("Replicas", { exact: true }).fill("3");
      await scale.getByRole("button", { name: "Scale", exact: true }).click();
      await eventually(
        "3 of 3 replicas serving",
        () => textOf(p.getByTestId("replicas-serving")),
        (text) => text === "3/3",
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      expect(await textOf(p.getByTestId("deployment-revision"))).toBe("3");
      await screenshot(p, "deployment-detail");
    });
  });

  it("a viewer sees the deployment but no button that changes it", async () => {
    await failureShown("viewer", async () => {
      const id = need(deploymentId, "a deployment");
      const { central } = fleet();
      const viewerContext = await fleet().newContext();
      const viewer = await viewerContext.newPage();
      await signIn(viewer, central.viewer);
      await waitForHeading(viewer, "Overview");
      await viewer.goto(`/deployments/${id}`);
      await waitForHeading(viewer, DEPLOYMENT);
      await viewer.getByTestId("revision-history").locator('tr[data-revision="3"]').waitFor();
      await viewer.getByTestId("rollout-timeline").getByTestId("rollout-step").first().waitFor();
      const main = viewer.locator("main");
      for (const name of ["Edit", "Remove", "Scale", "Pause", "Resume", "Promote", "Roll back to 1"]) {
        expect(await main.getByRole("button", { name, exact: true }).count(), `button ${name}`).toBe(0);
      }
      await screenshot(viewer, "deployment-viewer");
      await viewerContext.close();
    });
  });
});
