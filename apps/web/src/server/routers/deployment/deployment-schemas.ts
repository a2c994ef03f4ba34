import { ZMount, ZPortMapping } from "@fleet/shared/domain/container-spec";
import { z } from "zod";
import { ZContainer, ZContainerResources } from "../container/container-schemas";

export const ZDeployment = z.object({
  id: z.string(),
  name: z.string(),
  /** What the replicas run: `repository:tag@digest` once pinned. */
  image: z.string(),
  /** The registry digest the deployment is pinned to; null when the image has none (built locally). */
  imageDigest: z.string().nullable(),
  command: z.array(z.string()).nullable(),
  /** Names of the environment variables; values are not shown. */
  envKeys: z.array(z.string()),
  ports: z.array(ZPortMapping),
  mounts: z.array(ZMount),
  networks: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
  resources: ZContainerResources,
  restartPolicy: z.string(),
  replicas: z.int().nonnegative(),
  currentReplicas: z.int().nonnegative(),
  runningReplicas: z.int().nonnegative(),
  pendingPlacement: z.int().nonnegative(),
  strategy: z.enum(["binpack", "spread"]),
  constraints: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
  removedAt: z.date().nullable(),
});

export const ZDeploymentDetail = z.object({ deployment: ZDeployment, replicas: z.array(ZContainer) });
