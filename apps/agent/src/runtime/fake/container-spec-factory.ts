/**
 * Builds valid container specs for driver and supervisor tests: a busybox
 * sleeper with small limits, overridable field by field.
 */
import type { TContainerSpec } from "@fleet/shared/domain/container-spec";

let serial = 0;

export function makeContainerSpec(overrides: Partial<TContainerSpec> = {}): TContainerSpec {
  serial += 1;
  const id = overrides.id ?? `c${String(serial).padStart(4, "0")}`;
  return {
    id,
    name: `fleet-${id}`,
    image: "fleet-test/busybox:latest",
    command: ["sleep", "3600"],
    env: {},
    ports: [],
    healthCheck: null,
    resources: {
      cpuRequestMillis: 100,
      cpuLimitMillis: null,
      memoryRequestBytes: 16 * 1024 * 1024,
      memoryLimitBytes: null,
      pidsRequest: 10,
      pidsLimit: null,
    },
    restartPolicy: { name: "no" },
    labels: {},
    mounts: [],
    networks: [],
    ...overrides,
  };
}
