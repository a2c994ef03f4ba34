"use client";
// A deployment's live replicas grouped by the host they run on, with state
// and health as the containers page shows them. During a start-first rollout
// a replica index can have two rows (the old container and its replacement).
import Link from "next/link";
import type { RouterOutputs } from "../api-types";
import { HealthBadge } from "../containers/container-health";
import { formatDigest } from "../format";
import { EmptyState } from "../ui/empty-state";
import { RelativeTime } from "../ui/relative-time";
import { StatusBadge } from "../ui/status-badge";
import { useNow } from "../ui/use-now";
import styles from "./deployments.module.css";

type TReplica = RouterOutputs["deployment"]["get"]["replicas"][number];

interface THostGroup {
  hostId: string | null;
  hostName: string;
  replicas: TReplica[];
}

function byHost(replicas: readonly TReplica[]): THostGroup[] {
  const groups = new Map<string | null, THostGroup>();
  for (const replica of replicas) {
    const group = groups.get(replica.hostId) ?? {
      hostId: replica.hostId,
      hostName: replica.hostId ? (replica.hostName ?? replica.hostId.slice(0, 8)) : "not placed",
      replicas: [],
    };
    group.replicas.push(replica);
    groups.set(replica.hostId, group);
  }
  // Unplaced replicas last; hosts by name.
  return [...groups.values()].sort((a, b) =>
    a.hostId === null ? 1 : b.hostId === null ? -1 : a.hostName.localeCompare(b.hostName),
  );
}

export function DeploymentReplicas({
  deploymentId,
  replicas,
  total,
}: {
  deploymentId: string;
  /** The first replicas by index. */
  replicas: readonly TReplica[];
  /** Live replicas in all. */
  total: number;
}) {
  const now = useNow(5000);
  const groups = byHost(replicas);
  return (
    <section className="card section" aria-labelledby="replicas-heading" data-testid="deployment-replicas">
      <div className={styles.cardHeading}>
        <h2 id="replicas-heading">Replicas</h2>
        <span className="muted">
          on {groups.filter((group) => group.hostId !== null).length} host
          {groups.filter((group) => group.hostId !== null).length === 1 ? "" : "s"}
        </span>
        {total > replicas.length ? (
          <span className="muted" data-testid="replicas-shown">
            the first {replicas.length} of {total}
          </span>
        ) : null}
        <span className="spacer" />
        <Link href={`/containers?deployment=${encodeURIComponent(deploymentId)}`}>
          {total > replicas.length ? `All ${total} on the containers page` : "On the containers page"}
        </Link>
      </div>
      {replicas.length === 0 ? (
        <EmptyState title="No replicas">
          <p>Scaled to zero: nothing runs until it is scaled up.</p>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Replica</th>
                <th scope="col">State</th>
                <th scope="col" className="num">
                  Revision
                </th>
                <th scope="col">Digest</th>
                <th scope="col" className="num">
                  Restarts
                </th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            {groups.map((group) => (
              <tbody key={group.hostId ?? "unplaced"} data-host-id={group.hostId ?? ""}>
                <tr className={styles.hostRow}>
                  <th scope="rowgroup" colSpan={6}>
                    {group.hostId ? (
                      <Link href={`/hosts/${group.hostId}`}>{group.hostName}</Link>
                    ) : (
                      <span className="muted">{group.hostName}</span>
                    )}{" "}
                    <span className="muted">· {group.replicas.length}</span>
                  </th>
                </tr>
                {group.replicas.map((replica) => (
                  <tr key={replica.id} data-container-id={replica.id}>
                    <td className="nowrap">
                      <Link href={`/containers/${replica.id}`} className={styles.name}>
                        {replica.name}
                      </Link>
                    </td>
                    <td className="nowrap" title={replica.statusMessage ?? undefined}>
                      <StatusBadge status={replica.actualState} testId="container-state" />
                      {replica.health ? " " : null}
                      <HealthBadge container={replica} />
                      {replica.desiredState !== replica.actualState && replica.desiredState !== "running" ? (
                        <span className="muted"> → {replica.desiredState}</span>
                      ) : null}
                    </td>
                    <td className="num" data-testid="replica-revision">
                      {replica.revision ?? "–"}
                    </td>
                    <td className="mono nowrap">{formatDigest(replica.imageDigest)}</td>
                    <td className="num">{replica.restartCount}</td>
                    <td className="nowrap">
                      <RelativeTime date={replica.createdAt} now={now} />
                    </td>
                  </tr>
                ))}
              </tbody>
            ))}
          </table>
        </div>
      )}
    </section>
  );
}
