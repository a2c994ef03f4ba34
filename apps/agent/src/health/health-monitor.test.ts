import type { THealthCheck } from "@fleet/shared/domain/container-spec";
import { flushAsync, ManualClock } from "@fleet/shared/testing/manual-clock";
import { describe, expect, it } from "vitest";
import { HealthMonitor } from "./health-monitor";
import { afterCheck, type HealthVerdict, type ProbeOutcome, STARTING } from "./health-state";

const OK: ProbeOutcome = { ok: true, message: "fine" };
const FAIL: ProbeOutcome = { ok: false, message: "exit code 1" };

function check(overrides: Partial<THealthCheck> = {}): THealthCheck {
  return {
    test: { type: "tcp", port: 80 },
    intervalMs: 1000,
    timeoutMs: 500,
    retries: 3,
    startPeriodMs: 0,
    restartOnUnhealthy: false,
    ...overrides,
  };
}

describe("afterCheck", () => {
  it("turns healthy on a success and unhealthy after `retries` failures in a row", () => {
    const c = check({ retries: 2 });
    const healthy = afterCheck(STARTING, OK, c, 0);
    expect(healthy).toEqual({ health: "healthy", failingStreak: 0, message: null });
    const once = afterCheck(healthy, FAIL, c, 5000);
    expect(once).toEqual({ health: "healthy", failingStreak: 1, message: "exit code 1" });
    expect(afterCheck(afterCheck(once, OK, c, 6000), FAIL, c, 7000).health).toBe("healthy");
    expect(afterCheck(once, FAIL, c, 6000)).toEqual({
      health: "unhealthy",
      failingStreak: 2,
      message: "exit code 1",
    });
  });

  it("does not count failures inside the start period while starting, but keeps their message", () => {
    const c = check({ retries: 1, startPeriodMs: 10_000 });
    const early = afterCheck(STARTING, FAIL, c, 9_999);
    expect(early).toEqual({ health: "starting", failingStreak: 0, message: "exit code 1" });
    expect(afterCheck(early, FAIL, c, 10_000).health).toBe("unhealthy");
    // Once healthy the start period no longer shields failures (Docker's rule).
    const healthy = afterCheck(STARTING, OK, c, 1_000);
    expect(afterCheck(healthy, FAIL, c, 2_000).health).toBe("unhealthy");
  });
});

interface Probe {
  signal: AbortSignal;
  settle: (outcome: ProbeOutcome) => void;
}

function monitored(c: THealthCheck) {
  const clock = new ManualClock();
  const probes: Probe[] = [];
  const changes: HealthVerdict[] = [];
  const monitor = new HealthMonitor({
    check: c,
    clock,
    startedAt: clock.now(),
    probe: (signal) =>
      new Promise<ProbeOutcome>((resolve) => {
        probes.push({ signal, settle: resolve });
      }),
    onChange: (verdict) => changes.push(verdict),
  });
  monitor.start();
  /** Settles the newest probe; the monitor then schedules the next. */
  const answer = async (outcome: ProbeOutcome) => {
    probes.at(-1)?.settle(outcome);
    await flushAsync();
  };
  return { clock, probes, changes, monitor, answer };
}

describe("HealthMonitor", () => {
  it("checks one interval after the start, then an interval after each check", async () => {
    const m = monitored(check({ intervalMs: 1000 }));
    expect(m.monitor.current.health).toBe("starting");
    await m.clock.advance(999);
    expect(m.probes).toHaveLength(0);
    await m.clock.advance(1);
    expect(m.probes).toHaveLength(1);
    await m.clock.advance(300);
    await m.answer(OK);
    expect(m.changes.map((v) => v.health)).toEqual(["healthy"]);
    await m.clock.advance(999);
    expect(m.probes).toHaveLength(1);
    await m.clock.advance(1);
    expect(m.probes).toHaveLength(2);
  });

  it("goes unhealthy after `retries` failures and healthy again on a success, reporting changes only", async () => {
    const m = monitored(check({ retries: 3 }));
    for (let i = 0; i < 5; i++) {
      await m.clock.advance(1000);
      await m.answer(FAIL);
    }
    expect(m.changes.map((v) => v.health)).toEqual(["unhealthy"]);
    expect(m.changes[0]).toMatchObject({ failingStreak: 3, message: "exit code 1" });
    await m.clock.advance(1000);
    await m.answer(OK);
    expect(m.changes.map((v) => v.health)).toEqual(["unhealthy", "healthy"]);
    expect(m.monitor.current.message).toBeNull();
  });

  it("ignores failures during the start period, yet a success there counts", async () => {
    const m = monitored(check({ retries: 1, startPeriodMs: 2500 }));
    await m.clock.advance(1000);
    await m.answer(FAIL);
    await m.clock.advance(1000);
    await m.answer(FAIL);
    expect(m.monitor.current).toMatchObject({ health: "starting", message: "exit code 1" });
    await m.clock.advance(1000); // this check begins 3 s after the start: it counts
    await m.answer(FAIL);
    expect(m.changes.map((v) => v.health)).toEqual(["unhealthy"]);

    const n = monitored(check({ retries: 1, startPeriodMs: 60_000 }));
    await n.clock.advance(1000);
    await n.answer(OK);
    expect(n.changes.map((v) => v.health)).toEqual(["healthy"]);
  });

  it("counts a timeout as a failure and aborts the probe", async () => {
    const m = monitored(check({ retries: 1, timeoutMs: 500 }));
    await m.clock.advance(1000);
    const first = m.probes[0]!;
    await m.clock.advance(499);
    expect(first.signal.aborted).toBe(false);
    await m.clock.advance(1);
    expect(first.signal.aborted).toBe(true);
    expect(m.changes).toEqual([
      { health: "unhealthy", failingStreak: 1, message: "health check timed out after 500 ms" },
    ]);
    // A late answer of the timed-out probe changes nothing.
    first.settle(OK);
    await flushAsync();
    expect(m.monitor.current.health).toBe("unhealthy");
  });

  it("never runs two probes at once: a probe still running past its timeout fails the next tick instead", async () => {
    const m = monitored(check({ retries: 3, timeoutMs: 500, intervalMs: 1000 }));
    await m.clock.advance(1000); // probe 1 starts
    await m.clock.advance(500); // and times out, but never settles
    await m.clock.advance(1000); // tick: still in flight
    await m.clock.advance(1000); // tick: still in flight
    expect(m.probes).toHaveLength(1);
    expect(m.changes.map((v) => v.health)).toEqual(["unhealthy"]);
    expect(m.monitor.current.message).toMatch(/previous check is still running/);
    m.probes[0]!.settle(FAIL);
    await flushAsync();
    await m.clock.advance(1000);
    expect(m.probes).toHaveLength(2);
  });

  it("counts a probe that throws as a failure with its message", async () => {
    const clock = new ManualClock();
    const monitor = new HealthMonitor({
      check: check({ retries: 1 }),
      clock,
      startedAt: clock.now(),
      probe: async () => {
        throw new Error("container abc is not running");
      },
      onChange: () => {},
    });
    monitor.start();
    await clock.advance(1000);
    expect(monitor.current).toMatchObject({ health: "unhealthy", message: "container abc is not running" });
  });

  it("schedules nothing more when the change it reports stops it", async () => {
    const clock = new ManualClock();
    const monitor: HealthMonitor = new HealthMonitor({
      check: check({ retries: 1 }),
      clock,
      startedAt: clock.now(),
      probe: async () => FAIL,
      onChange: () => monitor.stop(),
    });
    monitor.start();
    await clock.advance(1000);
    expect(monitor.current.health).toBe("unhealthy");
    expect(clock.pendingCount).toBe(0);
  });

  it("stop cancels the next check and aborts the one in flight", async () => {
    const m = monitored(check());
    await m.clock.advance(1000);
    m.monitor.stop();
    expect(m.probes[0]!.signal.aborted).toBe(true);
    expect(m.clock.pendingCount).toBe(0);
    await m.clock.advance(10_000);
    expect(m.probes).toHaveLength(1);
    expect(m.changes).toEqual([]);
  });
});
