import { describe, expect, test } from "vitest";
import {
  applyPullMessage,
  cancelPulls,
  pullRatio,
  startPulls,
  type TPullMessage,
  type TPullState,
} from "./pull-progress";

const on = (hostId: string, rest: Partial<TPullMessage>): TPullMessage => ({
  hostId,
  hostName: `host-${hostId}`,
  status: "requested",
  done: false,
  ...rest,
});

const fold = (messages: TPullMessage[]) =>
  messages.reduce<TPullState>((state, message) => applyPullMessage(state, message), {});

describe("pull progress", () => {
  test("one row per host, download figures summed over layers, done when pulled", () => {
    const state = fold([
      on("a", {}),
      on("b", {}),
      on("a", { status: "Pulling fs layer", layer: "l1" }),
      on("a", { status: "Downloading", layer: "l1", current: 50, total: 100 }),
      on("a", { status: "Downloading", layer: "l2", current: 0, total: 300 }),
      on("b", { status: "Trying to pull repository" }),
    ]);
    expect(Object.keys(state)).toEqual(["a", "b"]);
    expect(state.a).toMatchObject({ status: "Downloading", layer: "l2", outcome: "pulling" });
    expect(pullRatio(state.a!)).toBe(50 / 400);
    expect(pullRatio(state.b!)).toBeNull();

    const later = fold([
      on("a", { status: "Downloading", layer: "l1", current: 50, total: 100 }),
      on("a", { status: "Downloading", layer: "l2", current: 100, total: 300 }),
      on("a", { status: "Download complete", layer: "l1" }),
      // Extraction figures do not move the bar backwards.
      on("a", { status: "Extracting", layer: "l1", current: 1, total: 100 }),
    ]);
    expect(pullRatio(later.a!)).toBe(200 / 400);

    const finished = applyPullMessage(later, on("a", { status: "pulled", done: true, digest: "sha256:abc" }));
    expect(finished.a).toMatchObject({ outcome: "pulled", digest: "sha256:abc", error: null });
    expect(pullRatio(finished.a!)).toBe(1);
  });

  test("a failure keeps the engine's words", () => {
    const state = fold([on("b", {}), on("b", { status: "failed", done: true, error: "connection refused" })]);
    expect(state.b).toMatchObject({ outcome: "failed", error: "connection refused", status: "failed" });
    expect(pullRatio(state.b!)).toBeNull();
  });

  test("cancelling ends only the hosts still pulling", () => {
    const state = cancelPulls(fold([on("a", {}), on("b", {}), on("b", { status: "pulled", done: true })]));
    expect([state.a?.outcome, state.b?.outcome]).toEqual(["cancelled", "pulled"]);
  });

  test("the hosts a pull starts on have rows before any progress, which then folds into them", () => {
    const state = startPulls([
      { hostId: "a", hostName: "host-a" },
      { hostId: "b", hostName: "host-b" },
    ]);
    expect(Object.values(state).map((row) => [row.hostName, row.status, row.outcome])).toEqual([
      ["host-a", "requested", "pulling"],
      ["host-b", "requested", "pulling"],
    ]);
    const next = applyPullMessage(state, on("a", { status: "pulled", done: true, digest: "sha256:abc" }));
    expect(next.a).toMatchObject({ outcome: "pulled", digest: "sha256:abc" });
    expect(next.b).toBe(state.b);
  });
});
