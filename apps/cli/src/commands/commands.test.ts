// The pure parts of the commands: what a table shows, when a wait is over.
import { describe, expect, test } from "vitest";
import {
  containerView,
  fleetSummary,
  hostView,
  imageView,
  networkView,
  TEST_NOW,
  volumeView,
} from "../testing/factories";
import { changeSummary } from "./deploy";
import { nameFilter, pickRemoveTargets } from "./host-objects";
import { hostRows } from "./hosts";
import { imageRows, splitTag } from "./images";
import { parseTail } from "./logs";
import { networkRows } from "./network";
import { containerRows, healthFilterOf, portsText } from "./ps";
import { isRunning } from "./rm";
import { containerVerdict } from "./run";
import { topLines } from "./top";
import { volumeRows } from "./volume";

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
      "CONTAINER ID   IMAGE          DIGEST   COMMAND       CREATED              STATUS                     PORTS                  HOST     NAMES",
      '9807a85b90e9   busybox:1.36   -        "sleep 600"   About a minute ago   Up 50 seconds              0.0.0.0:8080->80/tcp   node-1   web',
      "181a88380f59   busybox:1.36   -                      About a minute ago   Exited (0) 2 minutes ago                          node-1   job",
    ]);
  });

  const digest = `sha256:${"4be42d2c9f1e".padEnd(64, "7")}`;

  test("STATUS shows the health check's verdict as docker does", () => {
    const rows = containerRows(
      [
        containerView({ name: "ok", health: "healthy" }),
        containerView({ name: "new", health: "starting", startedAt: new Date(TEST_NOW - 3000) }),
        containerView({ name: "sick", health: "unhealthy" }),
        containerView({ name: "plain" }),
      ],
      TEST_NOW,
    );
    const status = (line: string) => line.slice(rows[0]!.indexOf("STATUS")).split(/ {2,}/)[0];
    expect(rows.slice(1).map(status)).toEqual([
      "Up 50 seconds (healthy)",
      "Up 3 seconds (health: starting)",
      "Up 50 seconds (unhealthy)",
      "Up 50 seconds",
    ]);
  });

  test("--filter health=STATE in docker's spelling", () => {
    expect(healthFilterOf(undefined)).toBeUndefined();
    expect(healthFilterOf(["health=unhealthy", "health=starting", "health=unhealthy"])).toEqual([
      "unhealthy",
      "starting",
    ]);
    expect(() => healthFilterOf(["status=running"])).toThrow(
      "--filter status=running: only health=STATE is supported",
    );
    expect(() => healthFilterOf(["health=none"])).toThrow(
      "--filter health=none: health must be starting, healthy, unhealthy",
    );
  });

  test("DIGEST is short; --no-trunc shows full ids, digests and commands", () => {
    const container = containerView({
      id: "01a21f0d-8dca-74ab-a10b-9807a85b90e9",
      name: "web",
      imageDigest: digest,
      command: ["sh", "-c", "echo a long command line; sleep 600"],
    });
    const [, short] = containerRows([container], TEST_NOW);
    expect(short).toContain("   sha256:4be42d2c9f1e   ");
    expect(short).toContain('"sh -c echo a long c…"');
    const [, full] = containerRows([container], TEST_NOW, { noTrunc: true });
    expect(full).toMatch(new RegExp(`^${container.id}   busybox:1.36   ${digest}   `));
    expect(full).toContain('"sh -c echo a long command line; sleep 600"');
  });

  test("PORTS: the address a running container is reachable at, else what it asks for", () => {
    const ports = [{ containerPort: 80, hostPort: 8080, protocol: "tcp" as const }];
    const published = [
      {
        containerPort: 80,
        protocol: "tcp" as const,
        hostIp: "0.0.0.0",
        hostPort: 8080,
        address: "10.0.0.5:8080",
      },
      { containerPort: 80, protocol: "tcp" as const, hostIp: "::", hostPort: 8080, address: "10.0.0.5:8080" },
      {
        containerPort: 53,
        protocol: "udp" as const,
        hostIp: "127.0.0.1",
        hostPort: 5353,
        address: "127.0.0.1:5353",
      },
    ];
    expect(portsText(containerView({ ports, published }))).toBe(
      "10.0.0.5:8080->80/tcp, 127.0.0.1:5353->53/udp",
    );
    expect(portsText(containerView({ ports, published, actualState: "exited" }))).toBe(
      "0.0.0.0:8080->80/tcp",
    );
    expect(portsText(containerView({ ports, published: [] }))).toBe("0.0.0.0:8080->80/tcp");
  });
});

describe("volumes and networks", () => {
  test("volume ls: host, name, driver, size, the containers using it", () => {
    const lines = volumeRows([
      volumeView({
        name: "pgdata",
        sizeBytes: 48 * 1024 * 1024,
        usedBy: [
          { id: "a", name: "db-1", desiredState: "running" },
          { id: "b", name: "backup", desiredState: "stopped" },
        ],
      }),
      volumeView({ hostName: "node-2", name: "cache" }),
    ]);
    expect(lines).toEqual([
      "HOST     NAME     DRIVER   SIZE     USED BY",
      "node-1   pgdata   local    48 MiB   db-1,backup",
      "node-2   cache    local    -        -",
    ]);
  });

  test("network ls: internal and subnet", () => {
    const lines = networkRows([
      networkView({ name: "backend", usedBy: [{ id: "a", name: "web", desiredState: "running" }] }),
      networkView({ name: "db-only", internal: true, subnet: null }),
    ]);
    expect(lines).toEqual([
      "HOST     NAME      DRIVER   INTERNAL   SUBNET          USED BY",
      "node-1   backend   bridge   false      172.20.0.0/16   web",
      "node-1   db-only   bridge   true       -               -",
    ]);
  });

  test("--filter takes name=TEXT only", () => {
    expect(nameFilter(undefined, "volume ls")).toBeUndefined();
    expect(nameFilter(["name=pg"], "volume ls")).toBe("pg");
    expect(() => nameFilter(["driver=local"], "volume ls")).toThrow(
      expect.objectContaining({ exitCode: 2, message: "--filter driver=local: only name=TEXT is supported" }),
    );
  });

  test("rm: exact names only; a name on several hosts needs --host, before anything is removed", () => {
    const onA = volumeView({ name: "data", hostName: "node-a" });
    const onB = volumeView({ name: "data", hostName: "node-b" });
    const other = volumeView({ name: "data-old", hostName: "node-a" });
    expect(pickRemoveTargets("volume", ["data-old", "nope"], [onA, other], undefined)).toEqual([
      { ref: "data-old", object: other },
      { ref: "nope", missing: "no volume named nope" },
    ]);
    expect(pickRemoveTargets("volume", ["nope"], [], "node-a")).toEqual([
      { ref: "nope", missing: "no volume named nope on node-a" },
    ]);
    expect(() => pickRemoveTargets("volume", ["data-old", "data"], [onB, onA, other], undefined)).toThrow(
      expect.objectContaining({
        exitCode: 2,
        command: "volume rm",
        message: "volume data is on 2 hosts (node-a, node-b): say which with --host",
      }),
    );
  });
});

describe("update", () => {
  test("says which revision a change made, and what it changed", () => {
    expect(changeSummary("api", { revision: 3, diff: "image api:1 → api:2", dryRun: false })).toBe(
      "api: revision 3 (image api:1 → api:2)",
    );
    expect(changeSummary("api", { revision: null, diff: "", dryRun: false })).toBe(
      "api: the spec is unchanged; no new revision",
    );
    expect(changeSummary("api", { revision: null, diff: "env +A", dryRun: true })).toBe(
      "api: would make a new revision: env +A",
    );
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
