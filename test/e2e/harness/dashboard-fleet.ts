/**
 * Everything a dashboard test drives, started in beforeAll and torn down in
 * afterAll (also when a step or the setup itself failed): a fresh database,
 * the central with the production dashboard, a private dockerd holding the
 * busybox test image, headless Chromium, and any agents the test spawns.
 *
 * May import: ../../harness, the other files of this folder.
 */
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { startDockerd, type TestEngine } from "../../harness/engines";
import { createTestDatabase, type TestDatabase } from "../../harness/postgres";
import { buildTestImage } from "../../harness/test-image";
import { type E2eAgent, parseJoinCommand, spawnAgent } from "./agent";
import { launchBrowser, newDashboardContext } from "./browser";
import { type E2eCentral, startE2eCentral } from "./central";
import { teardownInOrder } from "./teardown";

export interface DashboardFleet {
  central: E2eCentral;
  engine: TestEngine;
  browser: Browser;
  /** A fresh browser profile on the central (no session), light unless asked; its console errors go to diagnostics(). */
  newContext(colorScheme?: "light" | "dark"): Promise<BrowserContext>;
  /** Spawns the real agent from a join command as the dashboard shows it, on this fleet's engine. */
  startAgent(joinCommand: string, name: string): Promise<E2eAgent>;
  /** The agents' and the central's recent output, to append to a failure message. */
  diagnostics(): string;
}

export function useDashboardFleet(): () => DashboardFleet {
  let database: TestDatabase | undefined;
  let engine: TestEngine | undefined;
  let central: E2eCentral | undefined;
  let browser: Browser | undefined;
  const agents: E2eAgent[] = [];
  const browserErrors: string[] = [];
  let fleet: DashboardFleet | undefined;

  beforeAll(async () => {
    const startEngine = (async () => {
      engine = await startDockerd({ name: "e2e" });
      await buildTestImage(engine);
      return engine;
    })();
    const startCentral = (async () => {
      database = await createTestDatabase();
      central = await startE2eCentral({ databaseUrl: database.url });
      return central;
    })();
    const startBrowser = (async () => {
      browser = await launchBrowser();
      return browser;
    })();
    // All three settle before a failure is thrown, so afterAll sees everything that started.
    const results = await Promise.allSettled([startEngine, startCentral, startBrowser]);
    for (const result of results) if (result.status === "rejected") throw result.reason;
    const readyEngine = await startEngine;
    const readyCentral = await startCentral;
    fleet = {
      central: readyCentral,
      engine: readyEngine,
      browser: await startBrowser,
      async newContext(colorScheme = "light") {
        const context = await newDashboardContext(await startBrowser, readyCentral.url, colorScheme);
        context.on("weberror", (error) => browserErrors.push(`page error: ${error.error().message}`));
        context.on("console", (message) => {
          if (message.type() === "error")
            browserErrors.push(`console (${message.location().url}): ${message.text()}`);
        });
        return context;
      },
      async startAgent(joinCommand, name) {
        const agent = await spawnAgent({ join: parseJoinCommand(joinCommand), engine: readyEngine, name });
        agents.push(agent);
        return agent;
      },
      diagnostics() {
        const parts = agents.map(
          (agent) => `--- agent ${agent.name} output:\n${agent.output().slice(-4000)}`,
        );
        parts.push(`--- browser errors:\n${browserErrors.slice(-30).join("\n")}`);
        parts.push(`--- central log (warn and above):\n${readyCentral.log.text().slice(-4000)}`);
        return parts.join("\n");
      },
    };
  });

  afterAll(async () => {
    await teardownInOrder("e2e", [
      () => browser?.close(),
      () => Promise.all(agents.map((agent) => agent.stop())),
      () => central?.close(),
      () => engine?.stop(),
      () => database?.drop(),
      async () => {
        fleet = undefined;
      },
    ]);
  });

  return () => {
    if (!fleet) throw new Error("useDashboardFleet(): the fleet exists only inside tests (after beforeAll)");
    return fleet;
  };
}
