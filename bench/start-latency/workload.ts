/**
 * The one container both paths start, described once: the API's `container.run` input
 * for the fleet, and the same spec for the bare engine (whose create body comes from
 * the agent's own `buildCreateOptions`, so limits, log config and label count match).
 */
import { type TContainerSpec, ZContainerSpec } from "@fleet/shared/domain/container-spec";
import { TEST_IMAGE_TAG } from "@fleet/test/harness/test-image";

const MIB = 1024 * 1024;

/**
 * `sleep 3600` under a shell that leaves on SIGTERM: a bare `sleep` as pid 1 ignores it,
 * so every removal would wait out the engine's 10 s stop timeout between batches. The
 * start is the same either way (the engine answers once the process is running).
 */
const COMMAND = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];

/** What `container.run` is given. A small CPU request: a batch must fit a 2-core host. */
export const RUN_INPUT = {
  image: TEST_IMAGE_TAG,
  command: COMMAND,
  memory: "16m",
  cpus: "0.5",
  cpuRequest: "10m",
  pids: 32,
} as const;

/** The same resources as the API derives from RUN_INPUT (requests default to the limits). */
const RESOURCES = {
  cpuRequestMillis: 10,
  cpuLimitMillis: 500,
  memoryRequestBytes: 16 * MIB,
  memoryLimitBytes: 16 * MIB,
  pidsRequest: 32,
  pidsLimit: 32,
};

export function fleetContainerName(index: string): string {
  return `start-latency-fleet-${index}`;
}

export function engineSpec(index: string): TContainerSpec {
  return ZContainerSpec.parse({
    id: `bench-engine-${index}`,
    name: `start-latency-engine-${index}`,
    image: TEST_IMAGE_TAG,
    command: COMMAND,
    env: {},
    ports: [],
    labels: {},
    resources: RESOURCES,
    restartPolicy: { name: "no" },
  });
}
