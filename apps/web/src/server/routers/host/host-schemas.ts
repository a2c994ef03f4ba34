import { ZHostFacts } from "@fleet/shared/domain/host";
import { z } from "zod";

export const ZResources = z.object({
  cpuMillis: z.int().nonnegative(),
  memoryBytes: z.number().nonnegative(),
  pids: z.int().nonnegative(),
});

export const ZHost = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(["online", "offline"]),
  draining: z.boolean(),
  labels: z.record(z.string(), z.string()),
  facts: ZHostFacts.nullable(),
  agentVersion: z.string().nullable(),
  /** What the machine has. */
  capacity: ZResources,
  /** What the scheduler may hand out (capacity minus the host's reserve). */
  allocatable: ZResources,
  /** The requests of the live containers placed here. */
  allocated: ZResources,
  containerCount: z.int().nonnegative(),
  desiredGeneration: z.int(),
  ackedGeneration: z.int(),
  lastSeenAt: z.date().nullable(),
  connectedAt: z.date().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  removedAt: z.date().nullable(),
});
