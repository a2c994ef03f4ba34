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

  it("tries a failed push again later, since its generation rolled back and nothing else would resend it", async () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    let failuresLeft = 2;
    const desired: DesiredStatePusher = {
      async pushDesired(hostId) {
        calls.push(hostId);
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
