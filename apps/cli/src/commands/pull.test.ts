import { describe, expect, test } from "vitest";
import type { FleetClient } from "../client";
import type { CommandContext } from "../command";
import { createTestIo } from "../testing/test-io";
import { PullBoard, pullCommand, type TPullProgress } from "./pull";

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

  test("hosts named by the pull's start count as unfinished until their last entry, and print once", () => {
    const board = new PullBoard();
    board.expect([
      { hostId: "h1", hostName: "node-1" },
      { hostId: "h2", hostName: "node-2" },
    ]);
    expect(board.lines()).toEqual(["node-1: requested", "node-2: requested"]);
    expect(board.apply(progress({}))).toBe("node-1: requested");
    board.apply(progress({ status: "pulled", done: true }));
    expect([...board.hosts.values()].filter((host) => !host.final).map((host) => host.hostName)).toEqual([
      "node-2",
    ]);
  });
});

describe("fleet pull", () => {
  // The central answers the start at once; the watch sends `messages`, then `after` runs.
  function run(
    messages: TPullProgress[],
    after: (io: ReturnType<typeof createTestIo>, handlers: { onComplete(): void }) => void,
  ) {
    const io = createTestIo();
    const started: unknown[] = [];
    const client = {
      image: {
        pull: {
          mutate: async (input: unknown) => {
            started.push(input);
            return {
              jobId: "job_abc",
              hosts: [
                { hostId: "h1", hostName: "node-1" },
                { hostId: "h2", hostName: "node-2" },
              ],
            };
          },
        },
        watchPull: {
          subscribe: (input: unknown, handlers: { onData(value: unknown): void; onComplete(): void }) => {
            expect(input).toEqual({ jobId: "job_abc" });
            for (const [index, data] of messages.entries()) handlers.onData({ id: String(index + 1), data });
            setTimeout(() => after(io, handlers), 0);
            return { unsubscribe() {} };
          },
        },
      },
    } as unknown as FleetClient;
    const context: CommandContext = {
      io,
      configPath: "/nowhere",
      url: "http://central.test",
      session: async () => ({ url: "http://central.test", token: "t", client }),
    };
    return {
      io,
      started,
      // The command table erases each command's own flag types.
      result: pullCommand.run(context, {
        values: { all: true } as never,
        args: ["busybox:1.36"],
        help: false,
      }),
    };
  }

  test("Ctrl-C stops watching and says the pull goes on", async () => {
    const { io, started, result } = run([progress({})], (testIo) => testIo.abort());
    await expect(result).rejects.toMatchObject({
      exitCode: 130,
      message:
        "interrupted: the pull goes on on the central (job job_abc); `fleet images` shows where it has arrived",
    });
    expect(started).toEqual([{ image: "busybox:1.36", all: true }]);
    expect(io.err()).toBe("node-1: requested\n");
  });

  test("a host the watch ended without a result for counts as failed", async () => {
    const { io, result } = run(
      [progress({ status: "pulled", done: true, digest: "sha256:abc" })],
      (_, handlers) => handlers.onComplete(),
    );
    await expect(result).rejects.toMatchObject({ exitCode: 1, message: "the pull failed on 1 of 2 hosts" });
    expect(io.out()).toBe("node-1: pulled busybox:1.36 (sha256:abc)\n");
  });
});
