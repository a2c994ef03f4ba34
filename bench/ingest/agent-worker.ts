/**
 * Simulated agents for the ingest benchmark, in a worker thread so that building and
 * sending frames does not share the central's event loop. The main thread drives it
 * with messages: join → (hostIds) → prepare → (prepared) → send → (sent) → close.
 *
 * Every frame is encoded before the measured window (prepare): the threads share the
 * machine's two cores with the central and Postgres, and building and encoding 25 KB
 * of JSON per frame took them about as much CPU as the central spent on it. Frames
 * are written from a template (frameTemplate): each agent's frames differ only in a
 * few numbers, so the JSON is put together from pieces instead of serializing
 * thousands of objects; the first frames are checked to equal what JSON.stringify
 * would send. They go out as text messages, as an agent sends them.
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
  | { kind: "prepare"; containers: Record<string, string[]>; firstTs: number }
  | { kind: "send" }
  | { kind: "close" };

export type AgentWorkerReport =
  | { kind: "joined"; hostIds: string[] }
  | { kind: "prepared" }
  /** `busySeconds`: how long this thread's event loop was busy sending (its CPU, near enough). */
  | { kind: "sent"; samples: number; frames: number; busySeconds: number }
  | { kind: "closed" }
  | { kind: "failed"; error: string };

const data = workerData as AgentWorkerData;
const port = parentPort;
if (!port) throw new Error("agent-worker.ts runs as a worker thread");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What one metrics frame of an agent holds: its samples as the benchmark varies them per frame. */
function buildFrame(hostId: string, containerIds: string[], firstTs: number, frame: number): TMetricsFrame {
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
  return { type: "metrics", batchId: `${hostId}-${frame}`, containers, host, droppedSamples: 0 };
}

// Stand-ins for what changes from frame to frame, found again in the serialized template.
const SLOT_BASE = 4_000_000_000_000;
const SLOT_PATTERN = /4000000000(\d{3})/g;
const BATCH_SLOT = "@@batch@@";

/**
 * The frame's JSON split around its varying numbers: the batch id, each tick's time,
 * the frame's counters. Filling it costs a join, not a serialization.
 */
function frameTemplate(hostId: string, containerIds: string[]): (firstTs: number, frame: number) => string {
  // Slot k: 0 → cpuUsageNs, 1 → netRxBytes, 2 + tick → that tick's ts.
  const containers: TContainerSample[] = [];
  let host: THostSample | null = null;
  for (let tick = 0; tick < data.ticksPerFrame; tick++) {
    const ts = SLOT_BASE + 2 + tick;
    for (const [i, containerId] of containerIds.entries()) {
      containers.push(
        makeContainerSample({
          containerId,
          ts,
          cpuCores: (i % 10) / 10,
          cpuUsageNs: SLOT_BASE,
          memoryUsageBytes: 20 * 1024 * 1024 + i,
          netRxBytes: SLOT_BASE + 1,
        }),
      );
    }
    host = makeHostSample({ ts, containers: containerIds.length });
  }
  const json = JSON.stringify({
    type: "metrics",
    batchId: BATCH_SLOT,
    containers,
    host,
    droppedSamples: 0,
  } satisfies TMetricsFrame);
  const [beforeBatch, afterBatch] = json.split(`"${BATCH_SLOT}"`) as [string, string];
  const pieces = [beforeBatch];
  const slots: number[] = [-1];
  let last = 0;
  for (const match of afterBatch.matchAll(SLOT_PATTERN)) {
    pieces.push(afterBatch.slice(last, match.index));
    slots.push(Number(match[1]));
    last = (match.index ?? 0) + match[0].length;
  }
  pieces.push(afterBatch.slice(last));
  return (firstTs, frame) => {
    let text = "";
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as number;
      text += pieces[i];
      text +=
        slot === -1
          ? JSON.stringify(`${hostId}-${frame}`)
          : slot === 0
            ? String(frame * 1e9)
            : slot === 1
              ? String(frame * 1000)
              : String(firstTs + (frame * data.ticksPerFrame + slot - 2) * data.intervalMs);
    }
    return text + (pieces[slots.length] as string);
  };
}

/** Every frame an agent sends in a pass, as the UTF-8 bytes of its JSON. */
function encodeFrames(agent: FakeAgent, containerIds: string[], firstTs: number): Buffer[] {
  const fill = frameTemplate(agent.hostId, containerIds);
  for (const frame of [0, 1, data.framesPerAgent - 1]) {
    if (fill(firstTs, frame) !== JSON.stringify(buildFrame(agent.hostId, containerIds, firstTs, frame)))
      throw new Error(`the frame template does not give frame ${frame} as JSON.stringify would`);
  }
  return Array.from({ length: data.framesPerAgent }, (_, frame) => Buffer.from(fill(firstTs, frame)));
}

async function sendAll(
  agent: FakeAgent,
  frames: readonly Buffer[],
  samplesPerFrame: number,
): Promise<number> {
  let tokens = data.sendBurst;
  let refilledAt = performance.now();
  let sent = 0;
  for (const [i, frame] of frames.entries()) {
    for (;;) {
      const now = performance.now();
      tokens = Math.min(data.sendBurst, tokens + ((now - refilledAt) * data.sendRatePerSecond) / 1000);
      refilledAt = now;
      if (tokens >= 1 && agent.socket.bufferedAmount < data.socketHighWaterBytes) break;
      await sleep(tokens >= 1 ? 2 : Math.ceil(((1 - tokens) * 1000) / data.sendRatePerSecond));
    }
    tokens -= 1;
    if (agent.socket.readyState !== agent.socket.OPEN) throw new Error(`${agent.hostId}: the socket closed`);
    agent.socket.send(frame, { binary: false });
    sent += samplesPerFrame;
    // Let the socket write and the other agents of this thread take turns.
    if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
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
  let prepared: { frames: Buffer[]; samplesPerFrame: number }[] = [];
  port?.on("message", (command: AgentWorkerCommand) => {
    if (command.kind === "prepare") {
      try {
        prepared = agents.map((agent, i) => {
          const containerIds = command.containers[agent.hostId] ?? [];
          return {
            frames: encodeFrames(agent, containerIds, command.firstTs + i * 37),
            samplesPerFrame: containerIds.length * data.ticksPerFrame,
          };
        });
        port.postMessage({ kind: "prepared" } satisfies AgentWorkerReport);
      } catch (error) {
        port.postMessage({ kind: "failed", error: String(error) } satisfies AgentWorkerReport);
      }
    } else if (command.kind === "send") {
      const loopAtStart = performance.eventLoopUtilization();
      Promise.all(
        agents.map((agent, i) =>
          sendAll(agent, prepared[i]?.frames ?? [], prepared[i]?.samplesPerFrame ?? 0),
        ),
      ).then(
        (counts) => {
          prepared = [];
          port.postMessage({
            kind: "sent",
            samples: counts.reduce((sum, count) => sum + count, 0),
            frames: agents.length * data.framesPerAgent,
            busySeconds: performance.eventLoopUtilization(loopAtStart).active / 1000,
          } satisfies AgentWorkerReport);
        },
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
