// The pure parts of the commands: what a table shows, when a wait is over.
import { describe, expect, test } from "vitest";
import { containerView, fleetSummary, hostView, imageView, TEST_NOW } from "../testing/factories";
import { hostRows } from "./hosts";
import { imageRows, splitTag } from "./images";
import { parseTail } from "./logs";
import { containerRows } from "./ps";
import { isRunning } from "./rm";
import { containerVerdict } from "./run";
import { topLines } from "./top";

describe("ps", () => {
  test("docker's columns, short ids, status, host", () => {
    const lines = containerRows(
      [
        containerView({
          id: "01a21f0d-8dca-74ab-a10b-9807a85b90e9",
          name: "web",
          ports: [{ containerPort: 80, hostPort: 8080, protocol: "tcp" }],
        }),
        containerView({
          id: "01a21f0d-8dca-74ab-a10b-181a88380f59",
          name: "job",
          command: null,
          actualState: "exited",
          exitCode: 0,
          finishedAt: new Date(TEST_NOW - 120_000),
        }),
      ],
      TEST_NOW,
    );
    expect(lines).toEqual([
      "CONTAINER ID   IMAGE          COMMAND       CREATED              STATUS                     PORTS                  HOST     NAMES",
      '9807a85b90e9   busybox:1.36   "sleep 600"   About a minute ago   Up 50 seconds              0.0.0.0:8080->80/tcp   node-1   web',
      "181a88380f59   busybox:1.36                 About a minute ago   Exited (0) 2 minutes ago                          node-1   job",
    ]);
  });
});

describe("hosts", () => {
  test("allocated out of allocatable, engine, labels", () => {
    const lines = hostRows(
      [
        hostView({
          id: "01a21f0d-8dca-74ab-a10b-0000000000aa",
          name: "node-a",
          labels: { zone: "a" },
          allocated: { cpuMillis: 1500, memoryBytes: 512 * 1024 * 1024, pids: 0 },
          containerCount: 3,
          facts: {
            hostname: "a",
            cpus: 4,
            memoryBytes: 8 * 1024 ** 3,
            kernel: "6.1",
            os: "Debian",
            arch: "x64",
            cgroupVersion: 1,
            engine: { name: "podman", version: "4.3.1", apiVersion: "1.41" },
            agentVersion: "0.1.0",
            labels: {},
          },
        }),
        hostView({ name: "node-b", status: "offline", lastSeenAt: new Date(TEST_NOW - 300_000) }),
      ],
      TEST_NOW,
    );
    expect(lines).toEqual([
      "HOST ID        NAME     STATUS    ENGINE         CPUS    MEMORY          CONTAINERS   LAST SEEN       LABELS",
      "0000000000aa   node-a   online    podman 4.3.1   1.5/4   512 MiB/8 GiB   3            now             zone=a",
      expect.stringMatching(
        /^[0-9a-f]{12} {3}node-b {3}offline {3}- {14}0\/4 {5}0 B\/8 GiB {7}0 {12}5 minutes ago {3}-$/,
      ),
    ]);
  });
});

describe("images", () => {
  test("one row per tag, registry ports kept in the repository", () => {
    expect(splitTag("127.0.0.1:5000/fleet/busybox:1.36")).toEqual(["127.0.0.1:5000/fleet/busybox", "1.36"]);
    expect(splitTag("127.0.0.1:5000/fleet/busybox")).toEqual(["127.0.0.1:5000/fleet/busybox", "latest"]);
    const lines = imageRows(
      [imageView({ tags: ["busybox:1.36", "busybox:latest"] }), imageView({ tags: [] })],
      TEST_NOW,
    );
    expect(lines).toEqual([
      "HOST     REPOSITORY   TAG      IMAGE ID       CREATED      SIZE",
      "node-1   busybox      1.36     5f94f54e8e07   3 days ago   2 MiB",
      "node-1   busybox      latest   5f94f54e8e07   3 days ago   2 MiB",
      "node-1   <none>       <none>   5f94f54e8e07   3 days ago   2 MiB",
    ]);
  });
});

describe("logs", () => {
  test("--tail takes a count or all", () => {
    expect(parseTail(undefined)).toBeUndefined();
    expect(parseTail("10")).toBe(10);
    expect(parseTail("all")).toBe(10_000);
    expect(() => parseTail("-1")).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

describe("rm", () => {
  test("running means wanted running and active", () => {
    expect(isRunning(containerView({}))).toBe(true);
    expect(isRunning(containerView({ actualState: "pulling" }))).toBe(true);
    expect(isRunning(containerView({ actualState: "exited" }))).toBe(false);
    expect(isRunning(containerView({ desiredState: "stopped" }))).toBe(false);
  });
});

describe("run's wait", () => {
  test.each([
    [{ actualState: "pending" as const }, { done: false, text: "web on node-1: pending…" }],
    [{ actualState: "pulling" as const }, { done: false, text: "web on node-1: pulling…" }],
    [{ actualState: "restarting" as const }, { done: false, text: "web on node-1: restarting…" }],
    [{ actualState: "running" as const }, { done: true, ok: true, text: "web is running on node-1" }],
    [
      { actualState: "exited" as const, exitCode: 0 },
      { done: true, ok: true, text: "web ran and exited (0) on node-1" },
    ],
    [
      { actualState: "exited" as const, exitCode: 137, oomKilled: true },
      { done: true, ok: false, text: "web exited with code 137 (OOM killed) on node-1" },
    ],
    [
      { actualState: "failed" as const, statusMessage: "pull failed" },
      { done: true, ok: false, text: "web failed to start on node-1: pull failed" },
    ],
    [{ actualState: "crashloop" as const }, { done: true, ok: false, text: "web keeps crashing on node-1" }],
  ])("%j", (overrides, verdict) => {
    expect(containerVerdict(containerView({ name: "web", ...overrides }))).toEqual(verdict);
  });
});

describe("top", () => {
  test("allocated against used per host, with fleet totals", () => {
    const lines = topLines(
      fleetSummary([{ name: "node-a" }, { name: "node-b", status: "offline", draining: true }]),
      TEST_NOW,
    );
    expect(lines[0]).toBe(
      "fleet top — 2026-01-01 12:00:00 UTC   hosts 1/2 online   containers 6/8 running   4 per host",
    );
    expect(lines[1]).toBe("cpu allocated 2/8 (25%)   used 0.5/8 (6%)");
    expect(lines.slice(2)).toEqual([
      "mem allocated 4 GiB/16 GiB (25%)   used 2 GiB/16 GiB (13%)",
      "",
      "HOST     STATUS               CONTAINERS   CPU ALLOCATED   CPU USED      MEM ALLOCATED       MEM USED",
      "node-a   online               3/4          1/4 (25%)       0.25/4 (6%)   2 GiB/8 GiB (25%)   1 GiB/8 GiB (13%)",
      "node-b   offline (draining)   3/4          1/4 (25%)       0.25/4 (6%)   2 GiB/8 GiB (25%)   1 GiB/8 GiB (13%)",
    ]);
  });
});
