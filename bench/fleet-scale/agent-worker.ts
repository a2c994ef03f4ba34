/**
 * Simulated agents for the fleet-scale benchmark, many per worker thread: each speaks the
 * real protocol over its own WebSocket, as lightly as it can. hello (join token first, the
 * credential it got from then on) → welcome; every `desired` acked and its containers
 * reported running once per connection (the real agent resends every status after a
 * reconnect); heartbeats and metrics frames (all its containers + the host) at the
 * intervals the welcome sets; `op.request` answered with empty lists; a lost connection
 * redialled with full-jitter backoff like apps/agent/src/link/agent-link.ts (500 ms doubling
 * to AGENT_RECONNECT_MAX_MS; a 4012 close redials at once, then a few times within 250 ms).
 * With several central URLs (replicas behind a balancer), agent i starts on URL i mod n and
 * moves to the next one on a 4012 close or a dial that never opened (refused), as a
 * balancer would send it to another replica.
 *
 * Frames are parsed with JSON.parse only (the central's are trusted here) and metrics
 * frames are filled from a per-agent template, so the threads take little of the CPU
 * the central and Postgres share with them.
 *
 * The main thread drives it with messages (AgentWorkerCommand) and gets counts back.
 * May import: node built-ins, ws, the shared protocol's types and constants.
 */
import { createHash } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import type {
  TAgentFrame,
  TContainerStatusFrame,
  TMetricsFrame,
} from "@fleet/shared/protocol/agent-to-server";
import type { TServerFrame } from "@fleet/shared/protocol/server-to-agent";
import { AGENT_CLOSE, AGENT_RECONNECT_MAX_MS, PROTOCOL_VERSION } from "@fleet/shared/protocol/version";
import WebSocket from "ws";

export interface AgentWorkerData {
  /** ws://…/agent of each central replica. */
  socketUrls: string[];
  agents: { name: string; joinToken: string }[];
  /** Joins in flight at once per thread (a fleet being installed does not join in one instant). */
  joinConcurrency: number;
  /** When every container started (ISO), as the statuses say and the seeded rows hold. */
  startedAt: string;
}

export type AgentWorkerCommand =
  | { kind: "join" }
  /** The replicas to dial from the next connection on; every agent goes back to its own first. */
  | { kind: "urls"; socketUrls: string[] }
  /** Every agent closes its connection and redials after a random wait of at most `spreadMs`. */
  | { kind: "reconnect"; spreadMs: number }
  /** Count samples sent with timestamps from `fromTs` (epoch ms) on… */
  | { kind: "window-start"; fromTs: number }
  /** …and before `toTs`; answered once `toTs` has passed. */
  | { kind: "window-stop"; toTs: number }
  | { kind: "stats" }
  | { kind: "close" };

export interface AgentWorkerStats {
  agents: number;
  /** Agents whose current connection was welcomed. */
  welcomed: number;
  /** Of those, the ones that have acked a desired set on it and reported its containers. */
  settled: number;
  welcomes: number;
  connects: number;
  /** Close codes seen (connections that ended), by code. */
  closes: Record<string, number>;
  /** `error` frames received, by code (rate_limited, …). */
  errors: Record<string, number>;
  framesSent: number;
  samplesSent: number;
  statusesSent: number;
  opsAnswered: number;
  /** Metrics frames not sent because the socket was not open. */
  metricsSkipped: number;
}

export type AgentWorkerReport =
  | { kind: "joined"; hosts: { name: string; hostId: string }[] }
  | { kind: "window"; samples: number; frames: number }
  | { kind: "stats"; stats: AgentWorkerStats }
  | { kind: "closed" }
  | { kind: "failed"; error: string };

const data = workerData as AgentWorkerData;
const port = parentPort;
if (!port) throw new Error("agent-worker.ts runs as a worker thread");
const post = (report: AgentWorkerReport) => port.postMessage(report);

const RECONNECT_INITIAL_MS = 500;
const FAST_REDIALS = 4;
const FAST_REDIAL_JITTER_MS = 250;
const STABLE_CONNECTION_MS = 30_000;
const TS_MARK = 7_777_777_777_777;
const BATCH_MARK = "@@batch@@";

const stats: AgentWorkerStats = {
  agents: data.agents.length,
  welcomed: 0,
  settled: 0,
  welcomes: 0,
  connects: 0,
  closes: {},
  errors: {},
  framesSent: 0,
  samplesSent: 0,
  statusesSent: 0,
  opsAnswered: 0,
  metricsSkipped: 0,
};
let stopping = false;
let socketUrls = data.socketUrls;
let windowFromTs = Number.POSITIVE_INFINITY;
let windowToTs = Number.POSITIVE_INFINITY;
let windowSamples = 0;
let windowFrames = 0;

class SimAgent {
  hostId = "";
  credential = "";
  ws: WebSocket | null = null;
  welcomed = false;
  settled = false;
  containerIds: string[] = [];
  ackedGeneration: number | null = null;
  private reported = new Set<string>();
  private template: string[] | null = null;
  private batchSeq = 0;
  private timers: NodeJS.Timeout[] = [];
  private redialTimer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private fastRedialsLeft = 0;
  /** When the current connection was welcomed; 0 once it has closed. */
  private welcomedAt = 0;
  private onWelcome: (() => void) | null = null;
  private urlIndex: number;
  private opened = false;

  constructor(
    readonly name: string,
    readonly joinToken: string,
    readonly home: number,
  ) {
    this.urlIndex = home % socketUrls.length;
  }

  useUrls(): void {
    this.urlIndex = this.home % socketUrls.length;
  }

  /** Dials once; resolves on the welcome (used for the join). */
  dial(): Promise<void> {
    return new Promise((resolve) => {
      this.onWelcome = resolve;
      this.open();
    });
  }

  private open(): void {
    this.redialTimer = null;
    if (stopping) return;
    stats.connects++;
    const ws = new WebSocket(socketUrls[this.urlIndex % socketUrls.length] as string, {
      maxPayload: 4 * 1024 * 1024,
      perMessageDeflate: false,
    });
    this.ws = ws;
    this.opened = false;
    ws.on("error", () => {});
    ws.on("open", () => {
      this.opened = true;
      const auth = this.credential
        ? { kind: "credential" as const, hostId: this.hostId, credential: this.credential }
        : { kind: "join" as const, joinToken: this.joinToken };
      this.send({
        type: "hello",
        protocolVersion: PROTOCOL_VERSION,
        auth,
        name: this.name,
        facts: {
          hostname: this.name,
          cpus: 32,
          memoryBytes: 128 * 1024 ** 3,
          kernel: "6.1.0-18-amd64",
          os: "Debian GNU/Linux 12 (bookworm)",
          arch: "x86_64",
          cgroupVersion: 2,
          engine: { name: "docker", version: "24.0.7", apiVersion: "1.43" },
          agentVersion: "0.1.0-bench",
          labels: { zone: `z${this.name.length % 3}` },
        },
        reserve: { cpuMillis: 500, memoryBytes: 1024 ** 3 },
        agentVersion: "0.1.0-bench",
      });
    });
    ws.on("message", (raw) => this.receive(JSON.parse(raw.toString()) as TServerFrame));
    ws.on("close", (code) => this.closed(ws, code));
  }

  private send(frame: TAgentFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  private sendRaw(text: string): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(text);
    stats.framesSent++;
    return true;
  }

  private receive(frame: TServerFrame): void {
    switch (frame.type) {
      case "welcome": {
        if (frame.credential) this.credential = frame.credential;
        this.hostId = frame.hostId;
        this.welcomed = true;
        this.welcomedAt = Date.now();
        this.settled = false;
        this.reported.clear();
        stats.welcomes++;
        stats.welcomed++;
        this.startTimers(frame.settings.heartbeatIntervalMs, frame.settings.metricsIntervalMs);
        this.onWelcome?.();
        this.onWelcome = null;
        return;
      }
      case "desired": {
        const ids = frame.containers.map((container) => container.id);
        if (ids.join() !== this.containerIds.join()) {
          this.containerIds = ids;
          this.template = null;
        }
        this.send({ type: "ack", generation: frame.generation });
        this.ackedGeneration = frame.generation;
        for (const id of ids) {
          if (this.reported.has(id)) continue;
          this.reported.add(id);
          this.sendRaw(statusFrame(id));
          stats.statusesSent++;
        }
        if (!this.settled) {
          this.settled = true;
          stats.settled++;
        }
        return;
      }
      case "op.request": {
        const kind = frame.op.kind;
        const empty =
          kind === "volume.list"
            ? { volumes: [] }
            : kind === "network.list"
              ? { networks: [] }
              : kind === "image.list"
                ? { images: [] }
                : null;
        stats.opsAnswered++;
        this.send(
          empty
            ? ({ type: "op.result", id: frame.id, ok: true, kind, result: empty } as TAgentFrame)
            : {
                type: "op.result",
                id: frame.id,
                ok: false,
                error: { code: "unsupported", message: "a simulated agent" },
              },
        );
        return;
      }
      case "error":
        stats.errors[frame.code] = (stats.errors[frame.code] ?? 0) + 1;
        return;
      default:
        return;
    }
  }

  private startTimers(heartbeatMs: number, metricsMs: number): void {
    this.stopTimers();
    // A random phase: hosts do not start their intervals in step.
    const every = (ms: number, run: () => void) => {
      const first = setTimeout(
        () => {
          run();
          this.timers.push(setInterval(run, ms));
        },
        Math.floor(Math.random() * ms),
      );
      this.timers.push(first);
    };
    every(heartbeatMs, () =>
      this.send({
        type: "heartbeat",
        ts: Date.now(),
        containers: this.containerIds.length,
        ackedGeneration: this.ackedGeneration,
      }),
    );
    every(metricsMs, () => this.sendMetrics());
  }

  private stopTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  private sendMetrics(): void {
    this.template ??= metricsTemplate(this.containerIds);
    const ts = Date.now();
    const text = this.template
      .join(String(ts))
      .replace(BATCH_MARK, `${this.hostId.slice(0, 40)}-${++this.batchSeq}`);
    if (!this.sendRaw(text)) {
      stats.metricsSkipped++;
      return;
    }
    stats.samplesSent += this.containerIds.length;
    if (ts >= windowFromTs && ts < windowToTs) {
      windowSamples += this.containerIds.length;
      windowFrames++;
    }
  }

  private closed(ws: WebSocket, code: number): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.stopTimers();
    stats.closes[code] = (stats.closes[code] ?? 0) + 1;
    if (this.welcomed) stats.welcomed--;
    if (this.settled) stats.settled--;
    this.welcomed = false;
    this.settled = false;
    if (stopping) return;
    if (this.welcomedAt > 0 && Date.now() - this.welcomedAt >= STABLE_CONNECTION_MS) this.attempts = 0;
    this.welcomedAt = 0;
    if (code === AGENT_CLOSE.reconnectElsewhere || !this.opened)
      this.urlIndex = (this.urlIndex + 1) % socketUrls.length;
    let delay: number;
    if (code === AGENT_CLOSE.reconnectElsewhere) {
      this.fastRedialsLeft = FAST_REDIALS;
      delay = 0;
    } else if (this.fastRedialsLeft > 0) {
      this.fastRedialsLeft--;
      delay = Math.floor(Math.random() * FAST_REDIAL_JITTER_MS);
    } else {
      const ceiling = Math.min(AGENT_RECONNECT_MAX_MS, RECONNECT_INITIAL_MS * 2 ** this.attempts);
      this.attempts++;
      delay = Math.floor(Math.random() * ceiling);
    }
    this.redialTimer = setTimeout(() => this.open(), delay);
  }

  /** Closes the connection; it redials after `delayMs` unless the worker is stopping. */
  restart(delayMs: number): void {
    const ws = this.ws;
    if (!ws) return;
    this.closed(ws, 1000);
    if (this.redialTimer) clearTimeout(this.redialTimer);
    this.redialTimer = setTimeout(() => this.open(), delayMs);
    ws.close(1000, "simulated restart");
  }

  stop(): Promise<void> {
    if (this.redialTimer) clearTimeout(this.redialTimer);
    this.stopTimers();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once("close", () => resolve());
      ws.close(1000, "bench done");
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }
}

function engineIdOf(containerId: string): string {
  return createHash("sha256").update(containerId).digest("hex");
}

function statusFrame(containerId: string): string {
  const frame: TContainerStatusFrame = {
    type: "container.status",
    containerId,
    engineId: engineIdOf(containerId),
    state: "running",
    exitCode: null,
    oomKilled: false,
    restartCount: 0,
    startedAt: data.startedAt,
    finishedAt: null,
    message: null,
    imageDigest: null,
    publishedPorts: [],
    health: null,
    healthMessage: null,
    ts: Date.now(),
  };
  return JSON.stringify(frame);
}

/** A metrics frame's JSON split where its time goes; the batch id is put in by replace. */
function metricsTemplate(containerIds: string[]): string[] {
  const containers: TContainerSample[] = containerIds.map((containerId, i) => ({
    containerId,
    ts: TS_MARK,
    cpuCores: (i % 10) / 20,
    cpuUsageNs: 1_500_000_000 + i,
    cpuPeriods: 120,
    cpuThrottledPeriods: 3,
    cpuThrottledNs: 20_000_000,
    memoryUsageBytes: 20 * 1024 ** 2 + i * 4096,
    memoryWorkingSetBytes: 18 * 1024 ** 2,
    memoryLimitBytes: 64 * 1024 ** 2,
    memoryFailcnt: 0,
    oomKills: 0,
    pidsCurrent: 2,
    pidsLimit: 100,
    netRxBytes: 1024,
    netTxBytes: 2048,
    netRxPackets: 10,
    netTxPackets: 12,
    blkReadBytes: 4096,
    blkWriteBytes: 0,
  }));
  const host: THostSample = {
    ts: TS_MARK,
    cpuCores: 3.5,
    cpuCount: 32,
    memoryTotalBytes: 128 * 1024 ** 3,
    memoryAvailableBytes: 100 * 1024 ** 3,
    memoryUsedBytes: 28 * 1024 ** 3,
    load1: 2.5,
    load5: 2.4,
    load15: 2.3,
    diskTotalBytes: 500 * 1024 ** 3,
    diskFreeBytes: 300 * 1024 ** 3,
    containers: containerIds.length,
  };
  const frame: TMetricsFrame = { type: "metrics", batchId: BATCH_MARK, containers, host, droppedSamples: 0 };
  return JSON.stringify(frame).split(String(TS_MARK));
}

const agents = data.agents.map((agent, i) => new SimAgent(agent.name, agent.joinToken, i));

async function joinAll(): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < agents.length) {
      const agent = agents[next++] as SimAgent;
      await agent.dial();
    }
  };
  await Promise.all(Array.from({ length: Math.min(data.joinConcurrency, agents.length) }, lane));
}

port.on("message", (command: AgentWorkerCommand) => {
  switch (command.kind) {
    case "join":
      joinAll().then(
        () =>
          post({
            kind: "joined",
            hosts: agents.map((agent) => ({ name: agent.name, hostId: agent.hostId })),
          }),
        (error: unknown) => post({ kind: "failed", error: String(error) }),
      );
      return;
    case "urls":
      socketUrls = command.socketUrls;
      for (const agent of agents) agent.useUrls();
      return;
    case "reconnect":
      for (const agent of agents) agent.restart(Math.floor(Math.random() * command.spreadMs));
      return;
    case "window-start":
      windowSamples = 0;
      windowFrames = 0;
      windowFromTs = command.fromTs;
      windowToTs = Number.POSITIVE_INFINITY;
      return;
    case "window-stop":
      windowToTs = command.toTs;
      setTimeout(
        () => post({ kind: "window", samples: windowSamples, frames: windowFrames }),
        Math.max(0, command.toTs - Date.now() + 50),
      );
      return;
    case "stats":
      post({ kind: "stats", stats: structuredClone(stats) });
      return;
    case "close":
      stopping = true;
      Promise.allSettled(agents.map((agent) => agent.stop())).then(() => {
        post({ kind: "closed" });
        port.close();
      });
      return;
  }
});
