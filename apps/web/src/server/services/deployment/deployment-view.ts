// A deployment as the API shows it: its template in docker's terms, how many
// replicas it wants, how many exist and how many run.
import { formatRestartPolicy, type THealthCheck } from "@fleet/shared/domain/container-spec";
import type { Prisma } from "../../db/client";
import { type TContainerTemplate, ZContainerTemplate } from "../placement/container-template";
import type { TRolloutState } from "./rollout-decision";
import { rolloutStateOf } from "./rollout-rows";
import { readUpdatePolicy, type TUpdatePolicy } from "./update-policy";

/** The newest rollout in a line: enough for a list's progress bar (deployment.rollout has the steps). */
export interface TDeploymentRolloutState {
  id: string;
  state: TRolloutState;
  fromRevision: number | null;
  toRevision: number;
  reason: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export const deploymentViewSelect = {
  id: true,
  name: true,
  spec: true,
  imageDigest: true,
  replicas: true,
  strategy: true,
  constraints: true,
  createdAt: true,
  updatedAt: true,
  removedAt: true,
  revision: true,
  updatePolicy: true,
  containers: {
    where: { removedAt: null },
    select: { actualState: true, hostId: true, revision: true, health: true, replicaIndex: true },
  },
  rollouts: {
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 1,
    select: {
      id: true,
      state: true,
      fromRevision: true,
      toRevision: true,
      reason: true,
      createdAt: true,
      finishedAt: true,
    },
  },
} satisfies Prisma.DeploymentSelect;

export type TDeploymentRow = Prisma.DeploymentGetPayload<{ select: typeof deploymentViewSelect }>;

export interface TDeploymentView {
  id: string;
  name: string;
  image: string;
  imageDigest: string | null;
  command: string[] | null;
  envKeys: string[];
  ports: TContainerTemplate["ports"];
  mounts: TContainerTemplate["mounts"];
  networks: string[];
  labels: Record<string, string>;
  resources: TContainerTemplate["resources"];
  restartPolicy: string;
  healthCheck: THealthCheck | null;
  /** The newest revision: what `spec` is, and what every replica runs once its rollout is done. */
  revision: number;
  updatePolicy: TUpdatePolicy;
  /** Live replicas made from the newest revision. */
  updatedReplicas: number;
  /** Live replicas serving: healthy, or running when they have no health check. */
  healthyReplicas: number;
  /** The newest rollout; null when the deployment never changed since its creation. */
  rollout: TDeploymentRolloutState | null;
  /** Replicas wanted. */
  replicas: number;
  /** Replica rows that exist (not removed). */
  currentReplicas: number;
  /** Of those, the ones the agents report running. */
  runningReplicas: number;
  /** Of those, the ones waiting for a host with room. */
  pendingPlacement: number;
  strategy: "binpack" | "spread";
  constraints: string;
  createdAt: Date;
  updatedAt: Date;
  removedAt: Date | null;
}

/** The stored template; a deployment row is only ever written from a checked one. */
export function templateOfDeployment(spec: unknown): TContainerTemplate {
  return ZContainerTemplate.parse(spec);
}

export function toDeploymentView(row: TDeploymentRow): TDeploymentView {
  const template = templateOfDeployment(row.spec);
  const rollout = row.rollouts[0];
  return {
    id: row.id,
    name: row.name,
    image: template.image,
    imageDigest: row.imageDigest,
    command: template.command,
    envKeys: Object.keys(template.env).sort(),
    ports: template.ports,
    mounts: template.mounts,
    networks: template.networks,
    labels: template.labels,
    resources: template.resources,
    restartPolicy: formatRestartPolicy(template.restartPolicy),
    healthCheck: template.healthCheck ?? null,
    revision: row.revision,
    updatePolicy: readUpdatePolicy(row.updatePolicy),
    updatedReplicas: row.containers.filter((container) => container.revision === row.revision).length,
    healthyReplicas: row.containers.filter((container) =>
      container.health === null ? container.actualState === "running" : container.health === "healthy",
    ).length,
    rollout: rollout ? { ...rollout, state: rolloutStateOf(rollout.state) } : null,
    replicas: row.replicas,
    // By index: a start-first rollout holds two rows for the replica it is replacing.
    currentReplicas: new Set(row.containers.map((container) => container.replicaIndex)).size,
    runningReplicas: row.containers.filter((container) => container.actualState === "running").length,
    pendingPlacement: row.containers.filter((container) => container.hostId === null).length,
    strategy: row.strategy,
    constraints: row.constraints,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    removedAt: row.removedAt,
  };
}

export function replicaName(deploymentName: string, index: number): string {
  return `${deploymentName}-${index}`;
}
