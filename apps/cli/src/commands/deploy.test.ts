import { describe, expect, test } from "vitest";
import type { FleetClient } from "../client";
import type { CommandContext } from "../command";
import { deploymentDetail } from "../testing/factories";
import { createTestIo } from "../testing/test-io";
import { deployGroup, deploymentRows, historyRows, scaleTargetOf, updateInputOf } from "./deploy";
import { exitCodeOf, followRollout, rolloutStatusLine, stepLine } from "./rollout";

const NOW = Date.parse("2026-01-01T12:00:00Z");

describe("deploy update's flags", () => {
  test("only what a flag names, in the API's words; policy knobs with docker's durations", () => {
    expect(
      updateInputOf(
        {
          image: "api:2",
          "env-add": ["MODE=fast", "HOME", "MISSING"],
          "env-rm": ["DEBUG"],
          cpus: "0.5",
          "max-parallel": "2",
          "min-healthy-time": "5s",
          "healthy-deadline": "2m",
          "auto-revert": true,
          canary: "1",
          order: "start-first",
        },
        { HOME: "/root" },
        "deploy update",
      ),
    ).toEqual({
      image: "api:2",
      envAdd: { MODE: "fast", HOME: "/root" },
      envRemove: ["DEBUG"],
      cpus: "0.5",
      policy: {
        maxParallel: 2,
        minHealthyTimeMs: 5000,
        healthyDeadlineMs: 120_000,
        autoRevert: true,
        canary: 1,
        order: "start-first",
      },
    });
  });

  test("a health check, or its removal; a dry run", () => {
    expect(updateInputOf({ "health-tcp": "80" }, {}, "deploy update")).toEqual({
      healthCheck: { test: { type: "tcp", port: 80 } },
    });
    expect(updateInputOf({ "no-healthcheck": true, "dry-run": true }, {}, "deploy update")).toEqual({
      healthCheck: null,
      dryRun: true,
    });
  });

  test.each([
    [{}, "nothing to change"],
    [{ cpus: "lots" }, "--cpus"],
    [{ order: "sideways" }, "--order must be stop-first or start-first"],
    [{ "min-healthy-time": "soon" }, "--min-healthy-time"],
    [{ "auto-revert": true, "no-auto-revert": true }, "exclude each other"],
    [{ "no-healthcheck": true, "health-tcp": "80" }, "exclude each other"],
  ])("%j is a usage error", (values, message) => {
    expect(() => updateInputOf(values, {}, "deploy update")).toThrow(message);
  });
});

describe("deploy scale", () => {
  test("docker's NAME=N and kubectl's NAME N", () => {
    expect(scaleTargetOf(["api=5"], "deploy scale")).toEqual({ ref: "api", replicas: 5 });
    expect(scaleTargetOf(["api", "0"], "deploy scale")).toEqual({ ref: "api", replicas: 0 });
    expect(() => scaleTargetOf(["api"], "deploy scale")).toThrow("DEPLOYMENT=REPLICAS");
    expect(() => scaleTargetOf(["api=many"], "deploy scale")).toThrow("REPLICAS must be a whole number");
  });
});

describe("deploy ls and history", () => {
  test("REPLICAS is healthy/desired; the image without its digest; the rollout's state", () => {
    const { deployment } = deploymentDetail({
      id: "01a21f0d-8dca-74ab-a10b-9807a85b90e9",
      name: "api",
      image: `registry.local/api:2@sha256:${"ab".repeat(32)}`,
      revision: 3,
      replicas: 4,
      healthyReplicas: 3,
      updatedReplicas: 2,
      rollout: {
        id: "r",
        state: "running",
        fromRevision: 2,
        toRevision: 3,
        reason: null,
        createdAt: new Date(NOW),
        finishedAt: null,
      },
    });
    expect(deploymentRows([deployment])).toEqual([
      "ID             NAME   REVISION   REPLICAS   UP-TO-DATE   ROLLOUT         IMAGE",
      "9807a85b90e9   api    3          3/4        2            running (2→3)   registry.local/api:2",
    ]);
  });

  test("history: newest first, the current one starred", () => {
    const item = (number: number, diff: string, rolloutState: "succeeded" | "failed" | null) => ({
      number,
      image: "api",
      imageDigest: null,
      diff,
      createdBy: "ops@example.com",
      createdAt: new Date(NOW - 120_000),
      current: number === 2,
      rolloutState,
    });
    expect(historyRows([item(2, "env +MODE", "succeeded"), item(1, "created", null)], NOW)).toEqual([
      "REVISION   CREATED         BY                ROLLOUT     CHANGE",
      "2 *        2 minutes ago   ops@example.com   succeeded   env +MODE",
      "1          2 minutes ago   ops@example.com   -           created",
    ]);
  });
});

describe("rollout status", () => {
  const detail = (state: "running" | "failed" | "succeeded", reason: string | null = null) => ({
    rollout: {
      id: "r",
      state,
      fromRevision: 1,
      toRevision: 2,
      reason,
      policy: {
        maxParallel: 1,
        minHealthyTimeMs: 10_000,
        healthyDeadlineMs: 300_000,
        progressDeadlineMs: 600_000,
        autoRevert: false,
        canary: 0,
        order: "stop-first" as const,
      },
      promoted: true,
      createdBy: "ops@example.com",
      createdAt: new Date(NOW),
      updatedAt: new Date(NOW),
      progressAt: new Date(NOW),
      finishedAt: null,
      progress: {
        desired: 4,
        updated: 1,
        updatedServing: 0,
        serving: 3,
        stepsDone: 0,
        stepsInFlight: 1,
        stepsFailed: 0,
      },
      waitingFor: state === "running" ? "replacements to count" : null,
    },
    steps: [
      {
        id: "s1",
        replicaIndex: 1,
        oldContainerId: "a",
        oldContainerName: "api-1",
        newContainerId: "b",
        newContainerName: "api-1",
        order: "stop-first" as const,
        canary: false,
        state: state === "failed" ? ("failed" as const) : ("started" as const),
        reason,
        startedAt: new Date(NOW),
        oldRemovedAt: new Date(NOW),
        finishedAt: null,
      },
    ],
  });

  test("one status line, one line per replacement", () => {
    expect(rolloutStatusLine("api", detail("running"))).toBe(
      "api: rollout 1 → 2 running, 1/4 updated, 0 of them serving, 3 serving in all (waiting for replacements to count)",
    );
    expect(rolloutStatusLine("api", detail("failed", "api-1 did not stay healthy"))).toBe(
      "api: rollout 1 → 2 failed, 1/4 updated, 0 of them serving, 3 serving in all: api-1 did not stay healthy",
    );
    expect(stepLine(detail("running").steps[0]!)).toBe("replica 1: api-1 → api-1 (stop-first) replacing");
    expect(stepLine(detail("failed", "crashloop").steps[0]!)).toBe(
      "replica 1: api-1 → api-1 (stop-first) failed: crashloop",
    );
    expect(rolloutStatusLine("api", null)).toBe("api: no rollout yet (revision 1 since creation)");
  });

  test("exit 1 when it failed, 0 when it succeeded", () => {
    expect(exitCodeOf(detail("failed"))).toBe(1);
    expect(exitCodeOf(detail("succeeded"))).toBe(0);
  });
});

describe("following a rollout", () => {
  type TDetail = ReturnType<typeof detail>;
  function detail(state: "running" | "failed" | "succeeded", stepState: "started" | "done" | "failed") {
    return {
      rollout: {
        id: "r",
        state,
        fromRevision: 1,
        toRevision: 2,
        reason: state === "failed" ? "api-1 did not stay healthy" : null,
        policy: {
          maxParallel: 1,
          minHealthyTimeMs: 0,
          healthyDeadlineMs: 1000,
          progressDeadlineMs: 1000,
          autoRevert: false,
          canary: 0,
          order: "stop-first" as const,
        },
        promoted: true,
        createdBy: "ops",
        createdAt: new Date(NOW),
        updatedAt: new Date(NOW),
        progressAt: new Date(NOW),
        finishedAt: null,
        progress: {
          desired: 2,
          updated: 1,
          updatedServing: 0,
          serving: 1,
          stepsDone: 0,
          stepsInFlight: 1,
          stepsFailed: 0,
        },
        waitingFor: null,
      },
      steps: [
        {
          id: "s1",
          replicaIndex: 1,
          oldContainerId: "a",
          oldContainerName: "api-1",
          newContainerId: "b",
          newContainerName: "api-1",
          order: "stop-first" as const,
          canary: false,
          state: stepState,
          reason: null,
          startedAt: new Date(NOW),
          oldRemovedAt: null,
          finishedAt: null,
        },
      ],
    };
  }

  function fakeClient(messages: TDetail[], sent: unknown[] = []) {
    return {
      deployment: {
        list: { query: async () => ({ items: [deploymentDetail({ id: "d1", name: "api" }).deployment] }) },
        get: { query: async () => deploymentDetail({ name: "api" }) },
        update: {
          mutate: async (input: unknown) => {
            sent.push(input);
            return {
              ...deploymentDetail({ name: "api" }),
              change: { revision: 2, diff: "env +A", dryRun: false },
            };
          },
        },
        watchRollout: {
          subscribe: (_input: unknown, handlers: { onData(value: unknown): void }) => {
            for (const [index, rollout] of messages.entries()) {
              handlers.onData({ id: `r:${index + 1}`, data: { rollout } });
            }
            return { unsubscribe() {} };
          },
        },
      },
    } as unknown as FleetClient;
  }

  test("prints each step and status change once, exits 1 when the rollout fails", async () => {
    const io = createTestIo();
    const code = await followRollout(
      fakeClient([detail("running", "started"), detail("running", "started"), detail("failed", "failed")]),
      io,
      "d1",
      true,
    );
    expect(code).toBe(1);
    expect(io.out().trim().split("\n")).toEqual([
      "replica 1: api-1 → api-1 (stop-first) replacing",
      "api: rollout 1 → 2 running, 1/2 updated, 0 of them serving, 1 serving in all",
      "replica 1: api-1 → api-1 (stop-first) failed",
      "api: rollout 1 → 2 failed, 1/2 updated, 0 of them serving, 1 serving in all: api-1 did not stay healthy",
    ]);
  });

  test("fleet deploy update sends the flags, says what changed and follows to success (exit 0)", async () => {
    const io = createTestIo();
    const sent: unknown[] = [];
    const client = fakeClient([detail("succeeded", "done")], sent);
    const context: CommandContext = {
      io,
      configPath: "/nowhere",
      url: "http://central.test",
      session: async () => ({ url: "http://central.test", token: "t", client }),
    };
    const update = deployGroup.commands.find((command) => command.spec.name === "deploy update")!;
    const code = await update.run(context, {
      values: { "env-add": ["A=1"], "max-parallel": "2" } as never,
      args: ["api"],
      help: false,
    });
    expect(code).toBe(0);
    expect(sent).toEqual([{ id: "d1", envAdd: { A: "1" }, policy: { maxParallel: 2 } }]);
    expect(io.err()).toBe("api: revision 2 (env +A)\n");
    expect(io.out()).toContain("api: rollout 1 → 2 succeeded");
  });
});
