// A deployment as the API shows it: its template in docker's terms, how many
// replicas it wants, how many exist and how many run.
import { formatRestartPolicy } from "@fleet/shared/domain/container-spec";
import type { Prisma } from "../../db/client";
import { type TContainerTemplate, ZContainerTemplate } from "../placement/container-template";

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
  containers: {
    where: { removedAt: null },
    select: { actualState: true, hostId: true },
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
    replicas: row.replicas,
    currentReplicas: row.containers.length,
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
