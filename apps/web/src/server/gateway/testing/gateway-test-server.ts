// A real HTTP server on loopback whose `/agent` upgrades go to a real gateway
// on a real database, for the gateway's integration tests. It is the app
// server's wiring for `/agent` and nothing else, so these tests need neither
// tRPC nor Next.js. The event bus is the real one; every payload published on
// it is also kept in `published` for assertions.
import http from "node:http";
import type { Logger } from "pino";
import pino from "pino";
import { createPrismaClient, type PrismaClient } from "../../db/client";
import { createDutyLease, DUTIES_LEASE, type DutyLease, type DutyLeaseTuning } from "../../db/duty-lease";
import { loadEnv, type TEnv, type TEnvSource } from "../../env";
import { type BusTopics, createEventBus, type EventBus, type TBusTopic } from "../../events/event-bus";
import { createJoinToken } from "../../services/join-token/create-join-token";
import { createGateway, type Gateway } from "../gateway";
import type { GatewayMetricsSink, GatewayTuning } from "../gateway-options";

/** Test servers stay below the kernel's ephemeral range (32768+), where a client's own port could collide. */
async function listenOnFreePort(server: http.Server): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const listening = await new Promise<boolean>((resolve) => {
      const onError = () => resolve(false);
      server.once("error", onError);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", onError);
        resolve(true);
      });
    });
    if (listening) return port;
  }
  throw new Error("no free port between 20000 and 32000");
}

export interface GatewayTestServer {
  url: string;
  db: PrismaClient;
  bus: EventBus;
  gateway: Gateway;
  /** The duty lease this server runs its offline sweep under (it claims it at start). */
  duties: DutyLease;
  published: { topic: TBusTopic; payload: unknown }[];
  /** Payloads published on one topic so far. */
  publishedOn<K extends TBusTopic>(topic: K): BusTopics[K][];
  /** A join token made by the real service, owned by a throwaway administrator. */
  createJoinToken(options?: { labels?: Record<string, string>; ttlMs?: number; now?: Date }): Promise<string>;
  close(): Promise<void>;
}

export async function startGatewayTestServer(options: {
  databaseUrl: string;
  env?: TEnvSource;
  tuning?: Partial<GatewayTuning>;
  /** Where metrics frames go; a factory gets the server's own client, env and bus (to build the real service). */
  metrics?:
    | GatewayMetricsSink
    | ((deps: { db: PrismaClient; env: TEnv; bus: EventBus }) => GatewayMetricsSink);
  log?: Logger;
  /** The duty lease's timings; its holder is named after the replica id. */
  lease?: Partial<DutyLeaseTuning>;
  replicaId?: string;
}): Promise<GatewayTestServer> {
  const db = createPrismaClient(options.databaseUrl);
  const env = loadEnv({ FLEET_HEARTBEAT_INTERVAL: "1s", ...options.env });
  const bus = createEventBus();
  const published: GatewayTestServer["published"] = [];
  const record = bus.publish.bind(bus);
  bus.publish = (topic, payload) => {
    published.push({ topic, payload });
    record(topic, payload);
  };
  const gateway = createGateway({
    db,
    env,
    log: options.log ?? pino({ level: "silent" }),
    bus,
    metrics:
      typeof options.metrics === "function"
        ? options.metrics({ db, env, bus })
        : (options.metrics ?? { ingest: () => undefined }),
    ...(options.tuning ? { tuning: options.tuning } : {}),
    ...(options.replicaId ? { replicaId: options.replicaId } : {}),
  });
  await gateway.start();
  // As central.ts does: the offline sweep runs while this server holds the duty lease (at once, if alone).
  const duties = createDutyLease({
    db,
    name: DUTIES_LEASE,
    holder: options.replicaId ?? `gateway-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    log: options.log ?? pino({ level: "silent" }),
    ...(options.lease ? { tuning: options.lease } : {}),
    onAcquired: (fence) => gateway.offlineSweep.start(fence),
    onLost: () => gateway.offlineSweep.stop(),
  });
  await duties.start();
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req, socket, head) => {
    if (req.url?.split("?")[0] === "/agent") gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  const port = await listenOnFreePort(server);
  let admin: { id: string; email: string } | null = null;

  return {
    url: `http://127.0.0.1:${port}`,
    db,
    bus,
    gateway,
    duties,
    published,
    publishedOn<K extends TBusTopic>(topic: K) {
      return published.filter((entry) => entry.topic === topic).map((entry) => entry.payload as BusTopics[K]);
    },
    async createJoinToken(tokenOptions = {}) {
      admin ??= await db.user.create({
        data: {
          email: `admin-${Date.now()}-${Math.random()}@fleet.test`,
          name: "Admin",
          role: "admin",
          passwordHash: "x",
        },
        select: { id: true, email: true },
      });
      const created = await createJoinToken({
        db,
        bus,
        caller: { actor: { userId: admin.id, email: admin.email }, clientAddress: "127.0.0.1" },
        now: tokenOptions.now ?? new Date(),
        createdById: admin.id,
        ttlMs: tokenOptions.ttlMs ?? 60 * 60_000,
        labels: tokenOptions.labels ?? {},
        agentEndpoint: { publicUrl: `https://127.0.0.1:${port}`, pin: null },
      });
      return created.token;
    },
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await duties.release();
      await gateway.close();
      server.closeAllConnections();
      await stopped;
      await db.$disconnect();
    },
  };
}
