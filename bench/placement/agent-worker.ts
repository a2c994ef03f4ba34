/**
 * Simulated hosts for the placement benchmark, in a worker thread so that their sockets
 * and frames do not share the bench's event loop (where the API clients run). Each host is
 * the test harness's fake agent on a real WebSocket: it joins with its own join token,
 * acknowledges every desired set at once, answers the list operations a central sends
 * after a welcome with empty lists, and sends a heartbeat at the central's interval as a
 * real agent does. The main thread drives it with messages:
 * (joined) → desired → (desired) … → close → (closed).
 *
 * May import: node built-ins, the test harness's fake agent, the shared protocol.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { TOpRequestFrame } from "@fleet/shared/protocol/server-to-agent";
import {
  connectFakeAgent,
  type FakeAgent,
  FakeAgentRefusedError,
  type TFakeOpAnswer,
} from "@fleet/test/harness/fake-agent";

export interface AgentWorkerData {
  agents: { joinToken: string; name: string; url: string }[];
  /** Joins in flight at once (each is a hello, a few writes and a welcome on the central). */
  joinConcurrency: number;
  cpus: number;
  memoryBytes: number;
  heartbeatIntervalMs: number;
}

export type AgentWorkerCommand = { kind: "desired" } | { kind: "close" };

export type AgentWorkerReport =
  /** `retries`: hellos the central failed on its side (close 1011) and the host sent again. */
  | { kind: "joined"; hostIds: string[]; retries: number }
  /** Containers in each host's newest desired set, summed; frames the agents could not parse. */
  | { kind: "desired"; containers: number; desiredFrames: number; invalidFrames: number }
  | { kind: "closed" }
  | { kind: "failed"; error: string };

const data = workerData as AgentWorkerData;
// A real agent dials again after a hello the central could not complete; so does a simulated one.
const HELLO_ATTEMPTS = 5;
const HELLO_RETRY_MS = 1000;
const INTERNAL_CLOSE = 1011;
const port = parentPort;
if (!port) throw new Error("agent-worker.ts runs as a worker thread");

function answerOp(request: TOpRequestFrame): TFakeOpAnswer {
  switch (request.op.kind) {
    case "volume.list":
      return { ok: true, result: { volumes: [] } };
    case "network.list":
      return { ok: true, result: { networks: [] } };
    case "image.list":
      return { ok: true, result: { images: [] } };
    default:
      // Answered rather than ignored, so nothing waits for a minute on the central.
      return { ok: false, code: "invalid", message: "a simulated host does not do this" };
  }
}

const heartbeats: NodeJS.Timeout[] = [];
let helloRetries = 0;

async function join(agent: AgentWorkerData["agents"][number]): Promise<FakeAgent> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectFakeAgent({
        url: agent.url,
        joinToken: agent.joinToken,
        name: agent.name,
        facts: { cpus: data.cpus, memoryBytes: data.memoryBytes, labels: {} },
        reserve: { cpuMillis: 0, memoryBytes: 0 },
        answerOp,
        welcomeTimeoutMs: 60_000,
      });
    } catch (error) {
      if (!(error instanceof FakeAgentRefusedError) || error.closeCode !== INTERNAL_CLOSE) throw error;
      if (attempt >= HELLO_ATTEMPTS) throw error;
      helloRetries++;
      await new Promise((resolve) => setTimeout(resolve, HELLO_RETRY_MS * attempt));
    }
  }
}

async function joinAll(): Promise<FakeAgent[]> {
  const agents: FakeAgent[] = new Array(data.agents.length);
  let next = 0;
  const joinOne = async (): Promise<void> => {
    while (next < data.agents.length) {
      const index = next++;
      const agent = data.agents[index] as AgentWorkerData["agents"][number];
      const joined = await join(agent);
      agents[index] = joined;
      // From its welcome on, as a real agent does: the central marks a silent host offline.
      // Spread over the interval, as hosts started at different times would send them.
      const phase = Math.floor((index / data.agents.length) * data.heartbeatIntervalMs);
      heartbeats.push(
        setTimeout(() => {
          joined.sendHeartbeat();
          heartbeats.push(setInterval(() => joined.sendHeartbeat(), data.heartbeatIntervalMs));
        }, phase),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(data.joinConcurrency, data.agents.length) }, joinOne));
  return agents;
}

function desiredReport(agents: FakeAgent[]): AgentWorkerReport {
  let containers = 0;
  let desiredFrames = 0;
  let invalidFrames = 0;
  for (const agent of agents) {
    invalidFrames += agent.invalidFrames.length;
    for (let i = agent.frames.length - 1; i >= 0; i--) {
      const frame = agent.frames[i];
      if (frame?.type !== "desired") continue;
      containers += frame.containers.length;
      break;
    }
    for (const frame of agent.frames) if (frame.type === "desired") desiredFrames++;
  }
  return { kind: "desired", containers, desiredFrames, invalidFrames };
}

async function main(): Promise<void> {
  const agents = await joinAll();
  port?.postMessage({
    kind: "joined",
    hostIds: agents.map((agent) => agent.hostId),
    retries: helloRetries,
  } satisfies AgentWorkerReport);
  port?.on("message", (command: AgentWorkerCommand) => {
    if (command.kind === "desired") {
      port.postMessage(desiredReport(agents));
      return;
    }
    for (const timer of heartbeats) clearInterval(timer);
    Promise.allSettled(agents.map((agent) => agent.close())).then(() => {
      port.postMessage({ kind: "closed" } satisfies AgentWorkerReport);
      port.close();
    });
  });
}

main().catch((error: unknown) => {
  port.postMessage({
    kind: "failed",
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  } satisfies AgentWorkerReport);
});
