import { describe, expect, it } from "vitest";
import type { TContainerTemplate } from "../placement/container-template";
import { revisionDiff } from "./revision-diff";

const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;

function template(overrides: Partial<TContainerTemplate> = {}): TContainerTemplate {
  return {
    image: `busybox:1.36@${DIGEST_A}`,
    command: ["sleep", "3600"],
    env: { A: "1" },
    ports: [],
    labels: {},
    resources: {
      cpuLimitMillis: 500,
      cpuRequestMillis: 500,
      memoryLimitBytes: 64 * 1024 * 1024,
      memoryRequestBytes: 64 * 1024 * 1024,
      pidsLimit: null,
      pidsRequest: 0,
    },
    restartPolicy: { name: "no" },
    mounts: [],
    networks: [],
    healthCheck: null,
    ...overrides,
  };
}

describe("revisionDiff", () => {
  it.each([
    ["nothing", {}, ""],
    [
      "the image, without its digest",
      { image: `busybox:1.37@${DIGEST_B}` },
      "image busybox:1.36 → busybox:1.37",
    ],
    [
      "a moved tag, by its digest",
      { image: `busybox:1.36@${DIGEST_B}` },
      "image busybox:1.36 digest aaaaaaaaaaaa → bbbbbbbbbbbb",
    ],
    ["env keys, never values", { env: { A: "2", MODE: "x" } }, "env ~A +MODE"],
    ["a removed env key", { env: {} }, "env -A"],
    ["the command", { command: null }, "command sleep 3600 → none"],
    ["ports", { ports: [{ containerPort: 80, hostPort: 8080 }] }, "ports +8080:80"],
    ["networks", { networks: ["front"] }, "networks +front"],
    [
      "a health check",
      {
        healthCheck: {
          test: { type: "http", port: 80, path: "/" },
          intervalMs: 1000,
          timeoutMs: 1000,
          retries: 3,
          startPeriodMs: 0,
          restartOnUnhealthy: false,
        },
      },
      "health check none → http :80/",
    ],
    ["restart", { restartPolicy: { name: "always" } }, "restart no → always"],
  ] as [string, Partial<TContainerTemplate>, string][])("shows %s", (_, change, expected) => {
    expect(revisionDiff(template(), template(change))).toBe(expected);
  });

  it("joins several changes with semicolons, resources in docker's units, placement last", () => {
    const after = template({
      image: `busybox:1.37@${DIGEST_B}`,
      env: { A: "1", MODE: "x" },
      resources: { ...template().resources, cpuLimitMillis: 1000, cpuRequestMillis: 1000 },
    });
    expect(
      revisionDiff(
        { ...template(), constraints: "", strategy: "binpack" },
        { ...after, constraints: "zone=a", strategy: "binpack" },
      ),
    ).toBe(
      "image busybox:1.36 → busybox:1.37; env +MODE; cpus 0.5 → 1; cpu request 0.5 → 1; constraints none → zone=a",
    );
  });
});
