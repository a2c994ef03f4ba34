import { describe, expect, it } from "vitest";
import {
  decideRollout,
  isServing,
  type TReplicaFacts,
  type TRolloutInput,
  type TStepFacts,
} from "./rollout-decision";
import { DEFAULT_UPDATE_POLICY, type TUpdatePolicy } from "./update-policy";

const T0 = new Date("2026-01-01T00:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function replica(index: number, revision: number, overrides: Partial<TReplicaFacts> = {}): TReplicaFacts {
  return {
    id: `c${index}-r${revision}`,
    name: `web-${index}`,
    replicaIndex: index,
    revision,
    actualState: "running",
    health: "healthy",
    healthChangedAt: at(-3600),
    healthMessage: null,
    statusMessage: null,
    runningSince: at(-3600),
    hostId: "h1",
    ...overrides,
  };
}

function step(index: number, overrides: Partial<TStepFacts> = {}): TStepFacts {
  return {
    id: `s${index}`,
    replicaIndex: index,
    oldContainerId: `c${index}-r1`,
    newContainerId: `c${index}-r2`,
    order: "stop-first",
    canary: false,
    state: "started",
    startedAt: at(0),
    oldRemovedAt: at(0),
    ...overrides,
  };
}

function input(options: {
  replicas: TReplicaFacts[];
  steps?: TStepFacts[];
  policy?: Partial<TUpdatePolicy>;
  state?: TRolloutInput["rollout"]["state"];
  promoted?: boolean;
  now?: Date;
  healthCheck?: boolean;
}): TRolloutInput {
  const policy = { ...DEFAULT_UPDATE_POLICY, minHealthyTimeMs: 10_000, ...options.policy };
  return {
    rollout: {
      state: options.state ?? "running",
      toRevision: 2,
      promoted: options.promoted ?? policy.canary === 0,
      progressAt: at(0),
      policy,
    },
    steps: options.steps ?? [],
    replicas: options.replicas,
    targetHasHealthCheck: options.healthCheck ?? true,
    now: options.now ?? at(1),
  };
}

const four = (revisions: number[]) => revisions.map((revision, i) => replica(i + 1, revision));

describe("decideRollout", () => {
  it.each([
    {
      name: "stop-first replaces the lowest index first, maxParallel at a time",
      given: input({ replicas: four([1, 1, 1, 1]), policy: { maxParallel: 2 } }),
      actions: [
        { kind: "replace", replicaIndex: 1, oldContainerId: "c1-r1", order: "stop-first", canary: false },
        { kind: "replace", replicaIndex: 2, oldContainerId: "c2-r1", order: "stop-first", canary: false },
      ],
    },
    {
      name: "start-first as the policy says",
      given: input({ replicas: four([1, 1, 1, 1]), policy: { order: "start-first" } }),
      actions: [
        { kind: "replace", replicaIndex: 1, oldContainerId: "c1-r1", order: "start-first", canary: false },
      ],
    },
    {
      name: "nothing new while maxParallel replacements are in flight",
      given: input({
        replicas: [replica(1, 2, { healthChangedAt: at(0) }), ...four([1, 1, 1, 1]).slice(1)],
        steps: [step(1)],
      }),
      actions: [],
      waitingFor: "replacements to count",
    },
    {
      name: "a replacement counts once healthy for minHealthyTime",
      given: input({
        replicas: [replica(1, 2, { healthChangedAt: at(0) }), ...four([1, 1, 1, 1]).slice(1)],
        steps: [step(1)],
        now: at(11),
      }),
      actions: [{ kind: "complete-step", stepId: "s1", removeContainerId: null }],
    },
    {
      name: "without a health check, running for minHealthyTime counts",
      given: input({
        replicas: [replica(1, 2, { health: null, runningSince: at(0) }), ...four([1, 1, 1, 1]).slice(1)],
        steps: [step(1)],
        healthCheck: false,
        now: at(11),
      }),
      actions: [{ kind: "complete-step", stepId: "s1", removeContainerId: null }],
    },
    {
      name: "start-first removes the old replica when the new one counts",
      given: input({
        replicas: [...four([1, 1, 1, 1]), replica(1, 2, { healthChangedAt: at(0) })],
        steps: [step(1, { order: "start-first", oldRemovedAt: null })],
        now: at(11),
      }),
      actions: [{ kind: "complete-step", stepId: "s1", removeContainerId: "c1-r1" }],
    },
    {
      name: "a replacement not counted by the healthy deadline fails the rollout, naming it",
      given: input({
        replicas: [
          replica(1, 2, { health: "unhealthy", healthMessage: "HTTP 500", healthChangedAt: at(5) }),
          ...four([1, 1, 1, 1]).slice(1),
        ],
        steps: [step(1)],
        policy: { healthyDeadlineMs: 60_000 },
        now: at(61),
      }),
      actions: [
        {
          kind: "fail",
          stepId: "s1",
          reason:
            "web-1 (revision 2) did not stay healthy for 10s within 1m: running, health unhealthy, HTTP 500",
        },
      ],
    },
    {
      name: "no progress within the progress deadline fails",
      given: input({
        replicas: four([1, 1, 1, 1]),
        steps: [],
        policy: { progressDeadlineMs: 60_000 },
        now: at(61),
      }),
      actions: [{ kind: "fail", stepId: null, reason: "no replica counted for 1m (progress deadline)" }],
    },
    {
      name: "paused: nothing at all, not even deadlines",
      given: input({ replicas: four([1, 1, 1, 1]), steps: [step(1)], state: "paused", now: at(100_000) }),
      actions: [],
      waitingFor: "paused",
    },
    {
      name: "canary: N new replicas beside the old ones first",
      given: input({ replicas: four([1, 1, 1, 1]), policy: { canary: 1, order: "stop-first" } }),
      actions: [
        { kind: "replace", replicaIndex: 1, oldContainerId: "c1-r1", order: "start-first", canary: true },
      ],
    },
    {
      name: "canary counted: its old replica stays, the step is done",
      given: input({
        replicas: [...four([1, 1, 1, 1]), replica(1, 2, { healthChangedAt: at(0) })],
        steps: [step(1, { order: "start-first", canary: true, oldRemovedAt: null })],
        policy: { canary: 1 },
        now: at(11),
      }),
      actions: [{ kind: "complete-step", stepId: "s1", removeContainerId: null }],
    },
    {
      name: "canaries done: wait for promotion",
      given: input({
        replicas: [...four([1, 1, 1, 1]), replica(1, 2)],
        steps: [step(1, { order: "start-first", canary: true, oldRemovedAt: null, state: "done" })],
        policy: { canary: 1 },
      }),
      actions: [{ kind: "await-promotion" }],
    },
    {
      name: "awaiting promotion: nothing",
      given: input({
        replicas: [...four([1, 1, 1, 1]), replica(1, 2)],
        steps: [step(1, { order: "start-first", canary: true, oldRemovedAt: null, state: "done" })],
        policy: { canary: 1 },
        state: "awaiting-promotion",
        // Long past the progress deadline: waiting for a person does not fail the rollout.
        now: at(100_000),
      }),
      actions: [],
      waitingFor: "promotion",
    },
    {
      name: "promoted: the canary's old replica goes first",
      given: input({
        replicas: [...four([1, 1, 1, 1]), replica(1, 2)],
        steps: [step(1, { order: "start-first", canary: true, oldRemovedAt: null, state: "done" })],
        policy: { canary: 1 },
        promoted: true,
      }),
      actions: [{ kind: "retire-old", stepId: "s1", containerId: "c1-r1" }],
    },
    {
      name: "promoted and retired: the rest roll",
      given: input({
        replicas: [replica(1, 2), ...four([1, 1, 1, 1]).slice(1)],
        steps: [step(1, { order: "start-first", canary: true, oldRemovedAt: at(1), state: "done" })],
        policy: { canary: 1 },
        promoted: true,
      }),
      actions: [
        { kind: "replace", replicaIndex: 2, oldContainerId: "c2-r1", order: "stop-first", canary: false },
      ],
    },
    {
      name: "every replica on the target: finish",
      given: input({ replicas: four([2, 2, 2, 2]), steps: [step(1, { state: "done" })] }),
      actions: [{ kind: "finish" }],
    },
    {
      name: "a reverting rollout rolls the same way",
      given: input({ replicas: four([2, 1, 1, 1]), state: "reverting" }),
      actions: [
        { kind: "replace", replicaIndex: 2, oldContainerId: "c2-r1", order: "stop-first", canary: false },
      ],
    },
    {
      name: "two rows of one index left by a cancelled start-first: the extra one goes",
      given: input({ replicas: [...four([1, 1, 1, 1]), replica(1, 3)] }),
      actions: [{ kind: "remove-surplus", containerId: "c1-r3" }],
    },
    {
      name: "finished rollouts decide nothing",
      given: input({ replicas: four([1, 1, 1, 1]), state: "failed" }),
      actions: [],
      waitingFor: null,
    },
  ])("$name", ({ given, actions, waitingFor }) => {
    const decision = decideRollout(given);
    expect(decision.actions).toEqual(actions);
    if (waitingFor !== undefined) expect(decision.waitingFor).toBe(waitingFor);
  });

  it("a resumed decision never replaces an index whose step is in flight or done", () => {
    // As a central restarted after writing step 1 (container c1-r2 placed) would see the rows.
    const afterRestart = input({
      replicas: [
        replica(1, 2, { actualState: "pending", health: null, runningSince: null }),
        ...four([1, 1, 1, 1]).slice(1),
      ],
      steps: [step(1)],
      now: at(2),
    });
    expect(decideRollout(afterRestart).actions).toEqual([]);
  });
});

describe("the serving invariant over a simulated rollout", () => {
  /** Plays a rollout to its end: replacements turn healthy `healthyAfter` seconds after placement. */
  function simulate(policy: Partial<TUpdatePolicy>, replicas: number, spareRoom: boolean) {
    let rows = Array.from({ length: replicas }, (_, i) => replica(i + 1, 1));
    let steps: TStepFacts[] = [];
    let lowest = replicas;
    let seq = 0;
    for (let second = 1; second < 1000; second++) {
      const now = at(second);
      // New replicas turn healthy 3 s after placement.
      rows = rows.map((row) =>
        row.health === "starting" &&
        row.healthChangedAt &&
        now.getTime() - row.healthChangedAt.getTime() >= 3000
          ? { ...row, health: "healthy", healthChangedAt: now }
          : row,
      );
      for (;;) {
        const { actions } = decideRollout(input({ replicas: rows, steps, policy, now }));
        const action = actions[0];
        if (!action) break;
        if (action.kind === "finish") return { lowest, rows };
        if (action.kind === "replace") {
          const order = action.order === "start-first" && !spareRoom ? "stop-first" : action.order;
          if (order === "stop-first") rows = rows.filter((row) => row.id !== action.oldContainerId);
          const fresh = replica(action.replicaIndex, 2, {
            id: `n${++seq}`,
            health: "starting",
            healthChangedAt: now,
          });
          rows.push(fresh);
          steps.push(
            step(action.replicaIndex, {
              id: `s${seq}`,
              oldContainerId: action.oldContainerId,
              newContainerId: fresh.id,
              order,
              startedAt: now,
              oldRemovedAt: order === "stop-first" ? now : null,
            }),
          );
        } else if (action.kind === "complete-step") {
          rows = rows.filter((row) => row.id !== action.removeContainerId);
          steps = steps.map((s) => (s.id === action.stepId ? { ...s, state: "done" } : s));
        } else {
          throw new Error(`unexpected ${action.kind}`);
        }
        lowest = Math.min(lowest, rows.filter((row) => isServing(row, true)).length);
      }
    }
    throw new Error("the rollout did not finish");
  }

  it.each([1, 2])("stop-first, maxParallel %i: never below replicas − maxParallel", (maxParallel) => {
    const { lowest, rows } = simulate({ maxParallel, order: "stop-first" }, 4, true);
    expect(lowest).toBe(4 - maxParallel);
    expect(rows.map((row) => row.revision)).toEqual([2, 2, 2, 2]);
  });

  it("start-first with room: never below replicas", () => {
    const { lowest, rows } = simulate({ maxParallel: 1, order: "start-first" }, 4, true);
    expect(lowest).toBe(4);
    expect(rows).toHaveLength(4);
  });
});
