// What an agent reports about its host when it connects, and what the host
// keeps back for itself (the system, the agent, the engine). Browser-safe.
import { z } from "zod";
import { ZLabels } from "../label-selector";

const ZShortText = z.string().min(1).max(256);

export const ZEngineFacts = z.object({
  name: z.enum(["docker", "podman"]),
  version: z.string().min(1).max(64),
  apiVersion: z.string().min(1).max(16),
});
export type TEngineFacts = z.infer<typeof ZEngineFacts>;

export const ZHostFacts = z.object({
  hostname: z.string().min(1).max(253),
  cpus: z.int().min(1).max(100_000),
  memoryBytes: z.int().nonnegative(),
  kernel: ZShortText,
  os: ZShortText,
  arch: z.string().min(1).max(64),
  cgroupVersion: z.union([z.literal(1), z.literal(2)]),
  engine: ZEngineFacts,
  agentVersion: z.string().min(1).max(64),
  labels: ZLabels,
});
export type THostFacts = z.infer<typeof ZHostFacts>;

/** Capacity kept back from scheduling: allocatable = total − reserve. */
export const ZHostReserve = z.object({
  cpuMillis: z.int().nonnegative(),
  memoryBytes: z.int().nonnegative(),
});
export type THostReserve = z.infer<typeof ZHostReserve>;
