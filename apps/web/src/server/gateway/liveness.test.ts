import { ManualClock } from "@fleet/shared/testing/manual-clock";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { hostLivenessMonitor, type LivenessStore, RESTART_RECONNECT_GRACE_MS } from "./liveness";

/** Keeps host status in memory the way the Prisma store keeps it in Postgres. */
class MemoryLivenessStore implements LivenessStore {
  readonly status = new Map<string, { online: boolean; connectedAt: number }>();
  readonly lastSeenWrites: { hostId: string; at: number }[][] = [];
  readonly offlineCalls: string[] = [];

  async writeLastSeen(entries: readonly { hostId: string; at: number }[]): Promise<void> {
    this.lastSeenWrites.push([...entries]);
  }

  async markOffline(hostId: string, lastHeardAt: number): Promise<boolean> {
    this.offlineCalls.push(hostId);
    const host = this.status.get(hostId);
    if (!host?.online || host.connectedAt > lastHeardAt) return false;
    host.online = false;
    return true;
  }

  async onlineHostIds(): Promise<string[]> {
    return [...this.status].filter(([, host]) => host.online).map(([id]) => id);
  }

  connect(hostId: string, at: number): void {
    this.status.set(hostId, { online: true, connectedAt: at });
  }
}

function setup(offlineAfterMs = 15_000) {
  const clock = new ManualClock();
  const store = new MemoryLivenessStore();
  const monitor = hostLivenessMonitor({
    store,
    clock,
    log: pino({ level: "silent" }),
    offlineAfterMs,
    lastSeenWriteIntervalMs: 1000,
  });
  const offline: string[] = [];
  const silent: string[] = [];
  monitor.onHostOffline((hostId) => {
    offline.push(hostId);
  });
  monitor.onSilent((hostId) => silent.push(hostId));
  const connect = (hostId: string) => {
    store.connect(hostId, clock.now());
    monitor.connected(hostId);
  };
  return { clock, store, monitor, offline, silent, connect };
}

describe("hostLivenessMonitor", () => {
  it("keeps a host online while it sends heartbeats", async () => {
    const { clock, monitor, offline, connect } = setup();
    await monitor.start();
    connect("h1");
    for (let i = 0; i < 10; i++) {
      await clock.advance(5000);
      monitor.seen("h1");
    }
    expect(offline).toEqual([]);
  });

  it("marks a silent host offline within the grace period (plus one sweep) and calls the hook once", async () => {
    const { clock, monitor, offline, silent, store, connect } = setup(15_000);
    await monitor.start();
    connect("h1");
    monitor.seen("h1");
    await clock.advance(14_000);
    expect(offline).toEqual([]);
    await clock.advance(2000);
    expect(offline).toEqual(["h1"]);
    // Its socket was still open: the gateway is told to drop it.
    expect(silent).toEqual(["h1"]);
    expect(store.status.get("h1")?.online).toBe(false);

    await clock.advance(60_000);
    expect(offline).toEqual(["h1"]);
  });

  it("gives a closed connection the grace period to come back", async () => {
    const { clock, monitor, offline, silent, connect } = setup(10_000);
    await monitor.start();
    connect("h1");
    await clock.advance(3000);
    monitor.disconnected("h1");
    await clock.advance(8000);
    connect("h1");
    await clock.advance(9000);
    expect(offline).toEqual([]);

    monitor.disconnected("h1");
    await clock.advance(11_000);
    expect(offline).toEqual(["h1"]);
    expect(silent).toEqual([]);
  });

  it("does not mark offline a host that reconnected while the check was in flight", async () => {
    const { clock, monitor, offline, store, connect } = setup(10_000);
    await monitor.start();
    connect("h1");
    monitor.disconnected("h1");
    let release!: () => void;
    const original = store.markOffline.bind(store);
    store.markOffline = async (hostId, lastHeardAt) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return original(hostId, lastHeardAt);
    };
    await clock.advance(10_500);
    connect("h1");
    release();
    await clock.advance(0);
    expect(offline).toEqual([]);
    expect(store.status.get("h1")?.online).toBe(true);
  });

  it("gives hosts left online by a previous run the grace period and the agents' reconnect backoff, then marks them offline", async () => {
    const { clock, monitor, offline, store, connect } = setup(5000);
    store.connect("stale", 0);
    store.connect("back", 0);
    await monitor.start();
    await clock.advance(4000 + RESTART_RECONNECT_GRACE_MS);
    expect(offline).toEqual([]);
    // A host that reconnects is back on the normal grace.
    connect("back");
    monitor.disconnected("back");
    await clock.advance(2000);
    expect(offline).toEqual(["stale"]);
    await clock.advance(4000);
    expect(offline).toEqual(["stale", "back"]);
  });

  it("writes lastSeenAt at most once per interval, batching hosts", async () => {
    const { clock, monitor, store, connect } = setup();
    await monitor.start();
    connect("h1");
    connect("h2");
    for (let i = 0; i < 50; i++) {
      monitor.seen("h1");
      monitor.seen("h2");
      await clock.advance(20);
    }
    await clock.advance(1000);
    // 50 frames each over ~1 s: one or two writes, both hosts in each.
    expect(store.lastSeenWrites.length).toBeGreaterThanOrEqual(1);
    expect(store.lastSeenWrites.length).toBeLessThanOrEqual(2);
    for (const write of store.lastSeenWrites) {
      expect(write.map((entry) => entry.hostId).sort()).toEqual(["h1", "h2"]);
    }
    const last = store.lastSeenWrites.at(-1)?.find((entry) => entry.hostId === "h1");
    expect(last?.at).toBe(Date.UTC(2025, 0, 1) + 49 * 20);
  });

  it("flushes pending lastSeenAt values on stop", async () => {
    const { monitor, store, connect } = setup();
    await monitor.start();
    connect("h1");
    monitor.seen("h1");
    await monitor.stop();
    expect(store.lastSeenWrites).toHaveLength(1);
  });

  it("keeps running when a hook throws", async () => {
    const { clock, monitor, offline, connect } = setup(1000);
    monitor.onHostOffline(() => {
      throw new Error("scheduler exploded");
    });
    await monitor.start();
    connect("h1");
    connect("h2");
    await clock.advance(1500);
    expect(offline.sort()).toEqual(["h1", "h2"]);
  });
});
