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
      },
    });
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
