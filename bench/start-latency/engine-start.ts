/**
 * The baseline: bare engine create + start of the same container through dockerode,
 * timed from before the create call until the start call returned. The body is the
 * agent's own (`buildCreateOptions`), with Fleet's labels renamed so the agent never
 * takes these containers for its own.
 */
import { buildCreateOptions } from "@fleet/agent/runtime/engine/create-options";
import { hashContainerSpec } from "@fleet/shared/domain/spec-hash";
import type { TestEngine } from "@fleet/test/harness/engines";
import type Dockerode from "dockerode";
import { wallNow } from "./clock";
import { engineSpec } from "./workload";

export interface TEngineSample {
  engineId: string;
  sentAt: number;
  createReturnedAt: number;
  startReturnedAt: number;
  totalMs: number;
}

function engineCreateOptions(engine: TestEngine, index: string): Dockerode.ContainerCreateOptions {
  const spec = engineSpec(index);
  const create = buildCreateOptions(spec, {
    hostId: "bench-baseline",
    specHash: hashContainerSpec(spec),
    cgroupParent: engine.cgroupParent,
  });
  const labels = Object.entries(create.Labels ?? {}).map(([key, value]) => [
    key.replace(/^fleet\./, "fleet-bench."),
    value,
  ]);
  return { ...create, Labels: Object.fromEntries(labels) };
}

export async function startOnEngine(engine: TestEngine, index: string): Promise<TEngineSample> {
  const create = engineCreateOptions(engine, index);
  const sentAt = wallNow();
  const container = await engine.docker.createContainer(create);
  const createReturnedAt = wallNow();
  await container.start();
  const startReturnedAt = wallNow();
  // Not timed: a start that did not leave a running process would make the figure a lie.
  const info = await container.inspect();
  if (!info.State.Running) {
    throw new Error(`engine container ${index} is not running after start (${info.State.Status})`);
  }
  return {
    engineId: container.id,
    sentAt,
    createReturnedAt,
    startReturnedAt,
    totalMs: startReturnedAt - sentAt,
  };
}

export async function removeFromEngine(engine: TestEngine, engineIds: readonly string[]): Promise<void> {
  await Promise.all(engineIds.map((id) => engine.docker.getContainer(id).remove({ force: true, v: true })));
}

/**
 * Checks that a fleet container and a baseline container were created alike, from what
 * the engine says it holds: otherwise the two figures would measure different things.
 */
export async function checkSameContainer(
  engine: TestEngine,
  fleetEngineId: string,
  baselineEngineId: string,
): Promise<void> {
  const [fleet, baseline] = await Promise.all([
    engine.docker.getContainer(fleetEngineId).inspect(),
    engine.docker.getContainer(baselineEngineId).inspect(),
  ]);
  const view = (info: Dockerode.ContainerInspectInfo) => ({
    image: info.Config.Image,
    cmd: info.Config.Cmd,
    labelCount: Object.keys(info.Config.Labels ?? {}).length,
    memory: info.HostConfig.Memory,
    memorySwap: info.HostConfig.MemorySwap,
    cpuQuota: info.HostConfig.CpuQuota,
    cpuPeriod: info.HostConfig.CpuPeriod,
    cpuShares: info.HostConfig.CpuShares,
    pidsLimit: info.HostConfig.PidsLimit,
    cgroupParent: info.HostConfig.CgroupParent,
    networkMode: info.HostConfig.NetworkMode,
    restartPolicy: info.HostConfig.RestartPolicy?.Name,
    logType: info.HostConfig.LogConfig?.Type,
  });
  const a = JSON.stringify(view(fleet));
  const b = JSON.stringify(view(baseline));
  if (a !== b) throw new Error(`the fleet and the baseline created different containers:\n${a}\n${b}`);
}
