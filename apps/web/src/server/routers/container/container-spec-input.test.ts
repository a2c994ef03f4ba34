import { describe, expect, test } from "vitest";
import { describeIssues } from "../../errors";
import { ZRunContainerInput } from "./container-spec-input";

const MIB = 1024 * 1024;

function problems(input: Record<string, unknown>): string {
  const result = ZRunContainerInput.safeParse({ image: "busybox", ...input });
  if (result.success) throw new Error("expected the input to be refused");
  return describeIssues(result.error.issues);
}

describe("container spec input", () => {
  test("docker's spellings become a template; requests default to limits", () => {
    const parsed = ZRunContainerInput.parse({
      image: " busybox:1.36 ",
      command: "sh -c  true",
      env: ["A=1", "B=x=y"],
      ports: ["8080:80", "53/udp", { containerPort: 443, hostPort: 8443 }],
      cpus: 0.5,
      memory: "64m",
      pids: 100,
      pidsRequest: 10,
      restart: "on-failure:3",
      labels: { app: "web" },
    });
    expect(parsed).toEqual({
      name: undefined,
      strategy: "binpack",
      constraints: "",
      template: {
        image: "busybox:1.36",
        command: ["sh", "-c", "true"],
        env: { A: "1", B: "x=y" },
        ports: [
          { containerPort: 80, hostPort: 8080, protocol: "tcp" },
          { containerPort: 53, protocol: "udp" },
          { containerPort: 443, hostPort: 8443, protocol: "tcp" },
        ],
        labels: { app: "web" },
        resources: {
          cpuRequestMillis: 500,
          cpuLimitMillis: 500,
          memoryRequestBytes: 64 * MIB,
          memoryLimitBytes: 64 * MIB,
          pidsRequest: 10,
          pidsLimit: 100,
        },
        restartPolicy: { name: "on-failure", maxRetries: 3 },
        mounts: [],
        networks: [],
        healthCheck: null,
      },
    });
  });

  test("volumes, tmpfs and networks in docker's spellings become mounts and networks", () => {
    const { template } = ZRunContainerInput.parse({
      image: "busybox",
      volumes: [" data:/var/lib/app", "cache:/cache:ro", "/srv/data/app:/etc/app:ro"],
      tmpfs: ["/scratch", "/run/small:size=16m"],
      networks: ["backend", " front-end"],
    });
    expect(template.mounts).toEqual([
      { type: "volume", source: "data", target: "/var/lib/app", readOnly: false },
      { type: "volume", source: "cache", target: "/cache", readOnly: true },
      { type: "bind", source: "/srv/data/app", target: "/etc/app", readOnly: true },
      { type: "tmpfs", target: "/scratch", sizeBytes: 64 * MIB },
      { type: "tmpfs", target: "/run/small", sizeBytes: 16 * MIB },
    ]);
    expect(template.networks).toEqual(["backend", "front-end"]);
  });

  test.each([
    [{ volumes: ["data"] }, 'volumes[0]: invalid mount "data"'],
    [{ volumes: ["ok:/a", "data:relative"] }, 'volumes[1]: invalid mount "data:relative"'],
    [{ volumes: ["data:/a:rx"] }, 'volumes[0]: invalid mount "data:/a:rx": mode "rx" must be ro or rw'],
    [{ volumes: ["/:/host"] }, "volumes[0]: "],
    [{ volumes: ["/srv/../etc:/x"] }, "volumes[0]: "],
    [{ volumes: ["-bad:/x"] }, 'volumes[0]: invalid mount "-bad:/x": the volume name'],
    [{ volumes: Array.from({ length: 33 }, (_, i) => `v${i}:/m${i}`) }, "volumes: "],
    [{ tmpfs: ["scratch"] }, 'tmpfs[0]: invalid tmpfs "scratch"'],
    [{ tmpfs: ["/s:size=1t"] }, "tmpfs[0]: "],
    [
      { tmpfs: ["/s:mode=1777"] },
      'tmpfs[0]: invalid tmpfs "/s:mode=1777": option "mode=1777" must be size=<bytes>',
    ],
    [{ networks: ["host"] }, "networks[0]: is an engine network"],
    [{ networks: ["ok", "bridge"] }, "networks[1]: is an engine network"],
    [{ networks: ["a b"] }, "networks[0]: must be 2-64 letters"],
    [{ networks: Array.from({ length: 9 }, (_, i) => `net${i}`) }, "networks: "],
    // Rules of the whole spec still name the field the person typed.
    [{ volumes: ["va:/same", "vb:/same"] }, "volumes[1].target: /same is mounted more than once"],
    [{ volumes: ["va:/data"], tmpfs: ["/t", "/data"] }, "tmpfs[1].target: /data is mounted more than once"],
    [{ networks: ["back", "back"] }, "networks[1]: network back is listed twice"],
    [
      {
        volumes: Array.from({ length: 20 }, (_, i) => `v${i}:/m${i}`),
        tmpfs: Array.from({ length: 13 }, (_, i) => `/t${i}`),
      },
      "volumes: ",
    ],
  ])("%j is refused: %s", (input, message) => {
    expect(problems(input)).toContain(message);
  });

  test("nothing given: no limits, no requests, the image's command, restart no", () => {
    const { template } = ZRunContainerInput.parse({ image: "busybox", command: "" });
    expect(template).toMatchObject({
      command: null,
      env: {},
      ports: [],
      restartPolicy: { name: "no" },
      resources: {
        cpuRequestMillis: 0,
        cpuLimitMillis: null,
        memoryRequestBytes: 0,
        memoryLimitBytes: null,
        pidsRequest: 0,
        pidsLimit: null,
      },
    });
  });

  test.each([
    [
      { memory: "64x" },
      'memory: invalid memory size "64x": use a number with an optional unit b, k, m, g or t',
    ],
    [{ memory: "1m" }, "memory: must be at least 6 MiB"],
    [{ memory: 5e-324 }, "memory: must be a whole number of bytes or a size such as 64m"],
    [{ cpus: -1 }, 'cpus: invalid cpus "-1"'],
    [{ cpus: "0.0001" }, 'cpus: invalid cpus "0.0001": the smallest step is 0.001 (one millicore)'],
    [
      { memory: "64m", memoryRequest: "128m" },
      "memoryRequest: the memory request must not exceed the memory limit",
    ],
    [{ env: ["NOVALUE"] }, 'env[0]: "NOVALUE" must be KEY=value'],
    [{ env: { "1BAD": "x" } }, "env.1BAD"],
    [{ labels: ["bad key=1"] }, "labels[0]: "],
    [{ ports: [{ containerPort: 0 }] }, "ports[0].containerPort: must be at least 1"],
    [{ restart: "always:3" }, 'restart: invalid restart policy "always:3"'],
    [{ name: "-x" }, "name: must be 2-128 letters"],
    [{ strategy: "random" }, 'strategy: must be one of "binpack", "spread"'],
  ])("%j is refused: %s", (input, message) => {
    expect(problems(input)).toContain(message);
  });

  test("a health check in docker's words becomes the protocol's, defaults filled in", () => {
    const shell = ZRunContainerInput.parse({
      image: "busybox",
      healthCheck: {
        test: { type: "exec", command: " wget -q -O- localhost:80/ " },
        interval: "5s",
        timeout: 2000,
        retries: 5,
        startPeriod: "1m30s",
        restartOnUnhealthy: true,
      },
    });
    expect(shell.template.healthCheck).toEqual({
      test: { type: "exec", command: ["sh", "-c", "wget -q -O- localhost:80/"] },
      intervalMs: 5000,
      timeoutMs: 2000,
      retries: 5,
      startPeriodMs: 90_000,
      restartOnUnhealthy: true,
    });
    const argv = ZRunContainerInput.parse({
      image: "busybox",
      healthCheck: { test: { type: "exec", command: ["pg_isready", "-q"] } },
    });
    expect(argv.template.healthCheck).toEqual({
      test: { type: "exec", command: ["pg_isready", "-q"] },
      intervalMs: 30_000,
      timeoutMs: 30_000,
      retries: 3,
      startPeriodMs: 0,
      restartOnUnhealthy: false,
    });
    const http = ZRunContainerInput.parse({
      image: "nginx",
      healthCheck: { test: { type: "http", port: 80 } },
    });
    expect(http.template.healthCheck?.test).toEqual({ type: "http", port: 80, path: "/" });
    const tcp = ZRunContainerInput.parse({
      image: "redis",
      healthCheck: { test: { type: "tcp", port: 6379 } },
    });
    expect(tcp.template.healthCheck?.test).toEqual({ type: "tcp", port: 6379 });
    expect(ZRunContainerInput.parse({ image: "busybox", healthCheck: null }).template.healthCheck).toBeNull();
  });

  test.each([
    [{ test: { type: "ping" } }, "healthCheck.test.type: must be exec, http or tcp"],
    [{ test: { type: "exec", command: "  " } }, "healthCheck.test.command: must not be empty"],
    [{ test: { type: "exec", command: [] } }, "healthCheck.test.command: must not be empty"],
    [{ test: { type: "exec", command: ["a\0b"] } }, "healthCheck.test.command[0]: must not contain NUL"],
    [{ test: { type: "http", port: 0 } }, "healthCheck.test.port: must be a port number from 1 to 65535"],
    [{ test: { type: "tcp", port: 70000 } }, "healthCheck.test.port: must be a port number from 1 to 65535"],
    [{ test: { type: "http", port: 80, path: "healthz" } }, "healthCheck.test.path: must start with /"],
    [{ test: { type: "http", port: 80, path: "/a b" } }, "healthCheck.test.path: must start with /"],
    [{ test: { type: "tcp", port: 80 }, interval: "5x" }, 'healthCheck.interval: invalid duration "5x"'],
    [
      { test: { type: "tcp", port: 80 }, interval: "10ms" },
      "healthCheck.interval: must be 100ms to 1d, got 10ms",
    ],
    [{ test: { type: "tcp", port: 80 }, timeout: "2d" }, "healthCheck.timeout: must be 100ms to 1d, got 2d"],
    [
      { test: { type: "tcp", port: 80 }, startPeriod: -1 },
      "healthCheck.startPeriod: must be 0 to 1d, got -1 ms",
    ],
    [
      { test: { type: "tcp", port: 80 }, retries: 0 },
      "healthCheck.retries: must be a whole number from 1 to 100",
    ],
    [
      { test: { type: "tcp", port: 80 }, retries: 1.5 },
      "healthCheck.retries: must be a whole number from 1 to 100",
    ],
    [{ interval: "5s" }, "healthCheck.test: "],
  ])("health check %j is refused: %s", (healthCheck, message) => {
    expect(problems({ healthCheck })).toContain(message);
  });
});
