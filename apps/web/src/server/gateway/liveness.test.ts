import { ManualClock } from "@fleet/shared/testing/manual-clock";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { type LeaseFence, LeaseLostError } from "../db/duty-lease";
import {
  type DropReason,
  hostLivenessMonitor,
  type LivenessStore,
  type OfflineSweepStore,
  offlineSweeper,
  RESTART_RECONNECT_GRACE_MS,
  type SweptHost,
} from "./liveness";

const silent = pino({ level: "silent" });

/** Keeps lastSeenAt and status in memory the way the Prisma store keeps them in Postgres. */
class MemoryLivenessStore implements LivenessStore {
  readonly lastSeenWrites: { hostId: string; at: number }[][] = [];
  readonly offline = new Set<string>();

  async writeLastSeen(entries: readonly { hostId: string; at: number }[]): Promise<string[]> {
    this.lastSeenWrites.push([...entries]);
    return entries.map((entry) => entry.hostId).filter((hostId) => this.offline.has(hostId));
  }
}

function setupMonitor(offlineAfterMs = 15_000, lastSeenWriteIntervalMs = 1000) {
  const clock = new ManualClock();
  const store = new MemoryLivenessStore();
  const monitor = hostLivenessMonitor({ store, clock, log: silent, offlineAfterMs, lastSeenWriteIntervalMs });
  const dropped: [string, DropReason][] = [];
  monitor.onSilent((hostId, reason) => {
    dropped.push([hostId, reason]);
  });
  return { clock, store, monitor, dropped };
}

describe("hostLivenessMonitor (every replica: its own connections)", () => {
  it("keeps a socket that sends heartbeats open", async () => {
    const { clock, monitor, dropped } = setupMonitor();
    await monitor.start();
    monitor.connected("h1");
    for (let i = 0; i < 10; i++) {
      await clock.advance(5000);
      monitor.seen("h1");
    }
    expect(dropped).toEqual([]);
  });

  it("drops a socket silent for the grace period (within one check), once", async () => {
    const { clock, monitor, dropped } = setupMonitor(15_000);
    await monitor.start();
    monitor.connected("h1");
    monitor.seen("h1");
    await clock.advance(14_000);
    expect(dropped).toEqual([]);
    await clock.advance(2000);
    expect(dropped).toEqual([["h1", "silent"]]);
    await clock.advance(60_000);
    expect(dropped).toEqual([["h1", "silent"]]);
  });

  it("writes a closed connection's close as its last sign of life (the grace to come back starts there), not a dropped one's", async () => {
    const { clock, monitor, store, dropped } = setupMonitor(10_000);
    await monitor.start();
    monitor.connected("h1");
    monitor.connected("h2");
    await clock.advance(3000);
    const closedAt = clock.now();
    monitor.disconnected("h1");
    await monitor.flush();
    expect(store.lastSeenWrites.at(-1)).toEqual([{ hostId: "h1", at: closedAt }]);
    // A closed connection is no longer this replica's to drop.
    await clock.advance(20_000);
    expect(dropped).toEqual([["h2", "silent"]]);
    // h2's socket closes after it was dropped: nothing is written for it.
    const writes = store.lastSeenWrites.length;
    monitor.disconnected("h2");
    await monitor.flush();
    expect(store.lastSeenWrites).toHaveLength(writes);
  });

  it("writes lastSeenAt at most once per interval, batching hosts", async () => {
    const { clock, monitor, store } = setupMonitor();
    await monitor.start();
    monitor.connected("h1");
    monitor.connected("h2");
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

  it("writes at least four times per grace period, so the database never lags the grace by much", async () => {
    const { clock, monitor, store } = setupMonitor(1000, 5000);
    await monitor.start();
    monitor.connected("h1");
    monitor.seen("h1");
    await clock.advance(250);
    expect(store.lastSeenWrites).toHaveLength(1);
  });

  it("flushes pending lastSeenAt values on stop", async () => {
    const { monitor, store } = setupMonitor();
    await monitor.start();
    monitor.connected("h1");
    monitor.seen("h1");
    await monitor.stop();
    expect(store.lastSeenWrites).toHaveLength(1);
  });

  it("drops the socket of a host the database holds offline (marked while its writes did not land), not a newer connection's", async () => {
    const { clock, monitor, store, dropped } = setupMonitor(10_000);
    await monitor.start();
    monitor.connected("h1");
    monitor.connected("h2");
    store.offline.add("h1");
    monitor.seen("h1");
    monitor.seen("h2");
    await clock.advance(1000);
    expect(dropped).toEqual([["h1", "marked-offline"]]);

    // A write that began before the host's new welcome does not drop the new connection.
    store.offline.add("h2");
    let release!: () => void;
    const original = store.writeLastSeen.bind(store);
    store.writeLastSeen = async (entries) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return original(entries);
    };
    monitor.seen("h2");
    await clock.advance(1000);
    await clock.advance(10);
    monitor.connected("h2");
    release();
    await clock.advance(0);
    expect(dropped).toEqual([["h1", "marked-offline"]]);
  });
});

/** Hosts' status and last sign of life as the database holds them; the manual clock is the database's. */
class MemorySweepStore implements OfflineSweepStore {
  readonly hosts = new Map<string, { online: boolean; lastHeard: number }>();
  currentToken = 1n;
  failing = false;
  calls = 0;
  /** Hosts marked per sweep (the real store's MAX_OFFLINE_PER_SWEEP). */
  batch = Number.POSITIVE_INFINITY;
  /** The replicas registered and not stopping. */
  running: string[] = [];

  constructor(private readonly clock: ManualClock) {}

  heard(hostId: string): void {
    this.hosts.set(hostId, { online: true, lastHeard: this.clock.now() });
  }

  async sweep(options: Parameters<OfflineSweepStore["sweep"]>[0]) {
    this.calls++;
    if (this.failing) throw new Error("connection refused");
    if (options.fence.token !== this.currentToken) throw new LeaseLostError("not ours");
    const now = this.clock.now();
    const offline: SweptHost[] = [];
    const runningReplicas = [...this.running];
    if ((options.runningReplicas ?? []).some((id) => !this.running.includes(id)))
      return { databaseNow: now, offline, runningReplicas, replicaLeft: true };
    const observation = options.observation;
    if (observation !== null && now - observation.lastAt <= observation.maxGapMs) {
      const since = observation.since;
      for (const [hostId, host] of this.hosts) {
        const due =
          host.online &&
          host.lastHeard <= now - options.offlineAfterMs &&
          (host.lastHeard >= since || now >= since + options.offlineAfterMs + options.reconnectGraceMs);
        if (!due) continue;
        if (offline.length >= this.batch) return { databaseNow: now, offline, more: true, runningReplicas };
        host.online = false;
        offline.push({ hostId, lastHeardAt: host.lastHeard });
      }
    }
    return { databaseNow: now, offline, runningReplicas };
  }
}

function setupSweeper(offlineAfterMs = 10_000) {
  const clock = new ManualClock();
  const store = new MemorySweepStore(clock);
  const sweeper = offlineSweeper({ store, clock, log: silent, offlineAfterMs });
  const offline: string[] = [];
  sweeper.onHostOffline((hostId) => {
    offline.push(hostId);
  });
  const fence = (token = store.currentToken): LeaseFence => ({ name: "duties", holder: "me", token });
  /** Advances in steps of one sweep, the database "answering" all along. */
  const advance = async (ms: number) => {
    for (let left = ms; left > 0; left -= 250) await clock.advance(Math.min(250, left));
  };
  return { clock, store, sweeper, offline, fence, advance };
}

describe("offlineSweeper (the duty: one replica, under the lease)", () => {
  it("marks a host silent past the grace offline once (within one sweep) and runs the hook once", async () => {
    const { store, sweeper, offline, fence, advance } = setupSweeper(10_000);
    sweeper.start(fence());
    await advance(500);
    store.heard("h1");
    store.heard("alive");
    await advance(9000);
    store.heard("alive");
    expect(offline).toEqual([]);
    await advance(1500);
    expect(offline).toEqual(["h1"]);
    await advance(60_000);
    expect(offline).toEqual(["h1", "alive"]);
    expect(store.hosts.get("h1")?.online).toBe(false);
  });

  it("gives hosts last heard before it began observing (its predecessor died) the grace plus the reconnect allowance", async () => {
    const { clock, store, sweeper, offline, fence, advance } = setupSweeper(5000);
    store.heard("stale");
    store.heard("back");
    await clock.advance(30_000);
    // A new holder: everyone is long silent by the database's clock, but it has seen nothing yet.
    sweeper.start(fence());
    await advance(4000 + RESTART_RECONNECT_GRACE_MS);
    expect(offline).toEqual([]);
    // A host that reconnects (to any replica) is back on the normal grace.
    store.heard("back");
    await advance(1500);
    expect(offline).toEqual(["stale"]);
    await advance(4000);
    expect(offline).toEqual(["stale", "back"]);
  });

  it("gives every silent host the reconnect allowance once a replica stops or goes away (its agents queue at the others)", async () => {
    const { store, sweeper, offline, fence, advance } = setupSweeper(5000);
    store.running = ["me", "other"];
    sweeper.start(fence());
    await advance(2000);
    store.heard("moving");
    store.heard("dead");
    await advance(3000);
    // The other replica stops: its agents redial this one and wait their turn.
    store.running = ["me"];
    await advance(4000 + RESTART_RECONNECT_GRACE_MS - 500);
    expect(offline).toEqual([]);
    store.heard("moving");
    await advance(3000);
    expect(offline).toEqual(["dead"]);
  });

  it("marks no host offline for a database outage: after a failed call it observes again from scratch", async () => {
    const { store, sweeper, offline, fence, advance } = setupSweeper(5000);
    sweeper.start(fence());
    await advance(1000);
    store.heard("h1");
    store.heard("h2");
    store.failing = true;
    await advance(30_000);
    expect(sweeper.observedSince()).toBeNull();
    store.failing = false;
    // Back: h1's agent redials within the allowance and stays, h2's never does.
    await advance(4000);
    expect(offline).toEqual([]);
    for (let i = 0; i < 20; i++) {
      store.heard("h1");
      await advance(1000);
      expect(offline).toEqual(i < 11 ? [] : ["h2"]);
    }
  });

  it("observes again after a gap without any answer (a stalled process, a hung call)", async () => {
    const { clock, store, sweeper, offline, fence, advance } = setupSweeper(5000);
    sweeper.start(fence());
    await advance(1000);
    const since = sweeper.observedSince();
    store.heard("h1");
    // One call that reaches the database only 20 s later (it waited for a connection while it was away).
    const original = store.sweep.bind(store);
    let release!: () => void;
    store.sweep = async (options) => {
      store.sweep = original;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return original(options);
    };
    await advance(1000);
    await clock.advance(20_000);
    release();
    await clock.advance(0);
    // h1 is long silent, but that late answer marks nothing: the observation starts again there.
    expect(offline).toEqual([]);
    expect(sweeper.observedSince()).toBeGreaterThan(since!);
    await advance(5000 + RESTART_RECONNECT_GRACE_MS - 1000);
    expect(offline).toEqual([]);
    await advance(2000);
    expect(offline).toEqual(["h1"]);
  });

  it("does nothing once stopped, and a new tenure observes anew", async () => {
    const { store, sweeper, offline, fence, advance } = setupSweeper(5000);
    sweeper.start(fence());
    await advance(1000);
    store.heard("h1");
    await sweeper.stop();
    expect(sweeper.isRunning()).toBe(false);
    const calls = store.calls;
    await advance(30_000);
    expect(store.calls).toBe(calls);
    expect(offline).toEqual([]);
    await sweeper.sweepNow();
    expect(store.calls).toBe(calls);

    store.currentToken = 2n;
    sweeper.start(fence(2n));
    await advance(1000);
    expect(offline).toEqual([]);
    await advance(5000 + RESTART_RECONNECT_GRACE_MS);
    expect(offline).toEqual(["h1"]);
  });

  it("marks nothing with a fence that no longer holds", async () => {
    const { store, sweeper, offline, fence, advance } = setupSweeper(5000);
    sweeper.start(fence());
    await advance(1000);
    store.heard("h1");
    // Another replica took the lease (token 2) while this one still thinks it holds token 1.
    store.currentToken = 2n;
    await advance(60_000);
    expect(offline).toEqual([]);
    expect(store.hosts.get("h1")?.online).toBe(true);
  });

  it("sweeps at once on sweepNow", async () => {
    const { store, sweeper, offline, fence, advance } = setupSweeper(5000);
    sweeper.start(fence());
    // Sweeps every second (a quarter of the grace, at most one second): at 0, 1000, 2000, …
    await advance(1500);
    store.heard("h1");
    await advance(5100);
    expect(offline).toEqual([]);
    await sweeper.sweepNow();
    expect(offline).toEqual(["h1"]);
  });

  it("marks a backlog a batch per sweep, the next batch at once, and stop waits for one batch only", async () => {
    const { store, sweeper, offline, fence, advance } = setupSweeper(5000);
    store.batch = 1;
    sweeper.start(fence());
    await advance(1500);
    for (const hostId of ["h1", "h2", "h3"]) store.heard(hostId);
    // Due at 6500: the sweep at 7000 marks one, the others follow without waiting for the timer.
    await advance(5600);
    for (let turn = 0; turn < 50 && offline.length < 3; turn++) await new Promise(setImmediate);
    expect(offline.sort()).toEqual(["h1", "h2", "h3"]);
    store.heard("h4");
    store.heard("h5");
    let hookEntered = () => {};
    const entered = new Promise<void>((resolve) => {
      hookEntered = resolve;
    });
    let finishHook = () => {};
    const hookDone = new Promise<void>((resolve) => {
      finishHook = resolve;
    });
    sweeper.onHostOffline(async (hostId) => {
      if (hostId === "h1" || hostId === "h2" || hostId === "h3") return;
      hookEntered();
      await hookDone;
    });
    // 12100: both due, the last timed sweep (12000) was too early for them.
    await advance(5000);
    void sweeper.sweepNow();
    await entered;
    const stopped = sweeper.stop();
    finishHook();
    await stopped;
    expect(offline).toHaveLength(4);
    expect([store.hosts.get("h4")?.online, store.hosts.get("h5")?.online].sort()).toEqual([false, true]);
  });

  it("keeps running when a hook throws", async () => {
    const { store, sweeper, offline, fence, advance } = setupSweeper(1000);
    sweeper.onHostOffline(() => {
      throw new Error("scheduler exploded");
    });
    sweeper.start(fence());
    await advance(500);
    store.heard("h1");
    store.heard("h2");
    await advance(1500);
    expect(offline.sort()).toEqual(["h1", "h2"]);
  });
});
