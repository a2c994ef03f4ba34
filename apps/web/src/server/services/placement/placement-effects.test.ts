import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createEventBus } from "../../events/event-bus";
import {
  applyPlacementEffectsInBackground,
  type DesiredStatePusher,
  PlacementEffects,
} from "./placement-effects";

function effectsFor(hostId: string): PlacementEffects {
  const effects = new PlacementEffects();
  effects.containerChanged("container-1", hostId);
  return effects;
}

describe("desired-set pushes after a placement", () => {
  afterEach(() => vi.useRealTimers());

  it("pushes the hosts of one placement in one batch, and those changed during it in the next", async () => {
    const batches: string[][] = [];
    let release = () => {};
    const desired: DesiredStatePusher = {
      async pushDesired() {
        throw new Error("placement pushes in batches");
      },
      async pushDesiredMany(hostIds) {
        batches.push([...hostIds]);
        if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
    };
    const deps = { bus: createEventBus(), desired, log: pino({ level: "silent" }) };
    const first = new PlacementEffects();
    for (const hostId of ["host-a", "host-b", "host-c"]) first.containerChanged(`on-${hostId}`, hostId);
    applyPlacementEffectsInBackground(deps, first);
    await vi.waitFor(() => expect(batches).toEqual([["host-a", "host-b", "host-c"]]));
    // host-a again while its push runs: it waits for it, host-d goes at once.
    applyPlacementEffectsInBackground(deps, effectsFor("host-a"));
    applyPlacementEffectsInBackground(deps, effectsFor("host-d"));
    await vi.waitFor(() => expect(batches).toHaveLength(2));
    expect(batches[1]).toEqual(["host-d"]);
    release();
    await vi.waitFor(() => expect(batches).toHaveLength(3));
    expect(batches[2]).toEqual(["host-a"]);
  });

  it("tries a failed push again later, since its generation rolled back and nothing else would resend it", async () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    let failuresLeft = 2;
    const desired: DesiredStatePusher = {
      async pushDesired() {
        throw new Error("placement pushes in batches");
      },
      async pushDesiredMany(hostIds) {
        calls.push(...hostIds);
        if (failuresLeft-- > 0) throw new Error("timed out waiting for a pooled connection");
      },
    };
    const deps = { bus: createEventBus(), desired, log: pino({ level: "silent" }) };
    applyPlacementEffectsInBackground(deps, effectsFor("host-a"));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(["host-a"]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual(["host-a", "host-a"]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toEqual(["host-a", "host-a", "host-a"]);
    // Succeeded: no more tries.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(3);
  });

  it("gives up after a few tries, leaving the host to its next welcome", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const desired: DesiredStatePusher = {
      async pushDesired() {
        throw new Error("placement pushes in batches");
      },
      async pushDesiredMany() {
        calls++;
        throw new Error("database down");
      },
    };
    applyPlacementEffectsInBackground(
      { bus: createEventBus(), desired, log: pino({ level: "silent" }) },
      effectsFor("host-b"),
    );
    await vi.advanceTimersByTimeAsync(120_000);
    expect(calls).toBe(6);
  });
});
