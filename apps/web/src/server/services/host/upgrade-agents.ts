// Agent upgrades from the central: which build the central serves (the
// manifest `npm run build` writes beside dist/fleet-agent-linux-x64), which
// hosts run another one, and the roll that upgrades them one at a time.
//
// The agent does the dangerous part itself (download over its pinned link,
// sha256 check, a trial run, rollback: apps/agent/src/upgrade). Here the
// central only asks, then waits for the host to come back reporting the new
// build, or for the agent's `agent.upgrade-failed`, or for a deadline, and
// stops the roll at the first failure so one bad build does not take down a
// fleet.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "@fleet/shared/clock";
import { z } from "zod";
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { TEventRow } from "../../events/event-view";
import { recordEvent } from "../../events/record-event";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";

export const AGENT_BINARY_NAME = "fleet-agent-linux-x64";

const ZManifest = z.object({
  version: z.string().min(1).max(40),
  commit: z.string().min(1).max(40),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export interface TServedAgent {
  /** `<version>+<commit>`, as agents report it in their hello. */
  build: string;
  sha256: string;
}

/** The agent build this central serves, or null when none is built (or its files disagree). */
export async function servedAgentBuild(downloadsDir: string): Promise<TServedAgent | null> {
  const base = join(downloadsDir, AGENT_BINARY_NAME);
  const [manifestText, sumText] = await Promise.all([
    readFile(`${base}.json`, "utf8").catch(() => null),
    readFile(`${base}.sha256`, "utf8").catch(() => null),
  ]);
  if (manifestText === null || sumText === null) return null;
  let manifest: z.infer<typeof ZManifest>;
  try {
    manifest = ZManifest.parse(JSON.parse(manifestText));
  } catch {
    return null;
  }
  // The .sha256 is what the download endpoint and install.sh go by: a manifest from another build is not believed.
  if (sumText.trim().split(/\s+/)[0] !== manifest.sha256) return null;
  return { build: `${manifest.version}+${manifest.commit}`.slice(0, 64), sha256: manifest.sha256 };
}

export function isOutdated(agentVersion: string | null, served: TServedAgent | null): boolean {
  return served !== null && agentVersion !== null && agentVersion !== served.build;
}

/**
 * One host at a time, in order, each finished (back on the new build, or
 * failed) before the next starts; the first failure ends the roll.
 */
export async function rollOneAtATime<H>(
  hosts: readonly H[],
  upgradeOne: (host: H) => Promise<boolean>,
): Promise<Array<{ host: H; ok: boolean }>> {
  const outcomes: Array<{ host: H; ok: boolean }> = [];
  for (const host of hosts) {
    const ok = await upgradeOne(host);
    outcomes.push({ host, ok });
    if (!ok) break;
  }
  return outcomes;
}

export type TUpgradeTarget = { hostId: string } | { outdated: true };

export interface AgentUpgraderOptions {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "request" | "isConnected">;
  bus: { publish(topic: "event", payload: TEventRow): void };
  log: Logger;
  clock: Clock;
  downloadsDir: string;
  /** How long one host may take from the request to reporting the new build (the agent's own trial deadline is 60 s). */
  hostDeadlineMs?: number;
  pollMs?: number;
}

export type TRollHostState = "waiting" | "upgrading" | "upgraded" | "failed" | "skipped";

/** The latest roll, as the CLI and the dashboard follow it. */
export interface TUpgradeRoll {
  build: string;
  startedBy: string;
  startedAt: Date;
  finished: boolean;
  hosts: Array<{ id: string; name: string; state: TRollHostState; message: string | null }>;
}

export interface AgentUpgrader {
  served(): Promise<TServedAgent | null>;
  /** The current roll, or the last one this central ran (null before the first). */
  lastRoll(): TUpgradeRoll | null;
  /** Checks, then rolls in the background; answers the hosts it will upgrade, in order. */
  start(options: {
    target: TUpgradeTarget;
    actorEmail: string;
  }): Promise<{ build: string; hosts: Array<{ id: string; name: string }> }>;
  /** True while a roll runs. */
  readonly rolling: boolean;
  /** Settles when the current roll (if any) ends; for tests and shutdown. */
  idle(): Promise<void>;
  /** Ends the wait of a running roll (its host is reported failed: the central stopped) and refuses new ones. */
  stop(): Promise<void>;
}

export function createAgentUpgrader(opts: AgentUpgraderOptions): AgentUpgrader {
  const { db, gateway, bus, log, clock } = opts;
  const hostDeadlineMs = opts.hostDeadlineMs ?? 180_000;
  const pollMs = opts.pollMs ?? 500;
  let current: Promise<void> | null = null;
  let roll: TUpgradeRoll | null = null;
  let stopped = false;
  const setState = (hostId: string, state: TRollHostState, message: string | null = null) => {
    const entry = roll?.hosts.find((host) => host.id === hostId);
    if (entry) Object.assign(entry, { state, message });
  };

  const event = (
    kind: string,
    hostId: string,
    message: string,
    data: Record<string, string>,
    severity: "info" | "error" = "info",
  ) => recordEvent({ db, bus, kind, hostId, message, data, severity, ts: new Date(clock.now()) });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Resolves with null once the host reports `build`, or with why it did not. */
  async function awaitOutcome(hostId: string, build: string, since: Date): Promise<string | null> {
    const deadline = clock.now() + hostDeadlineMs;
    for (;;) {
      const [host, failed] = await Promise.all([
        db.host.findUnique({ where: { id: hostId }, select: { agentVersion: true } }),
        db.event.findFirst({
          where: { hostId, kind: "agent.upgrade-failed", ts: { gte: since } },
          select: { message: true },
          orderBy: { ts: "desc" },
        }),
      ]);
      if (failed) return failed.message;
      if (stopped) return "the central stopped before the host came back";
      if (host?.agentVersion === build && (await gateway.isConnected(hostId))) return null;
      if (clock.now() >= deadline)
        return `the host did not come back reporting ${build} within ${hostDeadlineMs} ms`;
      await sleep(pollMs);
    }
  }

  async function upgradeOne(
    host: { id: string; name: string },
    served: TServedAgent,
    by: string,
  ): Promise<boolean> {
    const since = new Date(clock.now());
    setState(host.id, "upgrading");
    await event(
      "host.agent-upgrading",
      host.id,
      `${by} started upgrading the agent of ${host.name} to ${served.build}`,
      {
        build: served.build,
        by,
      },
    );
    let why: string | null;
    try {
      await gateway.request(
        host.id,
        { kind: "agent.upgrade", sha256: served.sha256, version: served.build },
        { timeoutMs: 5 * 60_000 },
      );
      why = await awaitOutcome(host.id, served.build, since);
    } catch (error) {
      why = (error as Error).message;
    }
    if (why === null) {
      setState(host.id, "upgraded");
      await event("host.agent-upgraded", host.id, `the agent of ${host.name} now runs ${served.build}`, {
        build: served.build,
      });
      return true;
    }
    setState(host.id, "failed", why);
    await event(
      "host.agent-upgrade-failed",
      host.id,
      `upgrading the agent of ${host.name} to ${served.build} failed: ${why}`.slice(0, 4000),
      { build: served.build, reason: why.slice(0, 1000) },
      "error",
    );
    return false;
  }

  return {
    served: () => servedAgentBuild(opts.downloadsDir),
    lastRoll: () => (roll ? structuredClone(roll) : null),
    get rolling() {
      return current !== null;
    },
    idle: () => current ?? Promise.resolve(),
    async stop() {
      stopped = true;
      await current;
    },
    async start({ target, actorEmail }) {
      if (stopped) throw new AppError("PRECONDITION_FAILED", "the central is stopping");
      if (current)
        throw new AppError("CONFLICT", "an agent upgrade is already rolling; wait for it to finish");
      const served = await servedAgentBuild(opts.downloadsDir);
      if (!served) {
        throw new AppError(
          "PRECONDITION_FAILED",
          `this central serves no agent binary (no ${join(opts.downloadsDir, AGENT_BINARY_NAME)} with its .sha256 and .json): run \`npm run build\``,
        );
      }
      const rows = await db.host.findMany({
        where: { removedAt: null, ...("hostId" in target ? { id: target.hostId } : {}) },
        select: { id: true, name: true, agentVersion: true },
        orderBy: { name: "asc" },
      });
      let hosts: Array<{ id: string; name: string }>;
      if ("hostId" in target) {
        const row = rows[0];
        if (!row) throw new AppError("NOT_FOUND", `no host with id ${target.hostId}`);
        if (!(await gateway.isConnected(row.id)))
          throw new AppError("PRECONDITION_FAILED", `host ${row.name} is offline`);
        if (row.agentVersion === served.build)
          throw new AppError("PRECONDITION_FAILED", `host ${row.name} already runs ${served.build}`);
        hosts = [{ id: row.id, name: row.name }];
      } else {
        // Offline hosts are left for later: they cannot take the request, and waiting for them would stall the roll.
        const outdated = rows.filter((row) => isOutdated(row.agentVersion, served));
        const connected = await Promise.all(outdated.map((row) => gateway.isConnected(row.id)));
        hosts = outdated.filter((_, index) => connected[index]).map(({ id, name }) => ({ id, name }));
      }
      if (hosts.length === 0) return { build: served.build, hosts };
      const thisRoll: TUpgradeRoll = {
        build: served.build,
        startedBy: actorEmail,
        startedAt: new Date(clock.now()),
        finished: false,
        hosts: hosts.map((host) => ({ ...host, state: "waiting", message: null })),
      };
      roll = thisRoll;
      current = rollOneAtATime(hosts, (host) => upgradeOne(host, served, actorEmail))
        .then((outcomes) => {
          const failed = outcomes.find((outcome) => !outcome.ok);
          if (failed) log.warn({ host: failed.host.name }, "agent upgrade failed; the roll stopped there");
        })
        .catch((error: unknown) => log.error({ err: error }, "agent upgrade roll failed"))
        .finally(() => {
          for (const host of thisRoll.hosts) if (host.state === "waiting") host.state = "skipped";
          thisRoll.finished = true;
          current = null;
        });
      return { build: served.build, hosts };
    },
  };
}
