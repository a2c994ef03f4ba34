import { describe, expect, test } from "vitest";
import { splitCommandLine } from "../run/run-request";
import {
  commandLineOf,
  editRequestOf,
  editValuesOf,
  policyDiff,
  type TDeploymentEditValues,
  type TDeploymentView,
  type TUpdatePolicy,
} from "./deployment-edit";

const POLICY: TUpdatePolicy = {
  maxParallel: 1,
  minHealthyTimeMs: 10_000,
  healthyDeadlineMs: 300_000,
  progressDeadlineMs: 600_000,
  autoRevert: false,
  canary: 0,
  order: "stop-first",
};

function deployment(overrides: Partial<TDeploymentView> = {}): TDeploymentView {
  return {
    id: "d1",
    name: "web",
    image: `busybox:1.36@sha256:${"ab".repeat(32)}`,
    imageDigest: "sha256:abc",
    command: ["sh", "-c", "httpd -f -p 8080"],
    envKeys: ["MODE"],
    ports: [{ containerPort: 8080, hostPort: 18080, protocol: "tcp" }],
    mounts: [],
    networks: [],
    labels: {},
    resources: {
      cpuLimitMillis: 500,
      memoryLimitBytes: 64 * 1024 * 1024,
      pidsLimit: null,
      cpuRequestMillis: 500,
      memoryRequestBytes: 64 * 1024 * 1024,
      pidsRequest: 0,
    },
    restartPolicy: "no",
    healthCheck: {
      test: { type: "http", port: 8080, path: "/" },
      intervalMs: 1000,
      timeoutMs: 500,
      retries: 3,
      startPeriodMs: 0,
      restartOnUnhealthy: false,
    },
    revision: 2,
    updatePolicy: POLICY,
    updatedReplicas: 2,
    healthyReplicas: 2,
    rollout: null,
    replicas: 2,
    currentReplicas: 2,
    runningReplicas: 2,
    pendingPlacement: 0,
    strategy: "spread",
    constraints: "",
    createdAt: new Date(0),
    updatedAt: new Date(0),
    removedAt: null,
    ...overrides,
  } as TDeploymentView;
}

function edit(changes: Partial<TDeploymentEditValues>, view = deployment()) {
  const initial = editValuesOf(view);
  return editRequestOf(initial, { ...initial, ...changes }, view.updatePolicy);
}

describe("commandLineOf", () => {
  test.each([
    [["sleep", "3600"]],
    [["sh", "-c", "echo hi; sleep 1"]],
    [["echo", "it's", ""]],
    [["printf", "%s=%d\n"]],
  ])("%j reads back through splitCommandLine", (argv) => {
    expect(splitCommandLine(commandLineOf(argv))).toEqual(argv);
  });
});

describe("editValuesOf", () => {
  test("the current revision in the words a person types", () => {
    const values = editValuesOf(deployment());
    expect(values).toMatchObject({
      image: "busybox:1.36",
      command: "sh -c 'httpd -f -p 8080'",
      cpus: "0.5",
      memory: "64m",
      pids: "",
      ports: "18080:8080",
      healthType: "http",
      healthPort: "8080",
      healthPath: "/",
      healthInterval: "1s",
      healthTimeout: "500ms",
      minHealthyTime: "10s",
      healthyDeadline: "5m",
      order: "stop-first",
    });
  });

  test("an exec check written as --health-cmd shows the line as typed", () => {
    const values = editValuesOf(
      deployment({
        healthCheck: {
          test: { type: "exec", command: ["sh", "-c", "wget -q -O- localhost:8080"] },
          intervalMs: 30_000,
          timeoutMs: 30_000,
          retries: 3,
          startPeriodMs: 0,
          restartOnUnhealthy: true,
        },
      }),
    );
    expect(values.healthType).toBe("exec");
    expect(values.healthCommand).toBe("wget -q -O- localhost:8080");
    expect(values.healthRestart).toBe(true);
  });
});

describe("editRequestOf", () => {
  test("the form as it opened asks for nothing", () => {
    expect(edit({})).toEqual({ ok: true, changes: {}, policyDiff: [], empty: true });
  });

  test("only the fields a person changed are sent", () => {
    const request = edit({ image: "busybox:1.37", envSet: "MODE=blue\n# note\nLEVEL=2", envRemove: ["OLD"] });
    expect(request).toEqual({
      ok: true,
      changes: { image: "busybox:1.37", envAdd: ["MODE=blue", "LEVEL=2"], envRemove: ["OLD"] },
      policyDiff: [],
      empty: false,
    });
  });

  test("command, limits and ports go in the run form's spellings", () => {
    const request = edit({ command: "sleep 60", cpus: "1", memory: "128m", pids: "50", ports: "" });
    expect(request).toMatchObject({
      ok: true,
      changes: { command: ["sleep", "60"], cpus: "1", memory: "128m", pids: 50, ports: [] },
    });
  });

  test("a changed health field sends the whole check; none removes it", () => {
    expect(edit({ healthPath: "/ready" })).toMatchObject({
      ok: true,
      changes: {
        healthCheck: {
          test: { type: "http", port: 8080, path: "/ready" },
          interval: "1s",
          timeout: "500ms",
          retries: 3,
          startPeriod: "0s",
          restartOnUnhealthy: false,
        },
      },
    });
    expect(edit({ healthType: "none" })).toMatchObject({ ok: true, changes: { healthCheck: null } });
    expect(edit({ healthType: "exec", healthCommand: "true" })).toMatchObject({
      ok: true,
      changes: { healthCheck: { test: { type: "exec", command: "true" } } },
    });
  });

  test("policy knobs are sent when changed and described as a diff", () => {
    const request = edit({ maxParallel: "2", minHealthyTime: "1s", autoRevert: true, order: "start-first" });
    expect(request).toEqual({
      ok: true,
      changes: { policy: { maxParallel: 2, minHealthyTimeMs: 1000, autoRevert: true, order: "start-first" } },
      policyDiff: [
        "max parallel 1 → 2",
        "min healthy time 10s → 1s",
        "auto-revert off → on",
        "order stop-first → start-first",
      ],
      empty: false,
    });
  });

  test.each<[Partial<TDeploymentEditValues>, keyof TDeploymentEditValues, string]>([
    [{ image: " " }, "image", "Image: enter an image"],
    [{ command: "sh -c 'echo" }, "command", "Command: unclosed single quote"],
    [{ cpus: "" }, "cpus", "CPUs: a limit cannot be removed"],
    [{ pids: "many" }, "pids", "Pids: must be a whole number"],
    [{ envSet: "=x" }, "envSet", 'Set variables: "=x" must be KEY=value'],
    [{ healthType: "tcp", healthPort: "0" }, "healthPort", "Health port"],
    [{ healthType: "exec", healthCommand: " " }, "healthCommand", "Health command"],
    [{ maxParallel: "0" }, "maxParallel", "Max parallel"],
    [{ canary: "-1" }, "canary", "Canary"],
    [{ minHealthyTime: "soon" }, "minHealthyTime", "Min healthy time: invalid duration"],
  ])("%j is refused naming %s", (changes, field, message) => {
    const request = edit(changes);
    expect(request.ok).toBe(false);
    if (request.ok) return;
    expect(request.field).toBe(field);
    expect(request.message).toContain(message);
  });
});

describe("policyDiff", () => {
  test("knobs given with their current value are no change", () => {
    expect(policyDiff(POLICY, { maxParallel: 1, canary: 2, healthyDeadlineMs: 90_000 })).toEqual([
      "healthy deadline 5m → 1m30s",
      "canary 0 → 2",
    ]);
  });
});
