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
});
