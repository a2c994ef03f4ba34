/**
 * Simulated agents for the ingest benchmark, in a worker thread so that building and
 * sending frames does not share the central's event loop. The main thread drives it
 * with messages: join → (hostIds) → send → (sent) → close.
 *
 * May import: node built-ins, the test harness's fake agent, the shared protocol.
 */
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import type { TMetricsFrame } from "@fleet/shared/protocol/agent-to-server";
import { makeContainerSample, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { connectFakeAgent, type FakeAgent } from "@fleet/test/harness/fake-agent";

export interface AgentWorkerData {
  url: string;
  agents: { joinToken: string; name: string }[];
  framesPerAgent: number;
  ticksPerFrame: number;
  intervalMs: number;
  /** Frames per second and burst each agent stays within (below the gateway's limits). */
  sendRatePerSecond: number;
  sendBurst: number;
  socketHighWaterBytes: number;
}

export type AgentWorkerCommand =
  | { kind: "send"; containers: Record<string, string[]>; firstTs: number }
  | { kind: "close" };

export type AgentWorkerReport =
  | { kind: "joined"; hostIds: string[] }
  | { kind: "sent"; samples: number; frames: number }
  | { kind: "closed" }
  | { kind: "failed"; error: string };

const data = workerData as AgentWorkerData;
const port = parentPort;
if (!port) throw new Error("agent-worker.ts runs as a worker thread");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sendAll(agent: FakeAgent, containerIds: string[], firstTs: number): Promise<number> {
  let tokens = data.sendBurst;
  let refilledAt = performance.now();
  let sent = 0;
  for (let frame = 0; frame < data.framesPerAgent; frame++) {
    for (;;) {
      const now = performance.now();
      tokens = Math.min(data.sendBurst, tokens + ((now - refilledAt) * data.sendRatePerSecond) / 1000);
      refilledAt = now;
      if (tokens >= 1 && agent.socket.bufferedAmount < data.socketHighWaterBytes) break;
      await sleep(tokens >= 1 ? 2 : Math.ceil(((1 - tokens) * 1000) / data.sendRatePerSecond));
    }
    tokens -= 1;
    const containers: TContainerSample[] = [];
    let host: THostSample | null = null;
    for (let tick = 0; tick < data.ticksPerFrame; tick++) {
      const ts = firstTs + (frame * data.ticksPerFrame + tick) * data.intervalMs;
      for (const [i, containerId] of containerIds.entries()) {
        containers.push(
          makeContainerSample({
            containerId,
            ts,
            cpuCores: (i % 10) / 10,
            cpuUsageNs: frame * 1e9,
            memoryUsageBytes: 20 * 1024 * 1024 + i,
            netRxBytes: frame * 1000,
          }),
        );
      }
      host = makeHostSample({ ts, containers: containerIds.length });
    }
    const metrics: TMetricsFrame = {
      type: "metrics",
      batchId: `${agent.hostId}-${frame}`,
      containers,
      host,
      droppedSamples: 0,
    };
    agent.send(metrics);
    sent += containers.length;
    // Let the socket write and the other agents of this thread take turns.
    if (frame % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
  }
  // Everything handed to the socket has gone out.
  while (agent.socket.bufferedAmount > 0) await sleep(5);
  return sent;
}

async function main(): Promise<void> {
  const agents = await Promise.all(
    data.agents.map((agent) =>
      connectFakeAgent({ url: data.url, joinToken: agent.joinToken, name: agent.name }),
    ),
  );
  port?.postMessage({
    kind: "joined",
    hostIds: agents.map((agent) => agent.hostId),
  } satisfies AgentWorkerReport);
  port?.on("message", (command: AgentWorkerCommand) => {
    if (command.kind === "send") {
      Promise.all(
        agents.map((agent, i) =>
          sendAll(agent, command.containers[agent.hostId] ?? [], command.firstTs + i * 37),
        ),
      ).then(
        (counts) =>
          port.postMessage({
            kind: "sent",
            samples: counts.reduce((sum, count) => sum + count, 0),
            frames: agents.length * data.framesPerAgent,
          } satisfies AgentWorkerReport),
        (error: unknown) =>
          port.postMessage({ kind: "failed", error: String(error) } satisfies AgentWorkerReport),
      );
    } else {
      Promise.allSettled(agents.map((agent) => agent.close())).then(() => {
        port.postMessage({ kind: "closed" } satisfies AgentWorkerReport);
        port.close();
      });
    }
  });
}

main().catch((error: unknown) => {
  port.postMessage({
    kind: "failed",
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  } satisfies AgentWorkerReport);
});
