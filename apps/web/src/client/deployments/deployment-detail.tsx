"use client";
// One deployment: what it runs and how many serve, its rollout as it moves,
// the form that changes it, its replicas by host, its revisions, and where its
// events are. Operators see the buttons; the server refuses everyone else.
import { formatDuration } from "@fleet/shared/units";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { errorCode, errorMessage } from "../errors";
import { formatBytes, formatMillicores } from "../format";
import { useCan } from "../session";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { PageHeader } from "../ui/page-header";
import { RelativeTime } from "../ui/relative-time";
import { Stat } from "../ui/stat";
import { useNow } from "../ui/use-now";
import type { TDeploymentView } from "./deployment-edit";
import { DeploymentEditForm } from "./deployment-edit-form";
import { DeploymentReplicas } from "./deployment-replicas";
import styles from "./deployments.module.css";
import { RevisionHistory } from "./revision-history";
import { RolloutTimeline } from "./rollout-timeline";

/** Replicas the page lists, refreshed every 5 s; the containers page pages through the rest. */
const REPLICAS_SHOWN = 200;

interface TAppliedChange {
  revision: number | null;
  diff: string;
  policyDiff: string[];
}

export function DeploymentDetail({ deploymentId }: { deploymentId: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const canOperate = useCan("operator");
  const detail = useQuery(
    trpc.deployment.get.queryOptions(
      { id: deploymentId, replicasLimit: REPLICAS_SHOWN },
      { refetchInterval: 5000 },
    ),
  );
  const [editing, setEditing] = useState(false);
  const [applied, setApplied] = useState<TAppliedChange | null>(null);
  const remove = useMutation(
    trpc.deployment.remove.mutationOptions({
      onSuccess: () => router.push("/deployments"),
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.deployment.pathKey() }),
    }),
  );

  if (!detail.data) {
    if (!detail.isError) return <p className="muted">Loading deployment…</p>;
    return (
      <>
        <PageHeader title={errorCode(detail.error) === "NOT_FOUND" ? "Deployment not found" : "Deployment"} />
        <ErrorNote error={detail.error} />
        <p>
          <Link href="/deployments">Back to deployments</Link>
        </p>
      </>
    );
  }

  const { deployment, replicas, replicasTotal } = detail.data;
  const removed = deployment.removedAt !== null;
  const canChange = canOperate && !removed;

  return (
    <>
      <PageHeader
        title={deployment.name}
        subtitle={
          <span className={styles.subtitle}>
            <span>
              revision <strong data-testid="deployment-revision">{deployment.revision}</strong>
            </span>
            <span className="mono">{deployment.image}</span>
            <Link href="/deployments" className="muted">
              All deployments
            </Link>
          </span>
        }
        actions={
          canChange ? (
            <>
              <button
                type="button"
                onClick={() => {
                  setApplied(null);
                  setEditing((open) => !open);
                }}
                aria-expanded={editing}
              >
                Edit
              </button>
              <button
                type="button"
                className="danger"
                disabled={remove.isPending}
                onClick={() => {
                  if (
                    window.confirm(`Remove deployment ${deployment.name} and all ${replicasTotal} replicas?`)
                  )
                    remove.mutate({ id: deployment.id });
                }}
              >
                Remove
              </button>
            </>
          ) : null
        }
      />
      {remove.error ? (
        <p role="alert" className="error-note">
          Could not remove {deployment.name}: {errorMessage(remove.error)}
        </p>
      ) : null}
      <ErrorNote error={detail.error} />
      {removed ? (
        <p className="notice">
          Removed <RelativeTime date={deployment.removedAt} now={Date.now()} />: kept here for its history.
        </p>
      ) : null}
      {/* Until something newer (a rollback, another edit) makes it old news. */}
      {applied && (applied.revision === null || applied.revision === deployment.revision) ? (
        <AppliedNotice change={applied} />
      ) : null}

      <DeploymentFigures deployment={deployment} canScale={canChange} />

      {editing && canChange ? (
        <DeploymentEditForm
          deployment={deployment}
          onClose={() => setEditing(false)}
          onApplied={(change) => {
            setEditing(false);
            setApplied(change);
          }}
        />
      ) : null}

      <RolloutTimeline deploymentId={deployment.id} />
      <DeploymentReplicas deploymentId={deployment.id} replicas={replicas} total={replicasTotal} />
      <RevisionHistory deploymentId={deployment.id} deploymentName={deployment.name} removed={removed} />

      <section className="card section" aria-labelledby="events-heading">
        <div className={styles.cardHeading}>
          <h2 id="events-heading">Events</h2>
        </div>
        <p>
          <Link href={`/events?deployment=${encodeURIComponent(deployment.id)}`}>
            This deployment's events
          </Link>{" "}
          <span className="muted">
            (created, rollouts started, paused, failed, succeeded, scaled) and each replica's own events on
            its container page.
          </span>
        </p>
      </section>
    </>
  );
}

function AppliedNotice({ change }: { change: TAppliedChange }) {
  return (
    <p className="notice" role="status" data-testid="applied-change">
      {change.revision !== null ? (
        <>
          Revision {change.revision} made (<span className="mono">{change.diff}</span>); rolling out.
        </>
      ) : (
        "The spec did not change: no new revision."
      )}
      {change.policyDiff.length > 0 ? ` Update policy: ${change.policyDiff.join(", ")}.` : null}
    </p>
  );
}

function DeploymentFigures({ deployment, canScale }: { deployment: TDeploymentView; canScale: boolean }) {
  const now = useNow(5000);
  const { resources, updatePolicy: policy } = deployment;
  return (
    <div className="stats">
      <Stat
        label="Replicas serving"
        value={
          <span data-testid="replicas-serving">
            {deployment.healthyReplicas}/{deployment.replicas}
          </span>
        }
        detail={`${deployment.runningReplicas} running · ${deployment.updatedReplicas} on revision ${deployment.revision}${
          deployment.pendingPlacement > 0 ? ` · ${deployment.pendingPlacement} not placed` : ""
        }`}
      />
      <Stat
        label="Replicas wanted"
        value={canScale ? <ScaleForm deployment={deployment} /> : deployment.replicas}
        detail="scaling makes no revision"
      />
      <Stat
        label="Strategy"
        value={deployment.strategy}
        detail={deployment.constraints ? `hosts matching ${deployment.constraints}` : "any host"}
      />
      <Stat
        label="Update policy"
        value={policy.order}
        detail={`${policy.maxParallel} at a time, healthy for ${formatDuration(policy.minHealthyTimeMs)}, deadline ${formatDuration(
          policy.healthyDeadlineMs,
        )}${policy.canary > 0 ? `, ${policy.canary} canaries` : ""}${policy.autoRevert ? ", auto-revert" : ""}`}
      />
      <Stat
        label="Limits"
        value={
          resources.cpuLimitMillis === null
            ? "no CPU limit"
            : `${formatMillicores(resources.cpuLimitMillis)} CPU`
        }
        detail={
          resources.memoryLimitBytes === null
            ? "no memory limit"
            : `${formatBytes(resources.memoryLimitBytes)} memory`
        }
      />
      <Stat
        label="Last change"
        value={<RelativeTime date={deployment.updatedAt} now={now} />}
        detail={
          <>
            created <RelativeTime date={deployment.createdAt} now={now} />
          </>
        }
      />
    </div>
  );
}

function ScaleForm({ deployment }: { deployment: TDeploymentView }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [replicas, setReplicas] = useState(String(deployment.replicas));
  const scale = useMutation(
    trpc.deployment.scale.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.deployment.pathKey() }),
    }),
  );
  const wanted = /^\d+$/.test(replicas.trim()) ? Number(replicas.trim()) : null;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (wanted === null) return;
    scale.mutate({ id: deployment.id, replicas: wanted });
  };
  return (
    <form onSubmit={onSubmit} aria-label="Scale" noValidate>
      <div className={styles.scale}>
        <input
          type="number"
          min={0}
          step={1}
          value={replicas}
          onChange={(event) => setReplicas(event.target.value)}
          aria-label="Replicas"
          aria-invalid={wanted === null || undefined}
        />
        <button
          type="submit"
          className="button-small"
          disabled={scale.isPending || wanted === null || wanted === deployment.replicas}
        >
          Scale
        </button>
      </div>
      {scale.error ? (
        <p role="alert" className="error-note">
          Could not scale: {errorMessage(scale.error)}
        </p>
      ) : null}
    </form>
  );
}
