import { describe, expect, test } from "vitest";
import {
  ago,
  bytes,
  commandText,
  containerStatus,
  cores,
  humanDuration,
  labelList,
  percent,
  portList,
  shortDigest,
  shortId,
  shortImageId,
  type TContainerStatusView,
} from "./format";

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function status(overrides: Partial<TContainerStatusView>): TContainerStatusView {
  return {
    actualState: "running",
    desiredState: "running",
    hostId: "h1",
    exitCode: null,
    oomKilled: false,
    restartCount: 0,
    startedAt: new Date(NOW - 5 * MINUTE),
    finishedAt: null,
    statusMessage: null,
    ...overrides,
  };
}

describe("ids", () => {
  test("a UUIDv7's short id is its random tail, not its timestamp head", () => {
    expect(shortId("01a21f0d-8dca-74ab-a10b-9807a85b90e9")).toBe("9807a85b90e9");
    expect(shortId("01a21f0d-8dca-74ab-a10b-000000000001")).not.toBe(
      shortId("01a21f0d-8dca-74ab-a10b-000000000002"),
    );
    expect(shortId("short")).toBe("short");
    expect(shortImageId(`sha256:${"ab".repeat(32)}`)).toBe("abababababab");
    expect(shortDigest(`sha256:${"ab".repeat(32)}`)).toBe("sha256:abababababab");
    expect(shortDigest("not-a-digest")).toBe("not-a-digest");
  });
});

describe("humanDuration (docker's wording)", () => {
  test.each([
    [0, "Less than a second"],
    [1 * SECOND, "1 second"],
    [45 * SECOND, "45 seconds"],
    [MINUTE, "About a minute"],
    [5 * MINUTE, "5 minutes"],
    [HOUR, "About an hour"],
    [30 * HOUR, "30 hours"],
    [3 * DAY, "3 days"],
    [20 * DAY, "2 weeks"],
    [90 * DAY, "3 months"],
    [800 * DAY, "2 years"],
  ])("%d ms → %s", (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  test("ago", () => {
    expect(ago(new Date(NOW - 5 * MINUTE), NOW)).toBe("5 minutes ago");
    expect(ago(null, NOW)).toBe("-");
  });
});

describe("units", () => {
  test("sizes, cores, ratios, labels", () => {
    expect(bytes(64 * 1024 * 1024)).toBe("64 MiB");
    expect(bytes(null)).toBe("-");
    expect(cores(500)).toBe("0.5");
    expect(cores(2000)).toBe("2");
    expect(percent(0.456)).toBe("46%");
    expect(percent(null)).toBe("-");
    expect(labelList({ zone: "a", gpu: "" })).toBe("gpu,zone=a");
    expect(labelList({})).toBe("-");
  });
});

describe("ports and commands", () => {
  test("docker's PORTS column", () => {
    expect(
      portList([
        { containerPort: 80, hostPort: 8080, protocol: "tcp" },
        { containerPort: 53, protocol: "udp" },
        { containerPort: 443, hostPort: 8443, hostIp: "127.0.0.1", protocol: "tcp" },
      ]),
    ).toBe("0.0.0.0:8080->80/tcp, 53/udp, 127.0.0.1:8443->443/tcp");
  });

  test("docker's COMMAND column", () => {
    expect(commandText(null)).toBe("");
    expect(commandText(["sleep", "600"])).toBe('"sleep 600"');
    expect(commandText(["sh", "-c", "trap 'exit 0' TERM; sleep 1"])).toBe(`"sh -c trap 'exit 0'…"`);
  });
});

describe("containerStatus", () => {
  test.each([
    [{}, "Up 5 minutes"],
    [{ desiredState: "stopped" }, "Up 5 minutes (stopping)"],
    [{ health: "healthy" }, "Up 5 minutes (healthy)"],
    [{ health: "starting", startedAt: new Date(NOW - 3 * SECOND) }, "Up 3 seconds (health: starting)"],
    [{ health: "unhealthy" }, "Up 5 minutes (unhealthy)"],
    [{ health: "unhealthy", desiredState: "stopped" }, "Up 5 minutes (unhealthy) (stopping)"],
    [{ health: null }, "Up 5 minutes"],
    // A verdict left from before an exit is not shown (the agent clears it, a late report may not).
    [{ actualState: "exited", exitCode: 1, health: "unhealthy" }, "Exited (1)"],
    [
      { actualState: "exited", exitCode: 137, oomKilled: true, finishedAt: new Date(NOW - 2 * HOUR) },
      "Exited (137) 2 hours ago (OOM killed)",
    ],
    [{ actualState: "stopped", finishedAt: new Date(NOW - MINUTE) }, "Stopped About a minute ago"],
    [{ actualState: "restarting", restartCount: 2 }, "Restarting (2)"],
    [{ actualState: "crashloop", restartCount: 7 }, "Crash loop (7 restarts)"],
    [{ actualState: "pending", hostId: null }, "Pending (no host)"],
    [{ actualState: "pulling" }, "Pulling"],
    [{ actualState: "failed" }, "Failed"],
  ] as [Partial<TContainerStatusView>, string][])("%j → %s", (overrides, text) => {
    expect(containerStatus(status(overrides), NOW)).toBe(text);
  });
});
