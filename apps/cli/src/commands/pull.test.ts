import { describe, expect, test } from "vitest";
import { PullBoard, type TPullProgress } from "./pull";

function progress(overrides: Partial<TPullProgress>): TPullProgress {
  return { hostId: "h1", hostName: "node-1", status: "requested", done: false, ...overrides };
}

describe("PullBoard", () => {
  test("per-layer status changes become lines; byte ticks do not", () => {
    const board = new PullBoard();
    expect(board.apply(progress({}))).toBe("node-1: requested");
    expect(board.apply(progress({ status: "Pulling fs layer", layer: "aaa" }))).toBe(
      "node-1: aaa: Pulling fs layer",
    );
    expect(board.apply(progress({ status: "Downloading", layer: "aaa", current: 10, total: 100 }))).toBe(
      "node-1: aaa: Downloading",
    );
    expect(
      board.apply(progress({ status: "Downloading", layer: "aaa", current: 50, total: 100 })),
    ).toBeNull();
    expect(board.lines()).toEqual(["node-1: Downloading 50% (1 layer)"]);
    board.apply(progress({ status: "Downloading", layer: "bbb", current: 0, total: 300 }));
    board.apply(progress({ status: "Download complete", layer: "aaa" }));
    expect(board.lines()).toEqual(["node-1: Download complete 25% (2 layers)"]);
  });

  test("each host ends pulled or failed; failures are counted, not printed twice", () => {
    const board = new PullBoard();
    board.apply(progress({}));
    board.apply(progress({ hostId: "h2", hostName: "node-2" }));
    expect(board.apply(progress({ status: "pulled", done: true, digest: "sha256:abc" }))).toBe(
      "node-1: pulled sha256:abc",
    );
    expect(
      board.apply(
        progress({
          hostId: "h2",
          hostName: "node-2",
          status: "failed",
          done: true,
          error: "manifest unknown",
        }),
      ),
    ).toBeNull();
    expect(board.lines()).toEqual(["node-1: pulled sha256:abc", "node-2: failed: manifest unknown"]);
    expect(board.failures().map((host) => host.hostName)).toEqual(["node-2"]);
  });
});
