// Hostile input: 10,000 malformed or oversized frames (random bytes, broken
// JSON, wrong types, huge strings, deep nesting, unknown types, valid frames
// with one field spoiled, frames before hello, invalid UTF-8) from several
// connections at once, while a well-behaved agent keeps working beside them.
// The server must stay up, answer with `error` frames or close the offending
// connection, and log no failure of its own. The generator is seeded: a
// failure names the seed that reproduces it.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { parseAgentFrame } from "@fleet/shared/protocol/frame";
import { agentFrameFactories } from "@fleet/shared/protocol/test-factories";
import { MAX_FRAME_BYTES } from "@fleet/shared/protocol/version";
import { connectFakeAgent, openRawAgentSocket } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { GATEWAY_CLOSE } from "./gateway-limits";
import { type GatewayTestServer, startGatewayTestServer } from "./testing/gateway-test-server";

const TOTAL_BAD_FRAMES = 10_000;
const ATTACKERS = 6;
const BAD_FRAME_LIMIT = 100;
const BURST = 10;
const MAX_BURSTS_PER_CONNECTION = 100;
const SEED = Number(process.env.FLEET_FUZZ_SEED ?? Date.now() % 1_000_000);

/** mulberry32: small, fast, good enough to pick fuzz cases reproducibly. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Payload = { data: string | Buffer; binary?: boolean };

function makeGenerator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const frameTypes = Object.keys(agentFrameFactories) as (keyof typeof agentFrameFactories)[];
  const strangeValues: unknown[] = [
    null,
    -1,
    1e308,
    -0.5,
    "",
    "x".repeat(20_000),
    [],
    {},
    true,
    "💥".repeat(1000),
    { type: "hello" },
    [1, [2, [3]]],
    "2025-13-45T99:99:99Z",
    "../../etc/passwd",
    "\u0000\u0001",
    Number.MAX_SAFE_INTEGER + 2,
  ];

  function spoil(value: unknown, depth: number): unknown {
    if (value === null || typeof value !== "object" || depth > 4 || random() < 0.25)
      return pick(strangeValues);
    if (Array.isArray(value)) {
      if (value.length === 0) return [pick(strangeValues)];
      const copy = [...value];
      const index = int(copy.length);
      copy[index] = spoil(copy[index], depth + 1);
      return copy;
    }
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy).filter((key) => depth > 0 || key !== "type");
    if (keys.length === 0 || random() < 0.1) {
      copy[`extra${int(10)}`] = pick(strangeValues);
      return copy;
    }
    const key = pick(keys);
    if (random() < 0.15) delete copy[key];
    else copy[key] = spoil(copy[key], depth + 1);
    return copy;
  }

  const kinds: [number, () => Payload][] = [
    [10, () => ({ data: Buffer.from(Array.from({ length: 1 + int(512) }, () => int(256))), binary: true })],
    [10, () => ({ data: pick(["{", '{"type":', "nul", "[1,2", '{"type":"hello"', '"unterminated', "{}}"]) })],
    [8, () => ({ data: JSON.stringify(pick([42, "hello", null, [1, 2], true, [{ type: "heartbeat" }]])) })],
    [
      6,
      () => ({
        data: JSON.stringify({
          type: pick([
            "",
            "HELLO",
            "welcome",
            "desired",
            "op.cancel",
            "x".repeat(5000),
            "constructor",
            "__proto__",
          ]),
        }),
      }),
    ],
    [
      6,
      () => ({
        data: JSON.stringify({
          type: pick(frameTypes),
          filler: "y".repeat(random() < 0.03 ? 1_000_000 : 5000 + int(60_000)),
        }),
      }),
    ],
    [4, () => ({ data: `${"[".repeat(10_000)}${"]".repeat(10_000)}` })],
    [
      4,
      () => ({
        data: `{"type":"event","ts":1,"kind":"agent.warning","message":"m","data":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`,
      }),
    ],
    [40, () => ({ data: JSON.stringify(spoil(agentFrameFactories[pick(frameTypes)](), 0)) })],
    [
      4,
      () => ({
        data: JSON.stringify({
          type: "metrics",
          batchId: "b",
          containers: Array.from({ length: 5001 }, () => ({})),
          host: null,
          droppedSamples: 0,
        }),
      }),
    ],
    [0.5, () => ({ data: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), binary: false })],
    [0.2, () => ({ data: "z".repeat(MAX_FRAME_BYTES + 1 + int(1000)) })],
  ];
  const totalWeight = kinds.reduce((sum, [weight]) => sum + weight, 0);
  return (): Payload => {
    let roll = random() * totalWeight;
    for (const [weight, make] of kinds) {
      roll -= weight;
      if (roll < 0) return make();
    }
    return (kinds[0] as [number, () => Payload])[1]();
  };
}

describe("gateway under hostile input", () => {
  const database = useTestDatabase();
  let server: GatewayTestServer;
  const serverErrors: string[] = [];
  const metricsFrames: string[] = [];

  beforeAll(async () => {
    const errorSink = new Writable({
      write(chunk, _encoding, done) {
        serverErrors.push(String(chunk));
        done();
      },
    });
    server = await startGatewayTestServer({
      databaseUrl: database().url,
      log: pino({ level: "error" }, errorSink),
      // Fewer reconnects for the same number of frames: the limit's closing is still exercised.
      tuning: { badFrameLimit: BAD_FRAME_LIMIT },
      metrics: { ingest: (hostId) => void metricsFrames.push(hostId) },
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  /** The well-behaved agent: heartbeats, statuses and operation answers the whole time. */
  async function startGoodAgent() {
    const agent = await connectFakeAgent({
      url: server.url,
      joinToken: await server.createJoinToken(),
      name: "good-citizen",
      answerOp: (request) =>
        request.op.kind === "image.list"
          ? { ok: true, result: { images: [] } }
          : { ok: false, code: "unsupported", message: "no" },
    });
    const container = await server.db.container.create({
      data: {
        name: `good-${randomUUID().slice(0, 8)}`,
        hostId: agent.hostId,
        image: "127.0.0.1:5000/fleet/busybox:1.36",
        spec: {},
        cpuRequestMillis: 10,
        memoryRequestBytes: 0n,
        pidsRequest: 0,
      },
      select: { id: true },
    });
    let restarts = 0;
    let opsOk = 0;
    let opsFailed = 0;
    const opsInFlight = new Set<Promise<unknown>>();
    const timer = setInterval(() => {
      restarts++;
      agent.sendHeartbeat();
      agent.sendStatus({ containerId: container.id, state: "running", restartCount: restarts });
      agent.sendMetrics({ containers: [], host: null });
      const op = server.gateway.request(agent.hostId, { kind: "image.list" }, { timeoutMs: 5000 }).then(
        () => opsOk++,
        () => opsFailed++,
      );
      opsInFlight.add(op);
      void op.finally(() => opsInFlight.delete(op));
    }, 100);
    return {
      agent,
      containerId: container.id,
      async stop() {
        clearInterval(timer);
        await Promise.all(opsInFlight);
        return { restarts, opsOk, opsFailed };
      },
    };
  }

  interface AttackStats {
    sent: number;
    connections: number;
    errorFrames: number;
    closeCodes: Map<number, number>;
  }

  /** Whether the server must answer this payload with an `error` frame (on a connection past hello). */
  function expectsAnswer(payload: Payload): boolean {
    if (payload.binary === false && Buffer.isBuffer(payload.data)) return false; // invalid UTF-8: ws closes (1007)
    const parsed = parseAgentFrame(payload.data);
    return !parsed.ok || parsed.frame.type === "hello";
  }

  /** Resolves once `count` more error answers arrived, or the socket closed. */
  function answersArrived(ws: WebSocket, errorsSoFar: () => number, count: number): Promise<void> {
    const target = errorsSoFar() + count;
    return new Promise((resolve) => {
      const check = () => {
        if (errorsSoFar() >= target || ws.readyState !== ws.OPEN) {
          ws.off("message", onMessage);
          ws.off("close", check);
          clearTimeout(safety);
          resolve();
        }
      };
      // Listeners run in order: the harness records the frame before this one looks.
      const onMessage = () => check();
      ws.on("message", onMessage);
      ws.on("close", check);
      const safety = setTimeout(() => {
        ws.off("message", onMessage);
        ws.off("close", check);
        resolve();
      }, 5000);
      check();
    });
  }

  /** One attacker: connects (as a joined host, or raw without hello), fires bad frames until closed, repeats. */
  async function attack(options: {
    random: () => number;
    next: () => Payload;
    credential: { hostId: string; credential: string };
    budget: { left: number };
    stats: AttackStats;
  }): Promise<void> {
    const { random, next, budget, stats } = options;
    while (budget.left > 0) {
      let ws: WebSocket;
      let closed: Promise<{ code: number; reason: string }>;
      let errorsSoFar: () => number;
      if (random() < 0.1) {
        const raw = await openRawAgentSocket(server.url);
        ws = raw.ws;
        closed = raw.closed;
        errorsSoFar = () => raw.received.length;
      } else {
        const agent = await connectFakeAgent({
          url: server.url,
          credential: options.credential,
          autoAck: false,
        });
        ws = agent.socket;
        closed = agent.waitForClose(15_000);
        let errors = 0;
        const seen = agent.frames.length;
        let counted = seen;
        errorsSoFar = () => {
          for (; counted < agent.frames.length; counted++)
            if (agent.frames[counted]?.type === "error") errors++;
          return errors;
        };
      }
      stats.connections++;
      const isOpen = () => ws.readyState === ws.OPEN;
      // Some spoiled frames are still valid (and handled as such), so a connection may take more than
      // the bad-frame limit. After each burst the attacker waits for the server's answers, so the
      // frames are handled rather than dropped behind a close.
      for (let burst = 0; burst < MAX_BURSTS_PER_CONNECTION && budget.left > 0 && isOpen(); burst++) {
        let answers = 0;
        for (let i = 0; i < BURST && budget.left > 0 && isOpen(); i++) {
          const payload = next();
          budget.left--;
          stats.sent++;
          if (expectsAnswer(payload)) answers++;
          ws.send(payload.data, { binary: payload.binary ?? false });
        }
        await answersArrived(ws, errorsSoFar, answers);
      }
      if (isOpen() && budget.left > 0) {
        throw new Error(
          `seed ${SEED}: the server kept a connection open after ${MAX_BURSTS_PER_CONNECTION * BURST} frames`,
        );
      }
      // The budget ran out mid-connection: this one the attacker closes itself.
      if (isOpen()) ws.close(1000);
      const outcome = await closed;
      stats.errorFrames += errorsSoFar();
      stats.closeCodes.set(outcome.code, (stats.closeCodes.get(outcome.code) ?? 0) + 1);
    }
  }

  describe("fuzzing the agent endpoint", () => {
    it(`survives ${TOTAL_BAD_FRAMES} malformed frames while a good agent keeps working (seed ${SEED})`, async () => {
      const random = seededRandom(SEED);
      const next = makeGenerator(random);
      const good = await startGoodAgent();
      const attackers = await Promise.all(
        Array.from({ length: ATTACKERS }, async (_, n) => {
          const agent = await connectFakeAgent({
            url: server.url,
            joinToken: await server.createJoinToken(),
            name: `attacker-${n}`,
          });
          const credential = { hostId: agent.hostId, credential: agent.credential };
          await agent.close();
          return credential;
        }),
      );
      const budget = { left: TOTAL_BAD_FRAMES };
      const stats: AttackStats = { sent: 0, connections: 0, errorFrames: 0, closeCodes: new Map() };
      await Promise.all(
        attackers.map((credential, n) =>
          attack({ random: seededRandom(SEED + n + 1), next, credential, budget, stats }),
        ),
      );
      const goodStats = await good.stop();

      console.info(`fuzz seed ${SEED}:`, {
        ...stats,
        closeCodes: Object.fromEntries(stats.closeCodes),
        good: goodStats,
      });
      expect(stats.sent).toBe(TOTAL_BAD_FRAMES);
      // Every connection was closed by the server for what it sent, except the last one of an
      // attacker whose budget ran out mid-connection (closed by the attacker: 1000).
      const codes = [...stats.closeCodes.keys()];
      // 4401 too: a raw connection's first frame can be a spoiled hello that still parses, and
      // its made-up token or credential is refused as it should be.
      const allowed: number[] = [
        GATEWAY_CLOSE.badFrames,
        GATEWAY_CLOSE.flooding,
        GATEWAY_CLOSE.unauthorized,
        1007,
        1009,
      ];
      expect(
        codes.every(
          (code) =>
            allowed.includes(code) || (code === 1000 && (stats.closeCodes.get(code) ?? 0) <= ATTACKERS),
        ),
        `seed ${SEED}: close codes ${JSON.stringify([...stats.closeCodes])}`,
      ).toBe(true);
      expect(stats.closeCodes.get(GATEWAY_CLOSE.badFrames) ?? 0).toBeGreaterThan(0);
      // A connection closed for bad frames was told about them first (up to the limit, one each).
      expect(stats.errorFrames).toBeGreaterThan(stats.closeCodes.get(GATEWAY_CLOSE.badFrames) ?? 0);
      // Most frames were handled (and answered), not dropped behind a close.
      expect(stats.errorFrames).toBeGreaterThan(TOTAL_BAD_FRAMES / 2);

      // The good agent never noticed.
      expect(good.agent.isOpen()).toBe(true);
      expect(good.agent.closes).toEqual([]);
      expect(good.agent.frames.filter((frame) => frame.type === "error")).toEqual([]);
      expect(good.agent.invalidFrames).toEqual([]);
      expect(goodStats.opsFailed).toBe(0);
      expect(goodStats.opsOk).toBeGreaterThan(5);
      const row = await server.db.container.findUniqueOrThrow({ where: { id: good.containerId } });
      expect(row).toMatchObject({ actualState: "running", restartCount: goodStats.restarts });
      const pushed = await server.gateway.pushDesired(good.agent.hostId);
      await good.agent.waitFor("desired", (frame) => frame.generation === pushed.generation);
      expect(metricsFrames.filter((hostId) => hostId === good.agent.hostId).length).toBeGreaterThanOrEqual(
        goodStats.restarts,
      );

      // The server is up for newcomers, and nothing it did failed.
      const newcomer = await connectFakeAgent({
        url: server.url,
        joinToken: await server.createJoinToken(),
        name: "after",
      });
      expect(newcomer.hostId).not.toBe("");
      await newcomer.close();
      await good.agent.close();
      expect(serverErrors).toEqual([]);
    }, 60_000);

    it("closes an agent that floods valid frames (4429) and answers rate_limited first", async () => {
      const flooder = await connectFakeAgent({
        url: server.url,
        joinToken: await server.createJoinToken(),
        name: "flooder",
      });
      const frame = JSON.stringify({ type: "heartbeat", ts: 1, containers: 0, ackedGeneration: null });
      for (let i = 0; i < 5000 && flooder.isOpen(); i++) flooder.sendRaw(frame);
      const closed = await flooder.waitForClose(10_000);
      expect(closed.code).toBe(GATEWAY_CLOSE.flooding);
      expect(flooder.frames).toContainEqual(expect.objectContaining({ type: "error", code: "rate_limited" }));
      expect(serverErrors).toEqual([]);
    });
  });
});
