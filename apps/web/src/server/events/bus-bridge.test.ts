// The bridge's own rules, with an in-memory carrier standing in for
// NOTIFY (delivery to every listener, the sender included, as Postgres does):
// which topics cross, that a replica skips its own and sends nothing on, that
// an event row survives the trip, that a row too large travels as its id, and
// that garbage is dropped. replicas.integration.test.ts runs it over Postgres.
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import type { PrismaClient } from "../db/client";
import { MAX_NOTIFY_PAYLOAD_BYTES } from "../db/pg-notify";
import { BUS_CHANNEL, bridgeEventBus } from "./bus-bridge";
import { type BusTopics, createEventBus, type EventBus, type TBusTopic } from "./event-bus";
import type { TEventRow } from "./event-view";

const log = pino({ level: "silent" });

function carrier() {
  const listeners = new Map<string, Set<(payload: string) => void>>();
  const sent: { channel: string; payload: string }[] = [];
  return {
    sent,
    notifier(enabled = true) {
      return {
        enabled,
        listen(channel: string, handler: (payload: string) => void) {
          const set = listeners.get(channel) ?? new Set();
          listeners.set(channel, set);
          set.add(handler);
          return () => set.delete(handler);
        },
        notify(channel: string, payload: string) {
          if (Buffer.byteLength(payload) > MAX_NOTIFY_PAYLOAD_BYTES) throw new Error("too large");
          sent.push({ channel, payload });
          for (const handler of listeners.get(channel) ?? []) handler(payload);
          return Promise.resolve();
        },
      };
    },
    /** What anyone with database access could send. */
    inject(payload: string) {
      for (const handler of listeners.get(BUS_CHANNEL) ?? []) handler(payload);
    },
  };
}

function eventRow(overrides: Partial<TEventRow> = {}): TEventRow {
  return {
    id: 9_007_199_254_740_993n,
    ts: new Date("2026-12-07T09:00:00.123Z"),
    kind: "container.oom",
    severity: "warning",
    hostId: "0193a3b0-0000-7000-8000-000000000001",
    containerId: null,
    deploymentId: null,
    message: "web-1 was killed: out of memory",
    data: { limitBytes: 67108864, nested: { list: [1, "two", null] } },
    ...overrides,
  };
}

function replicaPair(options: { db?: Partial<PrismaClient>; secondEnabled?: boolean } = {}) {
  const wire = carrier();
  const db = (options.db ?? {}) as PrismaClient;
  const one = bridgeEventBus({ bus: createEventBus(), notifier: wire.notifier(), replicaId: "r1", db, log });
  const two = bridgeEventBus({
    bus: createEventBus(),
    notifier: wire.notifier(options.secondEnabled ?? true),
    replicaId: "r2",
    db,
    log,
  });
  return { wire, one, two };
}

function collect<K extends TBusTopic>(bus: EventBus, topic: K): BusTopics[K][] {
  const got: BusTopics[K][] = [];
  bus.subscribe(topic, (payload) => {
    got.push(payload);
  });
  return got;
}

describe("bus bridge", () => {
  it("republishes the bridged topics on the other replica, once, and keeps metrics.live local", async () => {
    const removedAt = new Date();
    const findUnique = vi.fn(async () => ({ removedAt }));
    const { wire, one, two } = replicaPair({ db: { host: { findUnique } } as never });
    const payloads: { [K in TBusTopic]?: BusTopics[K] } = {
      "host.changed": { hostId: "h1" },
      "container.changed": { containerId: "c1", hostId: null },
      "rollout.changed": { deploymentId: "d1", rolloutId: "ro1" },
      "rollout.started": { deploymentId: "d1", rolloutId: "ro2" },
      "access.changed": { userId: "u1", apiTokenId: "t1" },
      "host.removed": { hostId: "h2" },
    };
    const onOne: unknown[] = [];
    const onTwo: unknown[] = [];
    for (const topic of [...Object.keys(payloads), "metrics.live"] as TBusTopic[]) {
      one.subscribe(topic, (payload) => onOne.push([topic, payload]));
      two.subscribe(topic, (payload) => onTwo.push([topic, payload]));
    }
    for (const [topic, payload] of Object.entries(payloads))
      one.publish(topic as "host.changed", payload as never);
    one.publish("metrics.live", { seq: 1, at: 0, containers: [], hosts: [] });

    const expected = Object.entries(payloads);
    // host.removed is checked against the row first, so it comes last.
    await vi.waitFor(() => expect(onTwo).toHaveLength(expected.length));
    expect(onTwo).toEqual([
      ...expected.filter(([topic]) => topic !== "host.removed"),
      ["host.removed", { hostId: "h2" }],
    ]);
    // The sender's own subscribers got each once (its own notification is skipped).
    expect(onOne).toEqual([...expected, ["metrics.live", { seq: 1, at: 0, containers: [], hosts: [] }]]);
    // Nothing was sent on by the receiver, and metrics.live never left.
    expect(wire.sent).toHaveLength(expected.length);
    expect(wire.sent.every(({ payload }) => JSON.parse(payload).o === "r1")).toBe(true);
  });

  it("an event row arrives whole: bigint id, Date, JSON data", () => {
    const { one, two } = replicaPair();
    const got = collect(two, "event");
    const row = eventRow();
    one.publish("event", row);
    expect(got).toEqual([row]);
    expect(typeof got[0]?.id).toBe("bigint");
    expect(got[0]?.ts).toBeInstanceOf(Date);
  });

  it("an event row too large travels as its id, and the receiver reads the row", async () => {
    const big = eventRow({ id: 42n, message: "m".repeat(MAX_NOTIFY_PAYLOAD_BYTES) });
    const findUnique = vi.fn(async () => big);
    const { wire, one, two } = replicaPair({ db: { event: { findUnique } } as never });
    const got = collect(two, "event");
    one.publish("event", big);
    expect(JSON.parse(wire.sent[0]?.payload ?? "{}")).toEqual({ o: "r1", t: "event", ref: "42" });
    await vi.waitFor(() => expect(got).toEqual([big]));
    expect(findUnique).toHaveBeenCalledWith(expect.objectContaining({ where: { id: 42n } }));
  });

  it("drops garbage and wrong shapes without throwing", () => {
    const { wire, two } = replicaPair();
    const seen: unknown[] = [];
    for (const topic of [
      "event",
      "host.changed",
      "host.removed",
      "access.changed",
      "metrics.live",
    ] as const) {
      two.subscribe(topic, (payload) => seen.push(payload));
    }
    const attempts = [
      "",
      "not json",
      "null",
      "[1,2]",
      "{}",
      JSON.stringify({ o: "r9", t: "metrics.live", p: { seq: 1, at: 0, containers: [], hosts: [] } }),
      JSON.stringify({ o: "r9", t: "nope", p: {} }),
      JSON.stringify({ o: "r9", t: "host.changed", p: { hostId: 5 } }),
      JSON.stringify({ o: "r9", t: "host.removed", p: { hostId: "" } }),
      JSON.stringify({ o: "r9", t: "host.removed" }),
      JSON.stringify({ o: "r9", t: "access.changed", p: { userId: "x".repeat(500) } }),
      JSON.stringify({ o: "r9", t: "event", p: { id: "1" } }),
      JSON.stringify({ o: "r9", t: "event", p: { id: "1e5", ts: "yesterday" } }),
      JSON.stringify({ o: "r9", t: "event", ref: "99999999999999999999" }),
      JSON.stringify({ o: "r9", t: "event", ref: "-1" }),
      JSON.stringify({ o: 7, t: "host.changed", p: { hostId: "h" } }),
      "x".repeat(8000),
    ];
    for (const payload of attempts) expect(() => wire.inject(payload)).not.toThrow();
    expect(seen).toEqual([]);
    // Well-formed from an unknown replica: accepted (the origin only tells a replica its own).
    wire.inject(JSON.stringify({ o: "r9", t: "host.changed", p: { hostId: "h", extra: "dropped" } }));
    expect(seen).toEqual([{ hostId: "h" }]);
  });

  it("a host.removed for a host whose row is not removed is dropped", async () => {
    const findUnique = vi.fn(async () => ({ removedAt: null }));
    const { wire, two } = replicaPair({ db: { host: { findUnique } } as never });
    const got = collect(two, "host.removed");
    wire.inject(JSON.stringify({ o: "forger", t: "host.removed", p: { hostId: "h-live" } }));
    await vi.waitFor(() => expect(findUnique).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(got).toEqual([]);
  });

  it("with notifications off, publishing stays local", () => {
    const { wire, one, two } = replicaPair({ secondEnabled: false });
    const got = collect(two, "host.changed");
    one.publish("host.changed", { hostId: "h1" });
    two.publish("host.changed", { hostId: "h2" });
    expect(got).toEqual([{ hostId: "h2" }]);
    expect(wire.sent).toHaveLength(1);
  });
});
