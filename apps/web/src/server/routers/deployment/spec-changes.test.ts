import { describe, expect, it } from "vitest";
import type { TContainerTemplate } from "../../services/placement/container-template";
import { applySpecChanges } from "./spec-changes";

const MIB = 1024 * 1024;
const CHECK = {
  test: { type: "tcp" as const, port: 80 },
  intervalMs: 1000,
  timeoutMs: 1000,
  retries: 3,
  startPeriodMs: 0,
  restartOnUnhealthy: false,
};

function current(): TContainerTemplate {
  return {
    image: "busybox:1.36",
    command: ["sleep", "3600"],
    env: { A: "1", B: "2" },
    ports: [],
    labels: { team: "web" },
    resources: {
      cpuLimitMillis: 500,
      cpuRequestMillis: 500,
      memoryLimitBytes: 64 * MIB,
      memoryRequestBytes: 32 * MIB,
      pidsLimit: null,
      pidsRequest: 0,
    },
    restartPolicy: { name: "always" },
    mounts: [{ type: "tmpfs", target: "/scratch", sizeBytes: 16 * MIB }],
    networks: ["front"],
    healthCheck: CHECK,
  };
}

describe("applySpecChanges", () => {
  it("changes only what is given, keeping the health check", () => {
    expect(applySpecChanges(current(), { image: "busybox:1.37" })).toEqual({
      ...current(),
      image: "busybox:1.37",
    });
  });

  it("a new limit moves a request that followed it, not one set apart", () => {
    const next = applySpecChanges(current(), { cpus: 1000, memory: 128 * MIB });
    expect(next.resources).toMatchObject({
      cpuLimitMillis: 1000,
      cpuRequestMillis: 1000,
      memoryLimitBytes: 128 * MIB,
      memoryRequestBytes: 32 * MIB,
    });
  });

  it("env edits apply to the current variables", () => {
    expect(applySpecChanges(current(), {}, { add: { C: "3", A: "9" }, remove: ["B"] }).env).toEqual({
      A: "9",
      C: "3",
    });
  });

  it("healthCheck null removes the check", () => {
    expect(applySpecChanges(current(), { healthCheck: null }).healthCheck).toBeNull();
  });

  it("refuses a result the run form would refuse, naming the field", () => {
    expect(() => applySpecChanges(current(), { cpuRequest: 2000 })).toThrow(
      /cpuRequest: the cpu request must not exceed/,
    );
  });
});
